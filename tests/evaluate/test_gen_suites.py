"""The single-turn suites' two draws (`tools`/`no-tool` from the TEST pool,
`tools-dev`/`no-tool-dev` from DEV): committed as generated, balanced, and each
expected call is one a correct agent makes (the real tools run it, the real scorer
passes it and fails another value)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest

from punie.data.gen_traces import fixed_env, run_steps, write_workspace
from punie.data.schema import tool_call
from punie.evaluate.gen_suites import (
    DRAWS,
    NO_TOOL_CATEGORIES,
    PER_CATEGORY,
    TOOL_CATEGORIES,
    no_tool_suite,
    single_turn_texts,
    tool_plans,
    tools_suite,
)
from punie.evaluate.scoring import Answer, score
from punie.evaluate.suite import SUITES_DIR, load_suite
from punie.toolspec import SYSTEM_PROMPT

POOLS = tuple(DRAWS)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return single_turn_texts()


@pytest.mark.parametrize("name", [n for t, nt, _ in DRAWS.values() for n in (t, nt)])
def test_committed_single_turn_suite_equals_the_generator(name, texts):
    committed = (SUITES_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    assert committed == texts[f"{name}.yaml"], "run `python -m punie.evaluate.gen_suites`"


@pytest.mark.parametrize("pool", POOLS)
def test_tools_draw_has_six_distinct_requests_per_category_in_round_robin(pool):
    suite = load_suite(DRAWS[pool][0])
    cats = [c.category for c in suite.cases]
    assert Counter(cats) == {c: PER_CATEGORY for c in TOOL_CATEGORIES}
    assert cats[: len(TOOL_CATEGORIES)] == list(TOOL_CATEGORIES)
    requests = [c.messages[1]["content"] for c in suite.cases]
    assert len(set(requests)) == len(requests)
    # Asked as Punie's agent asks: its system prompt first.
    assert all(c.messages[0] == {"role": "system", "content": SYSTEM_PROMPT} for c in suite.cases)


@pytest.mark.parametrize("pool", POOLS)
def test_no_tool_draw_has_fourteen_distinct_requests_in_three_kinds(pool):
    suite = load_suite(DRAWS[pool][1])
    assert len(suite.cases) == 14 and all(c.no_call and c.tools for c in suite.cases)
    assert {c.category for c in suite.cases} == set(NO_TOOL_CATEGORIES)
    requests = [c.messages[-1]["content"] for c in suite.cases]
    assert len(set(requests)) == len(requests)


def _plan_and_args(plans, case):
    """The plan a case was made from, and the call a correct agent makes: the expected
    call's first acceptable values, the plan's own for what is not compared
    (write_file's content)."""
    plan = plans[case.category][int(case.id.rsplit("-", 1)[1]) - 1]
    (call,) = case.expected_calls
    _, own = plan.steps[int(case.category == "edit_file")]
    return plan, {**own, **{k: v[0] for k, v in call.arguments.items() if v[0] is not None}}


@pytest.mark.parametrize("pool", POOLS)
def test_each_expected_call_runs_cleanly_on_its_plans_workspace(pool, tmp_path):
    suite, plans = load_suite(DRAWS[pool][0]), tool_plans(pool)
    with fixed_env():
        for case in suite.cases:
            plan, args = _plan_and_args(plans, case)
            root = tmp_path / case.id
            root.mkdir()
            write_workspace(plan, root)
            edit = case.category == "edit_file"
            steps = (*plan.steps[: int(edit)], (case.expected_calls[0].name, args))
            results = asyncio.run(run_steps(dataclasses.replace(plan, steps=steps), root))
            assert not results[-1].startswith("error"), (case.id, results)
            if edit:
                # The case shows the read's real result, and the edit makes the change.
                assert case.messages[-1]["content"] == results[0]
                ((path, wants),) = plan.checks["files_contain"].items()
                assert all(w in (root / path).read_text() for w in wants), case.id


@pytest.mark.parametrize("pool", POOLS)
def test_the_real_scorer_passes_the_expected_call_and_fails_another_value(pool):
    plans = tool_plans(pool)
    for case in load_suite(DRAWS[pool][0]).cases:
        _, args = _plan_and_args(plans, case)
        name = case.expected_calls[0].name
        right = Answer(tool_calls=[tool_call("call_1", name, args)])
        assert score(case, right).passed, (case.id, score(case, right))
        key = next(k for k in ("old_text", "path", "command", "pattern") if k in args)
        wrong = Answer(tool_calls=[tool_call("call_1", name, {**args, key: args[key] + "x"})])
        assert score(case, wrong).failure == "bad_arguments", case.id


def test_a_tool_draw_never_repeats_the_other_draws_values():
    def values(pool):
        return {
            str(v)
            for c in tools_suite(pool)["cases"]
            for call in c["expected_calls"]
            for vs in call["arguments"].values()
            for v in vs
            if v not in (None, ".")
        }

    assert not values("dev") & values("test")


def test_no_tool_draws_ask_different_requests():
    def asked(pool):
        return {c["messages"][-1]["content"] for c in no_tool_suite(pool)["cases"]}

    assert not asked("dev") & asked("test")
