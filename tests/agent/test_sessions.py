"""punie.agent.sessions on its own: what a saved history replays as, and which files
it refuses (the ACP side is in test_acp_sessions.py)."""

from __future__ import annotations

import json

import pytest
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from punie.agent import sessions


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PUNIE_HOME", str(tmp_path / "home"))


def _saved(tmp_path, history) -> sessions.SavedSession:
    return sessions.SavedSession("ab" * 16, str(tmp_path), None, "t0", "t1", history)


def test_a_call_the_model_got_wrong_replays_as_failed_with_what_it_was_told():
    history = [
        ModelRequest(parts=[UserPromptPart("read it")]),
        ModelResponse(parts=[ToolCallPart("read_file", {"paht": "a"}, tool_call_id="c1")]),
        ModelRequest(
            parts=[
                ToolReturnPart("read_file", "missing path", tool_call_id="c1", outcome="retried")
            ]
        ),
        ModelResponse(parts=[TextPart("sorry")]),
    ]
    user, call, result, answer = sessions.replay_updates(history)
    assert (call.title, result.tool_call_id) == ("Read .", call.tool_call_id)
    assert result.status == "failed" and "missing path" in result.content[0].content.text
    assert answer.content.text == "sorry"


def test_a_call_without_a_recorded_result_is_closed_as_failed():
    history = [ModelResponse(parts=[ToolCallPart("run_command", {"command": "ls"}, "c1")])]
    call, closed = sessions.replay_updates(history)
    assert (call.kind, closed.tool_call_id, closed.status) == (
        "execute",
        call.tool_call_id,
        "failed",
    )


def test_repeated_model_call_ids_get_distinct_ide_ids():
    turn = [
        ModelResponse(parts=[ToolCallPart("list_dir", {"path": "."}, tool_call_id="same")]),
        ModelRequest(parts=[UserPromptPart("again")]),
    ]
    calls = [u for u in sessions.replay_updates(turn + turn) if u.session_update == "tool_call"]
    assert len({c.tool_call_id for c in calls}) == 2


def test_the_title_is_the_first_prompt_line_clipped():
    long = "x" * 200
    history = [ModelRequest(parts=[UserPromptPart(f"{long}\nsecond line")])]
    title = sessions.title_of_history(history)
    assert len(title) == sessions.TITLE_CHARS and title.endswith("…")


def test_a_saved_session_loads_back_as_it_was(tmp_path):
    history = [ModelRequest(parts=[UserPromptPart("hi")]), ModelResponse(parts=[TextPart("yo")])]
    sessions.save(_saved(tmp_path, history))
    back = sessions.load(tmp_path, "ab" * 16)
    assert back.history == history and (back.created_at, back.updated_at) == ("t0", "t1")


def test_a_file_of_another_format_is_refused_and_kept(tmp_path):
    sessions.save(_saved(tmp_path, []))
    path = sessions.session_file(tmp_path, "ab" * 16)
    doc = json.loads(path.read_text()) | {"format": 99}
    path.write_text(json.dumps(doc))
    with pytest.raises(sessions.SessionError, match="session format 99, Punie reads 1"):
        sessions.load(tmp_path, "ab" * 16)
    assert json.loads(path.read_text())["format"] == 99
