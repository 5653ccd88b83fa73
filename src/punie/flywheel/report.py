"""The flywheel's one self-contained HTML report (and its verdict).

Reuses punie.evaluate's escaping jinja environment, CSS and SVG charts; every model
output reaches the page through autoescaping. The verdict is computed from the
measured comparisons against explicit targets, never assumed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).parent / "templates" / "report.html.j2"


def verdict(
    comparisons: dict[str, Any],
    targets: dict[str, float] | None,
    endings: dict[str, dict[str, int]] | None = None,
    adapted: list[Any] | None = None,
) -> dict[str, Any]:
    """Each suite's measured change against its target, if it has one.

    `targets`: {"tasks": 40} means the suite must gain >= 40 points; {"no-tool": -5}
    means it may lose at most 5; a key "SUITE/CATEGORY" targets one category's change.
    `endings`: {"tasks": {"repeat_guard": 0}} allows at most 0 adapted tasks of that
    suite to end on the repeat guard (counted in `adapted`, the adapted results).
    Without targets, each suite's own compare label is reported."""
    lines = []
    for name, c in comparisons.items():
        lines.append(_line(name, c.base_accuracy, c.new_accuracy, c.delta_points, c.label))
        for cat, st in getattr(c, "per_category", {}).items():
            key = f"{name}/{cat}"
            if targets and key in targets:
                delta = st["delta_points"]
                lines.append(_line(key, st["base"], st["new"], delta, _label(delta)))
    for line in lines:
        if targets and line["suite"] in targets:
            line["target"] = targets[line["suite"]]
            line["met"] = line["delta"] >= line["target"]
    limits = _ending_limits(endings or {}, adapted or [])
    checked = [x for x in lines if x["met"] is not None] + limits
    met = all(x["met"] for x in checked)
    if checked:
        label = "TARGETS MET" if met else "TARGETS NOT MET"
    else:
        labels = {x["label"].split()[0] for x in lines}
        label = "REGRESSION" if "REGRESSION" in labels else " / ".join(sorted(labels))
    return {"label": label, "met": met if checked else None, "suites": lines, "limits": limits}


def _line(name: str, base: float, new: float, delta: float, label: str) -> dict[str, Any]:
    return {
        "suite": name,
        "base": base,
        "new": new,
        "delta": delta,
        "label": label,
        "target": None,
        "met": None,
    }


def _label(delta: float) -> str:
    from punie.evaluate.compare import verdict as compare_verdict

    return compare_verdict(delta)


def _ending_limits(endings: dict[str, dict[str, int]], adapted: list[Any]) -> list[dict]:
    by_suite = {r.suite: r for r in adapted}
    out = []
    for suite, limits in endings.items():
        result = by_suite.get(suite)
        if result is None:
            continue
        for ending, most in limits.items():
            count = sum(getattr(c, "ended_by", None) == ending for c in result.cases)
            out.append(
                {
                    "suite": suite,
                    "ending": ending,
                    "count": count,
                    "max": most,
                    "met": count <= most,
                }
            )
    return out


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
