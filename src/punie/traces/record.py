"""The records of a trace file (see docs/traces.md), built from a finished turn and
redacted before they leave this module.

A turn record carries the turn's chat-JSONL row (`punie.agent.trace.trace_row`, the
one converter the task runner uses too), every tool call with its permission answer
and status, and the model and adapter that made them. The user's next prompt is a
`next_prompt` record appended when it comes, so the file is never rewritten.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from punie.agent.calls import CallOutcome
from punie.traces import redact

FORMAT = 1  # bumped when a record's shape changes
FILE_TOOLS = ("read_file", "write_file", "edit_file")
CONTENT_ARGS = ("content", "old_text", "new_text")
ENV_LINE_CHARS = 4  # shorter lines of a .env file (`A=1`) are left where else they occur


@dataclass(frozen=True)
class TurnInfo:
    """One finished turn, as the agent knows it when it ends."""

    session_id: str
    turn_id: str
    source: str  # serve | ask
    workspace: str
    model: str  # the --model spec
    adapter: str | None
    prompt: str
    started_at: str  # ISO 8601, UTC
    time: str  # when it ended
    duration_s: float
    ended_by: str  # punie.evaluate.tasks.ENDINGS, or cancelled / error
    stop_reason: str  # the ACP stop reason the prompt answered with
    error: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    calls: tuple[CallOutcome, ...] = ()
    messages: tuple = ()  # the attempt's pydantic-ai messages; () when there is no row


class TurnClock:
    """When a turn started (wall clock for the record, monotonic for its duration)."""

    def __init__(self) -> None:
        from punie.agent.sessions import now

        self.started_at = now()
        self._t0 = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._t0


def turn_info(
    session_id: str,
    source: str,
    env: Any,
    model: Any,
    prompt: str,
    clock: TurnClock,
    result: Any,
    *,
    ended_by: str = "",
    error: str = "",
) -> TurnInfo:
    """A turn as the agent ends it: `result` is run_turn's TurnResult, or None for a
    turn that was cancelled or failed (`ended_by` then says which)."""
    from punie.agent.sessions import now

    usage = asdict(result.usage) if result is not None else {}
    return TurnInfo(
        session_id=session_id,
        turn_id=uuid.uuid4().hex[:16],
        source=source,
        workspace=str(env.workspace.root),
        model=model.spec,
        adapter=str(model.adapter) if model.adapter else None,
        prompt=prompt,
        started_at=clock.started_at,
        time=now(),
        duration_s=clock.elapsed(),
        ended_by=result.ended_by if result is not None else ended_by,
        stop_reason=result.stop_reason if result is not None else ended_by,
        error=result.error if result is not None else error,
        usage=usage,
        calls=tuple(env.calls.values()),
        messages=tuple(result.messages) if result is not None else (),
    )


def _env_call(name: str, args: Any) -> tuple[Any, bool]:
    """(the arguments with any `.env*` contents replaced, whether the call's result
    is such a file's contents: a read, an edit's miss report, a command naming one)."""
    if not isinstance(args, dict):
        return args, False
    if name in FILE_TOOLS and redact.is_env_file(args.get("path")):
        out = {k: redact.ENV_MARKER if k in CONTENT_ARGS else v for k, v in args.items()}
        return out, name != "write_file"
    return args, name == "run_command" and redact.command_reads_env_file(args.get("command"))


class _Redactor:
    """Redacts one record, counting what it replaced."""

    def __init__(self) -> None:
        self.count = 0
        # Lines of `.env*` files the turn read: the model may quote them in its answer.
        self.env_lines: set[str] = set()

    def add(self, n: int) -> None:
        self.count += n

    def text(self, text: Any) -> Any:
        if not isinstance(text, str):
            return redact.redact_value(text, self.add)
        for line in self.env_lines:
            if line in text:
                text = text.replace(line, redact.ENV_MARKER)
                self.add(1)
        text, n = redact.redact_embedded_env(text)
        self.add(n)
        out, n = redact.redact_text(text)
        self.add(n)
        return out

    def tool_result(self, text: Any, name: str, env_result: bool) -> Any:
        if env_result:
            if name == "read_file" and isinstance(text, str) and not text.startswith("error:"):
                lines = (ln.strip() for ln in text.splitlines())
                self.env_lines.update(ln for ln in lines if len(ln) >= ENV_LINE_CHARS)
            self.add(1)
            return redact.ENV_MARKER
        if name == "search" and isinstance(text, str):
            text, n = redact.redact_env_hits(text)
            self.add(n)
        return self.text(text)

    def call_dict(self, c: CallOutcome) -> dict[str, Any]:
        args, env_result = _env_call(c.tool, c.arguments)
        d = asdict(c)
        d["arguments"] = redact.redact_value(args, self.add)
        if d["error"] is not None:
            d["error"] = self.tool_result(d["error"], c.tool, env_result)
        return d

    def row(self, row: dict[str, Any]) -> dict[str, Any]:
        names: dict[str, tuple[str, bool]] = {}  # tool_call id -> (tool, result is .env)
        messages = []
        for m in row["messages"]:
            m = dict(m)
            if m.get("role") == "tool":
                name, env_result = names.get(m.get("tool_call_id", ""), ("", False))
                m["content"] = self.tool_result(m.get("content"), name, env_result)
            elif m.get("role") != "system":  # the system turn is Punie's own prompt
                m["content"] = self.text(m.get("content"))
            if m.get("tool_calls"):
                m["tool_calls"] = [self._tool_call(c, names) for c in m["tool_calls"]]
            messages.append(m)
        return {**row, "messages": messages}

    def _tool_call(self, call: dict[str, Any], names: dict[str, tuple[str, bool]]) -> dict:
        from punie.data.schema import canonical_arguments

        fn = call["function"]
        try:
            args = json.loads(fn["arguments"])
        except (TypeError, ValueError):  # what the model wrote, unparseable: keep it as text
            return {**call, "function": {**fn, "arguments": self.text(fn["arguments"])}}
        args, env_result = _env_call(fn["name"], args)
        names[call.get("id", "")] = (fn["name"], env_result)
        safe = canonical_arguments(redact.redact_value(args, self.add))
        return {**call, "function": {**fn, "arguments": safe}}


def unique_call_ids(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with each repeated tool call id renamed `ID~N` (and the results
    that answer it): a model may number its calls afresh every turn (`call_0`), and a
    chat row must not use an id twice."""
    seen: set[str] = set()
    current: dict[str, str] = {}  # the model's id -> the row's, for the results that follow
    out = []
    for m in messages:
        if m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                cid = new = c.get("id", "")
                n = 1
                while new in seen:
                    n += 1
                    new = f"{cid}~{n}"
                seen.add(new)
                current[cid] = new
                calls.append({**c, "id": new, "_model_id": cid})
            m = {**m, "tool_calls": calls}
        elif m.get("role") == "tool" and m.get("tool_call_id") in current:
            m = {**m, "tool_call_id": current[m["tool_call_id"]]}
        out.append(m)
    return out


def turn_start(messages: list[dict[str, Any]], prompt: str) -> int:
    """The index of this turn's prompt in the row (the last user message that is it)."""
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    same = [i for i in users if messages[i].get("content") == prompt]
    return (same or users or [0])[-1]


def _join_calls(messages: list[dict], start: int, model_ids: list[str | None]) -> list:
    """The id each call has in the row: the first unmatched tool call of the same model
    id in this turn's part of the row; None where the row shows none."""
    made: list[tuple[str, str]] = []
    for i, m in enumerate(messages):
        for c in m.get("tool_calls") or []:
            mid = c.pop("_model_id")
            if i >= start:
                made.append((mid, c["id"]))
    out: list[str | None] = []
    for model_id in model_ids:
        hit = next((i for i, (mid, _) in enumerate(made) if mid == model_id), None)
        out.append(made.pop(hit)[1] if hit is not None else None)
    return out


def turn_record(info: TurnInfo) -> dict[str, Any]:
    """The redacted `turn` record of one turn."""
    from punie.agent.trace import trace_row

    r = _Redactor()
    row, start = None, None
    row_ids: list[str | None] = [None] * len(info.calls)
    if info.messages:
        raw = trace_row(list(info.messages))
        messages = unique_call_ids(raw["messages"])
        start = turn_start(messages, info.prompt)
        row_ids = _join_calls(messages, start, [c.model_call_id for c in info.calls])
        row = r.row({**raw, "messages": messages})  # first: it learns the .env lines read
    calls = [
        {**r.call_dict(c), "row_call_id": rid} for c, rid in zip(info.calls, row_ids, strict=True)
    ]
    record = {
        "type": "turn",
        "format": FORMAT,
        "session_id": info.session_id,
        "turn_id": info.turn_id,
        "source": info.source,
        "workspace": info.workspace,
        "started_at": info.started_at,
        "time": info.time,
        "duration_s": round(info.duration_s, 3),
        "model": r.text(info.model),  # a server URL may carry a password
        "adapter": info.adapter,
        "prompt": r.text(info.prompt),
        "ended_by": info.ended_by,
        "stop_reason": info.stop_reason,
        "error": r.text(info.error),
        "usage": dict(info.usage),
        "calls": calls,
        "turn_start": start,  # row["messages"][turn_start] is this turn's prompt
        "row": row,
    }
    record["redactions"] = r.count
    return record


def next_prompt_record(
    session_id: str, turn_id: str, prompt: str, command: str | None, time: str
) -> dict[str, Any]:
    """The redacted record of the prompt that followed turn `turn_id`."""
    r = _Redactor()
    return {
        "type": "next_prompt",
        "format": FORMAT,
        "session_id": session_id,
        "turn_id": turn_id,
        "time": time,
        "prompt": r.text(prompt),
        "command": command,  # the slash command's name when the prompt was one
        "redactions": r.count,
    }
