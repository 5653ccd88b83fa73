"""The harvest-newer suite end to end: a turn the real agent loop ran (its trace row)
recorded in eight sessions, `punie data harvest` on them, the newest session's turn
rebuilt as a task, and the real task runner scoring models on it; plus
`harvest:DIR`, `punie data harvest-suite` and bad input (exit 2, file:line)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from test_task_fakes import scripted, suite_of
from typer.testing import CliRunner

from punie.agent.tools import NEEDS_PERMISSION
from punie.cli import app
from punie.errors import PunieError
from punie.evaluate.harvested_io import build_harvest_suite, held_out_rows, load_harvest_suite
from punie.evaluate.suite import load_any_suite
from punie.evaluate.task_runner import run_task_suite
from punie.traces.recorder import workspace_key

CALC = "def add(a, b):\n    return a - b\n"
WORKSPACE = {"src/calc.py": CALC, "README.md": "calc\n"}
LIST = ("list_dir", {"path": "."})
READ = ("read_file", {"path": "src/calc.py"})
EDIT = ("edit_file", {"path": "src/calc.py", "old_text": "a - b", "new_text": "a + b"})
RUN = ("run_command", {"command": "python -c 'print(1)'"})
ANSWER = "Fixed: add returns a + b."
STEPS = [LIST, READ, EDIT, RUN, ANSWER]
SESSIONS = 8  # the fewest that hold out a test session (the newest ~10%)


def _recorded_row(out: Path) -> dict:
    """The chat row of the turn, as the real agent loop and its tools produced it."""
    case = {"id": "x", "category": "c", "prompt": "p", "workspace": WORKSPACE}
    suite = suite_of({**case, "checks": {"called": ["edit_file"]}, "max_calls": 8})
    result = asyncio.run(run_task_suite(scripted(STEPS), suite, out, progress=False))
    assert result.passed == 1
    return result.cases[0].trace


def _turn_record(row: dict, prompt: str, sid: str, day: int) -> dict:
    messages = [dict(m) for m in row["messages"]]
    messages[1] = {"role": "user", "content": prompt}
    calls = [
        {
            "tool": c["function"]["name"],
            "server": None,
            "arguments": json.loads(c["function"]["arguments"]),
            "model_call_id": c["id"],
            "row_call_id": c["id"],
            "call_id": f"{c['id']}-{i}",
            "permission": {"answer": "approved", "kind": "allow_once", "remembered": False}
            if c["function"]["name"] in NEEDS_PERMISSION
            else None,
            "status": "succeeded",
            "error": None,
        }
        for i, m in enumerate(messages)
        for c in m.get("tool_calls") or []
    ]
    at = f"2026-03-{day:02d}T10:00:00+00:00"
    return {
        **{"type": "turn", "format": 1, "session_id": sid, "turn_id": f"turn{day:04d}"},
        **{"source": "serve", "workspace": "/w", "started_at": at, "time": at},
        **{"ended_by": "answer", "prompt": prompt, "error": "", "calls": calls},
        **{"turn_start": 1, "row": {"messages": messages, "tools": row["tools"]}},
    }


@pytest.fixture(scope="module")
def harvest(tmp_path_factory) -> Path:
    """A harvest of eight recorded sessions, one turn each (the prompts differ, so no
    turn is a duplicate of another)."""
    tmp = tmp_path_factory.mktemp("harvested")
    row = _recorded_row(tmp / "recorded")
    traces = tmp / "traces"
    for day in range(1, SESSIONS + 1):
        sid = f"{day:02d}" + "a" * 30
        rec = _turn_record(row, f"please repair the adder, attempt {day}", sid, day)
        path = traces / workspace_key(Path("/w")) / f"{sid}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rec) + "\n")
    out = tmp / "harvest"
    cli = ["data", "harvest", "--traces", str(traces), "--out", str(out)]
    result = CliRunner().invoke(app, cli, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def suite(harvest):
    suite, info = build_harvest_suite([harvest])
    assert info["skipped"] == {}
    return suite


def test_the_newest_sessions_turn_is_the_one_case(suite, harvest):
    (case,) = suite.cases
    assert len(held_out_rows(harvest)) == 1 and suite.name == "harvest-newer"
    assert case.prompt == f"please repair the adder, attempt {SESSIONS}"
    assert case.id == f"{SESSIONS:02d}aaaaaa-turn{SESSIONS:04d}"


def test_the_workspace_is_what_the_turns_reads_and_listing_showed(suite):
    # README.md was listed, never read: its name is there, its text is not known.
    assert suite.cases[0].workspace == {"src/calc.py": CALC, "README.md": ""}


def test_a_model_repeating_the_recorded_calls_passes(suite, tmp_path):
    result = asyncio.run(run_task_suite(scripted(STEPS), suite, tmp_path, progress=False))
    assert result.passed == 1, result.cases[0].detail


@pytest.mark.parametrize(
    ("steps", "failure"),
    [
        (["I fixed it."], "files_contain"),
        ([READ, EDIT, "Fixed."], "called"),
        ([LIST, READ, EDIT, ("run_command", {"command": "true"}), ANSWER], "commands"),
        ([LIST, READ, READ, EDIT, LIST, RUN, LIST, ANSWER], "max_tool_calls"),
    ],
)
def test_a_model_doing_otherwise_fails(suite, tmp_path, steps, failure):
    result = asyncio.run(run_task_suite(scripted(steps), suite, tmp_path, progress=False))
    assert (result.passed, result.cases[0].failure) == (0, failure)


def test_harvest_dir_names_the_suite_wherever_a_suite_is_taken(suite, harvest):
    assert load_any_suite(f"harvest:{harvest}").fingerprint() == suite.fingerprint()


def test_harvest_suite_writes_a_yaml_suite_that_reads_back_the_same(suite, harvest, tmp_path):
    out = tmp_path / "newer.yaml"
    result = CliRunner().invoke(app, ["data", "harvest-suite", str(harvest), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 of 1 held-out turns as tasks" in result.output
    assert load_any_suite(out).fingerprint() == suite.fingerprint()


def test_a_folder_that_is_no_harvest_is_exit_2_with_the_fix(tmp_path):
    result = CliRunner().invoke(app, ["data", "harvest-suite", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a harvest folder: it has no harvest.json" in result.output
    assert "punie data harvest --out DIR" in result.output


def test_a_malformed_held_out_row_names_its_file_and_line(harvest, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "harvest.json").write_text("{}")
    good = (harvest / "test.jsonl").read_text()
    (bad / "test.jsonl").write_text(good + '{"messages": "none"}\n')
    with pytest.raises(PunieError) as err:
        held_out_rows(bad)
    assert err.value.where == f"{bad / 'test.jsonl'}:2"


def test_a_harvest_that_held_out_no_test_session_says_so(tmp_path):
    (tmp_path / "harvest.json").write_text("{}")
    with pytest.raises(PunieError, match="held out no test session.*8 or more"):
        load_harvest_suite(tmp_path)
