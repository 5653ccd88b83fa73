"""Checkpoint selection by task score: every saved checkpoint of a run (and its final
adapter) is evaluated on a suite built from the valid split, and the best by
accuracy is kept — not the one with the lowest loss, which for tool calling often
is not the one that calls tools best. Ties go to the earlier step (less drift)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from punie import atomic
from punie.errors import PunieError
from punie.jsonl import read_jsonl

SELECTION_FILE = "selection.json"


def valid_suite(data: Path, max_tokens: int = 48, limit: int = 0):
    """A suite from valid.jsonl: each row asks up to its first assistant turn and
    expects that turn's calls (or no call)."""
    from punie.evaluate.suite import Suite

    rows = read_jsonl(Path(data) / "valid.jsonl")
    cases: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        msgs = row.get("messages") or []
        turn = next((k for k, m in enumerate(msgs) if m.get("role") == "assistant"), None)
        if turn is None or turn == 0:
            continue
        calls = msgs[turn].get("tool_calls") or []
        case: dict[str, Any] = {
            "id": f"valid-{i:04d}",
            "category": row.get("category") or ("tool" if calls else "no_tool"),
            "messages": msgs[:turn],
            "tools": row.get("tools") or [],
        }
        if calls:
            case["expected_calls"] = [
                {"name": c["function"]["name"], "arguments": _args(c["function"]["arguments"])}
                for c in calls
            ]
        else:
            case["no_call"] = True
        cases.append(case)
        if limit and len(cases) >= limit:
            break
    if not cases:
        raise PunieError("no usable rows in valid.jsonl", where=str(data))
    return Suite(name="valid", max_tokens=max_tokens, cases=cases)


def _args(raw: Any) -> dict[str, list[Any]]:
    from punie.evaluate.suite import acceptable

    args = json.loads(raw) if isinstance(raw, str) else dict(raw)
    # The row's own value is the one answer; a nested object is compared key by key.
    return {k: [acceptable(v)] for k, v in args.items()}


def candidates(run_dir: Path) -> list[tuple[str, Path]]:
    """(label, adapter folder) for each saved checkpoint, then the final adapter."""
    from punie.train.checkpoint import list_checkpoints

    out = [(f"step {int(p.name)}", p) for p in list_checkpoints(run_dir / "checkpoints")]
    final = run_dir / "adapter"
    if (final / "adapters.safetensors").is_file():
        out.append(("final", final))
    return out


def select_checkpoint(
    run_dir: Path,
    model_path: Path,
    data: Path,
    spec,
    *,
    console: Any = None,
    limit: int = 0,
) -> Path:
    """Evaluate the candidates, copy the best to `run_dir/adapter-selected`, return it."""
    from punie.flywheel.evals import eval_key, evaluate_suites
    from punie.flywheel.stages import content_hash

    run_dir = Path(run_dir)
    suite = valid_suite(data, spec.max_tokens or 48, limit)
    cands = candidates(run_dir)
    if not cands:
        raise PunieError("no checkpoints or adapter to select from", where=str(run_dir))
    rows = []
    for label, adapter in cands:
        if console is not None:
            console.print(f"  scoring {label} on {len(suite.cases)} valid cases")
        key = eval_key(
            "select", content_hash(str(adapter), adapter.stat().st_mtime_ns), suite, spec
        )
        out = run_dir / "selection" / label.replace(" ", "-")
        [res] = evaluate_suites(
            model_path, adapter, [suite], [out], [key], spec, label=label, progress=False
        )
        rows.append({"label": label, "adapter": str(adapter), "accuracy": res.accuracy})
    best = max(rows, key=lambda r: r["accuracy"])  # max keeps the first (earliest) of ties
    target = run_dir / "adapter-selected"
    tmp = run_dir / ".adapter-selected.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(best["adapter"], tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    atomic.write_json(run_dir / SELECTION_FILE, {"best": best, "candidates": rows})
    return target
