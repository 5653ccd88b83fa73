"""A real external ACP client, acpx (`npm install -g acpx@0.19.1`), drives `punie serve`:
one edit, then a session resume in a new agent process, against the scripted
OpenAI-compatible server. Skipped, with the reason, where node or acpx is absent."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("acpx") is None,
    reason="needs node and acpx (npm install -g acpx@0.19.1)",
)
EDIT = {"path": "hello.txt", "old_text": "hi", "new_text": "hello"}


class Acpx:
    """acpx with its own HOME (its session records) and Punie's PUNIE_HOME."""

    def __init__(self, tmp_path: Path, model_spec: str):
        self.ws = tmp_path / "ws"
        self.ws.mkdir()
        self.punie_home = tmp_path / "punie"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path / "home"),
            "PUNIE_HOME": str(self.punie_home),
        }
        agent = shlex.join([sys.executable, "-m", "punie", "serve", "--model", model_spec])
        # --ttl 1: the agent process is stopped a second after the last prompt.
        self.args = ["--agent", agent, "--cwd", str(self.ws), "--approve-all", "--ttl", "1"]

    async def __call__(self, *command: str) -> list[dict]:
        """Run one acpx command and wait for the agent it started to exit; the
        JSON-RPC messages acpx printed."""
        stops = self._stops()
        for _ in range(5):
            proc = await asyncio.create_subprocess_exec(
                "acpx",
                *self.args,
                "--format",
                "json",
                *command,
                env=self.env,
                cwd=self.ws,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 120)
            # acpx's queue owner outlives the agent by a moment; a command that reaches
            # it while it closes is refused as retryable (QUEUE_OWNER_CLOSED), as acpx
            # tells its clients to retry. Punie was not involved yet: try again.
            if proc.returncode == 0 or b'"retryable":true' not in out:
                break
            await asyncio.sleep(1)
        assert proc.returncode == 0, out.decode()
        async with asyncio.timeout(30):
            while self._stops() == stops:
                await asyncio.sleep(0.2)
        return [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]

    def _stops(self) -> int:
        """How many times a `punie serve` has logged its exit."""
        log = self.punie_home / "logs" / "agent.log"
        return log.read_text().count("agent stopped") if log.exists() else 0


def _result_of(messages: list[dict], method: str) -> tuple[dict, dict]:
    request = next(m for m in messages if m.get("method") == method)
    response = next(m for m in messages if m.get("id") == request["id"] and "method" not in m)
    return request, response


async def test_acpx_edits_a_file_then_resumes_the_session_in_a_new_agent(tmp_path):
    async with FakeOpenAIServer("edit_file", EDIT) as model:
        acpx = Acpx(tmp_path, model.spec)
        (acpx.ws / "hello.txt").write_text("hi there\n")
        await acpx("sessions", "new")
        first = await acpx("prompt", "say hello instead")
        second = await acpx("prompt", "and now?")  # a new agent process
    assert (acpx.ws / "hello.txt").read_text() == "hello there\n"
    _, created = _result_of(first, "session/new")
    sid = created["result"]["sessionId"]
    load, loaded = _result_of(second, "session/load")
    assert load["params"]["sessionId"] == sid and "error" not in loaded
    _, answered = _result_of(second, "session/prompt")
    assert answered["result"]["stopReason"] == "end_turn"
    resumed = model.requests[-1]["messages"]
    assert [m["content"] for m in resumed if m["role"] == "user"] == [
        "say hello instead",
        "and now?",
    ]
    assert any(m["role"] == "tool" for m in resumed)  # the edit's result came back too
