"""Evaluation of one model (+ adapter) on several suites through one managed server.

Both sides of a comparison go through exactly this path (the same `mlx_lm.server`
child, request shape and scorer), so a difference in scores is the adapter's.
A finished result is reused when its cache key (model hash, adapter, suite
fingerprint, settings) matches: a second demo run does not re-ask the base model.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from punie.flywheel.config import EvalSpec
from punie.flywheel.stages import content_hash, software_stack

KEY_FILE = "flywheel-key.json"


def settings_for(spec: EvalSpec):
    from punie.evaluate.runner import EvalSettings

    return EvalSettings(
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
        concurrency=spec.concurrency,
        timeout_s=spec.timeout_s,
    )


def eval_key(
    model_hash: str, adapter_key: str | None, suite, spec: EvalSpec, stack: dict | None = None
) -> str:
    """The cache key of one suite's evaluation; `stack` as in `pipeline.train_key` (the
    server and the scorer come with the installed versions)."""
    fields = (model_hash, adapter_key, suite.fingerprint(), spec.model_dump())
    return content_hash(*fields, stack or software_stack())


def cached_result(out_dir: Path, key: str):
    """The finished SuiteResult in `out_dir` if it was made with `key`, else None."""
    from punie.evaluate.results import load_result

    kf, rf = out_dir / KEY_FILE, out_dir / "results.json"
    if not (kf.is_file() and rf.is_file()):
        return None
    if json.loads(kf.read_text()).get("key") != key:
        return None
    result = load_result(rf)
    if not result.complete or any(c.failure in ("server_error", "timeout") for c in result.cases):
        return None
    return result


def evaluate_suites(
    model_path: Path,
    adapter: Path | None,
    suites: list[Any],
    out_dirs: list[Path],
    keys: list[str],
    spec: EvalSpec,
    *,
    label: str,
    progress: bool = True,
    log_path: Path | None = None,
) -> list[Any]:
    """Start one server for model+adapter and run each suite; reuse cached results."""
    from punie import atomic

    results: list[Any] = [cached_result(d, k) for d, k in zip(out_dirs, keys, strict=True)]
    todo = [i for i, r in enumerate(results) if r is None]
    if not todo:
        return results
    from punie.evaluate.runner import run_suite
    from punie.evaluate.task_runner import run_task_suite
    from punie.serve.endpoints import Endpoint
    from punie.serve.server import ManagedServer

    settings = settings_for(spec)
    server = ManagedServer(
        model_path, adapter=adapter, decode_concurrency=spec.decode_concurrency, log_path=log_path
    )
    with server:
        ep = Endpoint(server.base_url, server.model_name, server, Path(model_path))
        for i in todo:
            out = out_dirs[i]
            if out.exists() and not (out / KEY_FILE).is_file():
                _clear(out)
            elif (out / KEY_FILE).is_file() and json.loads((out / KEY_FILE).read_text())[
                "key"
            ] != keys[i]:
                _clear(out)  # an evaluation of another model/suite: start over
            out.mkdir(parents=True, exist_ok=True)
            atomic.write_json(out / KEY_FILE, {"key": keys[i]})
            run = run_task_suite if is_task_suite(suites[i]) else run_suite
            results[i] = asyncio.run(
                run(
                    ep,
                    suites[i],
                    out,
                    settings=settings,
                    model_label=label,
                    adapter=adapter,
                    progress=progress,
                )
            )
    return results


def _clear(folder: Path) -> None:
    for name in ("cases.jsonl", "meta.json", "results.json", "report.html", KEY_FILE):
        (folder / name).unlink(missing_ok=True)


def is_task_suite(suite: Any) -> bool:
    """A whole-task suite (run through the agent loop), not single-turn cases."""
    return getattr(suite, "kind", None) == "tasks"


def dev_draws(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Each built-in suite that comes in two draws swapped for its dev draw (`tools` ->
    `tools-dev`, `tasks` -> `tasks-dev`); other names and YAML files as given. Sweeps
    and tuning choose on these: the test draws are what the demo and the docs report,
    and a recipe picked on them would be fitted to its own exam."""
    from punie.evaluate.suite import builtin_suites

    builtins = set(builtin_suites())
    return tuple(
        f"{n}-dev" if f"{n}-dev" in builtins and n in builtins and not Path(n).exists() else n
        for n in names
    )


def load_suites(names: tuple[str, ...] | list[str], max_cases: int = 0) -> list[Any]:
    from punie.evaluate.suite import load_any_suite

    suites = [load_any_suite(n) for n in names]
    return [subset(s, max_cases) for s in suites] if max_cases else suites


def subset(suite, n: int):
    """The first `n` cases taken round-robin over categories, in file order: a smaller
    suite with the same mix (deterministic, so base and adapted see the same cases)."""
    if n <= 0 or n >= len(suite.cases):
        return suite
    by_cat: dict[str, list] = {}
    for c in suite.cases:
        by_cat.setdefault(c.category, []).append(c)
    picked: list = []
    while len(picked) < n:
        for cases in by_cat.values():
            if cases and len(picked) < n:
                picked.append(cases.pop(0))
    order = {c.id: i for i, c in enumerate(suite.cases)}
    picked.sort(key=lambda c: order[c.id])
    return suite.model_copy(update={"cases": picked})
