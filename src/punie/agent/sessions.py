"""Sessions that survive a restart of `punie serve`.

Each session's conversation (pydantic-ai messages), workspace and title live in one
JSON file, `PUNIE_HOME/sessions/<workspace>/<session id>.json`, rewritten atomically
after every turn (and /clear, /compact), so a crash leaves the last whole turn. The
workspace folder is named after the workspace and a hash of its resolved path: two
checkouts with the same name never share one.

`replay_updates` turns a saved history back into the ACP updates the IDE draws a
conversation from, for `session/load`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acp import (
    start_tool_call,
    text_block,
    tool_content,
    update_agent_message_text,
    update_agent_thought_text,
    update_tool_call,
    update_user_message_text,
)

from punie import atomic, paths
from punie.agent.tools import KINDS, title_of

FORMAT = 1  # bumped when the file's shape changes; an unknown one is refused
SESSION_ID = re.compile(r"[0-9a-f]{32}")  # what new_session hands out (uuid4().hex)
TITLE_CHARS = 80


class SessionError(Exception):
    """A saved session that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class SavedSession:
    session_id: str
    cwd: str  # the workspace's resolved path
    title: str | None
    created_at: str  # ISO 8601, UTC
    updated_at: str
    history: list  # pydantic-ai ModelMessages
    # The user's "Always allow" / "Always reject" answers, by tool (or MCP tool) key: a
    # resumed session must not ask again what the user said never to ask.
    remembered: dict[str, bool] = field(default_factory=dict)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sessions_root() -> Path:
    return paths.punie_home() / "sessions"


def workspace_dir(cwd: str | Path) -> Path:
    root = Path(cwd).resolve()
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", root.name) or "root"
    return sessions_root() / f"{name}-{digest}"


def session_file(cwd: str | Path, session_id: str) -> Path:
    # Only ids of our own shape: a client's id never becomes a path of its choosing.
    if not SESSION_ID.fullmatch(session_id):
        raise SessionError(f"unknown session {session_id!r} (not an id Punie hands out)")
    return workspace_dir(cwd) / f"{session_id}.json"


def title_of_history(history: list) -> str | None:
    """The first prompt's first line, clipped: what a session list shows."""
    from pydantic_ai.messages import ModelRequest, UserPromptPart

    for m in history:
        if not isinstance(m, ModelRequest):
            continue
        for p in m.parts:
            if isinstance(p, UserPromptPart) and isinstance(p.content, str) and p.content.strip():
                line = p.content.strip().splitlines()[0]
                return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"
    return None


def save(saved: SavedSession) -> None:
    from pydantic_ai.messages import ModelMessagesTypeAdapter

    doc = {
        "format": FORMAT,
        "session_id": saved.session_id,
        "cwd": saved.cwd,
        "title": saved.title,
        "created_at": saved.created_at,
        "updated_at": saved.updated_at,
        "history": ModelMessagesTypeAdapter.dump_python(saved.history, mode="json"),
        "remembered": dict(saved.remembered),
    }
    atomic.write_json(session_file(saved.cwd, saved.session_id), doc)


def load(cwd: str | Path, session_id: str) -> SavedSession:
    """The session saved for this workspace; SessionError if there is none or it is unusable."""
    path = session_file(cwd, session_id)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SessionError(f"no saved session {session_id} for workspace {cwd}") from None
    except OSError as exc:
        raise SessionError(f"cannot read {path}: {exc}") from None
    return _parse(path, text)


def _remembered(raw: object) -> dict[str, bool]:
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, bool) for k, v in raw.items()
    ):
        raise ValueError("remembered must map tool names to true/false")
    return dict(raw)


def _parse(path: Path, text: str) -> SavedSession:
    from pydantic_ai.messages import ModelMessagesTypeAdapter

    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise SessionError(f"{path}: not valid JSON ({exc}); the file was left as it is") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise SessionError(f"{path}: session format {found!r}, Punie reads {FORMAT}")
    try:
        history = ModelMessagesTypeAdapter.validate_python(doc["history"])
        return SavedSession(
            session_id=str(doc["session_id"]),
            cwd=str(doc["cwd"]),
            title=doc.get("title"),
            created_at=str(doc["created_at"]),
            updated_at=str(doc["updated_at"]),
            history=list(history),
            remembered=_remembered(doc.get("remembered", {})),
        )
    except (KeyError, ValueError) as exc:
        reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
        raise SessionError(f"{path}: not a Punie session ({reason}); left as it is") from None


def list_saved(cwd: str | Path | None = None) -> tuple[list[SavedSession], list[str]]:
    """Saved sessions (of one workspace, or all), newest first, and one line per file
    that could not be read (skipped, never changed)."""
    folders = [workspace_dir(cwd)] if cwd is not None else sorted(sessions_root().glob("*"))
    found: list[SavedSession] = []
    bad: list[str] = []
    for folder in folders:
        for path in sorted(folder.glob("*.json")):
            try:
                found.append(_parse(path, path.read_text(encoding="utf-8")))
            except (SessionError, OSError) as exc:
                bad.append(str(exc))
    found.sort(key=lambda s: s.updated_at, reverse=True)
    return found, bad


def replay_updates(history: list) -> list[Any]:
    """The ACP updates that redraw `history`: the user's prompts, the answers and
    thoughts, and each tool call followed by its result."""
    from pydantic_ai.messages import ModelRequest, ModelResponse

    updates: list[Any] = []
    ids: dict[str, str] = {}  # the model's tool call id -> the id the IDE sees
    counter = itertools.count(1)
    for m in history:
        if isinstance(m, ModelRequest):
            updates += _request_updates(m, ids)
        elif isinstance(m, ModelResponse):
            updates += _response_updates(m, ids, counter)
    for acp_id in ids.values():  # a call whose result was never recorded
        note = [tool_content(text_block("no result was recorded"))]
        updates.append(update_tool_call(acp_id, status="failed", content=note))
    return updates


def _request_updates(m: Any, ids: dict[str, str]) -> list[Any]:
    from pydantic_ai.messages import RetryPromptPart, ToolReturnPart, UserPromptPart

    out: list[Any] = []
    for p in m.parts:
        if isinstance(p, UserPromptPart) and isinstance(p.content, str):
            out.append(update_user_message_text(p.content))
        elif isinstance(p, ToolReturnPart) and p.tool_call_id in ids:
            # A retry or a failure is a return part too (pydantic-ai 2), told by its outcome.
            ok = getattr(p, "outcome", "success") == "success"
            text = p.model_response_str()
            out.append(_result(ids.pop(p.tool_call_id), "completed" if ok else "failed", text))
        elif isinstance(p, RetryPromptPart) and p.tool_call_id in ids:
            out.append(_result(ids.pop(p.tool_call_id), "failed", p.model_response()))
    return out


def _response_updates(m: Any, ids: dict[str, str], counter: itertools.count) -> list[Any]:
    from pydantic_ai.messages import TextPart, ThinkingPart, ToolCallPart

    out: list[Any] = []
    for p in m.parts:
        if isinstance(p, TextPart) and p.content:
            out.append(update_agent_message_text(p.content))
        elif isinstance(p, ThinkingPart) and p.content:
            out.append(update_agent_thought_text(p.content))
        elif isinstance(p, ToolCallPart):
            # Model ids can repeat across turns; the IDE's must not.
            acp_id = f"{p.tool_call_id or 'call'}-replay{next(counter)}"
            ids[p.tool_call_id] = acp_id
            args = p.args_as_dict()  # malformed JSON comes back as {"INVALID_JSON": raw}
            out.append(
                start_tool_call(
                    acp_id,
                    title_of(p.tool_name, args),
                    kind=KINDS.get(p.tool_name, "other"),
                    status="pending",
                    raw_input=args,
                )
            )
    return out


def _result(acp_id: str, status: str, text: str) -> Any:
    return update_tool_call(
        acp_id, status=status, content=[tool_content(text_block(text))], raw_output=text
    )
