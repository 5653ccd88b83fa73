"""Checks that run before any model is loaded: data present and valid, model resolvable,
layer count and batch size possible. Each failure is a PunieError (exit 2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from punie.errors import PunieError
from punie.jsonl import numbered_rows
from punie.train.config import TrainConfig


@dataclass(frozen=True)
class Preflight:
    model_path: Path
    num_model_layers: int | None
    examples: dict[str, int]  # split name -> rows


def _count_rows(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def _fallback_validate(path: Path) -> None:
    """Minimal row check used when punie.data's validator is not importable."""
    for split in ("train", "valid", "test"):
        f = path / f"{split}.jsonl"
        if not f.exists():
            continue
        for where, row in numbered_rows(f):
            if not (
                isinstance(row.get("messages"), list)
                or isinstance(row.get("text"), str)
                or ("prompt" in row and "completion" in row)
            ):
                raise PunieError(
                    "row has no messages, text or prompt/completion",
                    where=where,
                    hint="see docs/data.md for the chat-JSONL format",
                )


def _report(config: TrainConfig, data: Path):
    """(validation report or None after the fallback check passed, hint for errors):
    pairs for dpo/orpo, chat rows for sft."""
    if config.method != "sft":
        from punie.data.pairs import validate_pairs

        return validate_pairs(data), "see the pair format in docs/train.md"
    try:
        from punie.data.validate import validate_path
    except ImportError:
        _fallback_validate(data)
        return None, ""
    return validate_path(data), f"run `punie data validate {data}`"


def check_data(config: TrainConfig) -> dict[str, int]:
    data = Path(config.data)
    if not data.is_dir():
        raise PunieError(
            "data folder not found",
            where=str(data),
            hint="give a folder with train.jsonl and valid.jsonl (punie data split)",
        )
    for split in ("train", "valid"):
        if not (data / f"{split}.jsonl").is_file():
            raise PunieError(
                f"no {split}.jsonl",
                where=str(data),
                hint="split the data first: punie data split",
            )
    report, hint = _report(config, data)
    if report is not None and not report.ok:
        more = len(report.errors) - 1
        tail = f"; {more} more errors" if more else ""
        raise PunieError(
            f"data fails validation: {report.errors[0]}{tail}", where=str(data), hint=hint
        )
    examples = {
        s: _count_rows(data / f"{s}.jsonl")
        for s in ("train", "valid", "test")
        if (data / f"{s}.jsonl").is_file()
    }
    if examples["train"] < config.batch_size:
        raise PunieError(
            f"train.jsonl has {examples['train']} rows, fewer than batch_size {config.batch_size}",
            where=str(data),
            hint="lower --batch-size or add data",
        )
    if examples["valid"] < config.batch_size:
        raise PunieError(
            f"valid.jsonl has {examples['valid']} rows, fewer than batch_size {config.batch_size}",
            where=str(data),
            hint="lower --batch-size or give a bigger validation split",
        )
    return examples


def resolve_model_path(spec: str) -> Path:
    try:
        from punie.model import resolve_model  # type: ignore[attr-defined]
    except ImportError:
        try:
            from punie.model.store import resolve_model
        except ImportError:
            resolve_model = None
    if resolve_model is not None:
        return Path(resolve_model(spec))
    p = Path(spec).expanduser()
    if (p / "config.json").is_file():
        return p.resolve()
    raise PunieError("model not found", where=spec, hint="give a model folder")


def model_layers(model_path: Path) -> int | None:
    try:
        cfg = json.loads((model_path / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    cfg = cfg.get("text_config", cfg)
    n = cfg.get("num_hidden_layers", cfg.get("n_layer"))
    return int(n) if isinstance(n, int) else None


def preflight(config: TrainConfig, world_size: int = 1) -> Preflight:
    """Everything checkable without loading weights; raises PunieError on the first problem."""
    if config.batch_size % world_size:
        raise PunieError(
            f"batch_size {config.batch_size} is not divisible by {world_size} processes",
            where="config",
            hint="each rank takes an equal share of a batch",
        )
    examples = check_data(config)
    model_path = resolve_model_path(config.model)
    n_layers = model_layers(model_path)
    if n_layers is not None and config.num_layers > n_layers:
        raise PunieError(
            f"num_layers {config.num_layers} but the model has {n_layers} layers",
            where="config",
            hint="use -1 for all layers",
        )
    return Preflight(model_path, n_layers, examples)
