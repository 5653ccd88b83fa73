"""The managed mlx_lm.server, run for real on the tiny model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from serve_lora import PROMPT, chat, train_tiny_adapter

from punie.errors import PunieError
from punie.procs import port_is_free
from punie.serve.server import ManagedServer


def _chat(server: ManagedServer, messages, max_tokens: int = 12) -> str:
    return chat(server.base_url, server.model_name, messages, max_tokens)


def test_server_is_ready_on_loopback_and_stops(tiny_model: Path, tmp_path: Path):
    log = tmp_path / "server.log"
    with ManagedServer(tiny_model, log_path=log) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.model_name == "default_model"
        # Ready means a completion already works, not merely /health.
        assert isinstance(_chat(server, PROMPT, max_tokens=3), str)
        proc = server.proc
    assert proc.poll() is not None
    assert port_is_free(server.port)
    assert "POST /v1/chat/completions" in log.read_text()


def test_adapter_is_active(tiny_model: Path, tmp_path: Path):
    adapter = train_tiny_adapter(tiny_model, tmp_path / "adapter")
    with ManagedServer(tiny_model) as base:
        base_out = _chat(base, PROMPT)
    with ManagedServer(tiny_model, adapter=adapter) as tuned:
        tuned_out = _chat(tuned, PROMPT)
    assert base_out != tuned_out


async def test_async_context_manager(tiny_model: Path):
    async with ManagedServer(tiny_model) as server:
        assert server.running
    assert not server.running


def test_port_taken_is_refused(tiny_model: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(PunieError, match=f"port {port} is already in use"):
            ManagedServer(tiny_model, port=port).start()


def test_bad_model_path_is_a_clear_error(tmp_path: Path):
    with pytest.raises(PunieError, match="not a model folder"):
        ManagedServer(tmp_path / "nope").start()


def test_child_that_exits_gives_log_tail_within_timeout(tmp_path: Path):
    # A folder that passes the quick check but holds no weights: the child dies.
    model = tmp_path / "broken"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "qwen2"}')
    start = time.monotonic()
    with pytest.raises(PunieError, match="exited with code|cannot generate") as info:
        ManagedServer(model, startup_timeout=60).start()
    assert time.monotonic() - start < 60
    assert "log" in str(info.value)


def test_child_dies_with_parent(tiny_model: Path, tmp_path: Path):
    pid_file = tmp_path / "pid"
    script = textwrap.dedent(
        f"""
        import os, pathlib
        from punie.serve.server import ManagedServer
        s = ManagedServer({str(tiny_model)!r}).start()
        pathlib.Path({str(pid_file)!r}).write_text(str(s.proc.pid))
        os._exit(0)  # no atexit, no cleanup: only the death signal can stop the child
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        # A zombie reparented to init is reaped quickly; check /proc state too.
        stat = Path(f"/proc/{child}/stat")
        if stat.exists() and stat.read_text().split()[2] == "Z":
            return
        time.sleep(0.2)
    os.kill(child, 9)
    pytest.fail("managed server outlived its parent")
