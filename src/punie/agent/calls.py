"""What became of each tool call of a turn, captured where it happens (the permission
answer in `tools.ask_permission`, the result in `tools.execute` and MCP's
`call_with_permission`) and kept on the turn's `ToolEnv.calls`; `punie.traces`
records them once the turn ends."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class PermissionAnswer:
    """How the user answered one call's permission request (recorded in traces)."""

    answer: str  # approved | rejected | cancelled
    kind: str | None  # the chosen option's kind (allow_once ... reject_always); None: cancelled
    remembered: bool = False  # an earlier "Always" answered it; nobody was asked


@dataclass(frozen=True)
class CallOutcome:
    """What became of one tool call of the turn: `punie.traces` records these."""

    tool: str
    arguments: Any
    model_call_id: str | None  # the model's id: the row's tool_calls[].id
    call_id: str | None  # the ACP id the IDE saw; None when the call never ran
    server: str | None = None  # the MCP server, for a server's tool
    permission: PermissionAnswer | None = None  # None: the tool needs none, or never asked
    status: str = "running"  # succeeded | failed | rejected | cancelled (when done)
    error: str | None = None  # what the model was told, for failed and rejected calls


def closed(c: CallOutcome, ok: bool | None, told: str) -> CallOutcome:
    """`c` once it has ended: `ok` None means the turn was cancelled while it ran;
    `told` is what the model was told (kept as the error of a call that did not work)."""
    p = c.permission
    if ok is None:
        status = "cancelled"
    elif p is not None and p.answer != "approved":
        status = p.answer  # rejected, or a cancelled request: it never ran
    else:
        status = "succeeded" if ok else "failed"
    error = None if status in ("succeeded", "cancelled") else _clip(told)
    return replace(c, status=status, error=error)


ERROR_CHARS = 4000  # a failed command's output can be long; the row keeps all of it


def _clip(text: str) -> str:
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS] + "\n[clipped]"
