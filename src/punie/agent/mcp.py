"""The IDE's MCP servers (`mcpServers` of `session/new` and `session/load`) as toolsets
of the session's turns, through pydantic-ai's MCP client (`MCPToolset`, on fastmcp).

Each server's tools reach the model as `SERVER_TOOL` (prefixed, so two servers, or a
server and Punie's own tools, never clash). Every call is shown to the IDE like
Punie's own tools (`tool_call`, then `tool_call_update` with the result) and asks
permission first, the same way `run_command` does: a tool of a server Punie does
not know can do anything. "Always" is remembered per server tool, for the session.

The servers start with the session and stop with it (or when the connection
closes). They are entered and exited by one host task per session: the MCP client
holds anyio cancel scopes, which must be left by the task that entered them, while
ACP requests each run in a task of their own. A server that cannot start is logged
and left out; the session goes on with the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from acp import start_tool_call, text_block, tool_content, update_tool_call
from acp.schema import ToolCallUpdate

from punie.agent.calls import CallOutcome
from punie.agent.tools import ToolEnv, ask_permission, clip, guard_repeats, report_cancelled

log = logging.getLogger("punie.agent")

# What `initialize` advertises besides stdio: streamable HTTP yes, the older SSE not.
SUPPORTS_HTTP = True
SUPPORTS_SSE = False
START_TIMEOUT_S = 30.0  # start + initialize handshake, per server (npx can be slow)


def prefix_of(name: str) -> str:
    """A server name as a tool-name prefix OpenAI-style APIs accept."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name.strip()) or "mcp"


def asking_toolset(server: str, wrapped: Any) -> Any:
    """`wrapped` with each call shown to the IDE and asked about first."""
    from pydantic_ai.toolsets import WrapperToolset

    @dataclass
    class AskingToolset(WrapperToolset):
        server: str = ""

        async def call_tool(self, name: str, tool_args: dict, ctx: Any, tool: Any) -> Any:
            async def run() -> Any:
                return await self.wrapped.call_tool(name, tool_args, ctx, tool)

            return await call_with_permission(
                ctx.deps, self.server, name, tool_args, ctx.tool_call_id, run
            )

    return AskingToolset(wrapped=wrapped, server=server)


async def call_with_permission(
    env: ToolEnv,
    server: str,
    tool: str,
    args: dict[str, Any],
    model_id: str | None,
    run: Callable[[], Awaitable[Any]],
) -> Any:
    """Run one MCP tool call with its IDE updates; what the model sees comes back
    (a failure as an `error: ...` text, as with Punie's own tools)."""
    title = f"{server}: {tool}"
    guard_repeats(env, tool, args, model_id, title, server=server)
    call_id = env.next_id(model_id)
    env.begin_call(call_id, CallOutcome(tool, args, model_id, call_id, server=server))
    await env.frontend.send(
        start_tool_call(call_id, title, kind="other", status="pending", raw_input=args)
    )
    try:
        tool_call = ToolCallUpdate(tool_call_id=call_id, title=title, kind="other")
        if not await ask_permission(env, tool_call, f"mcp:{server}/{tool}"):
            result: Any = f"error: the user rejected {title!r}; it was not done"
            ok = False
        else:
            await env.frontend.send(update_tool_call(call_id, status="in_progress"))
            result, ok = await run(), True
    except asyncio.CancelledError:
        await report_cancelled(env, call_id)
        raise
    except Exception as exc:  # the server's tool error, a dead server: tell the model
        result, ok = f"error: {title}: {exc}", False
    text = result if isinstance(result, str) else _as_text(result)
    env.end_call(call_id, ok, text)
    shown = clip(text)
    await env.frontend.send(
        update_tool_call(
            call_id,
            status="completed" if ok else "failed",
            content=[tool_content(text_block(shown))],
            raw_output=shown,
        )
    )
    return result


def _as_text(result: Any) -> str:
    import json

    try:
        return json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(result)


def toolset_for(server: Any, cwd: str) -> Any:
    """The MCP client toolset for one `mcpServers` entry; ValueError for a transport
    Punie does not speak."""
    from fastmcp.client.transports import StdioTransport, StreamableHttpTransport
    from pydantic_ai.mcp import MCPToolset

    kind = getattr(server, "type", None)
    if getattr(server, "command", None) is not None:
        env = {e.name: e.value for e in server.env or []}
        transport: Any = StdioTransport(server.command, list(server.args or []), env=env, cwd=cwd)
    elif kind == "http" and SUPPORTS_HTTP:
        headers = {h.name: h.value for h in server.headers or []}
        transport = StreamableHttpTransport(server.url, headers=headers)
    else:
        name = kind or type(server).__name__
        raise ValueError(f"{name} MCP servers are not supported (only stdio and http)")
    return MCPToolset(
        transport,
        id=server.name,
        # A tool's error comes back as an exception the wrapper turns into text.
        tool_error_behavior="error",
        init_timeout=START_TIMEOUT_S,
    )


@dataclass
class McpServers:
    """A session's running MCP servers."""

    toolsets: list = field(default_factory=list)  # what each turn gets (prefixed, asking)
    failures: list[str] = field(default_factory=list)  # one line per server left out
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _host: asyncio.Task | None = None

    async def aclose(self) -> None:
        self._stop.set()
        if self._host is not None:
            try:
                await asyncio.wait_for(self._host, 5.0)
            except Exception:
                log.warning("MCP servers did not stop cleanly", exc_info=True)
            self._host = None


async def start(servers: list[Any] | None, cwd: str, session_id: str) -> McpServers:
    """Start the session's MCP servers; those that cannot start are in `failures`."""
    out = McpServers()
    if not servers:
        return out
    ready: asyncio.Future = asyncio.get_running_loop().create_future()
    out._host = asyncio.create_task(_host(servers, cwd, session_id, out, ready))
    await ready
    return out


async def _host(
    servers: list[Any], cwd: str, session_id: str, out: McpServers, ready: asyncio.Future
) -> None:
    used: set[str] = set()
    try:
        async with contextlib.AsyncExitStack() as stack:
            for server in servers:
                name = getattr(server, "name", "?")
                try:
                    toolset = toolset_for(server, cwd)
                    await stack.enter_async_context(toolset)
                except Exception as exc:
                    line = f"MCP server {name!r} could not start: {_reason(exc)}"
                    log.warning("session %s: %s", session_id, line)
                    out.failures.append(line)
                    continue
                prefix = prefix_of(name)
                while prefix in used:  # two servers of one name: keep both reachable
                    prefix += "_"
                used.add(prefix)
                out.toolsets.append(asking_toolset(name, toolset).prefixed(prefix))
                log.info("session %s: MCP server %r started (tools %s_*)", session_id, name, prefix)
            ready.set_result(None)
            await out._stop.wait()
    finally:
        if not ready.done():
            ready.set_result(None)


def _reason(exc: BaseException) -> str:
    """The innermost useful message of a start failure (anyio wraps them in groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    while exc.__cause__ is not None and not str(exc):
        exc = exc.__cause__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
