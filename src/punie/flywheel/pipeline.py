"""The flywheel: model -> data -> validate -> base eval -> train -> adapted eval ->
compare -> report, each stage's output in the run folder or a content-hashed cache.

Caches (under PUNIE_HOME) are keyed by content, never by name or time:
- generated data: generator kind, n, seed and the length filter;
- data merged with harvested sessions: the base data's hash, the harvested rows,
  the weight and the seed (`punie.flywheel.harvested`);
- base evaluations: model weights hash, suite fingerprint and eval settings;
- training: the effective train config with the data hash and the model hash.
So a second run with the same inputs reuses everything up to the first change,
and a changed input (a new seed, another rank) reruns exactly what depends on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from punie import atomic, paths
from punie.errors import PunieError
from punie.flywheel import evals, harvested
from punie.flywheel.config import FlywheelConfig
from punie.flywheel.stages import StageLog, content_hash, software_stack

RESULT_FILE = "flywheel.json"


class Interrupted(PunieError):
    """A stage stopped early (Ctrl-C): exit 130 like any interrupted command."""

    exit_code = 130


REPORT_FILE = "report.html"


@dataclass
class FlywheelResult:
    run_dir: Path
    report: Path | None
    train_run: Path | None
    comparisons: dict[str, Any] = field(default_factory=dict)
    data_stats: dict[str, Any] = field(default_factory=dict)
    complete: bool = False


def cache_root() -> Path:
    return paths.punie_home() / "flywheel"


# --- data ---------------------------------------------------------------------------


def is_answer_turn(row: dict) -> bool:
    """A row that ends in a text answer after a tool result (not a call, not a direct answer)."""
    msgs = row.get("messages") or []
    if not msgs or msgs[-1].get("tool_calls"):
        return False
    return any(m.get("role") == "tool" for m in msgs)


def _length_filter(rows: list[dict], tok: Any, limit: int) -> list[dict]:
    from punie.data.tokens import example_tokens

    return [r for r in rows if len(example_tokens(tok, r)) <= limit]


def _generator_fingerprint() -> str:
    """Punie's whole source, not only the generators: what `generate` writes also
    depends on the tools it runs for real results, dedupe, the near-duplicate key and
    the suites training excludes, and an upgrade must not be served older data."""
    from punie.flywheel.stages import punie_source_hash

    return punie_source_hash()


def generated_data_dir(cfg: FlywheelConfig) -> Path:
    spec = cfg.data
    key = content_hash(
        "data",
        spec.generate,
        spec.n,
        spec.seed,
        spec.max_example_tokens,
        spec.drop_answer_turns,
        _generator_fingerprint(),
    )
    return cache_root() / "data" / key


def cached_data(cfg: FlywheelConfig) -> Path | None:
    out = generated_data_dir(cfg)
    if cfg.data.generated and (out / "train.jsonl").is_file() and (out / "valid.jsonl").is_file():
        return out
    return None


def make_data(cfg: FlywheelConfig, model_path: Path) -> Path:
    """The dataset folder: a user's own, or generated (seeded) into the cache."""
    spec = cfg.data
    if not spec.generated:
        if not (Path(spec.path) / "train.jsonl").is_file():
            raise PunieError("no train.jsonl", where=str(spec.path), hint="give a dataset folder")
        return Path(spec.path)
    out = generated_data_dir(cfg)
    if cached_data(cfg) is not None:
        return out
    from punie.data.files import write_dataset
    from punie.data.generate import build

    splits = build(spec.generate, spec.n, spec.seed)
    if spec.drop_answer_turns:
        splits["train"] = [r for r in splits["train"] if not is_answer_turn(r)]
    if spec.max_example_tokens:
        from punie.data.tokens import load_tokenizer

        tok = load_tokenizer(model_path)
        splits = {k: _length_filter(v, tok, spec.max_example_tokens) for k, v in splits.items()}
        if len(splits["train"]) < 8 or not splits["valid"]:
            raise PunieError(
                f"only {len(splits['train'])} train rows fit in {spec.max_example_tokens} tokens",
                where="flywheel data",
                hint="raise data.max_example_tokens or data.n",
            )
    tmp = out.with_name(out.name + ".tmp")
    write_dataset(tmp, splits)
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp.rename(out)  # the folder appears whole or not at all
    return out


def data_stats(data: Path, model_path: Path) -> dict[str, Any]:
    from punie.data.files import read_dataset
    from punie.data.ops import stats
    from punie.data.tokens import load_tokenizer

    tok = load_tokenizer(model_path)
    out = {}
    for split, rows in read_dataset(data).items():
        s = stats(rows, tok)
        out[split] = {
            "examples": s.examples,
            "categories": s.categories,
            "tools": s.tools,
            "tokens": s.tokens,
        }
    return out


def validate_data(data: Path, model_path: Path, check_format: bool) -> dict[str, Any]:
    from punie.data.validate import validate_path

    report = validate_path(data, model=model_path)
    errors = [i for i in report.issues if i.severity == "error"]
    if errors:
        first = errors[0]
        raise PunieError(
            f"{len(errors)} invalid rows, first: {first.message}",
            where=f"{first.path}:{first.line}",
            hint=f"run `punie data validate {data}`",
        )
    out: dict[str, Any] = {
        "warnings": len(report.issues),
        "max_tokens": report.max_tokens,
    }
    if check_format:
        from punie.data.check_format import check_format as run_check

        fmt = run_check(data, model_path)
        if not fmt.ok:
            first = fmt.issues[0]
            raise PunieError(
                f"{len(fmt.issues)} rows do not round-trip through the chat template and "
                f"tool parser, first: {first.message}",
                where=f"{first.path}:{first.line}",
                hint=f"run `punie data check-format {data} --model {model_path}`",
            )
        out.update(turns=fmt.turns, calls=fmt.calls, parser=fmt.parser)
    return out


# --- training -----------------------------------------------------------------------


def train_key(train_cfg, model_hash: str, data_hash: str, stack: dict | None = None) -> str:
    """The cache key of a training run. `stack` (default: the installed Punie, mlx,
    mlx-lm and Python versions) is part of it: another version may train differently,
    and a reused run would report the old code's numbers as the new one's."""
    dump = train_cfg.dump()
    dump.pop("data", None)
    dump.pop("model", None)
    return content_hash("train", dump, model_hash, data_hash, stack or software_stack())


def finished_run(run_dir: Path):
    """(manifest, adapter) of a finished training run in `run_dir`, else None."""
    m = run_dir / "manifest.json"
    if not m.is_file():
        return None
    manifest = json.loads(m.read_text())
    if manifest.get("outcome") not in ("completed", "early_stopped"):
        return None
    if not (run_dir / "adapter" / "adapters.safetensors").is_file():
        return None
    return manifest


def train_run(train_cfg, run_dir: Path, on_event: Any = None):
    """Train into `run_dir` (a half-done run there is resumed, a failed one restarted)."""
    from punie.train.runner import resume, train

    if (run_dir / "manifest.json").is_file():
        from punie.train.checkpoint import latest_checkpoint

        if latest_checkpoint(run_dir / "checkpoints") is not None:
            return resume(run_dir, on_event)
        import shutil

        shutil.rmtree(run_dir)
    return train(train_cfg, run_dir, on_event)


# --- the pipeline -------------------------------------------------------------------


def run_flywheel(
    cfg: FlywheelConfig,
    run_dir: Path,
    *,
    console: Any = None,
    progress: bool = True,
    title: str = "Punie flywheel",
    targets: dict[str, float] | None = None,
    endings: dict[str, dict[str, int]] | None = None,
) -> FlywheelResult:
    """Run every stage; a stage whose inputs are unchanged is reused (see module doc)."""
    from punie.flywheel import report as fw_report
    from punie.train.rundir import data_hash, model_hash

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_json(run_dir / "config.json", json.loads(cfg.model_dump_json()))
    log = StageLog(run_dir, console)
    res = FlywheelResult(run_dir=run_dir, report=None, train_run=None)
    suites = evals.load_suites(cfg.eval.suites, cfg.eval.max_cases)
    newer, harvest_info = harvested.newer_suites(cfg, [s.name for s in suites])
    suites += newer

    def _model():
        from punie.model import resolve_model

        p = Path(resolve_model(cfg.model))
        return p, model_hash(p)

    model_path, mhash = log.stage("model", _model, detail=lambda r: f"{r[0].name} {r[1][:10]}")
    data = log.stage(
        "data",
        lambda: make_data(cfg, model_path),
        cached=lambda: cached_data(cfg),
        detail=lambda p: str(p.name),
    )
    if cfg.data.harvest:
        base_data = data
        data = log.stage(
            "merge harvested data",
            lambda: harvested.make_merged(cfg, base_data, model_path, mhash),
            cached=lambda: harvested.cached_merged(cfg, base_data, mhash),
            detail=harvested.merge_detail,
        )
        harvest_info["merge"] = harvested.merge_stats(data)
    dhash = data_hash(data)
    vkey = content_hash("validate", dhash, mhash, cfg.data.check_format)
    vfile = cache_root() / "validated" / f"{vkey}.json"

    def _validate():
        out = validate_data(data, model_path, cfg.data.check_format)
        out["stats"] = data_stats(data, model_path)
        atomic.write_json(vfile, out)
        return out

    checked = log.stage(
        "validate + check format",
        _validate,
        cached=lambda: json.loads(vfile.read_text()) if vfile.is_file() else None,
        detail=lambda v: (
            f"{v['stats']['train']['examples']} train rows, {v.get('calls', '-')} calls round-trip"
        ),
    )
    res.data_stats = checked["stats"]

    base_dirs = [
        cache_root() / "evals" / evals.eval_key(mhash, None, s, cfg.eval) / s.name for s in suites
    ]
    base_keys = [evals.eval_key(mhash, None, s, cfg.eval) for s in suites]
    base = log.stage(
        "evaluate base model",
        lambda: evals.evaluate_suites(
            model_path,
            None,
            suites,
            base_dirs,
            base_keys,
            cfg.eval,
            label=cfg.model,
            progress=progress,
            log_path=run_dir / "server-base.log",
        ),
        cached=lambda: _all_cached(base_dirs, base_keys),
        detail=_scores,
    )

    train_cfg = cfg.train_config(str(model_path), data)
    tkey = train_key(train_cfg, mhash, dhash)
    trun = paths.runs_dir() / f"flywheel-{tkey}"
    manifest = log.stage(
        "train LoRA" if train_cfg.fine_tune_type != "full" else "train (full)",
        lambda: _train_and_manifest(train_cfg, trun, console, progress),
        cached=lambda: finished_run(trun),
        detail=lambda m: (
            f"{m.get('steps')} steps, val loss {_fmt(m.get('final_val_loss'))}, {trun.name}"
        ),
    )
    res.train_run = trun
    adapter = trun / "adapter"
    if cfg.select_checkpoint:
        from punie.flywheel.checkpoints import select_checkpoint

        adapter = log.stage(
            "select checkpoint (task score on valid)",
            lambda: select_checkpoint(trun, model_path, data, cfg.eval, console=console),
            detail=lambda p: p.name,
        )

    akey = content_hash(tkey, str(adapter.relative_to(trun)))
    new_dirs = [run_dir / "eval" / "adapted" / s.name for s in suites]
    new_keys = [evals.eval_key(mhash, akey, s, cfg.eval) for s in suites]
    new = log.stage(
        "evaluate adapted model",
        lambda: evals.evaluate_suites(
            model_path,
            adapter,
            suites,
            new_dirs,
            new_keys,
            cfg.eval,
            label=cfg.model,
            progress=progress,
            log_path=run_dir / "server-adapted.log",
        ),
        cached=lambda: _all_cached(new_dirs, new_keys),
        detail=_scores,
    )

    def _compare():
        from punie.evaluate.compare import compare

        out = {}
        for b, n in zip(base, new, strict=True):
            out[b.suite] = compare(b, n)
            atomic.write_json(run_dir / "eval" / f"compare-{b.suite}.json", out[b.suite].to_json())
        return out

    res.comparisons = log.stage(
        "compare",
        _compare,
        detail=lambda c: ", ".join(f"{k} {v.delta_points:+.1f} pts" for k, v in c.items()),
    )
    verdict = fw_report.verdict(res.comparisons, targets, endings, new)
    summary = {
        "title": title,
        "config": json.loads(cfg.model_dump_json()),
        "model": {"path": str(model_path), "sha256": mhash},
        "data": {"path": str(data), "sha256": dhash, "validation": checked},
        "train_run": str(trun),
        "train_manifest": manifest,
        "adapter": str(adapter),
        "comparisons": {k: v.to_json() for k, v in res.comparisons.items()},
        "verdict": verdict,
        "harvest": harvest_info or None,
    }

    def _report():
        summary["stages"] = [r.__dict__ for r in log.records]
        atomic.write_json(run_dir / RESULT_FILE, summary)
        html = fw_report.render(summary, base, new, trun / "metrics.jsonl", log.records)
        atomic.write_text(run_dir / REPORT_FILE, html)
        return run_dir / REPORT_FILE

    res.report = log.stage("report", _report, detail=lambda p: str(p))
    summary["stages"] = [r.__dict__ for r in log.records]
    summary["complete"] = res.complete = log.all_done()
    atomic.write_json(run_dir / RESULT_FILE, summary)
    # The table in the HTML was rendered before the report stage's own time was known.
    atomic.write_text(
        run_dir / REPORT_FILE,
        fw_report.render(summary, base, new, trun / "metrics.jsonl", log.records),
    )
    res.log = log  # type: ignore[attr-defined]
    return res


def _train_and_manifest(train_cfg, trun: Path, console: Any, progress: bool) -> dict:
    from punie.train.progress import RichProgress

    if progress:
        with RichProgress(train_cfg.iters, console) as bar:
            result = train_run(train_cfg, trun, bar)
    else:
        result = train_run(train_cfg, trun, None)
    if result.outcome not in ("completed", "early_stopped"):
        raise Interrupted(
            f"training ended {result.outcome} at step {result.steps}",
            where=str(trun),
            hint="run the same command again to resume from the last checkpoint",
        )
    return result.manifest


def _all_cached(dirs: list[Path], keys: list[str]):
    hits = [evals.cached_result(d, k) for d, k in zip(dirs, keys, strict=True)]
    return hits if all(h is not None for h in hits) else None


def _scores(results: list[Any]) -> str:
    return ", ".join(f"{r.suite} {r.passed}/{r.n}" for r in results)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
