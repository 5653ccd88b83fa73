"""Sweeps: a grid over training settings, each point a full flywheel run.

    [sweep]                      # in the flywheel TOML
    learning_rate = [1e-4, 3e-4]
    rank = [4, 8]
    num_layers = [4, 8]
    metric = "tools"             # the suite whose adapted accuracy ranks the runs

A sweep is a decision, so it reads the dev draws: a built-in suite of the config that
comes in two draws (`tools`, `no-tool`, `tasks`) is swapped for its dev draw
(`tools-dev`, ...), the metric with it (`evals.dev_draws`); YAML files are used as
given. Data and the base evaluation are shared (content-hash cached) between points; each
point trains its own run. After training, every run's manifest is checked to hold
the point's values: a grid whose settings never reached the trainer (the seed's bug)
fails loudly instead of reporting three copies of one run.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from punie import atomic
from punie.errors import PunieError
from punie.flywheel.config import FlywheelConfig, config_from_dict

GRID_KEYS = (
    "learning_rate",
    "rank",
    "num_layers",
    "iters",
    "batch_size",
    "scale",
    "dropout",
    "lr_schedule",
    "fine_tune_type",
    "turn_start_weight",
)


def load_sweep(path: str | Path) -> tuple[FlywheelConfig, dict[str, list], str | None]:
    p = Path(path)
    if not p.is_file():
        raise PunieError("config file not found", where=str(p))
    raw = tomllib.loads(p.read_text(encoding="utf-8")).get("sweep")
    if not isinstance(raw, dict) or not raw:
        raise PunieError("no [sweep] table", where=str(p), hint="add e.g. [sweep] rank = [4, 8]")
    raw = dict(raw)
    metric = raw.pop("metric", None)
    grid = parse_grid(raw, where=str(p))
    # The base config is the file without its [sweep] table.
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    data.pop("sweep")
    cfg = config_from_dict(data, p)
    return cfg, grid, metric


def parse_grid(raw: dict[str, Any], where: str = "sweep") -> dict[str, list]:
    grid: dict[str, list] = {}
    for k, v in raw.items():
        if k not in GRID_KEYS:
            raise PunieError(
                f"sweep.{k} is not a sweepable setting",
                where=where,
                hint=f"use {', '.join(GRID_KEYS)}",
            )
        values = v if isinstance(v, list) else [v]
        if not values:
            raise PunieError(f"sweep.{k} is empty", where=where)
        grid[k] = values
    return grid


def grid_points(grid: dict[str, list]) -> list[dict[str, Any]]:
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def point_name(point: dict[str, Any]) -> str:
    short = {
        "learning_rate": "lr",
        "num_layers": "layers",
        "batch_size": "bs",
        "fine_tune_type": "ft",
        "turn_start_weight": "tsw",
    }
    return "-".join(f"{short.get(k, k)}{v}" for k, v in point.items())


@dataclass
class SweepResult:
    out: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    metric: str | None = None

    @property
    def best_name(self) -> str | None:
        return self.rows[0]["name"] if self.rows else None

    @property
    def html(self) -> Path:
        return self.out / "sweep.html"

    def table(self):
        from rich.table import Table

        t = Table(title=f"Sweep sorted by {self.metric} accuracy (adapted)")
        cols = ["name", "score", "delta", "val loss", "train run"]
        for c in cols:
            t.add_column(c)
        for r in self.rows:
            t.add_row(
                r["name"],
                f"{100 * r['score']:.1f}%",
                f"{r['delta']:+.1f}",
                "-" if r["val_loss"] is None else f"{r['val_loss']:.3f}",
                Path(r["train_run"]).name,
            )
        return t


def check_manifest(manifest: dict[str, Any], point: dict[str, Any]) -> None:
    """The trainer's own record must show the point's values."""
    cfg = manifest.get("config") or {}
    for k, v in point.items():
        if cfg.get(k) != v:
            raise PunieError(
                f"run trained with {k}={cfg.get(k)!r}, the sweep asked for {v!r}",
                where=manifest.get("run_dir", "sweep"),
            )


def on_dev_draws(cfg: FlywheelConfig, metric: str | None) -> tuple[FlywheelConfig, str | None]:
    """The config and metric with every built-in test draw swapped for its dev draw."""
    from punie.flywheel.evals import dev_draws

    suites = dev_draws(cfg.eval.suites)
    cfg = cfg.model_copy(update={"eval": cfg.eval.model_copy(update={"suites": suites})})
    return cfg, dev_draws([metric])[0] if metric else None


def run_sweep(
    cfg: FlywheelConfig,
    grid: dict[str, list],
    out: Path,
    *,
    console: Any = None,
    metric: str | None = None,
    progress: bool = True,
) -> SweepResult:
    from punie.flywheel.evals import load_suites
    from punie.flywheel.pipeline import run_flywheel

    out = Path(out)
    asked = cfg.eval.suites
    cfg, metric = on_dev_draws(cfg, metric)
    if console is not None and cfg.eval.suites != asked:
        console.print(f"sweeping on the dev draws: {', '.join(cfg.eval.suites)}")
    names = [s.name for s in load_suites(cfg.eval.suites)]
    metric = metric or names[0]
    if metric not in names:
        raise PunieError(
            f"sweep metric {metric!r} is not a suite of this run",
            where="sweep",
            hint=f"use one of {', '.join(names)}",
        )
    rows = []
    for point in grid_points(grid):
        name = point_name(point)
        if console is not None:
            console.rule(f"sweep point {name}")
        pcfg = cfg.model_copy(update={"train": {**cfg.train, **point}, "name": name})
        res = run_flywheel(
            pcfg, out / name, console=console, progress=progress, title=f"sweep {name}"
        )
        manifest = json.loads((res.train_run / "manifest.json").read_text())
        check_manifest(manifest, point)
        c = res.comparisons[metric]
        rows.append(
            {
                "name": name,
                "point": point,
                "score": c.new_accuracy,
                "base": c.base_accuracy,
                "delta": c.delta_points,
                "val_loss": manifest.get("final_val_loss"),
                "train_run": str(res.train_run),
                "report": str(res.report),
                "scores": {k: v.new_accuracy for k, v in res.comparisons.items()},
            }
        )
    # Task score first; validation loss only breaks ties (lower is better).
    rows.sort(key=lambda r: (-r["score"], r["val_loss"] if r["val_loss"] is not None else 1e9))
    result = SweepResult(out, rows, metric)
    atomic.write_json(
        out / "sweep.json",
        {
            "metric": metric,
            "suites": list(cfg.eval.suites),
            "grid": grid,
            "best": result.best_name,
            "rows": rows,
        },
    )
    atomic.write_text(out / "sweep.txt", _text_table(result))
    atomic.write_text(out / "sweep.html", _html_table(result))
    return result


def _text_table(r: SweepResult) -> str:
    lines = [f"sweep sorted by {r.metric} accuracy (adapted); best: {r.best_name}", ""]
    lines.append(f"{'name':40} {'score':>7} {'delta':>7} {'val_loss':>9}  train_run")
    for row in r.rows:
        vl = "-" if row["val_loss"] is None else f"{row['val_loss']:.3f}"
        lines.append(
            f"{row['name']:40} {100 * row['score']:6.1f}% {row['delta']:+7.1f} {vl:>9}  {row['train_run']}"
        )
    return "\n".join(lines) + "\n"


def _html_table(r: SweepResult) -> str:
    import jinja2

    from punie.evaluate.report import css

    tpl = jinja2.Environment(autoescape=True).from_string(
        "<!doctype html><html><head><meta charset='utf-8'><title>Punie sweep</title>"
        "<style>{{ css }}</style></head><body><h1>Sweep sorted by {{ r.metric }} accuracy</h1>"
        "<p>Best run: <b>{{ r.best_name }}</b></p><table><tr><th>#</th><th>run</th>"
        "{% for k in keys %}<th>{{ k }}</th>{% endfor %}<th>score</th><th>change (points)</th>"
        "<th>val loss</th><th>report</th></tr>{% for row in r.rows %}<tr><td>{{ loop.index }}</td>"
        "<td>{{ row.name }}</td>{% for k in keys %}<td>{{ row.point[k] }}</td>{% endfor %}"
        "<td>{{ '%.1f'|format(100 * row.score) }}%</td><td>{{ '%+.1f'|format(row.delta) }}</td>"
        "<td>{{ '-' if row.val_loss is none else '%.3f'|format(row.val_loss) }}</td>"
        "<td><code>{{ row.report }}</code></td></tr>{% endfor %}</table></body></html>"
    )
    keys = list(r.rows[0]["point"]) if r.rows else []
    return tpl.render(r=r, css=css(), keys=keys)
