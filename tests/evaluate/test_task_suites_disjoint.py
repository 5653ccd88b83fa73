"""The generated task suites: their shape, DEV/TEST disjointness, and that a correct
agent (the plan each case was made from, played through the real tools) passes."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from punie.data.gen_plans import TASK_CATEGORIES
from punie.data.gen_traces import fixed_env, play
from punie.data.near import near_pairs, norm
from punie.evaluate.gen_tasks import PER_CATEGORY, SUITES, category_plans, suite_text, task_suite
from punie.evaluate.suite import SUITES_DIR
from punie.evaluate.tasks import TaskSuite

POOLS = tuple(SUITES)


@pytest.fixture(scope="module")
def suites():
    return {pool: task_suite(pool) for pool in POOLS}


@pytest.mark.parametrize("pool", POOLS)
def test_committed_task_suite_equals_the_generator(pool):
    path = SUITES_DIR / f"{SUITES[pool][0]}.yaml"
    assert path.read_text(encoding="utf-8") == suite_text(pool), (
        "run `python -m punie.evaluate.gen_suites`"
    )


@pytest.mark.parametrize("pool", POOLS)
def test_suite_has_six_cases_per_category_and_a_balanced_first_half(pool, suites):
    suite = TaskSuite.model_validate(suites[pool])
    assert suite.name == SUITES[pool][0] and suite.max_calls == 4
    cats = [c.category for c in suite.cases]
    assert Counter(cats) == {c: PER_CATEGORY for c in TASK_CATEGORIES}
    assert Counter(cats[:24]) == {c: 3 for c in TASK_CATEGORIES}
    for case in suite.cases:
        assert case.git == (case.category == "run_report" and "git" in case.prompt)
        assert suite.budget(case) == (5 if case.category == "multi_step" else 4)
        if case.category == "no_tool":
            assert case.checks.no_call and case.checks.answer_contains
        if case.category == "write_file":
            # The prompt spells out the exact content the check wants.
            (want,) = next(iter(case.checks.files_contain.values()))
            assert want in case.prompt


def test_dev_and_test_prompts_are_neither_copies_nor_near_copies(suites):
    dev = [c["prompt"] for c in suites["dev"]["cases"]]
    test = [c["prompt"] for c in suites["test"]["cases"]]
    assert not {norm(p) for p in dev} & {norm(p) for p in test}
    assert near_pairs(dev, test) == []


def test_dev_and_test_share_no_file_identifier_or_content(suites):
    def files(pool):
        return {
            p: c for case in suites[pool]["cases"] for p, c in case.get("workspace", {}).items()
        }

    dev, test = files("dev"), files("test")
    parts = lambda fs: {part for p in fs for part in Path(p).parts}  # noqa: E731
    idents = lambda fs: {n for c in fs.values() for n in re.findall(r"\w+", c) if len(n) > 3}  # noqa: E731
    assert not parts(dev) & parts(test)
    assert not set(dev.values()) & set(test.values())
    assert not {i for i in idents(dev) & idents(test) if "_" in i}


def _passes(plan, msgs, root: Path) -> list[str]:
    """The checks of the case made from `plan` that its own trace fails."""
    checks, answer = plan.checks, msgs[-1]["content"].lower()
    called = [name for name, _ in plan.steps]
    failed = []
    for alts in checks.get("answer_contains", []):
        alts = alts if isinstance(alts, list) else [alts]
        if not any(" ".join(a.lower().split()) in " ".join(answer.split()) for a in alts):
            failed.append(f"answer_contains {alts}")
    for path, wants in checks.get("files_contain", {}).items():
        text = (root / path).read_text()
        failed += [f"files_contain {w}" for w in wants if w not in text]
    failed += [f"called {t}" for t in checks.get("called", []) if t not in called]
    commands = [a["command"] for n, a in plan.steps if n == "run_command"]
    failed += [
        f"command {c}" for c in checks.get("commands", []) if not any(c in x for x in commands)
    ]
    if checks.get("no_call") and called:
        failed.append("no_call")
    if len(called) > checks.get("max_tool_calls", 99):
        failed.append("max_tool_calls")
    return failed


@pytest.mark.parametrize("pool", POOLS)
def test_a_correct_agent_passes_every_case(pool, tmp_path):
    with fixed_env():
        for cat in TASK_CATEGORIES:
            for i, plan in enumerate(category_plans(pool, cat, PER_CATEGORY, SUITES[pool][1])):
                root = tmp_path / f"{cat}{i}"
                msgs = asyncio.run(play(plan, root))
                assert _passes(plan, msgs, root) == [], (plan.prompt, msgs)
                if plan.steps and cat != "multi_step":
                    assert not any(
                        m["content"].startswith("error") for m in msgs if m["role"] == "tool"
                    )


def test_suites_never_use_the_acceptance_workspace(suites):
    text = yaml.safe_dump(suites)
    assert "calc.py" not in text and "a + b" not in text and "def add(" not in text


@pytest.mark.parametrize("pool", POOLS)
def test_the_real_scorer_passes_the_plans_trace_and_fails_a_wrong_answer(pool, tmp_path):
    from punie.evaluate.task_scoring import Outcome, checked_paths, read_files, score_task

    suite = TaskSuite.model_validate(task_suite(pool))
    plans = {
        f"{cat}-{i + 1:02d}": plan
        for cat in TASK_CATEGORIES
        for i, plan in enumerate(category_plans(pool, cat, PER_CATEGORY, SUITES[pool][1]))
    }
    with fixed_env():
        for case in suite.cases:
            plan, root = plans[case.id], tmp_path / case.id
            msgs = asyncio.run(play(plan, root))
            results = [m["content"] for m in msgs if m["role"] == "tool"]
            calls = tuple(
                {"name": n, "arguments": a, "ok": not r.startswith("error")}
                for (n, a), r in zip(plan.steps, results, strict=True)
            )
            files = read_files(root, checked_paths(case))
            right = Outcome(msgs[-1]["content"], "answer", calls, files)
            assert score_task(case, right).passed, (case.id, score_task(case, right))
            wrong = Outcome("I could not do that.", "answer", (), read_files(tmp_path, set()))
            assert not score_task(case, wrong).passed, case.id
