"""What an evaluation folder was made with, and the one check before it is resumed.

`meta.json` records every input that can change a case's result: the suite's
fingerprint, the model (its label, the id requested and a content hash of its
folder), the adapter (path and content hash, so retraining into the same `adapter/`
folder is seen), the generation settings, and the software that asks and scores
(a hash of Punie's installed source, the mlx, mlx-lm and Python versions). Both
runners resume a folder only when all of these match; otherwise one line names what
differs and `punie eval` exits 2 (`--fresh` discards the folder).

Hashes are the flywheel's own (one implementation each): folders go through the
trainer's `model_hash` (sha256 of config, tokenizer and weights, remembered by path,
size and mtime, so a model is read once), the software through `software_stack`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from punie import atomic
from punie.errors import PunieError
from punie.jsonl import read_jsonl

META_FILE = "meta.json"
# The inputs a resumed folder must share (settings and software are compared per key).
KEYS = (
    "kind",
    "suite_fingerprint",
    "model",
    "served_model",
    "model_hash",
    "adapter",
    "adapter_hash",
)
# The settings that change what the model answers; concurrency, timeout and retries
# change how it is asked, not what it says.
GENERATION_KEYS = ("temperature", "seed", "max_tokens")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def folder_hash(folder: str | Path | None) -> str | None:
    """Content hash of a model or adapter folder; None when there is no folder."""
    if folder is None or not Path(folder).is_dir():
        return None
    from punie.train.rundir import model_hash

    return model_hash(Path(folder))[:16]


def software() -> dict[str, str | None]:
    from punie.flywheel.stages import software_stack

    return software_stack()


def eval_meta(
    suite: Any,
    label: str,
    settings: Any,
    concurrency: int,
    *,
    kind: str,
    served_model: str | None = None,
    model_path: str | Path | None = None,
    adapter: str | Path | None = None,
) -> dict[str, Any]:
    """What meta.json records of one evaluation."""
    return {
        "kind": kind,
        "suite": suite.name,
        "suite_fingerprint": suite.fingerprint(),
        "model": label,
        "served_model": served_model,
        "model_hash": folder_hash(model_path),
        "adapter": str(adapter) if adapter else None,
        "adapter_hash": folder_hash(adapter),
        "settings": {**asdict(settings), "concurrency": concurrency},
        "software": software(),
        "started": now(),
    }


def resume_key(meta: dict[str, Any]) -> dict[str, Any]:
    """The fields of a meta record that a resumed folder must share, flattened."""
    out = {k: meta.get(k) for k in KEYS}
    settings = meta.get("settings") or {}
    out |= {f"settings.{k}": settings.get(k) for k in GENERATION_KEYS}
    out |= {f"software.{k}": v for k, v in sorted((meta.get("software") or {}).items())}
    return out


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """`key was -> now` for every resume key the two meta records disagree on."""
    was, now_ = resume_key(old), resume_key(new)
    keys = list(now_) + [k for k in was if k not in now_]
    return [f"{k} {was.get(k)!r} -> {now_.get(k)!r}" for k in keys if was.get(k) != now_.get(k)]


def check_meta(out_dir: Path, meta: dict[str, Any]) -> None:
    """Write meta.json for a new folder; refuse to resume one made with other inputs."""
    path = out_dir / META_FILE
    if not path.exists():
        atomic.write_json(path, meta)
        return
    hint = "run with --fresh to discard it, or use another --out folder"
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PunieError(f"cannot read {path} ({exc})", where="eval", hint=hint) from None
    diff = differences(old, meta)
    if diff:
        raise PunieError(
            f"{out_dir} holds an evaluation made with other inputs: {'; '.join(diff)}",
            where="eval",
            hint=hint,
        )


def read_done(cases_path: Path, record: type) -> dict[str, Any]:
    """The records in cases.jsonl by case id (the last one of each), as `record`."""
    done: dict[str, Any] = {}
    for row in read_jsonl(cases_path, tolerant=True):  # a line cut off by a crash: skipped
        try:
            r = record(**row)
        except (ValueError, TypeError):
            continue  # not a record of this kind: that case runs again
        done[r.id] = r
    return done


def resume_done(cases_path: Path, record: type, retry: tuple[str, ...]) -> dict[str, Any]:
    """The finished records a resumed run keeps (failures in `retry` are asked again),
    with cases.jsonl rewritten to hold just them."""
    done = {k: v for k, v in read_done(cases_path, record).items() if v.failure not in retry}
    keep_only(cases_path, done)
    return done


def keep_only(cases_path: Path, done: dict[str, Any]) -> None:
    """Rewrite cases.jsonl with just the records a resumed run keeps. A line cut off
    by a crash has no newline: the next appended case would be glued to it and lost."""
    if cases_path.exists():
        atomic.write_jsonl(cases_path, [r.model_dump(mode="json") for r in done.values()])
