"""One conversation turn: the model streams text (forwarded as `agent_message_chunk`)
and calls tools (run by `punie.agent.tools`, which report them), until it answers.

Shared by the ACP agent (`punie serve`) and the terminal (`punie ask`); both pass a
`Frontend` that receives the same ACP update objects.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
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
    seed: int | None = None  # sent only when sampling (temperature > 0)
    request_limit: int = 25  # model calls per turn before stopping with max_turn_requests


@dataclass(frozen=True)
class TurnUsage:
    requests: int = 0  # model calls made in this turn
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class TurnResult:
    stop_reason: str  # an ACP StopReason
    # The conversation to continue from (pydantic-ai messages). A turn that ended
    # without an answer keeps the history from before it, so the next prompt does not
    # inherit a half-finished tool loop.
    history: list
    text: str  # the answer's text, for the terminal
    # Everything of this attempt, the partial run included (for traces and scoring).
    messages: list = field(default_factory=list)
    ended_by: str = "answer"  # one of punie.evaluate.tasks.ENDINGS
    usage: TurnUsage = TurnUsage()
    error: str = ""  # why the turn ended without an answer

    @property
    def answered(self) -> bool:
        return self.ended_by in ("answer", "max_tokens")


def build_agent(tool_names: Iterable[str] | None = None) -> Any:
    """The pydantic-ai agent (tools and instructions); the model is passed per run.
    `tool_names` offers only some of the agent tools (a task that offers fewer)."""
    from pydantic_ai import Agent

    from punie.agent.context import ContextFit
    from punie.agent.recovery import TextToolCalls

    names = set(tool_names) if tool_names is not None else None
    return Agent(
        None,
        deps_type=ToolEnv,
        tools=[t for t in build_tools() if names is None or t.name in names],
        instructions=INSTRUCTIONS,
        # A tool's arguments the model got wrong come back as an error text; 2 retries
        # keep a confused small model from looping on schema errors.
        retries=2,
        # Calls a local server returned as text run as calls (logged), not as an answer.
        # A model from ModelHandle has a context budget: every request is fitted to
        # its window (punie.agent.context).
        capabilities=[TextToolCalls(), ContextFit()],
    )


def _model_settings(s: TurnSettings) -> dict:
    out: dict = {}
    if s.max_tokens is not None:
        out["max_tokens"] = s.max_tokens
    if s.temperature is not None:
        out["temperature"] = s.temperature
    if s.seed is not None and (s.temperature or 0) > 0:
        out["seed"] = s.seed
    return out


async def run_turn(
    agent: Any,
    model: Any,
    env: ToolEnv,
    history: list,
    prompt: str,
    settings: TurnSettings = TurnSettings(),
    toolsets: list | None = None,  # per-session extras (the IDE's MCP servers)
) -> TurnResult:
    from pydantic_ai import Agent
    from pydantic_ai.exceptions import UnexpectedModelBehavior, UsageLimitExceeded
    from pydantic_ai.usage import UsageLimits

    from punie.agent.context import ContextFull

    send = env.frontend.send
    texts: list[str] = []
    env.start_turn()
    run = None
    try:
        async with agent.iter(
            prompt,
            model=model,
            deps=env,
            message_history=history,
            model_settings=_model_settings(settings) or None,
            usage_limits=UsageLimits(request_limit=settings.request_limit),
            toolsets=toolsets or None,
        ) as run:
            async for node in run:
                if Agent.is_model_request_node(node):
                    async with node.stream(run.ctx) as events:
                        async for ev in events:
                            text, thought = _event_text(ev)
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
        return _unanswered(run, history, "".join(texts), "max_turn_requests", "call_budget", exc)
    except RepeatedToolCall as exc:
        log.warning("turn ended on a repeated tool call: %s", exc)
        note = f"\n[punie: stopped, the model repeated itself: {exc}]"
        await send(update_agent_message_text(note))
        return _unanswered(run, history, "".join(texts) + note, "end_turn", "repeat_guard", exc)
    except ContextFull as exc:
        # Sending it anyway would have the server cut the prompt's start silently,
        # the tool definitions first.
        log.warning("turn ended: the request does not fit the context window: %s", exc)
        note = f"\n[punie: stopped before sending: {exc}; start afresh (/clear) or raise --context]"
        await send(update_agent_message_text(note))
        return _unanswered(run, history, "".join(texts) + note, "end_turn", "context_full", exc)
    except UnexpectedModelBehavior as exc:
        # A small model that keeps emitting malformed tool calls: say so and end the
        # turn, rather than failing the whole prompt with an internal error.
        log.warning("turn ended on model misbehaviour: %s", exc)
        note = f"\n[punie: the model's reply could not be used: {exc}]"
        await send(update_agent_message_text(note))
        return _unanswered(run, history, "".join(texts) + note, "end_turn", "unusable_reply", exc)
    assert result is not None
    messages = list(result.all_messages())
    last = getattr(result, "response", None)
    cut = getattr(last, "finish_reason", None) == "length"
    return TurnResult(
        "max_tokens" if cut else "end_turn",
        messages,
        "".join(texts),
        messages=messages,
        ended_by="max_tokens" if cut else "answer",
        usage=_usage(run),
    )


def _event_text(ev: Any) -> tuple[str | None, str | None]:
    """(answer text, thought text) carried by one stream event."""
    from pydantic_ai.messages import (
        PartDeltaEvent,
        PartStartEvent,
        TextPart,
        TextPartDelta,
        ThinkingPart,
        ThinkingPartDelta,
    )

    if isinstance(ev, PartStartEvent):
        if isinstance(ev.part, TextPart):
            return ev.part.content, None
        if isinstance(ev.part, ThinkingPart):
            return None, ev.part.content
    elif isinstance(ev, PartDeltaEvent):
        if isinstance(ev.delta, TextPartDelta):
            return ev.delta.content_delta, None
        if isinstance(ev.delta, ThinkingPartDelta):
            return None, ev.delta.content_delta
    return None, None


def _usage(run: Any) -> TurnUsage:
    if run is None:
        return TurnUsage()
    u = run.usage
    u = u if hasattr(u, "requests") else u()  # a method in older pydantic-ai
    return TurnUsage(u.requests, u.input_tokens or 0, u.output_tokens or 0)


def _unanswered(
    run: Any, history: list, text: str, stop: str, ended_by: str, exc: Exception
) -> TurnResult:
    # The run object still holds the partial conversation after the exception: that
    # is what the model actually did, and what a trace of this attempt must show.
    messages = list(run.all_messages()) if run is not None else list(history)
    return TurnResult(
        stop,
        list(history),
        text,
        messages=messages,
        ended_by=ended_by,
        usage=_usage(run),
        error=str(exc),
    )
