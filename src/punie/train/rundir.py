"""A run's folder and its manifest: what was trained, on what, with which versions."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from punie import atomic, paths
from punie.errors import PunieError
from punie.jsonl import read_jsonl


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def log(self) -> Path:
        return self.root / "train.log"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def adapter(self) -> Path:
        return self.root / "adapter"

    @property
    def adapter_best(self) -> Path:
        return self.root / "adapter-best"

    @property
    def stop(self) -> Path:
        return self.root / "STOP"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def default_name(model: str) -> str:
    stem = Path(model.rstrip("/")).name or "model"
    return f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def find_run(spec: str | Path) -> Path:
    """A run folder given as a path or as a name under PUNIE_HOME/runs."""
    p = Path(spec).expanduser()
    for cand in (p, paths.runs_dir() / str(spec)):
        if (cand / "config.json").is_file():
            return cand
    raise PunieError(
        "no such run (no config.json)",
        where=str(spec),
        hint=f"give a run folder or a name under {paths.runs_dir()}",
    )


def _hash_files(files: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(root)).encode() + b"\0")
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def data_hash(data: Path) -> str:
    files = sorted(p for p in Path(data).glob("*.jsonl") if p.is_file())
    return _hash_files(files, Path(data))


def model_hash(model: Path) -> str:
    """sha256 of config, tokenizer and weights; cached by (path, size, mtime) since
    weights are large and rarely change."""
    model = Path(model)
    files = sorted(
        p
        for p in model.iterdir()
        if p.is_file()
        and (p.suffix in (".safetensors", ".json", ".jinja") or p.name == "tokenizer.model")
    )
    key = json.dumps(
        [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in files], sort_keys=True
    )
    cache_file = paths.punie_home() / "cache" / "model-hashes.json"
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, json.JSONDecodeError):
        cache = {}
    ck = hashlib.sha256(key.encode()).hexdigest()
    if ck not in cache:
        cache[ck] = _hash_files(files, model)
        try:
            atomic.write_json(cache_file, cache)
        except OSError:
            pass
    return cache[ck]


def versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    from punie import __version__

    out: dict[str, str | None] = {"punie": __version__, "python": platform.python_version()}
    for dist in ("mlx", "mlx-lm"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def git_commit(where: Path | None = None) -> str | None:
    try:
        r = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=where or os.getcwd(),
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def read_manifest(run: RunPaths) -> dict[str, Any]:
    try:
        return json.loads(run.manifest.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def write_manifest(run: RunPaths, manifest: dict[str, Any]) -> None:
    atomic.write_json(run.manifest, manifest)


def read_events(path: Path) -> list[dict[str, Any]]:
    return read_jsonl(path, tolerant=True)


def truncate_metrics(path: Path, step: int) -> None:
    """Drop events a killed run logged after its last checkpoint: they will be redone."""
    if not path.exists():
        return
    keep = [row for row in read_events(path) if row.get("step", 0) <= step]
    atomic.write_jsonl(path, keep)
