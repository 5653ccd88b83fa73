"""Slash commands: offered to the IDE with ACP `available_commands_update`, answered by
Punie itself (the model never sees them, and they are not part of the history).

A prompt is a command when its first word is `/NAME` for a NAME below; anything else
starting with `/` (a path, say) goes to the model as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from acp.schema import AvailableCommand, AvailableCommandInput, UnstructuredCommandInput

DEFAULT_KEEP_TURNS = 2


@dataclass(frozen=True)
class SlashCommand:
    name: str
    description: str
    hint: str | None = None  # the input's hint, for a command that takes one


COMMANDS = (
    SlashCommand("help", "List Punie's commands"),
    SlashCommand("clear", "Forget this session's conversation (the model starts afresh)"),
    SlashCommand("model", "Show the model, adapter, server and context window"),
    SlashCommand(
        "compact",
        "Drop older turns from the history, keeping the last few (no summary yet)",
        hint=f"turns to keep (default {DEFAULT_KEEP_TURNS})",
    ),
)
BY_NAME = {c.name: c for c in COMMANDS}


def available_commands() -> list[AvailableCommand]:
    return [
        AvailableCommand(
            name=c.name,
            description=c.description,
            input=AvailableCommandInput(UnstructuredCommandInput(hint=c.hint)) if c.hint else None,
        )
        for c in COMMANDS
    ]


def parse_command(text: str) -> tuple[str, str] | None:
    """(name, argument) when the prompt's first word is one of our commands."""
    first_line = text.strip().split("\n", 1)[0]
    word, _, arg = first_line.partition(" ")
    if not word.startswith("/") or word[1:] not in BY_NAME:
        return None
    return word[1:], arg.strip()


def help_text() -> str:
    lines = ["Punie's commands:"]
    for c in COMMANDS:
        arg = f" [{c.hint}]" if c.hint else ""
        lines.append(f"  /{c.name}{arg}: {c.description}")
    lines.append("Anything else is sent to the model.")
    return "\n".join(lines)


def turn_starts(history: list) -> list[int]:
    """Indices of the messages that open a turn (a request carrying the user's prompt)."""
    from pydantic_ai.messages import ModelRequest, UserPromptPart

    return [
        i
        for i, m in enumerate(history)
        if isinstance(m, ModelRequest) and any(isinstance(p, UserPromptPart) for p in m.parts)
    ]


def drop_old_turns(history: list, keep: int) -> tuple[list, int]:
    """The history with only its last `keep` turns, and how many turns were dropped.
    Cuts only where a turn begins, so no tool call is separated from its result."""
    starts = turn_starts(history)
    dropped = max(0, len(starts) - keep)
    if dropped == 0:
        return list(history), 0
    return list(history[starts[dropped] :]) if keep > 0 else [], dropped


def compact_reply(history: list, arg: str) -> tuple[list, str]:
    """What /compact does to the history, and what it tells the user."""
    try:
        keep = int(arg) if arg else DEFAULT_KEEP_TURNS
    except ValueError:
        return history, f"/compact takes a number of turns to keep, not {arg!r}."
    if keep < 0:
        return history, "/compact: the number of turns to keep cannot be negative."
    new, dropped = drop_old_turns(history, keep)
    total = len(turn_starts(history))
    if dropped == 0:
        return history, f"Nothing to compact: the history has {total} turn(s), keeping {keep}."
    return new, (
        f"Dropped the {dropped} oldest of {total} turn(s), kept the last {keep}. "
        "Nothing was summarised (Punie cannot summarise yet): "
        "the model no longer sees the dropped turns at all."
    )


def clear_reply(history: list) -> str:
    n = len(turn_starts(history))
    return (
        f"Cleared: the model no longer sees this session's {n} earlier turn(s). "
        "Permissions you answered with Always are still remembered."
    )


def model_text(handle: Any, settings: Any) -> str:
    """/model: what is behind the agent, from what is known without starting anything."""
    window = getattr(handle, "context_window", None)
    lines = [
        f"model: {handle.spec}",
        f"adapter: {handle.adapter or 'none'}",
        f"server: {_server(handle)}",
        f"context window: {_window(handle, window)}",
    ]
    if getattr(settings, "max_tokens", None) is not None:
        lines.append(f"max tokens per reply: {settings.max_tokens}")
    if getattr(settings, "temperature", None) is not None:
        lines.append(f"temperature: {settings.temperature}")
    return "\n".join(lines)


def _window(handle: Any, window: int | None) -> str:
    budget = getattr(handle, "budget", None)
    if budget is not None and budget.assumed:
        return f"not known (Punie assumes {budget.window} tokens; pass --context N)"
    if not window:
        return "not known"
    return f"{window} tokens ({budget.source})" if budget is not None else f"{window} tokens"


def _server(handle: Any) -> str:
    from punie.agent.models import TEST_FAKE_PREFIX

    opened = getattr(handle, "_model", None)
    url = getattr(opened, "base_url", None)
    if url:
        return str(url)
    if handle.spec.startswith(TEST_FAKE_PREFIX):
        return "none (a test fake, in process)"
    from punie.serve.endpoints import parse_endpoint

    try:
        parsed = parse_endpoint(handle.spec)
    except Exception:
        return "unknown"
    if parsed.managed:
        return "mlx_lm.server, started by Punie on the first prompt (not started yet)"
    return str(parsed.base_url)
