"""Punie's ACP agent: the methods an IDE calls, on the official SDK.

A plain class, not a subclass of `acp.Agent`: the SDK routes a method this class
does not define to "method not found", which is the honest answer (a subclass would
inherit stubs that silently answer `{}`).

Ordering guarantees the IDE relies on: no update before the `session/new` response
(JetBrains hangs if `available_commands_update` comes first: it is sent by a task
that runs after the response is queued) and none after a prompt's response (the
turn task is awaited, and the SDK's sender is a FIFO queue).
"""

from __future__ import annotations

import asyncio
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
    McpCapabilities,
    NewSessionResponse,
    PermissionOption,
    PromptCapabilities,
    PromptResponse,
    ResourceContentBlock,
    TextContentBlock,
    ToolCallUpdate,
)

from punie import __version__
from punie.agent import slash
from punie.agent.engine import TurnSettings, build_agent, run_turn
from punie.agent.models import ModelHandle
from punie.agent.tools import ClientCaps, ToolEnv
from punie.agent.workspace import ToolError, Workspace
from punie.errors import PunieError

log = logging.getLogger("punie.agent")
SUPPORTED_VERSIONS = (PROTOCOL_VERSION,)


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


class AcpFrontend:
    """A session's updates and permission requests, sent to the IDE."""

    def __init__(self, conn: Any, session_id: str):
        self.conn = conn
        self.session_id = session_id

    async def send(self, update: Any) -> None:
        await self.conn.session_update(session_id=self.session_id, update=update)

    async def ask_permission(
        self, tool_call: ToolCallUpdate, options: list[PermissionOption]
    ) -> str | None:
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


class PunieAgent:
    def __init__(self, model: ModelHandle, settings: TurnSettings = TurnSettings(), **tool_limits):
        self.model = model
        self.settings = settings
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
                load_session=False,
                # Embedded file context is inlined as text; no images or audio.
                prompt_capabilities=PromptCapabilities(
                    image=False, audio=False, embedded_context=True
                ),
                mcp_capabilities=McpCapabilities(http=False, sse=False),
            ),
            auth_methods=[],
            agent_info=Implementation(name="punie", title="Punie", version=__version__),
        )

    async def new_session(self, cwd: str, mcp_servers: Any = None, **_) -> NewSessionResponse:
        try:
            ws = Workspace.at(cwd)
        except ToolError as exc:
            raise RequestError.invalid_params({"cwd": str(exc)}) from None
        sid = uuid.uuid4().hex
        env = ToolEnv(
            workspace=ws,
            frontend=AcpFrontend(self.conn, sid),
            client=self.conn,
            session_id=sid,
            caps=self.caps,
            **self.tool_limits,
        )
        self.sessions[sid] = Session(sid, env)
        if mcp_servers:
            log.warning(
                "session %s: MCP servers are not supported, ignoring %d", sid, len(mcp_servers)
            )
        log.info("session %s in %s", sid, ws.root)
        self._after_response(self._advertise_commands(sid))
        return NewSessionResponse(session_id=sid)

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
        text = prompt_text(prompt)
        command = slash.parse_command(text)
        if command is not None:
            await self._slash(s, *command)
            return PromptResponse(stop_reason="end_turn")
        s.cancel_requested = False
        s.turn = asyncio.create_task(self._turn(s, text))
        try:
            stop = await s.turn
        except asyncio.CancelledError:
            if not s.cancel_requested:
                raise  # the connection is closing, not a session/cancel
            log.info("session %s: turn cancelled", s.id)
            return PromptResponse(stop_reason="cancelled")
        finally:
            s.turn = None
        return PromptResponse(stop_reason=stop)

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
        log.info("session %s: /%s", s.id, name)
        await s.env.frontend.send(update_agent_message_text(reply))

    async def _turn(self, s: Session, text: str) -> str:
        try:
            model = await self.model.get()
        except PunieError as exc:
            raise RequestError.internal_error({"details": exc.format_message()}) from None
        if self._agent is None:
            self._agent = build_agent()
        try:
            result = await run_turn(self._agent, model, s.env, s.history, text, self.settings)
        except (asyncio.CancelledError, RequestError):
            raise
        except Exception as exc:
            log.exception("session %s: turn failed", s.id)
            raise RequestError.internal_error({"details": f"{type(exc).__name__}: {exc}"}) from None
        s.history = result.history
        return result.stop_reason

    async def cancel(self, session_id: str, **_) -> None:
        s = self.sessions.get(session_id)
        if s is None or s.turn is None or s.turn.done():
            return
        s.cancel_requested = True
        s.turn.cancel()
