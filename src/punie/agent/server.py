"""`punie serve`: the ACP agent on stdio.

stdout carries the protocol and nothing else. The process's real stdout is kept on
a private descriptor for the protocol, and descriptor 1 is pointed at stderr, so a
stray print, a library warning or a child process (mlx_lm.server, a command) can
never corrupt the JSON-RPC stream. Logs go to `PUNIE_HOME/logs/agent.log` and stderr.
Each turn is recorded under `PUNIE_HOME/traces/` unless recording is off
(`--no-record`, or `record = false` in config.toml: see `punie.traces`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from punie import paths

STDIO_LIMIT = 50 * 1024 * 1024  # the SDK's default: big prompts with embedded files


def setup_logging(level: int = logging.INFO) -> Path:
    log_file = paths.logs_dir() / "agent.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(level)
    for handler in (logging.FileHandler(log_file), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(fmt)
        root.addHandler(handler)
    # httpx logs every request at INFO: too chatty for a per-token stream.
    for name in ("httpx", "httpx2", "openai"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return log_file


def reserve_stdout_for_protocol() -> int:
    """Return a private fd on the real stdout; fd 1 (and sys.stdout) now go to stderr."""
    sys.stdout.flush()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto_fd


async def _stdio(proto_fd: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=STDIO_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = os.fdopen(proto_fd, "wb", buffering=0)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, out)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    return reader, writer


async def serve_stdio(agent, proto_fd: int) -> None:
    from acp import run_agent

    reader, writer = await _stdio(proto_fd)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    # SIGTERM from the IDE: stop cleanly so a managed model server is stopped too.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await run_agent(agent, input_stream=writer, output_stream=reader)
    except asyncio.CancelledError:
        pass
    finally:
        await agent.aclose()  # the sessions' MCP servers
        await agent.model.aclose()
        logging.getLogger("punie.agent").info("agent stopped")


def run(
    model_spec: str,
    adapter: Path | None,
    *,
    max_tokens: int | None,
    temperature: float | None,
    timeout_s: float,
    output_limit: int,
    context: int | None = None,
    record: bool = True,
) -> None:
    from punie.agent.acp_agent import PunieAgent
    from punie.agent.engine import TurnSettings
    from punie.agent.models import ModelHandle
    from punie.traces.recorder import Recorder

    proto_fd = reserve_stdout_for_protocol()
    log_file = setup_logging()
    model = ModelHandle(model_spec, adapter, context=context)
    model.check()
    recorder = Recorder.from_config(no_record=not record, source="serve")
    agent = PunieAgent(
        model,
        TurnSettings(max_tokens=max_tokens, temperature=temperature),
        recorder,
        timeout_s=timeout_s,
        output_limit=output_limit,
    )
    logging.getLogger("punie.agent").info(
        "punie serve: model %s adapter %s (log %s)", model_spec, model.adapter, log_file
    )
    if sys.stdin.isatty():
        logging.getLogger("punie.agent").warning(
            "punie serve speaks ACP on stdin/stdout for an IDE; register it with "
            '`punie init --ide jetbrains|zed`, or try `punie ask "..."` in a terminal'
        )
    asyncio.run(serve_stdio(agent, proto_fd))
