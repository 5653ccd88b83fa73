"""Every task check kind, passing and failing, through the real agent loop."""

from __future__ import annotations

import pytest
from test_task_fakes import scripted, suite_of

from punie.evaluate.runner import EvalSettings
from punie.evaluate.task_runner import run_case

WS = {"src/calc.py": "def add(a, b):\n    return a + b\n", "tmp.txt": "x"}
READ = ("read_file", {"path": "src/calc.py"})
WRITE = ("write_file", {"path": "out.txt", "content": "hello\n"})
RUN = ("run_command", {"command": "git status --short"})

# check kind -> (checks, a script that passes, a script that fails)
CASES = {
    "answer_contains": (
        {"answer_contains": ["a + b", ["sum", "total"]]},
        [READ, "It returns `a + b`, the sum."],
        [READ, "It returns a + b."],
    ),
    "answer_excludes": ({"answer_excludes": ["I cannot"]}, ["Done."], ["I cannot do that."]),
    "files_equal": ({"files_equal": {"out.txt": "hello\n"}}, [WRITE, "ok"], ["ok"]),
    "files_contain": (
        {"files_contain": {"src/calc.py": "return a + b"}},
        ["ok"],
        [("write_file", {"path": "src/calc.py", "content": "pass\n"}), "ok"],
    ),
    "files_absent": (
        {"files_absent": ["tmp.txt"]},
        [("run_command", {"command": "rm tmp.txt"}), "removed"],
        ["ok"],
    ),
    "files_unchanged": (
        {"files_unchanged": ["src/calc.py"]},
        [READ, "ok"],
        [("write_file", {"path": "src/calc.py", "content": "x = 1\n"}), "ok"],
    ),
    "called": ({"called": ["read_file"]}, [READ, "ok"], ["ok"]),
    "not_called": ({"not_called": ["write_file"]}, [READ, "ok"], [WRITE, "ok"]),
    "commands": ({"commands": ["git status"]}, [RUN, "clean"], [READ, "ok"]),
    "max_tool_calls": (
        {"max_tool_calls": 1},
        [READ, "ok"],
        [READ, ("list_dir", {"path": "."}), "ok"],
    ),
    "no_call": ({"no_call": True}, ["Hello!"], [READ, "Hello!"]),
}


async def _run(checks: dict, script: list):
    case = {
        "id": "c",
        "category": "cat",
        "workspace": WS,
        "git": True,
        "prompt": "do it",
        "checks": checks,
    }
    suite = suite_of(case)
    return await run_case(scripted(script), suite.cases[0], suite, EvalSettings())


@pytest.mark.parametrize("kind", sorted(CASES))
async def test_a_task_that_meets_the_check_passes(kind):
    checks, good, _ = CASES[kind]
    r = await _run(checks, good)
    assert r.passed, (r.failure, r.detail)
    assert r.ended_by == "answer" and r.failure is None


@pytest.mark.parametrize("kind", sorted(CASES))
async def test_a_task_that_misses_the_check_fails_naming_it(kind):
    checks, _, bad = CASES[kind]
    r = await _run(checks, bad)
    assert not r.passed and r.failure == kind, (r.failure, r.detail)
    assert r.detail  # says what was expected and what happened


async def test_answer_contains_ignores_case_spaces_and_quotes():
    r = await _run({"answer_contains": ["return a + b"]}, ['It does "RETURN   a  +  b".'])
    assert r.passed, r.detail


async def test_a_turn_ended_by_the_repeat_guard_never_passes():
    r = await _run({"called": ["read_file"]}, [READ])  # the same call, again and again
    assert r.ended_by == "repeat_guard"
    assert not r.passed and r.failure == "no_answer" and "repeat_guard" in r.detail


async def test_a_turn_that_runs_out_of_calls_never_passes():
    script = [("list_dir", {"path": p}) for p in (".", "src", ".", "src", ".", "src")]
    r = await _run({"called": ["list_dir"]}, script)  # suite budget: 4 model calls
    assert r.ended_by == "call_budget" and r.model_calls == 4
    assert not r.passed and r.failure == "no_answer"


async def test_invalid_tool_calls_are_recorded():
    script = [("read_file", {"path": "src/calc.py", "bogus": 1}), ("nope", {}), "ok"]
    r = await _run({"answer_contains": ["ok"]}, script)
    assert r.passed
    assert [c["name"] for c in r.invalid_calls] == ["read_file", "nope"]
    assert [c["ok"] for c in r.calls] == [False, False]
