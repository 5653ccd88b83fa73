"""Drive `punie serve` as an IDE does: the SDK's client over a real stdio pipe, with the
TEST FAKE model (tests/agent/fake_model.py) behind the agent."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import spawn_agent_process, text_block
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    CreateTerminalResponse,
    DeniedOutcome,
    FileSystemCapabilities,
    KillTerminalResponse,
    ReadTextFileResponse,
    ReleaseTerminalResponse,
    RequestPermissionResponse,
    TerminalExitStatus,
    TerminalOutputResponse,
    WaitForTerminalExitResponse,
    WriteTextFileResponse,
)

FAKE_MODEL = Path(__file__).with_name("fake_model.py")


@dataclass
class RecordingClient:
    """An IDE stand-in: records updates, answers permissions with `choice`, and serves
    fs/* on the real disk (recording each call, to prove the agent went through it)."""

    choice: str | None = "allow_once"  # option id to pick; None = cancelled outcome
    updates: list[Any] = field(default_factory=list)
    permission_requests: list[Any] = field(default_factory=list)
    fs_calls: list[tuple[str, str]] = field(default_factory=list)

    async def session_update(self, session_id: str, update: Any, **_) -> None:
        self.updates.append(update)

    async def request_permission(self, session_id, tool_call, options, **_):
        self.permission_requests.append((tool_call, options))
        if self.choice is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=self.choice)
        )

    async def read_text_file(self, session_id, path, line=None, limit=None, **_):
        self.fs_calls.append(("read", path))
        return ReadTextFileResponse(content=Path(path).read_text())

    async def write_text_file(self, session_id, path, content, **_):
        self.fs_calls.append(("write", path))
        Path(path).write_text(content)
        return WriteTextFileResponse()

    # terminal/*: a real shell per terminal, as an IDE would run it
    terminals: dict[str, Any] = field(default_factory=dict)
    terminal_calls: list[tuple[str, str]] = field(default_factory=list)

    async def create_terminal(self, session_id, command, args=None, env=None, cwd=None, **_):
        tid = f"term{len(self.terminals)}"
        self.terminal_calls.append(("create", tid))
        self.terminals[tid] = await asyncio.create_subprocess_exec(
            command,
            *(args or []),
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        return CreateTerminalResponse(terminal_id=tid)

    async def wait_for_terminal_exit(self, session_id, terminal_id, **_):
        self.terminal_calls.append(("wait", terminal_id))
        code = await self.terminals[terminal_id].wait()
        return WaitForTerminalExitResponse(exit_code=code if code >= 0 else None)

    async def kill_terminal(self, session_id, terminal_id, **_):
        self.terminal_calls.append(("kill", terminal_id))
        os.killpg(self.terminals[terminal_id].pid, signal.SIGKILL)
        return KillTerminalResponse()

    async def terminal_output(self, session_id, terminal_id, **_):
        self.terminal_calls.append(("output", terminal_id))
        proc = self.terminals[terminal_id]
        await proc.wait()
        out = (await proc.stdout.read()).decode()
        status = TerminalExitStatus(exit_code=proc.returncode if proc.returncode >= 0 else None)
        return TerminalOutputResponse(output=out, truncated=False, exit_status=status)

    async def release_terminal(self, session_id, terminal_id, **_):
        self.terminal_calls.append(("release", terminal_id))
        return ReleaseTerminalResponse()

    # helpers for assertions
    def of(self, kind: str) -> list[Any]:
        return [u for u in self.updates if u.session_update == kind]

    def text(self) -> str:
        return "".join(u.content.text for u in self.of("agent_message_chunk"))

    def final_statuses(self) -> list[str]:
        return [
            u.status for u in self.of("tool_call_update") if u.status in ("completed", "failed")
        ]


def agent_env(home: Path) -> dict[str, str]:
    # spawn_agent_process gives the child a trimmed environment: pass what it needs.
    return {"PUNIE_HOME": str(home), "PYTHONUNBUFFERED": "1"}


@contextlib.asynccontextmanager
async def running_agent(
    tmp_path: Path,
    client: RecordingClient,
    *,
    fs: bool = True,
    terminal: bool = False,
    model: str | None = None,
    extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    observers: list[Any] | None = None,
):
    """Yield (conn, session_id, workspace) for a fresh `punie serve` child.
    `observers` see every raw JSON-RPC message (in wire order) from the start."""
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    args = ["-m", "punie", "serve", "--model", model or f"test-fake:{FAKE_MODEL}", *extra_args]
    async with spawn_agent_process(
        client,
        sys.executable,
        *args,
        env={**agent_env(tmp_path / "home"), **(extra_env or {})},
        cwd=ws,
        # Inherit stderr: an unread stderr pipe fills up and deadlocks the agent.
        transport_kwargs={"stderr": None},
        observers=observers,
    ) as (conn, proc):
        caps = ClientCapabilities(
            fs=FileSystemCapabilities(read_text_file=fs, write_text_file=fs), terminal=terminal
        )
        await asyncio.wait_for(conn.initialize(protocol_version=1, client_capabilities=caps), 30)
        sess = await conn.new_session(cwd=str(ws), mcp_servers=[])
        yield conn, sess.session_id, ws


async def ask(conn, session_id: str, text: str, timeout: float = 30):
    return await asyncio.wait_for(
        conn.prompt(session_id=session_id, prompt=[text_block(text)]), timeout
    )
