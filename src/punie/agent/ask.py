"""`punie ask "PROMPT"`: the same agent and tools, headless in this terminal.

The answer streams to stdout (so it can be piped); tool calls, permission questions
and their outcomes go to stderr. Tools run locally in the workspace (`--cwd`). The
turn is recorded under `PUNIE_HOME/traces/` as a one-turn session (`--no-record`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from pathlib import Path
from typing import Any

from punie.errors import PunieError


class TerminalFrontend:
    def __init__(self, yes: bool, console: Any):
        self.yes = yes
        self.err = console
        self.titles: dict[str, str] = {}

    async def send(self, update: Any) -> None:
        kind = update.session_update
        if kind == "agent_message_chunk":
            sys.stdout.write(update.content.text)
            sys.stdout.flush()
        elif kind == "tool_call":
            self.titles[update.tool_call_id] = update.title
            self.err.print(f"\n[cyan]→ {update.title}[/]", highlight=False)
        elif kind == "tool_call_update" and update.status in ("completed", "failed"):
            title = self.titles.get(update.tool_call_id, update.tool_call_id)
            ok = update.status == "completed"
            detail = str(update.raw_output or "").strip().splitlines()
            shown = "\n    ".join(detail[:6]) + ("\n    …" if len(detail) > 6 else "")
            mark = "[green]✓" if ok else "[red]✗"
            self.err.print(f"{mark} {title}[/]\n    {shown}", highlight=False, markup=True)

    async def ask_permission(self, tool_call: Any, options: list[Any]) -> str | None:
        if self.yes:
            return "allow_once"
        question = f"Allow {tool_call.title}? [y]es / [n]o / [a]lways: "
        try:
            answer = await asyncio.to_thread(_read_answer, question)
        except EOFError:
            return "reject_once"  # no one to ask (stdin closed): never a silent yes
        return {"y": "allow_once", "yes": "allow_once", "a": "allow_always"}.get(
            answer.strip().lower(), "reject_once"
        )


ENDED_WHY = {
    "repeat_guard": "the model repeated the same tool call",
    "call_budget": "the model used up its model-call budget without answering",
    "unusable_reply": "the model's reply could not be used",
    "context_full": "the request would not fit the model's context window",
    "error": "the turn failed",
}


def _read_answer(question: str) -> str:
    sys.stderr.write(question)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line


async def _ask(
    prompt: str, handle: Any, yes: bool, cwd: Path, settings, limits, recorder: Any
) -> str:
    from rich.console import Console

    from punie.agent.engine import build_agent, run_turn
    from punie.agent.tools import ToolEnv
    from punie.agent.workspace import ToolError, Workspace
    from punie.traces.record import TurnClock

    try:
        ws = Workspace.at(cwd.expanduser().resolve())
    except ToolError as exc:
        raise PunieError(str(exc), where="--cwd") from None
    model_spec = handle.spec
    handle.check()
    err = Console(stderr=True)
    env = ToolEnv(workspace=ws, frontend=TerminalFrontend(yes, err), **limits)
    session_id = uuid.uuid4().hex  # one turn, one session: as `punie serve` names them
    try:
        with err.status(f"starting model {model_spec}…"):
            model = await handle.get()
        clock = TurnClock()
        try:
            result = await run_turn(build_agent(), model, env, [], prompt, settings)
        except Exception as exc:
            _record(recorder, session_id, env, handle, prompt, clock, None, f"{exc}")
            raise
        _record(recorder, session_id, env, handle, prompt, clock, result)
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("pydantic_ai", "openai", "httpx"):
            raise PunieError(f"{type(exc).__name__}: {exc}", where=f"model {model_spec}") from None
        raise
    finally:
        await recorder.aclose()
        await handle.aclose()
    sys.stdout.write("\n")
    if not result.answered:
        # A script piping `punie ask` must be able to tell "no answer" from an answer.
        err.print(
            f"[red]no answer: {ENDED_WHY[result.ended_by]}[/] ({result.error})", highlight=False
        )
    elif result.stop_reason != "end_turn":
        err.print(f"[yellow]stopped: {result.stop_reason}[/]")
    return result.ended_by


def _record(recorder, session_id, env, handle, prompt, clock, result, error="") -> None:
    """Queue the turn's trace record; a recording problem never fails the answer."""
    from punie.traces.record import turn_info

    try:
        info = turn_info(
            session_id, "ask", env, handle, prompt, clock, result, ended_by="error", error=error
        )
        recorder.turn(info)
    except Exception:
        logging.getLogger("punie.agent").warning("could not record the turn", exc_info=True)


def run_ask(
    prompt: str,
    model: str,
    adapter: Path | None,
    *,
    yes: bool,
    cwd: Path,
    max_tokens: int | None,
    temperature: float | None,
    timeout_s: float,
    context: int | None = None,
    record: bool = True,
) -> int:
    from punie.agent.engine import TurnSettings
    from punie.agent.models import ModelHandle
    from punie.traces.recorder import Recorder

    settings = TurnSettings(max_tokens=max_tokens, temperature=temperature)
    handle = ModelHandle(model, adapter, context=context)
    recorder = Recorder.from_config(no_record=not record, source="ask")
    limits = {"timeout_s": timeout_s}
    try:
        ended_by = asyncio.run(_ask(prompt, handle, yes, cwd, settings, limits, recorder))
    except KeyboardInterrupt:
        return 130
    return 0 if ended_by in ("answer", "max_tokens") else 1
