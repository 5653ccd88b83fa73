"""Tool calls a server left in a reply's text, run as calls.

Local servers often return a call as plain `content` (Qwen2.5-Coder on Ollama, LM
Studio, an mlx_lm.server whose template's parser is not the model's), and the agent
would take it for the final answer. `TextToolCalls` reads such a reply with
`punie.toolcalls` (mlx-lm's parsers, the ones the scorer uses) and turns it into the
calls, through pydantic-ai's `after_model_request` hook: it sees the whole response,
streamed or not, before the agent acts on it. Only calls naming an offered tool are
recovered, and every recovery is logged (stderr and the agent log: stdout is ACP).

Imported when the agent is built (it imports pydantic-ai), not at startup.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import BaseToolCallPart, ModelResponse, TextPart, ToolCallPart

from punie import toolcalls

log = logging.getLogger("punie.agent")


class TextToolCalls(AbstractCapability[Any]):
    """A reply with no tool calls whose text holds one in a known format becomes it."""

    async def after_model_request(self, ctx, *, request_context, response):
        tools = request_context.model_request_parameters.function_tools
        return recover_calls(response, tools) or response


def recover_calls(response: ModelResponse, tool_defs: list) -> ModelResponse | None:
    """`response` with the calls in its text made tool calls (the text left around
    them kept), or None when it has none, or has calls already."""
    if any(isinstance(p, BaseToolCallPart) for p in response.parts):
        return None
    text = "".join(p.content for p in response.parts if isinstance(p, TextPart))
    if not text.strip() or not tool_defs:
        return None
    offered = [
        {"type": "function", "function": {"name": t.name, "parameters": t.parameters_json_schema}}
        for t in tool_defs
    ]
    found = toolcalls.recover(text, offered)
    if found is None:
        return None
    log.info(
        "recovered %d tool call(s) from the reply text (%s format): %s%s",
        len(found.calls),
        found.format,
        ", ".join(c.name for c in found.calls),
        "".join(f"; left out: {e}" for e in found.errors),
    )
    parts = [p for p in response.parts if not isinstance(p, TextPart)]
    if found.content.strip():
        parts.append(TextPart(found.content.strip()))
    parts += [ToolCallPart(c.name, c.arguments) for c in found.calls]
    return replace(response, parts=parts, finish_reason="tool_call")
