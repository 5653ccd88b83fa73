"""Harvested sessions in `punie flywheel run` (`data.harvest`, `data.harvest_weight`).

- **Train data**: the generated (or `data.path`) dataset with every harvest folder's
  rows merged in. Its train split gets the harvested train rows weighted: with
  weight w and N rows, round(w x N) rows: each row floor(w) times, plus a sample
  (seeded by `data.seed`) of round((w - floor(w)) x N) rows once more; weight 0
  trains on none. Its valid split gets the harvested valid rows once each. The
  harvest's test rows are never trained on: they are the suite below. With
  `data.max_example_tokens`, harvested rows longer than that are dropped too
  (`drop_answer_turns` is for generated rows: harvested rows all end in answers).
- **Cache**: the merged folder lives under `PUNIE_HOME/flywheel/data/merged-<key>`,
  the key holding the base data's hash, each harvested train/valid file's bytes,
  the weight, the seed, the length limit with the model hash, and Punie's source.
  Its `train.jsonl` is the data the training key hashes, so changed harvested rows
  train again.
- **Suite**: the harvest folders' held-out newest sessions as the task suite
  `harvest-newer` (`punie.evaluate.harvested`), evaluated on base and adapted.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path
from typing import Any

from punie import atomic
from punie.errors import PunieError
from punie.flywheel.config import FlywheelConfig

MERGE_FILE = "harvest-merge.json"
MERGED_SPLITS = ("train", "valid")


def weighted(rows: list[dict], weight: float, seed: int) -> list[dict]:
    """round(weight x len(rows)) rows: each floor(weight) times, then a seeded sample
    of the fraction once more (in their order)."""
    whole = int(weight)
    extra = round((weight - whole) * len(rows))
    picked = sorted(random.Random(seed).sample(range(len(rows)), extra))
    return [r for r in rows for _ in range(whole)] + [rows[i] for i in picked]


def harvested_rows(folders: tuple[Path, ...]) -> dict[str, list[dict]]:
    """Every folder's train and valid rows (validated; PunieError names file:line)."""
    from punie.data.files import read_rows
    from punie.data.harvest_io import REPORT

    out: dict[str, list[dict]] = {s: [] for s in MERGED_SPLITS}
    for folder in folders:
        _check_folder(Path(folder), REPORT)
        for split in MERGED_SPLITS:
            f = Path(folder) / f"{split}.jsonl"
            if f.is_file():
                out[split] += read_rows(f)
    return out


def _check_folder(folder: Path, report: str) -> None:
    hint = "run `punie data harvest --out DIR` and give DIR in data.harvest"
    if not folder.is_dir():
        raise PunieError("harvest folder not found", where=str(folder), hint=hint)
    if not (folder / report).is_file():
        raise PunieError(f"not a harvest folder: it has no {report}", where=str(folder), hint=hint)


def merge(
    base: dict[str, list[dict]], harvest: dict[str, list[dict]], weight: float, seed: int
) -> tuple[dict[str, list[dict]], dict[str, Any]]:
    """(the merged splits, counts): harvested train rows weighted onto base train,
    harvested valid rows onto base valid, every other split as it was."""
    extra = weighted(harvest.get("train", []), weight, seed)
    splits = {
        **base,
        "train": base.get("train", []) + extra,
        "valid": base.get("valid", []) + harvest.get("valid", []),
    }
    stats = {
        "weight": weight,
        "base_train": len(base.get("train", [])),
        "harvested_train": len(harvest.get("train", [])),
        "harvested_train_rows": len(extra),
        "base_valid": len(base.get("valid", [])),
        "harvested_valid": len(harvest.get("valid", [])),
    }
    return splits, stats


def _harvest_bytes_hash(folders: tuple[Path, ...]) -> str:
    h = hashlib.sha256()
    for folder in folders:
        for split in MERGED_SPLITS:
            f = Path(folder) / f"{split}.jsonl"
            h.update(f"{folder}\0{split}\0".encode())
            h.update(f.read_bytes() if f.is_file() else b"\0absent")
    return h.hexdigest()[:16]


def merged_dir(cfg: FlywheelConfig, base: Path, model_hash: str) -> Path:
    """Where the merged dataset of `base` and the harvest is cached (see module doc)."""
    from punie.flywheel.pipeline import cache_root
    from punie.flywheel.stages import content_hash, punie_source_hash
    from punie.train.rundir import data_hash

    spec = cfg.data
    key = content_hash(
        "merge",
        data_hash(base),
        _harvest_bytes_hash(spec.harvest),
        spec.harvest_weight,
        spec.seed,
        spec.max_example_tokens,
        model_hash if spec.max_example_tokens else None,
        punie_source_hash(),
    )
    return cache_root() / "data" / f"merged-{key}"


def cached_merged(cfg: FlywheelConfig, base: Path, model_hash: str) -> Path | None:
    out = merged_dir(cfg, base, model_hash)
    return out if (out / MERGE_FILE).is_file() and (out / "train.jsonl").is_file() else None


def make_merged(cfg: FlywheelConfig, base: Path, model_path: Path, model_hash: str) -> Path:
    """The merged dataset folder (built whole beside its place, then renamed in)."""
    from punie.data.files import read_dataset, write_dataset
    from punie.data.validate import SPLITS

    spec = cfg.data
    out = merged_dir(cfg, base, model_hash)
    harvest = harvested_rows(spec.harvest)
    dropped = 0
    if spec.max_example_tokens:
        from punie.data.tokens import load_tokenizer
        from punie.flywheel.pipeline import _length_filter

        tok = load_tokenizer(model_path)
        kept = {k: _length_filter(v, tok, spec.max_example_tokens) for k, v in harvest.items()}
        dropped = sum(len(harvest[k]) - len(kept[k]) for k in harvest)
        harvest = kept
    splits, stats = merge(read_dataset(base), harvest, spec.harvest_weight, spec.seed)
    stats.update(too_long=dropped, base=str(base), folders=[str(f) for f in spec.harvest])
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    write_dataset(tmp, {k: v for k, v in splits.items() if v and k in SPLITS})
    atomic.write_json(tmp / MERGE_FILE, stats)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)  # the folder appears whole or not at all
    return out


def merge_stats(merged: Path) -> dict[str, Any]:
    return json.loads((Path(merged) / MERGE_FILE).read_text())


def merge_detail(merged: Path) -> str:
    s = merge_stats(merged)
    return (
        f"{s['harvested_train']} harvested train rows x {s['weight']:g} -> "
        f"{s['harvested_train_rows']}, {s['harvested_valid']} valid rows"
    )


def newer_suites(cfg: FlywheelConfig, names: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """([the harvest-newer suite] or [], what was built) for a run with data.harvest;
    reads every harvest folder now, so bad input stops the run before any stage."""
    if not cfg.data.harvest:
        return [], {}
    harvested_rows(cfg.data.harvest)  # a malformed row fails here, not after the base eval
    if not cfg.eval.harvest_suite:
        return [], {"suite": None}
    from punie.evaluate.harvested import SUITE_NAME
    from punie.evaluate.harvested_io import NO_CASES_HINT, build_harvest_suite, no_cases_reason
    from punie.flywheel.evals import subset

    if SUITE_NAME in names:
        raise PunieError(
            f"eval.suites already has a suite named {SUITE_NAME!r}",
            where="flywheel config",
            hint="with data.harvest it is added by itself; set eval.harvest_suite = false",
        )
    suite, info = build_harvest_suite(list(cfg.data.harvest))
    if suite is None:
        info["note"] = f"{no_cases_reason(info)}; {NO_CASES_HINT}"
        return [], {"suite": info}
    return [subset(suite, cfg.eval.max_cases)], {"suite": info}
