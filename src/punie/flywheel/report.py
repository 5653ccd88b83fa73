"""The flywheel's one self-contained HTML report (and its verdict).

Reuses punie.evaluate's escaping jinja environment, CSS and SVG charts; every model
output reaches the page through autoescaping. The verdict is computed from the
measured comparisons against explicit targets, never assumed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).parent / "templates" / "report.html.j2"


def verdict(comparisons: dict[str, Any], targets: dict[str, float] | None) -> dict[str, Any]:
    """`targets`: {"tools": 40} means the tools suite must gain >= 40 points;
    {"no-tool": -5} means no-tool may lose at most 5. Without targets, each suite's
    own compare verdict (SUCCESS/MODERATE/UNCHANGED/REGRESSION) is reported."""
    lines = []
    met = True
    for name, c in comparisons.items():
        line = {
            "suite": name,
            "base": c.base_accuracy,
            "new": c.new_accuracy,
            "delta": c.delta_points,
            "label": c.label,
            "target": None,
            "met": None,
        }
        if targets and name in targets:
            t = targets[name]
            line["target"] = t
            line["met"] = c.delta_points >= t
            met = met and line["met"]
        lines.append(line)
    has_targets = any(x["target"] is not None for x in lines)
    if has_targets:
        label = "TARGETS MET" if met else "TARGETS NOT MET"
    else:
        labels = {x["label"].split()[0] for x in lines}
        label = "REGRESSION" if "REGRESSION" in labels else " / ".join(sorted(labels))
    return {"label": label, "met": met if has_targets else None, "suites": lines}


def _env():
    import jinja2

    from punie.evaluate.report import _pretty

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE.parent)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pretty"] = _pretty
    env.filters["loss"] = _loss
    return env


def _loss(value: Any) -> str:
    """A loss as people read it (4 significant digits); "-" when there is none."""
    return "-" if value is None else f"{float(value):.4g}"


def render(
    summary: dict[str, Any],
    base: list[Any],
    new: list[Any],
    metrics: Path | None,
    stages: list[Any],
) -> str:
    from punie.evaluate import report as ev_report
    from punie.evaluate import svg

    suites = []
    for b, n in zip(base, new, strict=True):
        c = summary["comparisons"][b.suite]
        fails = sorted(set(b.failures()) | set(n.failures()))
        suites.append(
            {
                "name": b.suite,
                "c": c,
                "base": b,
                "new": n,
                "base_by_id": {x.id: x for x in b.cases},
                "new_by_id": {x.id: x for x in n.cases},
                "failures": [(f, b.failures().get(f, 0), n.failures().get(f, 0)) for f in fails],
                "acc_svg": svg.bar_chart(
                    [("base", c["base_accuracy"]), ("adapted", c["new_accuracy"])],
                    max_value=1.0,
                    title=f"{b.suite}: accuracy",
                ),
                "delta_svg": svg.delta_chart(
                    [(k, v["delta_points"] / 100) for k, v in c["per_category"].items()],
                    title=f"{b.suite}: change per category (points)",
                ),
            }
        )
    loss_svg = ev_report.loss_curve_svg(metrics) if metrics and Path(metrics).is_file() else None
    return (
        _env()
        .get_template(TEMPLATE.name)
        .render(
            s=summary,
            css=ev_report.css(),
            suites=suites,
            loss_svg=loss_svg,
            stages=stages,
            total=sum(r.seconds for r in stages),
            stats=summary["data"]["validation"]["stats"],
            manifest=summary.get("train_manifest") or {},
        )
    )
