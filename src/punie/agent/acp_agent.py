"""Punie's ACP agent: the methods an IDE calls, on the official SDK.

A plain class, not a subclass of `acp.Agent`: the SDK routes a method this class
does not define to "method not found", which is the honest answer (a subclass would
inherit stubs that silently answer `{}`).

Ordering guarantees the IDE relies on: no update before the `session/new` response
(JetBrains hangs if `available_commands_update` comes first: it is sent by a task
that runs after the response is queued) and none after a prompt's response (the
turn task is awaited, and the SDK's sender is a FIFO queue). `session/load` is the
exception the spec makes: the saved conversation is replayed *before* its response,
and the commands follow it, as after `session/new`.

Sessions are saved after every turn (`punie.agent.sessions`), so a restarted agent
can load them; the IDE's MCP servers run for the session (`punie.agent.mcp`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from acp import PROTOCOL_VERSION, RequestError, update_agent_message_text
from acp.helpers import update_available_commands
from acp.schema import (
    AgentCapabilities,
    EmbeddedResourceContentBlock,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PermissionOption,
    PromptCapabilities,
    PromptResponse,
    ResourceContentBlock,
    SessionCapabilities,
    SessionInfo,
    SessionListCapabilities,
    TextContentBlock,
    ToolCallUpdate,
)

from punie import __version__
from punie.agent import mcp, sessions, slash
from punie.agent.engine import TurnSettings, build_agent, run_turn
from punie.agent.models import ModelHandle
from punie.agent.tools import ClientCaps, ToolEnv
from punie.agent.workspace import ToolError, Workspace
from punie.errors import PunieError
from punie.traces.record import TurnClock, turn_info
from punie.traces.recorder import Recorder

log = logging.getLogger("punie.agent")
SUPPORTED_VERSIONS = (PROTOCOL_VERSION,)


def _workspace(cwd: str) -> Workspace:
    try:
        return Workspace.at(cwd)
    except ToolError as exc:
        raise RequestError.invalid_params({"cwd": str(exc)}) from None


def negotiate_version(requested: int) -> int:
    """The client's version when we speak it, else our latest (the client then decides)."""
    return requested if requested in SUPPORTED_VERSIONS else max(SUPPORTED_VERSIONS)


def prompt_text(blocks: list[Any]) -> str:
    """The prompt's content blocks as one text: files the IDE embedded are inlined."""
    parts: list[str] = []
    for b in blocks:
        if isinstance(b, TextContentBlock):
            parts.append(b.text)
        elif isinstance(b, EmbeddedResourceContentBlock):
            res = b.resource
            text = getattr(res, "text", None)
            if text is not None:
                parts.append(f"<file uri={res.uri!r}>\n{text}\n</file>")
        elif isinstance(b, ResourceContentBlock):
            parts.append(f"[{b.name}]({b.uri})")
    return "\n\n".join(parts)


# How long answer text may wait to be sent with the text after it (AcpFrontend).
TEXT_FLUSH_S = 0.01


class AcpFrontend:
    """A session's updates and permission requests, sent to the IDE.

    Answer text that arrives within TEXT_FLUSH_S of the first unsent piece goes out as
    one `agent_message_chunk`: each update costs a JSON-RPC message and two pydantic
    round trips, and a fast server streams far more tokens per second than an editor
    can show (10 ms is under one 60 Hz frame). A slower model still streams token by
    token. The order of updates is kept: any other update, a permission request and the
    end of the turn send the held text first.
    """

    def __init__(self, conn: Any, session_id: str):
        self.conn = conn
        self.session_id = session_id
        self._text: list[str] = []
        self._flusher: asyncio.Task | None = None  # sends the held text after TEXT_FLUSH_S
        self._lock = asyncio.Lock()

    async def send(self, update: Any) -> None:
        if getattr(update, "session_update", None) == "agent_message_chunk" and isinstance(
            getattr(update.content, "text", None), str
        ):
            self._text.append(update.content.text)
            if self._flusher is None:
                self._flusher = asyncio.create_task(self._flush_soon())
            return
        async with self._lock:
            await self._send_text()
            await self.conn.session_update(session_id=self.session_id, update=update)

    async def _flush_soon(self) -> None:
        await asyncio.sleep(TEXT_FLUSH_S)
        self._flusher = None  # text arriving while this one sends waits for the next
        await self.flush()

    async def flush(self) -> None:
        """Send the text held so far (before a prompt's response: none may follow it)."""
        async with self._lock:
            await self._send_text()

    async def _send_text(self) -> None:
        if self._text:
            text = "".join(self._text)
            self._text.clear()
            await self.conn.session_update(
                session_id=self.session_id, update=update_agent_message_text(text)
            )

    async def ask_permission(
        self, tool_call: ToolCallUpdate, options: list[PermissionOption]
    ) -> str | None:
        await self.flush()
        resp = await self.conn.request_permission(
            session_id=self.session_id, tool_call=tool_call, options=options
        )
        outcome = resp.outcome
        return outcome.option_id if outcome.outcome == "selected" else None


@dataclass
class Session:
    id: str
    env: ToolEnv
    history: list = field(default_factory=list)
    turn: asyncio.Task | None = None
    cancel_requested: bool = False
    created_at: str = field(default_factory=sessions.now)
    servers: mcp.McpServers = field(default_factory=mcp.McpServers)  # its MCP servers

    def saved(self) -> sessions.SavedSession:
        return sessions.SavedSession(
            session_id=self.id,
            cwd=str(self.env.workspace.root),
            title=sessions.title_of_history(self.history),
            created_at=self.created_at,
            updated_at=sessions.now(),
            history=self.history,
            remembered=dict(self.env.remembered),
        )


LIST_PAGE = 100  # sessions per session/list page


class PunieAgent:
    def __init__(
        self,
        model: ModelHandle,
        settings: TurnSettings = TurnSettings(),
        recorder: Recorder | None = None,
        **tool_limits,
    ):
        self.model = model
        self.settings = settings
        self.recorder = recorder or Recorder(enabled=False)  # punie.traces: off unless given
        self.tool_limits = tool_limits  # timeout_s / output_limit for run_command
        self.conn: Any = None
        self.caps = ClientCaps()
        self.sessions: dict[str, Session] = {}
        self._agent: Any = None  # pydantic-ai agent, built on the first prompt
        self._background: set[asyncio.Task] = set()  # kept referenced until done

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    async def initialize(
        self, protocol_version: int, client_capabilities: Any = None, client_info: Any = None, **_
    ) -> InitializeResponse:
        fs = getattr(client_capabilities, "fs", None)
        self.caps = ClientCaps(
            read=bool(getattr(fs, "read_text_file", False)),
            write=bool(getattr(fs, "write_text_file", False)),
            terminal=bool(getattr(client_capabilities, "terminal", False)),
        )
        log.info("initialize from %s: %s", getattr(client_info, "name", "?"), self.caps)
        return InitializeResponse(
            protocol_version=negotiate_version(protocol_version),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                session_capabilities=SessionCapabilities(list=SessionListCapabilities()),
                # Embedded file context is inlined as text; no images or audio.
                prompt_capabilities=PromptCapabilities(
                    image=False, audio=False, embedded_context=True
                ),
                # stdio always (the spec requires it); http and sse as punie.agent.mcp says.
                mcp_capabilities=McpCapabilities(http=mcp.SUPPORTS_HTTP, sse=mcp.SUPPORTS_SSE),
            ),
            auth_methods=[],
            agent_info=Implementation(name="punie", title="Punie", version=__version__),
        )

    async def new_session(self, cwd: str, mcp_servers: Any = None, **_) -> NewSessionResponse:
        ws = _workspace(cwd)
        s = await self._open(uuid.uuid4().hex, ws, mcp_servers)
        log.info("session %s in %s", s.id, ws.root)
        self._after_response(self._announce(s))
        return NewSessionResponse(session_id=s.id)

    async def load_session(
        self, cwd: str, session_id: str, mcp_servers: Any = None, **_
    ) -> LoadSessionResponse:
        ws = _workspace(cwd)
        old = self.sessions.get(session_id)
        if old is not None and old.turn is not None and not old.turn.done():
            raise RequestError.invalid_request({"details": "a prompt is running in this session"})
        try:
            saved = await asyncio.to_thread(sessions.load, ws.root, session_id)
        except sessions.SessionError as exc:
            raise RequestError.invalid_params({"sessionId": str(exc)}) from None
        if old is not None:  # loaded again: the saved file is the whole state
            await old.servers.aclose()
        s = await self._open(session_id, ws, mcp_servers)
        s.history, s.created_at = saved.history, saved.created_at
        s.env.remembered.update(saved.remembered)
        # The spec's order for session/load: the whole conversation, then the response.
        for update in sessions.replay_updates(s.history):
            await s.env.frontend.send(update)
        await s.env.frontend.flush()
        log.info("session %s loaded in %s (%d messages)", s.id, ws.root, len(s.history))
        self._after_response(self._announce(s))
        return LoadSessionResponse()

    async def list_sessions(
        self, cwd: str | None = None, cursor: str | None = None, **_
    ) -> ListSessionsResponse:
        try:
            start = int(cursor) if cursor else 0
            if start < 0:
                raise ValueError
        except ValueError:
            raise RequestError.invalid_params({"cursor": f"not a cursor: {cursor!r}"}) from None
        found, bad = await asyncio.to_thread(sessions.list_saved, cwd)
        for line in bad:
            log.warning("session/list skipped %s", line)
        page = found[start : start + LIST_PAGE]
        more = start + LIST_PAGE < len(found)
        return ListSessionsResponse(
            sessions=[
                SessionInfo(
                    session_id=x.session_id, cwd=x.cwd, title=x.title, updated_at=x.updated_at
                )
                for x in page
            ],
            next_cursor=str(start + LIST_PAGE) if more else None,
        )

    async def _open(self, sid: str, ws: Workspace, mcp_servers: Any) -> Session:
        env = ToolEnv(
            workspace=ws,
            frontend=AcpFrontend(self.conn, sid),
            client=self.conn,
            session_id=sid,
            caps=self.caps,
            **self.tool_limits,
        )
        servers = await mcp.start(mcp_servers, str(ws.root), sid)
        s = self.sessions[sid] = Session(sid, env, servers=servers)
        return s

    async def _announce(self, s: Session) -> None:
        """After a session/new or session/load response: the commands, and what did not start."""
        await self._advertise_commands(s.id)
        for line in s.servers.failures:
            with contextlib.suppress(Exception):
                await s.env.frontend.send(update_agent_message_text(f"[punie: {line}]\n"))

    async def aclose(self) -> None:
        """The connection is closing: stop every session's MCP servers."""
        for s in list(self.sessions.values()):
            await s.servers.aclose()
        await self.recorder.aclose()

    async def _save(self, s: Session) -> None:
        try:
            await asyncio.to_thread(sessions.save, s.saved())
        except Exception:
            # The turn itself worked; only a restart would lose it.
            log.warning("session %s: could not save the session", s.id, exc_info=True)

    def _after_response(self, coro: Any) -> None:
        """Run `coro` once this handler's response is queued. The SDK queues a response
        in the same step the handler returns in (no await in between), and a task
        created here first runs at a later step; its sends then queue behind the
        response in the SDK's FIFO sender."""
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _advertise_commands(self, sid: str) -> None:
        try:
            await self.conn.session_update(
                session_id=sid, update=update_available_commands(slash.available_commands())
            )
        except Exception:
            log.warning("session %s: could not send the slash commands", sid, exc_info=True)

    def _session(self, session_id: str) -> Session:
        s = self.sessions.get(session_id)
        if s is None:
            raise RequestError.invalid_params({"sessionId": f"unknown session {session_id}"})
        return s

    async def prompt(self, session_id: str, prompt: list[Any], **_) -> PromptResponse:
        s = self._session(session_id)
        if s.turn is not None and not s.turn.done():
            raise RequestError.invalid_request({"details": "a prompt is already running"})
        stop = await self._answer(s, prompt_text(prompt))
        await s.env.frontend.flush()  # the held text: no update may follow the response
        return PromptResponse(stop_reason=stop)

    async def _answer(self, s: Session, text: str) -> str:
        """A prompt's stop reason: a slash command answered here, or a model turn."""
        command = slash.parse_command(text)
        # The previous turn's follow-up (a correction, a thanks, a /clear): for harvest.
        self.recorder.next_prompt(s.id, str(s.env.workspace.root), text, command and command[0])
        if command is not None:
            await self._slash(s, *command)
            return "end_turn"
        s.cancel_requested = False
        s.turn = asyncio.create_task(self._turn(s, text))
        try:
            return await s.turn
        except asyncio.CancelledError:
            if not s.cancel_requested:
                raise  # the connection is closing, not a session/cancel
            log.info("session %s: turn cancelled", s.id)
            return "cancelled"
        finally:
            s.turn = None

    async def _slash(self, s: Session, name: str, arg: str) -> None:
        """Answer a slash command ourselves; the model and the history never see it."""
        if name == "help":
            reply = slash.help_text()
        elif name == "clear":
            reply = slash.clear_reply(s.history)
            s.history = []
        elif name == "model":
            reply = slash.model_text(self.model, self.settings)
        else:  # compact
            s.history, reply = slash.compact_reply(s.history, arg)
        if name in ("clear", "compact"):
            await self._save(s)
        log.info("session %s: /%s", s.id, name)
        await s.env.frontend.send(update_agent_message_text(reply))

    async def _turn(self, s: Session, text: str) -> str:
        try:
            model = await self.model.get()
        except PunieError as exc:
            raise RequestError.internal_error({"details": exc.format_message()}) from None
        if self._agent is None:
            self._agent = build_agent()
        clock = TurnClock()
        try:
            result = await run_turn(
                self._agent, model, s.env, s.history, text, self.settings, s.servers.toolsets
            )
        except asyncio.CancelledError:
            self._record(s, text, clock, None, "cancelled")
            raise
        except RequestError:
            raise
        except Exception as exc:
            log.exception("session %s: turn failed", s.id)
            details = f"{type(exc).__name__}: {exc}"
            self._record(s, text, clock, None, "error", details)
            raise RequestError.internal_error({"details": details}) from None
        s.history = result.history
        await self._save(s)  # before the response: a restart after it finds this turn
        self._record(s, text, clock, result)
        return result.stop_reason

    def _record(
        self, s: Session, text: str, clock: TurnClock, result: Any, ended: str = "", error=""
    ) -> None:
        """Queue the turn's trace record (written off the loop; never fails the turn)."""
        try:
            info = turn_info(
                s.id, "serve", s.env, self.model, text, clock, result, ended_by=ended, error=error
            )
            self.recorder.turn(info)
        except Exception:
            log.warning("session %s: could not record the turn", s.id, exc_info=True)

    async def cancel(self, session_id: str, **_) -> None:
        s = self.sessions.get(session_id)
        if s is None or s.turn is None or s.turn.done():
            return
        s.cancel_requested = True
        s.turn.cancel()
