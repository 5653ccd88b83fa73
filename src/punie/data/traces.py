"""Agent traces as training examples.

mlx-lm's `mask_prompt` trains only the last message of a chat row, so a multi-turn
trace (call -> result -> call -> result -> answer) would teach only its final answer.
Expanding it into one row per assistant turn, each ending at that turn, teaches
every tool call in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def expand_trace(row: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per assistant turn (each ending at it); other rows come back as they are.
    Extra keys (category, meta...) are kept on every expanded row."""
    messages = row.get("messages")
    if not isinstance(messages, list):
        return [row]
    ends = [
        i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"
    ]
    if len(ends) <= 1:
        return [row]
    return [{**row, "messages": messages[: i + 1]} for i in ends]


def expand_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [out for row in rows for out in expand_trace(row)]


def assistant_turns(row: dict[str, Any]) -> int:
    messages = row.get("messages")
    if not isinstance(messages, list):
        return 0
    return sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
