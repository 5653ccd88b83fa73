"""`punie runs list/show`: what was trained and evaluated, when, with which config
and scores — read from the files the stages wrote (manifests, flywheel.json), never
from memory of what a command meant to do."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from punie import paths
from punie.errors import PunieError


@dataclass
class RunInfo:
    name: str
    kind: str  # train | flywheel
    path: Path
    started: str | None
    model: str | None
    outcome: str | None
    config: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # suite -> base/new
    verdict: str | None = None
    steps: int | None = None
    val_loss: float | None = None


def _flywheel_runs(root: Path) -> list[RunInfo]:
    out = []
    for f in sorted(root.glob("**/flywheel.json")):
        try:
            s = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        m = s.get("train_manifest") or {}
        started = next((st for st in [m.get("started")] if st), None)
        out.append(
            RunInfo(
                name=str(f.parent.relative_to(root)),
                kind="flywheel",
                path=f.parent,
                started=started,
                model=(s.get("config") or {}).get("model"),
                outcome="complete" if s.get("complete") else "incomplete",
                config=m.get("config") or {},
                scores={
                    k: {"base": v["base_accuracy"], "new": v["new_accuracy"]}
                    for k, v in (s.get("comparisons") or {}).items()
                },
                verdict=(s.get("verdict") or {}).get("label"),
                steps=m.get("steps"),
                val_loss=m.get("final_val_loss"),
            )
        )
    return out


def _train_runs(root: Path) -> list[RunInfo]:
    out = []
    for f in sorted(root.glob("*/manifest.json")):
        try:
            m = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        out.append(
            RunInfo(
                name=f.parent.name,
                kind="train",
                path=f.parent,
                started=m.get("started"),
                model=(m.get("model") or {}).get("spec"),
                outcome=m.get("outcome"),
                config=m.get("config") or {},
                steps=m.get("steps"),
                val_loss=m.get("final_val_loss"),
            )
        )
    return out


def list_runs(home: Path | None = None) -> list[RunInfo]:
    home = home or paths.punie_home()
    runs = _train_runs(home / "runs") + _flywheel_runs(home / "flywheel")
    sweeps = home / "sweeps"
    if sweeps.is_dir():
        runs += [
            RunInfo(**{**r.__dict__, "name": f"sweeps/{r.name}"}) for r in _flywheel_runs(sweeps)
        ]
    # Training runs used by a flywheel run get that run's scores.
    by_path = {str(r.path.resolve()): r for r in runs if r.kind == "train"}
    for r in runs:
        if r.kind == "flywheel":
            s = json.loads((r.path / "flywheel.json").read_text())
            t = by_path.get(str(Path(s.get("train_run", "")).resolve()))
            if t is not None:
                t.scores = t.scores or r.scores
    return sorted(runs, key=lambda r: r.started or "", reverse=True)


def _cfg_summary(cfg: dict[str, Any]) -> str:
    keys = ("fine_tune_type", "rank", "num_layers", "learning_rate", "iters", "batch_size")
    return " ".join(f"{k}={cfg[k]}" for k in keys if k in cfg)


def runs_table(runs: list[RunInfo]):
    from rich.table import Table

    t = Table(title=f"Runs in {paths.punie_home()}")
    for c in ("name", "kind", "started", "model", "outcome", "config", "scores"):
        t.add_column(c)
    for r in runs:
        scores = ", ".join(
            f"{k} {100 * v['base']:.0f}->{100 * v['new']:.0f}%" for k, v in r.scores.items()
        )
        t.add_row(
            r.name,
            r.kind,
            (r.started or "-")[:19],
            Path(r.model).name if r.model and "/" in r.model else (r.model or "-"),
            r.outcome or "-",
            _cfg_summary(r.config),
            scores or "-",
        )
    if not runs:
        t.caption = "no runs yet: try `punie demo`"
    return t


def find(spec: str, home: Path | None = None) -> RunInfo:
    p = Path(spec).expanduser()
    runs = list_runs(home)
    for r in runs:
        if (
            r.name == spec
            or r.path.name == spec
            or (p.exists() and r.path.resolve() == p.resolve())
        ):
            return r
    raise PunieError(
        f"no run named {spec!r}", where="runs", hint="see `punie runs list` for the names"
    )


def show_run(spec: str, home: Path | None = None):
    from rich.console import Group
    from rich.pretty import Pretty
    from rich.text import Text

    r = find(spec, home)
    lines = [
        Text(f"{r.name} ({r.kind}) at {r.path}", style="bold"),
        Text(f"started {r.started or '-'}  model {r.model or '-'}  outcome {r.outcome or '-'}"),
        Text(f"steps {r.steps}  final val loss {r.val_loss}"),
    ]
    if r.verdict:
        lines.append(Text(f"verdict {r.verdict}"))
    for k, v in r.scores.items():
        lines.append(Text(f"{k}: {100 * v['base']:.1f}% -> {100 * v['new']:.1f}%"))
    report = r.path / "report.html"
    if report.is_file():
        lines.append(Text(f"report {report}"))
    lines.append(Text("config:", style="bold"))
    lines.append(Pretty(r.config))
    return Group(*lines)
