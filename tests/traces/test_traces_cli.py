"""`punie traces list / show / rm` through the real root app, on files the real
recorder wrote."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from punie.agent.calls import CallOutcome, PermissionAnswer
from punie.cli import app
from punie.traces.record import TurnInfo
from punie.traces.recorder import Recorder

OLD, NEW = "a" * 32, "b" * 32  # an old session in ws1, a recent one in ws2
APPROVED = PermissionAnswer("approved", "allow_once")
REJECTED = PermissionAnswer("rejected", "reject_once")


def _turn(sid: str, ws: Path, time: str, calls: tuple) -> TurnInfo:
    return TurnInfo(
        session_id=sid,
        turn_id=f"turn-{sid[:4]}",
        source="serve",
        workspace=str(ws),
        model="local",
        adapter=None,
        prompt="fix the bug",
        started_at=time,
        time=time,
        duration_s=1.0,
        ended_by="answer",
        stop_reason="end_turn",
        calls=calls,
    )


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PUNIE_HOME", str(tmp_path / "home"))
    (tmp_path / "ws1").mkdir()
    (tmp_path / "ws2").mkdir()
    ok = CallOutcome("read_file", {"path": "a.py"}, "c1", "c1-1", status="succeeded")
    rejected = CallOutcome(
        "write_file",
        {"path": "a.py", "content": "x"},
        "c2",
        "c2-2",
        permission=REJECTED,
        status="rejected",
        error="error: the user rejected 'Write a.py'; it was not done",
    )
    approved = CallOutcome(
        "write_file",
        {"path": "a.py", "content": "y"},
        "c3",
        "c3-3",
        permission=APPROVED,
        status="succeeded",
    )
    rec = Recorder(tmp_path / "home" / "traces")
    rec.turn(_turn(OLD, tmp_path / "ws1", "2020-01-01T00:00:00+00:00", (ok,)))
    rec.turn(_turn(NEW, tmp_path / "ws2", "2099-01-01T00:00:00+00:00", (rejected, approved)))
    rec.next_prompt(NEW, str(tmp_path / "ws2"), "no, the other file", None)
    asyncio.run(rec.aclose())
    return tmp_path


def _run(*args, stdin: str | None = None):
    # Wide enough that a table row is one line.
    env = {"COLUMNS": "200"}
    return CliRunner().invoke(app, ["traces", *map(str, args)], input=stdin, env=env)


def _left(home: Path) -> list[str]:
    return sorted(p.stem for p in (home / "home" / "traces").glob("*/*.jsonl"))


def test_list_shows_each_session_with_its_turns_and_call_outcomes(home):
    out = _run("list")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    new = next(line for line in lines if NEW[:12] in line)
    old = next(line for line in lines if OLD[:12] in line)
    assert lines.index(new) < lines.index(old)  # newest first
    assert "1 ok" in new and "1 rejected" in new and "ws2" in new
    assert "1 ok" in old and "2020-01-01" in old


def test_list_with_nothing_recorded_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PUNIE_HOME", str(tmp_path))
    out = _run("list")
    assert out.exit_code == 0 and "no recorded sessions" in out.output


def test_show_lists_the_turns_calls_outcomes_and_next_prompt(home):
    out = _run("show", NEW[:6])
    assert out.exit_code == 0, out.output
    text = out.output
    assert "fix the bug" in text
    assert "rejected" in text and "reject_once" in text and "allow_once" in text
    assert "next prompt: no, the other file" in text


def test_show_json_prints_the_records_one_a_line(home):
    out = _run("show", NEW, "--json")
    records = [json.loads(line) for line in out.output.splitlines()]
    assert [r["type"] for r in records] == ["turn", "next_prompt"]


def test_show_of_an_unknown_session_is_one_line_and_exit_2(home):
    out = _run("show", "ffff")
    assert out.exit_code == 2
    assert out.stderr.startswith("error: ") and "no recorded session 'ffff'" in out.stderr


def test_rm_session_deletes_only_that_session(home):
    out = _run("rm", "--session", OLD, "--yes")
    assert out.exit_code == 0, out.output
    assert _left(home) == [NEW]


def test_rm_workspace_deletes_its_sessions_and_folder(home):
    _run("rm", "--workspace", home / "ws2", "--yes")
    assert _left(home) == [OLD]
    assert len(list((home / "home" / "traces").iterdir())) == 1  # ws2's folder went too


def test_rm_older_than_deletes_only_sessions_last_used_before_then(home):
    out = _run("rm", "--older-than", "30d", "--yes")
    assert "deleted 1 sessions" in out.output
    assert _left(home) == [NEW]


def test_rm_asks_first_and_a_no_deletes_nothing(home):
    out = _run("rm", "--older-than", "1d", stdin="n\n")
    assert out.exit_code == 1
    assert "delete them?" in out.output and _left(home) == [OLD, NEW]


@pytest.mark.parametrize(
    "args, says",
    [((), "say what to delete"), (("--older-than", "soon"), "not an age: 'soon'")],
)
def test_rm_without_a_usable_filter_is_one_line_and_exit_2(home, args, says):
    out = _run("rm", *args, "--yes")
    assert out.exit_code == 2 and says in out.stderr
    assert _left(home) == [OLD, NEW]
