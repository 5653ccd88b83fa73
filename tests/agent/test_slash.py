"""punie.agent.slash in-process: where /compact may cut a history, and its refusals."""

from __future__ import annotations

from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from punie.agent import slash


def _turn_with_a_tool(prompt: str) -> list:
    return [
        ModelRequest(parts=[UserPromptPart(prompt)]),
        ModelResponse(parts=[ToolCallPart("read_file", {"path": "a"}, tool_call_id="c1")]),
        ModelRequest(parts=[ToolReturnPart("read_file", "text", tool_call_id="c1")]),
        ModelResponse(parts=[TextPart("done")]),
    ]


def test_dropping_turns_cuts_only_where_a_turn_begins():
    history = _turn_with_a_tool("first") + _turn_with_a_tool("second")
    kept, dropped = slash.drop_old_turns(history, keep=1)
    assert dropped == 1
    assert kept == history[4:]  # the second turn whole, its tool call with its result


def test_compact_refuses_an_argument_that_is_not_a_number():
    history = _turn_with_a_tool("first") + _turn_with_a_tool("second")
    kept, reply = slash.compact_reply(history, "all")
    assert kept == history
    assert "number of turns" in reply
