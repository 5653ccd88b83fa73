"""The agent tools (shaped exactly as `punie.toolspec.AGENT_TOOLS`) and what the IDE
sees of each call: a `tool_call` (kind, title, locations), a permission request for
writes, edits and commands, and a final `tool_call_update` that is `completed` or
`failed`. A write or an edit carries its diff (old and new text) in all three. A
failure is never raised into the model run: the model gets an `error: ...` result and
can adapt.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from acp import (
    start_tool_call,
    text_block,
    tool_content,
    tool_terminal_ref,
    update_tool_call,
)
from acp.schema import (
    EnvVariable,
    PermissionOption,
    ToolCallLocation,
    ToolCallUpdate,
)

from punie.agent import fileops
from punie.agent import workspace as wsmod
from punie.agent.calls import CallOutcome, PermissionAnswer, closed
from punie.agent.commands import (
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_TIMEOUT_S,
    CommandResult,
    command_env,
    run_local,
)
from punie.agent.fileops import FileChange
from punie.agent.workspace import ToolError, Workspace
from punie.schema_check import argument_problems
from punie.toolspec import AGENT_TOOLS, tool_by_name

NEEDS_PERMISSION = {"write_file", "edit_file", "run_command"}
KINDS = {
    "read_file": "read",
    "write_file": "edit",
    "edit_file": "edit",
    "list_dir": "read",
    "search": "search",
    "run_command": "execute",
}
PERMISSION_OPTIONS = [
    PermissionOption(option_id="allow_once", name="Allow", kind="allow_once"),
    PermissionOption(option_id="allow_always", name="Always allow", kind="allow_always"),
    PermissionOption(option_id="reject_once", name="Reject", kind="reject_once"),
    PermissionOption(option_id="reject_always", name="Always reject", kind="reject_always"),
]


class Frontend(Protocol):
    """Where a turn's updates go and who answers permission requests (IDE or terminal)."""

    async def send(self, update: Any) -> None: ...

    async def ask_permission(
        self, tool_call: ToolCallUpdate, options: list[PermissionOption]
    ) -> str | None:
        """The chosen option's id, or None when the request was cancelled."""
        ...


@dataclass(frozen=True)
class ClientCaps:
    read: bool = False
    write: bool = False
    terminal: bool = False


@dataclass
class ToolEnv:
    """Per-session state the tools run with (pydantic-ai `deps`)."""

    workspace: Workspace
    frontend: Frontend
    client: Any = None  # the ACP connection when tools go through the IDE
    session_id: str = ""
    caps: ClientCaps = ClientCaps()
    timeout_s: float = DEFAULT_TIMEOUT_S
    output_limit: int = DEFAULT_OUTPUT_LIMIT
    # tool name -> True (allow always) / False (reject always), for this session only.
    remembered: dict[str, bool] = field(default_factory=dict)
    # The last call of this turn and how many times in a row the model has made it.
    last_call: tuple[str, str] | None = None
    repeats: int = 0
    # resolved path -> failed edit_file matches on it since its last successful edit
    edit_failures: dict[Path, int] = field(default_factory=dict)
    # This turn's calls by ACP id, in the order they were made (for traces).
    calls: dict[str, CallOutcome] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def start_turn(self) -> None:
        self.last_call, self.repeats = None, 0
        self.calls = {}

    def begin_call(self, call_id: str, outcome: CallOutcome) -> None:
        self.calls[call_id] = outcome

    def note_permission(self, call_id: str, answer: PermissionAnswer) -> None:
        if call_id in self.calls:
            self.calls[call_id] = replace(self.calls[call_id], permission=answer)

    def end_call(self, call_id: str, ok: bool | None, told: str = "") -> None:
        """Close a call: `ok` None means the turn was cancelled while it ran."""
        if call_id in self.calls:
            self.calls[call_id] = closed(self.calls[call_id], ok, told)

    def next_id(self, model_id: str | None) -> str:
        # Model-side ids can repeat across turns (or be empty); ACP ids must not.
        return f"{model_id or 'call'}-{next(self._ids)}"


def title_of(name: str, args: dict[str, Any]) -> str:
    path = args.get("path") or "."
    if name == "read_file":
        return f"Read {path}"
    if name == "write_file":
        return f"Write {path}"
    if name == "edit_file":
        return f"Edit {path}"
    if name == "list_dir":
        return f"List {path}"
    if name == "search":
        return f"Search {args.get('pattern', '')!r} in {path}"
    if name == "run_command":
        return f"Run `{args.get('command', '')}`"
    return name


def _locations(env: ToolEnv, name: str, args: dict[str, Any]) -> list[ToolCallLocation] | None:
    if name == "run_command":
        return None
    try:
        return [ToolCallLocation(path=str(env.workspace.resolve(args.get("path"))))]
    except ToolError:
        return None


INVALID_ARGUMENTS = "invalid arguments"  # the task runner counts results starting so


def _check_args(name: str, args: dict[str, Any]) -> None:
    """The arguments against the tool's schema, by the one validator data validation
    and the scorer use too (an integer is an int literal, unknown keys are refused)."""
    problems = argument_problems(tool_by_name(name), args)
    if problems:
        details = "; ".join(p.removeprefix(f"{name}: ") for p in problems)
        raise ToolError(f"{name}: {INVALID_ARGUMENTS}: {details}")


async def ask_permission(env: ToolEnv, tool_call: ToolCallUpdate, key: str) -> bool:
    """The IDE's answer for one call (Punie's tools and MCP servers' alike): only an
    allow option runs it, a cancelled request is a no, and an "Always" answer is
    remembered under `key` for the session."""
    cid = tool_call.tool_call_id
    if key in env.remembered:
        allowed = env.remembered[key]
        kind = "allow_always" if allowed else "reject_always"
        env.note_permission(cid, PermissionAnswer(_answer(allowed), kind, remembered=True))
        return allowed
    chosen = await env.frontend.ask_permission(tool_call, PERMISSION_OPTIONS)
    option = next((o for o in PERMISSION_OPTIONS if o.option_id == chosen), None)
    if option is None:  # cancelled, or an id we never offered: not a yes
        env.note_permission(cid, PermissionAnswer("cancelled", None))
        return False
    # A reject is also outcome "selected": the option's kind decides.
    allowed = option.kind in ("allow_once", "allow_always")
    if option.kind in ("allow_always", "reject_always"):
        env.remembered[key] = allowed
    env.note_permission(cid, PermissionAnswer(_answer(allowed), option.kind))
    return allowed


def _answer(allowed: bool) -> str:
    return "approved" if allowed else "rejected"


async def _permission(
    env: ToolEnv, call_id: str, name: str, title: str, change: FileChange | None
) -> bool:
    diff = [change.diff()] if change else None
    tool_call = ToolCallUpdate(tool_call_id=call_id, title=title, kind=KINDS[name], content=diff)
    return await ask_permission(env, tool_call, name)


async def _run_in_terminal(env: ToolEnv, command: str) -> CommandResult:
    c, sid = env.client, env.session_id
    cmd_env = command_env()
    # An IDE adds `env` to its own environment (its tokens included), so `env -i` makes
    # the minimal environment hold there too; `env` still tells the IDE what it is.
    term = await c.create_terminal(
        session_id=sid,
        command="/usr/bin/env",
        args=["-i", *(f"{k}={v}" for k, v in cmd_env.items()), "/bin/sh", "-c", command],
        cwd=str(env.workspace.root),
        env=[EnvVariable(name=k, value=v) for k, v in cmd_env.items()],
        output_byte_limit=env.output_limit,
    )
    tid = term.terminal_id
    timed_out = False
    try:
        try:
            await asyncio.wait_for(
                c.wait_for_terminal_exit(session_id=sid, terminal_id=tid), env.timeout_s
            )
        except TimeoutError:
            timed_out = True
            await c.kill_terminal(session_id=sid, terminal_id=tid)
        out = await c.terminal_output(session_id=sid, terminal_id=tid)
    finally:
        # Release even on cancel, so the IDE frees the terminal; bounded so a cancel stays fast.
        try:
            await asyncio.wait_for(c.release_terminal(session_id=sid, terminal_id=tid), 1.0)
        except Exception:
            pass
    status = out.exit_status
    code = status.exit_code if status is not None and not timed_out else None
    return CommandResult(out.output, code, out.truncated, timed_out, terminal_id=tid)


async def _run(env: ToolEnv, command: str) -> CommandResult:
    if env.caps.terminal and env.client is not None:
        return await _run_in_terminal(env, command)
    return await run_local(
        env.workspace, command, timeout=env.timeout_s, output_limit=env.output_limit
    )


class RepeatedToolCall(Exception):
    """The model made the same call again and again: a small model stuck in a loop
    (it never learned to answer from the result). Ends the turn instead of spending
    the request budget on identical calls."""


# Identical consecutive calls allowed in one turn; the next one ends the turn.
MAX_IDENTICAL_CALLS = 2


def guard_repeats(
    env: ToolEnv, name: str, args: dict[str, Any], model_id: str | None, title: str, **outcome
) -> None:
    """Count identical consecutive calls (Punie's tools and MCP tools alike) and end
    the turn with RepeatedToolCall past MAX_IDENTICAL_CALLS."""
    key = (outcome.get("server"), name, json.dumps(args, sort_keys=True, default=str))
    env.repeats = env.repeats + 1 if key == env.last_call else 1
    env.last_call = key
    if env.repeats > MAX_IDENTICAL_CALLS:
        why = f"{title} was asked for {env.repeats} times in a row"
        # Recorded as a failed call (the guard refused it) under an id no ACP call has.
        refused = CallOutcome(name, args, model_id, None, status="failed", error=why, **outcome)
        env.begin_call(f"refused-{len(env.calls)}", refused)
        raise RepeatedToolCall(why)


async def execute(env: ToolEnv, name: str, args: dict[str, Any], model_id: str | None) -> str:
    """Run one tool call with its IDE updates; returns the text the model sees."""
    title = title_of(name, args)
    guard_repeats(env, name, args, model_id, title)
    call_id = env.next_id(model_id)
    env.begin_call(call_id, CallOutcome(name, args, model_id, call_id))
    change, early = None, None
    try:
        change = await _prepare(env, name, args)
    except Exception as exc:  # reported below, once the IDE has been shown the call
        early = exc
    await env.frontend.send(
        start_tool_call(
            call_id,
            title,
            kind=KINDS[name],
            status="pending",
            content=[change.diff()] if change else None,
            locations=_locations(env, name, args),
            raw_input=args,
        )
    )
    try:
        if early is not None:
            raise early
        if name in NEEDS_PERMISSION and not await _permission(env, call_id, name, title, change):
            raise ToolError(f"the user rejected {title!r}; it was not done")
        await env.frontend.send(update_tool_call(call_id, status="in_progress"))
        text, content, ok = await _dispatch(env, name, args, change)
    except ToolError as exc:
        text, content, ok = f"error: {exc}", None, False
    except asyncio.CancelledError:
        await report_cancelled(env, call_id)
        raise
    except Exception as exc:  # the IDE's fs/terminal errors, OSError: tell the model
        text, content, ok = f"error: {name}: {exc}", None, False
    env.end_call(call_id, ok, text)
    content = content or [tool_content(text_block(clip(text)))]
    await env.frontend.send(
        update_tool_call(
            call_id, status="completed" if ok else "failed", content=content, raw_output=clip(text)
        )
    )
    return text


async def report_cancelled(env: ToolEnv, call_id: str) -> None:
    """The turn was cancelled mid-call: record it and close the call in the IDE (before
    the prompt's `cancelled` response, which waits for this task), bounded so cancel
    stays fast."""
    env.end_call(call_id, None)
    with contextlib.suppress(BaseException):
        note = [tool_content(text_block("cancelled"))]
        await asyncio.wait_for(
            env.frontend.send(update_tool_call(call_id, status="failed", content=note)), 0.5
        )


async def _prepare(env: ToolEnv, name: str, args: dict[str, Any]) -> FileChange | None:
    """Check a call before anyone is asked about it: its arguments, its path (an escaping
    one is refused unasked) and, for a write or an edit, the change it would make."""
    _check_args(name, args)
    if name != "run_command":
        env.workspace.resolve(args.get("path"))
    if name == "write_file":
        return await fileops.write_change(env, args)
    if name == "edit_file":
        return await fileops.edit_change(env, args)
    return None


def clip(text: str, limit: int = 20_000) -> str:
    """What the IDE is shown of a result (the model gets all of it)."""
    return text if len(text) <= limit else text[:limit] + "\n[clipped]"


async def _dispatch(
    env: ToolEnv, name: str, args: dict[str, Any], change: FileChange | None
) -> tuple[str, list | None, bool]:
    ws = env.workspace
    if name == "read_file":
        return await fileops.read(env, args["path"]), None, True
    if change is not None:  # write_file, edit_file
        done = await fileops.apply_change(env, name, args, change)
        return done.told, [done.diff()], True
    if name == "list_dir":
        return await asyncio.to_thread(wsmod.list_local, ws, args.get("path")), None, True
    if name == "search":
        hits = await asyncio.to_thread(wsmod.search_local, ws, args["pattern"], args.get("path"))
        return hits, None, True
    if name == "run_command":
        result = await _run(env, args["command"])
        content = [tool_content(text_block(clip(result.for_model())))]
        if result.terminal_id is not None:
            content.insert(0, tool_terminal_ref(result.terminal_id))
        return result.for_model(), content, result.ok
    raise ToolError(f"unknown tool {name}")


def build_tools() -> list:
    """pydantic-ai tools with the exact names and JSON schemas of AGENT_TOOLS."""
    from pydantic_ai import RunContext, Tool

    def make(name: str) -> Callable[..., Awaitable[str]]:
        async def run(ctx: RunContext[ToolEnv], **args: Any) -> str:
            return await execute(ctx.deps, name, args, ctx.tool_call_id)

        run.__name__ = name
        return run

    return [
        Tool.from_schema(
            make(t["function"]["name"]),
            t["function"]["name"],
            t["function"]["description"],
            t["function"]["parameters"],
            takes_ctx=True,
            # One at a time: permission prompts and edits must not interleave.
            sequential=True,
        )
        for t in AGENT_TOOLS
    ]
