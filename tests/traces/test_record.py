"""Turn records: built from real pydantic-ai messages, redacted, joined to their calls."""

from __future__ import annotations

import json

from punie.agent.calls import CallOutcome, PermissionAnswer
from punie.agent.trace import to_model_messages
from punie.data.checks import check_row
from punie.data.schema import tool_call
from punie.traces.record import TurnInfo, next_prompt_record, turn_record
from punie.traces.redact import ENV_MARKER

APPROVED = PermissionAnswer("approved", "allow_once")


def _info(chat: list[dict], calls: tuple = (), prompt: str | None = None) -> TurnInfo:
    prompt = (
        prompt if prompt is not None else [m for m in chat if m["role"] == "user"][-1]["content"]
    )
    return TurnInfo(
        session_id="0" * 32,
        turn_id="t1",
        source="serve",
        workspace="/w",
        model="smollm2-135m",
        adapter="/runs/x/adapter",
        prompt=prompt,
        started_at="2026-01-01T00:00:00+00:00",
        time="2026-01-01T00:00:01+00:00",
        duration_s=1.0,
        ended_by="answer",
        stop_reason="end_turn",
        calls=calls,
        messages=tuple(to_model_messages(chat)),
    )


def _one_call(name: str, args: dict, result: str, answer: str = "done") -> list[dict]:
    return [
        {"role": "user", "content": "please"},
        {"role": "assistant", "content": None, "tool_calls": [tool_call("c1", name, args)]},
        {"role": "tool", "tool_call_id": "c1", "content": result},
        {"role": "assistant", "content": answer},
    ]


def _outcome(name: str, args: dict, status: str = "succeeded", error=None) -> CallOutcome:
    return CallOutcome(name, args, "c1", "c1-1", permission=APPROVED, status=status, error=error)


def test_a_turn_record_holds_a_valid_chat_row_and_its_calls():
    args = {"path": "a.py", "content": "x = 1\n"}
    rec = turn_record(
        _info(_one_call("write_file", args, "wrote 6 bytes"), (_outcome("write_file", args),))
    )
    assert rec["type"] == "turn" and rec["format"] == 1
    assert check_row(rec["row"], "chat") == []
    (call,) = rec["calls"]
    assert call["row_call_id"] == "c1" and call["permission"]["kind"] == "allow_once"
    assert (rec["model"], rec["adapter"]) == ("smollm2-135m", "/runs/x/adapter")


def test_a_write_to_an_env_file_keeps_its_path_and_loses_its_content_everywhere():
    args = {"path": ".env", "content": "HOST=db.internal\n"}
    rec = turn_record(
        _info(_one_call("write_file", args, "wrote 17 bytes"), (_outcome("write_file", args),))
    )
    fn = rec["row"]["messages"][1]["tool_calls"][0]["function"]
    assert json.loads(fn["arguments"]) == {"path": ".env", "content": ENV_MARKER}
    assert rec["calls"][0]["arguments"] == {"path": ".env", "content": ENV_MARKER}
    assert "db.internal" not in json.dumps(rec)


def test_lines_of_a_read_env_file_quoted_in_the_answer_are_replaced():
    chat = _one_call(
        "read_file", {"path": ".env"}, "HOST=db.internal\nA=1\n", "HOST=db.internal it says"
    )
    rec = turn_record(_info(chat))
    messages = rec["row"]["messages"]
    assert messages[2]["content"] == ENV_MARKER
    assert messages[3]["content"] == f"{ENV_MARKER} it says"


def test_the_output_of_a_command_that_names_an_env_file_is_replaced():
    args = {"command": "cat .env"}
    rec = turn_record(_info(_one_call("run_command", args, "HOST=db.internal\n[exit code 0]")))
    assert rec["row"]["messages"][2]["content"] == ENV_MARKER


def test_a_failed_calls_error_is_redacted_too():
    args = {"command": "deploy"}
    err = "error: [exit code 1]\nusing GITHUB_TOKEN=plainvalue99"
    outcome = _outcome("run_command", args, status="failed", error=err)
    rec = turn_record(_info(_one_call("run_command", args, err), (outcome,)))
    assert rec["calls"][0]["error"] == "error: [exit code 1]\nusing GITHUB_TOKEN=[REDACTED:secret]"


def test_call_ids_a_model_reuses_across_turns_are_made_unique_in_the_row():
    first = _one_call("read_file", {"path": "a"}, "A")
    second = _one_call("read_file", {"path": "b"}, "B")
    second[0] = {"role": "user", "content": "and b"}
    outcome = CallOutcome("read_file", {"path": "b"}, "c1", "c1-2", status="succeeded")
    rec = turn_record(_info(first + second, (outcome,)))
    messages = rec["row"]["messages"]
    assert check_row(rec["row"], "chat") == []
    assert rec["turn_start"] == 4 and messages[4]["content"] == "and b"
    assert messages[5]["tool_calls"][0]["id"] == "c1~2" == messages[6]["tool_call_id"]
    assert rec["calls"][0]["row_call_id"] == "c1~2"


def test_a_turn_without_messages_has_no_row_and_unjoined_calls():
    cancelled = CallOutcome("run_command", {"command": "ls"}, "c1", "c1-1", status="cancelled")
    info = _info(_one_call("run_command", {"command": "ls"}, "x"), (cancelled,))
    rec = turn_record(TurnInfo(**{**info.__dict__, "messages": (), "ended_by": "cancelled"}))
    assert rec["row"] is None and rec["turn_start"] is None
    assert rec["calls"][0]["row_call_id"] is None


def test_a_secret_in_the_prompt_is_redacted_and_counted():
    chat = [
        {"role": "user", "content": "my key is AKIAIOSFODNN7EXAMPLE"},
        {"role": "assistant", "content": "ok"},
    ]
    rec = turn_record(_info(chat))
    assert rec["prompt"] == "my key is [REDACTED:aws_key]"
    assert rec["row"]["messages"][0]["content"] == rec["prompt"]
    assert rec["redactions"] == 2


def test_a_next_prompt_record_names_the_turn_and_is_redacted():
    rec = next_prompt_record(
        "0" * 32, "t1", "/clear password=x1y2", "clear", "2026-01-01T00:00:02+00:00"
    )
    assert (rec["type"], rec["turn_id"], rec["command"]) == ("next_prompt", "t1", "clear")
    assert rec["prompt"] == "/clear password=[REDACTED:secret]"
