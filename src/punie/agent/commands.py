"""run_command without an IDE terminal: a shell in the workspace, with a timeout and an
output limit, killed as a whole process group on timeout or cancel.

A command gets a minimal environment (`command_env`), not the agent's: API keys and
tokens the agent was started with are not handed to whatever the model runs. That is
hygiene, not a sandbox: an allowed command can still do whatever the user can.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass

from punie.agent.workspace import Workspace

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_OUTPUT_LIMIT = 64_000
# The only variables a command inherits from the agent's environment.
PASSED_ENV = ("PATH", "LANG", "HOME", "TERM")


@dataclass(frozen=True)
class CommandResult:
    output: str
    exit_code: int | None  # None: killed (timeout) or ended by a signal
    truncated: bool = False
    timed_out: bool = False
    terminal_id: str | None = None  # set when an IDE terminal ran it

    def for_model(self) -> str:
        head = "timed out, killed" if self.timed_out else f"exit code {self.exit_code}"
        note = "\n[output truncated]" if self.truncated else ""
        return f"{head}\n{self.output}{note}"

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def command_env(source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a command runs with: PATH, LANG, HOME and TERM from `source`
    (the agent's environment by default), sane defaults where missing, and nothing else
    but the PUNIE_AGENT=1 marker."""
    src = os.environ if source is None else source
    env = {k: src[k] for k in PASSED_ENV if src.get(k)}
    env.setdefault("PATH", os.defpath)
    env.setdefault("TERM", "dumb")  # no terminal here: tools should not draw one
    env["PUNIE_AGENT"] = "1"
    return env


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def run_local(
    ws: Workspace,
    command: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
) -> CommandResult:
    proc = await asyncio.create_subprocess_exec(
        "/bin/sh",
        "-c",
        command,
        cwd=ws.root,
        env=command_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        # Own process group: a timeout or cancel kills the command's children too.
        start_new_session=True,
    )
    buf = bytearray()
    truncated = False

    async def drain() -> None:
        nonlocal truncated
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            room = output_limit - len(buf)
            if room > 0:
                buf.extend(chunk[:room])
            if len(chunk) > room:
                truncated = True  # keep reading so the command never blocks on a full pipe

    timed_out = False
    try:
        await asyncio.wait_for(asyncio.gather(drain(), proc.wait()), timeout)
    except TimeoutError:
        timed_out = True
        _kill_group(proc)
        await proc.wait()
    except BaseException:
        _kill_group(proc)
        raise
    code = proc.returncode
    return CommandResult(
        output=buf.decode("utf-8", errors="replace"),
        exit_code=None if timed_out or code is None or code < 0 else code,
        truncated=truncated,
        timed_out=timed_out,
    )
