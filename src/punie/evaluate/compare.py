"""Compare two evaluations of one suite: did fine-tuning help?

Paired statistics over the cases both runs share: an exact McNemar test (two-sided
binomial on the discordant pairs, `math.comb`, no scipy) and a seeded paired
bootstrap confidence interval of the accuracy difference. The verdict uses the
point difference: SUCCESS above +5 points, MODERATE above 0 up to +5, UNCHANGED
at exactly 0, REGRESSION below 0; "not significant" is added when the interval spans 0.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from math import comb
from pathlib import Path
from typing import Any

from punie import atomic
from punie.errors import PunieError
from punie.evaluate.results import SuiteResult

SUCCESS_POINTS = 5.0


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: b = base-only passes, c = new-only passes."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def bootstrap_ci(
    base: list[bool], new: list[bool], *, iters: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Paired bootstrap CI of accuracy(new) - accuracy(base), in points (0-100)."""
    n = len(base)
    if n == 0:
        return (0.0, 0.0)
    rng = random.Random(seed)
    diffs = [int(y) - int(x) for x, y in zip(base, new, strict=True)]
    stats = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n * 100 for _ in range(iters))
    lo = stats[int((1 - level) / 2 * iters)]
    hi = stats[min(iters - 1, int((1 + level) / 2 * iters))]
    return (lo, hi)


def verdict(delta_points: float) -> str:
    if delta_points > SUCCESS_POINTS:
        return "SUCCESS"
    if delta_points > 0:
        return "MODERATE"
    # "MODERATE" read as a small gain on a suite that stayed where it was
    if delta_points == 0:
        return "UNCHANGED"
    return "REGRESSION"


@dataclass(frozen=True)
class Comparison:
    suite: str
    base_model: str
    new_model: str
    n: int  # cases both runs scored
    base_accuracy: float
    new_accuracy: float
    delta_points: float
    ci_points: tuple[float, float]
    p_value: float
    verdict: str
    significant: bool
    per_category: dict[str, dict[str, float]] = field(default_factory=dict)
    fixed: list[str] = field(default_factory=list)  # failed in base, pass in new
    broken: list[str] = field(default_factory=list)  # passed in base, fail in new
    only_in_one: list[str] = field(default_factory=list)
    # Task suites: metric -> (base, new), shown beside the success rate.
    task_metrics: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.verdict + ("" if self.significant else " (not significant)")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label}


def compare(base: SuiteResult, new: SuiteResult, *, seed: int = 0, iters: int = 2000) -> Comparison:
    """Paired comparison over the cases both results hold."""
    if base.kind != new.kind:
        raise PunieError(
            f"one result is of a task suite, the other of a single-turn suite "
            f"({base.suite}: {base.kind}, {new.suite}: {new.kind})",
            where="compare",
            hint="compare two evaluations of the same suite",
        )
    if base.suite_fingerprint != new.suite_fingerprint:
        # The fingerprint covers every case (and the name): one name is not one suite.
        raise PunieError(
            f"results are of different suites ({base.suite} fingerprint "
            f"{base.suite_fingerprint} vs {new.suite} fingerprint {new.suite_fingerprint})",
            where="compare",
            hint="evaluate both models on the same version of the suite",
        )
    b = {c.id: c for c in base.cases}
    nw = {c.id: c for c in new.cases}
    shared = [cid for cid in b if cid in nw]
    if not shared:
        raise PunieError("the two results share no case", where="compare")
    bp = [b[i].passed for i in shared]
    np_ = [nw[i].passed for i in shared]
    base_acc = sum(bp) / len(shared)
    new_acc = sum(np_) / len(shared)
    delta = (new_acc - base_acc) * 100
    fixed = [i for i in shared if nw[i].passed and not b[i].passed]
    broken = [i for i in shared if b[i].passed and not nw[i].passed]
    lo, hi = bootstrap_ci(bp, np_, iters=iters, seed=seed)
    cats: dict[str, dict[str, float]] = {}
    for cat in sorted({b[i].category for i in shared}):
        ids = [i for i in shared if b[i].category == cat]
        ba = sum(b[i].passed for i in ids) / len(ids)
        na = sum(nw[i].passed for i in ids) / len(ids)
        cats[cat] = {"n": len(ids), "base": ba, "new": na, "delta_points": (na - ba) * 100}
    return Comparison(
        suite=new.suite,
        base_model=base.model + (f" + {base.adapter}" if base.adapter else ""),
        new_model=new.model + (f" + {new.adapter}" if new.adapter else ""),
        n=len(shared),
        base_accuracy=base_acc,
        new_accuracy=new_acc,
        delta_points=delta,
        ci_points=(lo, hi),
        p_value=mcnemar_exact(len(broken), len(fixed)),
        verdict=verdict(delta),
        significant=not (lo <= 0 <= hi),
        per_category=cats,
        fixed=fixed,
        broken=broken,
        only_in_one=sorted(set(b) ^ set(nw)),
        task_metrics=_task_metrics(base, new) if new.kind == "tasks" else {},
    )


def _task_metrics(base: SuiteResult, new: SuiteResult) -> dict[str, tuple[Any, Any]]:
    b, n = base.task_metrics(), new.task_metrics()
    return {k: (b[k], n[k]) for k in b if k != "ended_by"}


def render_comparison(
    cmp: Comparison, base: SuiteResult, new: SuiteResult, run_dir: str | Path | None = None
) -> str:
    from punie.evaluate import report, svg

    deltas = [(k, v["delta_points"] / 100) for k, v in cmp.per_category.items()]
    acc = [("base", cmp.base_accuracy), ("new", cmp.new_accuracy)]
    return (
        report.environment()
        .get_template("compare.html.j2")
        .render(
            c=cmp,
            base=base,
            new=new,
            base_by_id={x.id: x for x in base.cases},
            new_by_id={x.id: x for x in new.cases},
            css=report.css(),
            acc_svg=svg.bar_chart(acc, max_value=1.0, title="Accuracy"),
            delta_svg=svg.delta_chart(deltas, title="Per-category change (points)"),
            loss_svg=report.loss_curve_svg(run_dir),
        )
    )


def write_comparison(
    base: SuiteResult, new: SuiteResult, out_dir: str | Path, run_dir: str | Path | None = None
) -> Comparison:
    cmp = compare(base, new)
    out = Path(out_dir)
    atomic.write_json(out / "comparison.json", cmp.to_json())
    atomic.write_text(out / "comparison.html", render_comparison(cmp, base, new, run_dir))
    return cmp
