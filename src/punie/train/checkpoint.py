"""Checkpoints that are either whole or absent.

A checkpoint is a folder `checkpoints/<step:07d>/` holding the adapter (loadable on
its own by mlx-lm), the optimizer state and `state.json` (step, best val loss,
early-stopping counter, tokens seen). It is written under a hidden temp name,
fsynced, then renamed: a SIGKILL at any moment leaves the previous checkpoints
intact and at most a `.tmp-*` folder, which is ignored and cleaned up later.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

ADAPTER_FILE = "adapters.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for f in path.iterdir():
        if f.is_file():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(path)


def write_adapter_dir(
    path: Path, weights: dict, adapter_config: dict[str, Any], extra: dict[str, Any] | None = None
) -> None:
    """Write an mlx-lm adapter folder (adapters.safetensors + adapter_config.json) to `path`."""
    import mlx.core as mx

    path.mkdir(parents=True, exist_ok=True)
    mx.save_safetensors(str(path / ADAPTER_FILE), weights)
    (path / "adapter_config.json").write_text(json.dumps(adapter_config, indent=2) + "\n")
    for name, obj in (extra or {}).items():
        (path / name).write_text(json.dumps(obj, indent=2) + "\n")


def publish(tmp: Path, target: Path) -> None:
    """Move a fully written folder `tmp` to `target`, replacing what was there."""
    _fsync_tree(tmp)
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    _fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def save_adapter(
    target: Path, weights: dict, adapter_config: dict[str, Any], info: dict[str, Any]
) -> None:
    tmp = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    write_adapter_dir(tmp, weights, adapter_config, {"punie_adapter.json": info})
    publish(tmp, target)


def save_checkpoint(
    ckpt_root: Path,
    step: int,
    weights: dict,
    optimizer_state: dict,
    adapter_config: dict[str, Any],
    state: dict[str, Any],
    keep: int,
) -> Path:
    import mlx.core as mx

    ckpt_root.mkdir(parents=True, exist_ok=True)
    target = ckpt_root / f"{step:07d}"
    tmp = ckpt_root / f".tmp-{step:07d}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    write_adapter_dir(tmp, weights, adapter_config)
    mx.save_safetensors(str(tmp / OPTIMIZER_FILE), optimizer_state)
    (tmp / STATE_FILE).write_text(json.dumps({**state, "step": step}, indent=2) + "\n")
    publish(tmp, target)
    prune(ckpt_root, keep)
    return target


def list_checkpoints(ckpt_root: Path) -> list[Path]:
    """Complete checkpoints, oldest first (temp folders of an interrupted write are skipped)."""
    if not ckpt_root.is_dir():
        return []
    done = [
        p
        for p in ckpt_root.iterdir()
        if p.is_dir() and p.name.isdigit() and (p / STATE_FILE).is_file()
    ]
    return sorted(done, key=lambda p: int(p.name))


def latest_checkpoint(ckpt_root: Path) -> Path | None:
    found = list_checkpoints(ckpt_root)
    return found[-1] if found else None


def prune(ckpt_root: Path, keep: int) -> None:
    for p in list_checkpoints(ckpt_root)[:-keep]:
        shutil.rmtree(p, ignore_errors=True)
    for p in ckpt_root.glob(".tmp-*"):
        # Leftovers of a killed writer; ours was renamed already.
        if not p.name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(p, ignore_errors=True)


def read_state(ckpt: Path) -> dict[str, Any]:
    return json.loads((ckpt / STATE_FILE).read_text())
