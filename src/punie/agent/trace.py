"""pydantic-ai messages <-> Punie chat-JSONL rows, as the chat model saw the conversation.

`trace_row(messages)` gives ONE row `{"messages": [...], "tools": [...]}` that mirrors
what `OpenAIChatModel` sends (checked against captured requests in the tests):
- the system turn is the agent's instructions (after any system prompt parts),
- assistant tool calls are `punie.data.schema.tool_call` dicts (canonical arguments;
  pydantic-ai sends the same JSON compacted, which the chat template renders alike),
- tool results (a retried call included) are `role: tool` messages with the text
  `ToolReturnPart.model_response_str()` gives, which is what the OpenAI model sends,
- tools are the agent's tools as pydantic-ai renders them for OpenAI (it adds
  `additionalProperties: false` and `strict: true`), since that is what the server's
  chat template renders.
Messages after the model's last response (results it never saw) are left out; an
empty response and the retry feedback that answered it cannot be a chat row and are
dropped too.

`to_model_messages(chat)` is the other way, for a prior conversation (system turns
are skipped: the agent's own instructions are the system turn).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from punie.data.schema import tool_call


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(c for c in content if isinstance(c, str))
    return str(content)


def _call_dict(part: Any) -> dict[str, Any]:
    try:
        args = part.args_as_dict()
    except Exception:  # unparseable arguments: keep exactly what the model wrote
        args = None
    if isinstance(args, dict):
        return tool_call(part.tool_call_id, part.tool_name, args)
    raw = part.args if isinstance(part.args, str) else json.dumps(part.args)
    return {
        "id": part.tool_call_id,
        "type": "function",
        "function": {"name": part.tool_name, "arguments": raw},
    }


def _request_messages(msg: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """(system texts, chat messages) of one ModelRequest."""
    from pydantic_ai.messages import (
        RetryPromptPart,
        SystemPromptPart,
        ToolReturnPart,
        UserPromptPart,
    )

    systems: list[str] = []
    out: list[dict[str, Any]] = []
    for part in msg.parts:
        if isinstance(part, SystemPromptPart):
            systems.append(part.content)
        elif isinstance(part, UserPromptPart):
            out.append({"role": "user", "content": _text(part.content)})
        elif isinstance(part, ToolReturnPart):
            text = part.model_response_str()
            out.append({"role": "tool", "tool_call_id": part.tool_call_id, "content": text})
        elif isinstance(part, RetryPromptPart) and part.tool_name:  # legacy histories
            text = json.dumps({"error": part.model_response()})
            out.append({"role": "tool", "tool_call_id": part.tool_call_id, "content": text})
        elif hasattr(part, "model_response"):  # retry feedback not bound to a call
            out.append({"role": "user", "content": part.model_response(), "feedback": True})
    return systems, out


def _response_message(msg: Any) -> dict[str, Any] | None:
    from pydantic_ai.messages import TextPart, ToolCallPart

    text = "".join(p.content for p in msg.parts if isinstance(p, TextPart))
    calls = [_call_dict(p) for p in msg.parts if isinstance(p, ToolCallPart)]
    if not calls and not text.strip():
        return None
    out: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        out["tool_calls"] = calls
    return out


def chat_messages(messages: list[Any]) -> list[dict[str, Any]]:
    """OpenAI chat messages of a pydantic-ai conversation, system turn first."""
    from pydantic_ai.messages import ModelRequest, ModelResponse

    systems: list[str] = []
    instructions: str | None = None
    out: list[dict[str, Any]] = []
    dropped = False  # the previous response was empty (and is left out)
    last_answer = -1
    for msg in messages:
        if isinstance(msg, ModelRequest):
            sys_texts, part_msgs = _request_messages(msg)
            systems += sys_texts
            if msg.instructions:
                instructions = msg.instructions  # the OpenAI model sends the latest
            for m in part_msgs:
                if m.pop("feedback", False) and dropped:
                    continue
                out.append(m)
        elif isinstance(msg, ModelResponse):
            m = _response_message(msg)
            dropped = m is None
            if m is not None:
                out.append(m)
                last_answer = len(out) - 1
    if last_answer >= 0:
        out = out[: last_answer + 1]
    system = "\n\n".join([*systems, *([instructions] if instructions else [])])
    return ([{"role": "system", "content": system}] if system else []) + out


@functools.cache
def _openai_tools(names: tuple[str, ...]) -> tuple[str, ...]:
    from pydantic_ai.models import ModelRequestParameters

    from punie.agent.models import openai_model
    from punie.agent.tools import build_tools

    # A placeholder model: rendering tool definitions opens no connection.
    model = openai_model("http://127.0.0.1:9/v1", "default_model")
    defs = [t.tool_def for t in build_tools() if t.name in names]
    params = model.customize_request_parameters(ModelRequestParameters(function_tools=defs))
    return tuple(json.dumps(model._map_tool_definition(d, {})) for d in params.function_tools)


def sent_tools(names: list[str] | None = None) -> list[dict[str, Any]]:
    """The agent's tools exactly as pydantic-ai's OpenAI chat model sends them."""
    from punie.toolspec import TOOL_NAMES

    return [json.loads(t) for t in _openai_tools(tuple(names or TOOL_NAMES))]


def trace_row(messages: list[Any], tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One chat-JSONL row of a whole agent attempt."""
    return {"messages": chat_messages(messages), "tools": tools if tools else sent_tools()}


def to_model_messages(chat: list[dict[str, Any]]) -> list[Any]:
    """Chat messages (a task's prior conversation) as pydantic-ai message history."""
    from pydantic_ai.messages import (
        ModelRequest,
        ModelResponse,
        TextPart,
        ToolCallPart,
        ToolReturnPart,
        UserPromptPart,
    )

    names: dict[str, str] = {}
    out: list[Any] = []
    for m in chat:
        role = m.get("role")
        if role == "user":
            out.append(ModelRequest(parts=[UserPromptPart(content=_text(m.get("content")))]))
        elif role == "assistant":
            parts: list[Any] = [TextPart(content=m["content"])] if m.get("content") else []
            for c in m.get("tool_calls") or []:
                fn = c["function"]
                names[c["id"]] = fn["name"]
                parts.append(ToolCallPart(fn["name"], fn.get("arguments") or "{}", c["id"]))
            out.append(ModelResponse(parts=parts))
        elif role == "tool":
            cid = m.get("tool_call_id", "")
            part = ToolReturnPart(names.get(cid, "tool"), _text(m.get("content")), cid)
            if out and isinstance(out[-1], ModelRequest):
                out[-1] = ModelRequest(parts=[*out[-1].parts, part])
            else:
                out.append(ModelRequest(parts=[part]))
    return out
