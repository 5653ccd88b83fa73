"""Compare: exact McNemar, seeded paired bootstrap, verdicts, flipped cases."""

from __future__ import annotations

from math import comb

import pytest

from punie.errors import PunieError
from punie.evaluate.compare import bootstrap_ci, compare, mcnemar_exact, render_comparison, verdict
from punie.evaluate.results import CaseResult, SuiteResult


def result(
    passes: list[bool], suite: str = "s", model: str = "m", content: str = ""
) -> SuiteResult:
    cases = [
        CaseResult(
            id=f"c{i}",
            category="odd" if i % 2 else "even",
            kind="tool",
            passed=p,
            failure=None if p else "no_call",
            content=content,
        )
        for i, p in enumerate(passes)
    ]
    return SuiteResult(suite=suite, suite_fingerprint=suite, model=model, cases=cases)


def test_mcnemar_exact_values():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)
    assert mcnemar_exact(1, 9) == pytest.approx(2 * (comb(10, 0) + comb(10, 1)) / 1024)
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(3, 7) == mcnemar_exact(7, 3)


def test_bootstrap_is_seeded_and_brackets_the_difference():
    base = [True] * 10 + [False] * 10
    new = [True] * 16 + [False] * 4
    a = bootstrap_ci(base, new, seed=1)
    assert a == bootstrap_ci(base, new, seed=1)
    assert a[0] <= 30.0 <= a[1]


@pytest.mark.parametrize(
    ("delta", "label"),
    [
        (5.1, "SUCCESS"),
        (5.0, "MODERATE"),
        (0.1, "MODERATE"),
        (0.0, "UNCHANGED"),
        (-0.1, "REGRESSION"),
    ],
)
def test_verdict_thresholds(delta, label):
    assert verdict(delta) == label


def test_compare_flips_and_categories():
    base = result([True, False, False, True] * 10)
    new = result([True, True, True, False] * 10)
    c = compare(base, new)
    assert c.n == 40 and c.delta_points == pytest.approx(25.0)
    assert len(c.fixed) == 20 and len(c.broken) == 10
    assert c.per_category["even"]["delta_points"] == pytest.approx(50.0)
    assert c.per_category["odd"]["delta_points"] == pytest.approx(0.0)
    # 20 fixed vs 10 broken out of 40 is too noisy to call: the CI spans 0.
    assert c.verdict == "SUCCESS" and not c.significant


def test_clear_improvement_is_significant():
    c = compare(result([True, False] * 20), result([True] * 40))
    assert c.label == "SUCCESS" and c.significant and c.p_value < 1e-5


def test_small_difference_is_not_significant():
    c = compare(result([True, False, False, False]), result([True, True, False, False]))
    assert c.verdict == "SUCCESS" and not c.significant
    assert c.label == "SUCCESS (not significant)"


def test_different_suites_are_refused():
    with pytest.raises(PunieError, match="different suites"):
        compare(result([True], suite="a"), result([True], suite="b"))


def test_two_versions_of_one_suite_name_are_refused():
    # Found in review: same name, other cases compared silently and printed SUCCESS.
    base = result([False] * 4, suite="tools")
    new = result([True] * 4, suite="tools").model_copy(update={"suite_fingerprint": "v2"})
    with pytest.raises(PunieError, match="different suites .*fingerprint tools vs .*v2"):
        compare(base, new)


def test_comparison_html_escapes_outputs():
    base = result([False, True], content="<script>x()</script>")
    new = result([True, False], content="<script>x()</script>")
    html = render_comparison(compare(base, new), base, new)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "Fixed: failed in base, pass in new (1)" in html
