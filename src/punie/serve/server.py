"""A managed `mlx_lm.server` child: started on a loopback port, ready only when it answers.

Why each piece:
- Ready means a real one-token chat completion succeeded: `/health` answers while
  the model is still loading, so a client that trusted it would see errors.
- Requests name the model `default_model`: naming the id listed by `/v1/models`
  makes mlx_lm.server reload the base weights WITHOUT the adapter.
- The child dies with its parent (PR_SET_PDEATHSIG on Linux, plus atexit), so a
  crashed or killed Punie leaves no server holding the port and the RAM.
- Output is drained to a log file; its tail goes into every startup error.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from punie import blas, paths, procs
from punie.errors import PunieError

MODEL_NAME = "default_model"
DEFAULT_STARTUP_TIMEOUT = 120.0
DEFAULT_STOP_TIMEOUT = 10.0

_LIVE: set[subprocess.Popen] = set()


def _kill_live_children() -> None:
    for proc in list(_LIVE):
        with contextlib.suppress(OSError):
            proc.kill()


atexit.register(_kill_live_children)


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    # Access-log lines of our own readiness probes say nothing about the failure.
    kept = [line for line in text.splitlines() if '"POST /v1/' not in line]
    return "\n".join(kept[-lines:]) or "(log is empty)"


def one_token_chat(base_url: str, timeout: float) -> dict:
    """The server's reply to a one-token chat for `default_model`; raise unless it
    completed one."""
    body = json.dumps(
        {
            "model": MODEL_NAME,
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 1,
            "temperature": 0.0,
        }
    ).encode()
    req = urllib.request.Request(
        f"{base_url}/chat/completions",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        payload = json.loads(resp.read())
    if not payload.get("choices"):
        raise ValueError(f"no choices in {payload!r}")
    return payload


class ManagedServer:
    """`python -m mlx_lm server` for a model (+ adapter), as a (sync or async) context manager."""

    def __init__(
        self,
        model: Path | str,
        adapter: Path | None = None,
        port: int | None = None,
        decode_concurrency: int = 8,
        log_path: Path | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
        max_tokens: int = 512,
    ):
        self.model = model
        self.adapter = Path(adapter) if adapter is not None else None
        self.requested_port = port
        self.decode_concurrency = decode_concurrency
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.max_tokens = max_tokens
        self.port: int | None = None
        self.log_path = Path(log_path) if log_path else None
        self.proc: subprocess.Popen | None = None
        self._log_file = None

    # -- public surface ----------------------------------------------------
    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("ManagedServer is not started")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model_name(self) -> str:
        # Never the /v1/models id: that reloads the base model without the adapter.
        return MODEL_NAME

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "mlx_lm", "server", "--model", str(self.model)]
        if self.adapter is not None:
            cmd += ["--adapter-path", str(self.adapter)]
        cmd += [
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--decode-concurrency",
            str(self.decode_concurrency),
            "--max-tokens",
            str(self.max_tokens),
        ]
        return cmd

    def start(self) -> ManagedServer:
        if self.proc is not None:
            return self
        self.spawn()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def spawn(self) -> None:
        """Start the child without waiting for it. PR_SET_PDEATHSIG fires when the
        *thread* that forked exits, so spawn from a long-lived thread (the async
        context manager spawns on the event loop's thread, never in a worker)."""
        self._check_inputs()
        if self.requested_port is not None:
            if not procs.port_is_free(self.requested_port):
                raise PunieError(
                    f"port {self.requested_port} is already in use by another process",
                    where="serve",
                    hint="pick another --port or leave it out to use a free one",
                )
            self.port = self.requested_port
        else:
            self.port = procs.free_port()
        if self.log_path is None:
            self.log_path = paths.logs_dir() / f"mlx-server-{self.port}-{os.getpid()}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=blas.child_env(),
            preexec_fn=procs.preexec(),
        )
        _LIVE.add(self.proc)

    def stop(self) -> None:
        proc = self.proc
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    # mlx_lm.server can be slow to honour SIGTERM.
                    proc.kill()
                    proc.wait()
            _LIVE.discard(proc)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def kill(self) -> None:
        """SIGKILL the child now (tests use it to simulate a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ManagedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def __aenter__(self) -> ManagedServer:
        import asyncio

        if self.proc is None:
            self.spawn()
            try:
                await asyncio.to_thread(self._wait_ready)
            except BaseException:
                await asyncio.to_thread(self.stop)
                raise
        return self

    async def __aexit__(self, *exc) -> None:
        import asyncio

        await asyncio.to_thread(self.stop)

    # -- internals ---------------------------------------------------------
    def _check_inputs(self) -> None:
        model = Path(str(self.model)).expanduser()
        looks_like_path = model.is_absolute() or str(self.model).startswith((".", "~"))
        if (looks_like_path or model.exists()) and not (model / "config.json").is_file():
            raise PunieError(
                f"model {self.model} is not a model folder (no config.json)",
                where="serve",
                hint="pass a folder holding config.json and weights, or a model name",
            )
        if self.adapter is not None and not (self.adapter / "adapter_config.json").is_file():
            raise PunieError(
                f"adapter {self.adapter} has no adapter_config.json",
                where="serve",
                hint="pass the adapter/ folder of a training run",
            )

    def _fail(self, what: str) -> PunieError:
        return PunieError(
            f"mlx_lm server for {self.model} {what}; log {self.log_path}:\n{tail(self.log_path)}",
            where="serve",
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no answer"
        while True:
            code = self.proc.poll()
            if code is not None:
                raise self._fail(f"exited with code {code} before it was ready")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._fail(f"was not ready after {self.startup_timeout:.0f}s ({last_error})")
            try:
                one_token_chat(self.base_url, timeout=max(1.0, min(remaining, 30.0)))
                return
            except urllib.error.HTTPError as exc:
                # The server is up but cannot generate (it answers 404 with the load
                # error when the model folder is broken): waiting will not help.
                body = exc.read().decode("utf-8", errors="replace")[:500]
                raise self._fail(f"cannot generate (HTTP {exc.code}: {body})") from None
            except (OSError, urllib.error.URLError, ValueError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.25)
