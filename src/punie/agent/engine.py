"""One conversation turn: the model streams text (forwarded as `agent_message_chunk`)
and calls tools (run by `punie.agent.tools`, which report them), until it answers.

Shared by the ACP agent (`punie serve`) and the terminal (`punie ask`); both pass a
`Frontend` that receives the same ACP update objects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from acp import update_agent_message_text, update_agent_thought_text

from punie.agent.tools import RepeatedToolCall, ToolEnv, build_tools
from punie.toolspec import SYSTEM_PROMPT

log = logging.getLogger("punie.agent")

INSTRUCTIONS = SYSTEM_PROMPT


@dataclass(frozen=True)
class TurnSettings:
    max_tokens: int | None = None
    temperature: float | None = None
    request_limit: int = 25  # model calls per turn before stopping with max_turn_requests


@dataclass
class TurnResult:
    stop_reason: str  # an ACP StopReason
    history: list  # the whole conversation after this turn (pydantic-ai messages)
    text: str  # the answer's text, for the terminal


def build_agent() -> Any:
    """The pydantic-ai agent (tools and instructions); the model is passed per run."""
    from pydantic_ai import Agent

    return Agent(
        None,
        deps_type=ToolEnv,
        tools=build_tools(),
        instructions=INSTRUCTIONS,
        # A tool's arguments the model got wrong come back as an error text; 2 retries
        # keep a confused small model from looping on schema errors.
        retries=2,
    )


def _model_settings(s: TurnSettings) -> dict:
    out: dict = {}
    if s.max_tokens is not None:
        out["max_tokens"] = s.max_tokens
    if s.temperature is not None:
        out["temperature"] = s.temperature
    return out


async def run_turn(
    agent: Any,
    model: Any,
    env: ToolEnv,
    history: list,
    prompt: str,
    settings: TurnSettings = TurnSettings(),
) -> TurnResult:
    from pydantic_ai import Agent
    from pydantic_ai.exceptions import UnexpectedModelBehavior, UsageLimitExceeded
    from pydantic_ai.messages import (
        PartDeltaEvent,
        PartStartEvent,
        TextPart,
        TextPartDelta,
        ThinkingPart,
        ThinkingPartDelta,
    )
    from pydantic_ai.usage import UsageLimits

    send = env.frontend.send
    texts: list[str] = []
    env.start_turn()
    try:
        async with agent.iter(
            prompt,
            model=model,
            deps=env,
            message_history=history,
            model_settings=_model_settings(settings) or None,
            usage_limits=UsageLimits(request_limit=settings.request_limit),
        ) as run:
            async for node in run:
                if Agent.is_model_request_node(node):
                    async with node.stream(run.ctx) as events:
                        async for ev in events:
                            text, thought = None, None
                            if isinstance(ev, PartStartEvent):
                                if isinstance(ev.part, TextPart):
                                    text = ev.part.content
                                elif isinstance(ev.part, ThinkingPart):
                                    thought = ev.part.content
                            elif isinstance(ev, PartDeltaEvent):
                                if isinstance(ev.delta, TextPartDelta):
                                    text = ev.delta.content_delta
                                elif isinstance(ev.delta, ThinkingPartDelta):
                                    thought = ev.delta.content_delta
                            if text:
                                texts.append(text)
                                await send(update_agent_message_text(text))
                            if thought:
                                await send(update_agent_thought_text(thought))
                elif Agent.is_call_tools_node(node):
                    # Tools run (and report themselves) while this stream is consumed.
                    async with node.stream(run.ctx) as events:
                        async for _ in events:
                            pass
        result = run.result
    except UsageLimitExceeded as exc:
        log.warning("turn stopped: %s", exc)
        return TurnResult("max_turn_requests", list(history), "".join(texts))
    except RepeatedToolCall as exc:
        log.warning("turn ended on a repeated tool call: %s", exc)
        note = f"\n[punie: stopped, the model repeated itself: {exc}]"
        await send(update_agent_message_text(note))
        return TurnResult("end_turn", list(history), "".join(texts) + note)
    except UnexpectedModelBehavior as exc:
        # A small model that keeps emitting malformed tool calls: say so and end the
        # turn, rather than failing the whole prompt with an internal error.
        log.warning("turn ended on model misbehaviour: %s", exc)
        note = f"\n[punie: the model's reply could not be used: {exc}]"
        await send(update_agent_message_text(note))
        return TurnResult("end_turn", list(history), "".join(texts) + note)
    assert result is not None
    messages = result.all_messages()
    last = getattr(result, "response", None)
    stop = "max_tokens" if getattr(last, "finish_reason", None) == "length" else "end_turn"
    return TurnResult(stop, list(messages), "".join(texts))
