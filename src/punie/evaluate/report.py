"""Self-contained HTML reports: jinja2 with autoescape ON, CSS and SVG plots inline.

Every model output reaches the page through autoescaping (never `|safe`); only the
SVG strings from `punie.evaluate.svg`, which escape their own labels, are marked safe.
The pieces (`render_report`, `loss_curve_svg`, `environment`) are public so the
flywheel's demo report can reuse them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from punie import atomic
from punie.evaluate import svg
from punie.evaluate.results import SuiteResult
from punie.jsonl import read_jsonl

TEMPLATES = Path(__file__).parent / "templates"


def _pretty(value: Any) -> str:
    # A plain str, so autoescape applies (jinja's tojson marks its output safe).
    return json.dumps(value, indent=1, ensure_ascii=False)


def fmt_call(call: dict[str, Any]) -> str:
    """`name({"arg": value})`: one compact line per call."""
    return f"{call.get('name')}({json.dumps(call.get('arguments', {}), ensure_ascii=False)})"


def fmt_expected(expected: dict[str, Any]) -> str:
    """What a correct answer looks like, as short human-readable lines."""
    lines = []
    for call in expected.get("calls", []):
        args = ", ".join(
            f"{k} in {json.dumps(v, ensure_ascii=False)}"
            for k, v in call.get("arguments", {}).items()
        )
        lines.append(f"{call['name']}({args})")
    if expected.get("no_call"):
        lines.append("no tool call")
    if expected.get("keywords"):
        lines.append("keywords: " + json.dumps(expected["keywords"], ensure_ascii=False))
    if expected.get("forbidden"):
        lines.append("forbidden: " + json.dumps(expected["forbidden"], ensure_ascii=False))
    return "\n".join(lines)


def environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pretty"] = _pretty
    env.filters["call"] = fmt_call
    env.filters["expected"] = fmt_expected
    return env


def css() -> str:
    return (TEMPLATES / "base.css").read_text(encoding="utf-8")


def read_loss_curves(metrics_path: str | Path) -> dict[str, list[tuple[float, float]]]:
    """Train and validation loss by step from a training run's metrics.jsonl."""
    curves: dict[str, list[tuple[float, float]]] = {"train": [], "val": []}
    p = Path(metrics_path)
    if p.is_dir():
        p = p / "metrics.jsonl"
    for row in read_jsonl(p, tolerant=True):
        if not isinstance(row, dict) or "step" not in row:
            continue
        for key, name in (("train_loss", "train"), ("val_loss", "val")):
            value = row.get(key)
            if isinstance(value, int | float):
                curves[name].append((float(row["step"]), float(value)))
    return {k: sorted(v) for k, v in curves.items() if v}


def loss_curve_svg(metrics_path: str | Path | None) -> str | None:
    if metrics_path is None:
        return None
    curves = read_loss_curves(metrics_path)
    if not curves:
        return None
    return svg.line_chart(curves, title="Loss by step (train and validation)")


def category_chart(result: SuiteResult) -> str:
    items = [(k, v.accuracy) for k, v in result.per_category().items()]
    return svg.bar_chart(items, max_value=1.0, title="Accuracy per category")


def failure_chart(result: SuiteResult) -> str:
    items = [(k, float(v)) for k, v in result.failures().items()]
    if not items:
        return ""
    return svg.bar_chart(items, fmt="{:.0f}", color=svg.PALETTE[3], title="Failures by kind")


def render_report(result: SuiteResult, run_dir: str | Path | None = None) -> str:
    infra = sum(1 for c in result.cases if c.failure in ("server_error", "timeout"))
    missing = (result.n_suite or result.n) - result.n
    tasks = result.kind == "tasks"
    extra = {"m": result.task_metrics()} if tasks else {}
    return (
        environment()
        .get_template("tasks.html.j2" if tasks else "report.html.j2")
        .render(
            **extra,
            r=result,
            css=css(),
            categories=result.per_category(),
            failures=result.failures(),
            category_svg=category_chart(result),
            failure_svg=failure_chart(result),
            loss_svg=loss_curve_svg(run_dir),
            infra=infra,
            missing=max(missing, 0) or "some",
        )
    )


def write_html_report(result: SuiteResult, path: str | Path, run_dir: str | Path | None = None):
    atomic.write_text(path, render_report(result, run_dir))
    return Path(path)
