"""Punie's per-turn overhead over calling the same model endpoint directly.

A stub OpenAI-compatible server (a child process on loopback) answers every chat
completion instantly with the same short streamed reply, so what is left is the
cost of the layers: ACP JSON-RPC over stdio, the pydantic-ai run, the OpenAI client,
and the agent's updates. Both sides are timed in this one run:

  direct  streamed HTTP requests to the stub (httpx, keep-alive), read to the end
  engine  the same turn in-process (pydantic-ai + OpenAI client, no ACP): the split
          (with the context budget, as `punie serve` has it)
  agent   prompts to `punie serve --model local:STUB_URL` over ACP (the SDK's
          client on a real pipe), each in a fresh session, until `end_turn`

The three are interleaved in rounds so a shared machine's load hits them alike.
Last, the context budget's own cost on a long history: fitting a 60-turn history
the first time (every part tokenized) and again (counts cached, as on every later
request of a session).

Usage: .venv/bin/python bench/agent.py [--turns 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPLY = ["Hello", ", this", " is", " a", " stub", " reply", "."]


def _sse_body(model: str) -> bytes:
    def chunk(delta: dict, finish: str | None = None) -> str:
        obj = {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(obj)}\n\n"

    parts = [chunk({"role": "assistant", "content": ""})]
    parts += [chunk({"content": t}) for t in REPLY]
    parts += [chunk({}, "stop"), "data: [DONE]\n\n"]
    return "".join(parts).encode()


async def _stub_server(port_file: Path) -> None:
    """A minimal HTTP/1.1 keep-alive server: POST .../chat/completions, GET .../models."""
    body = _sse_body("stub-model")
    models = json.dumps({"object": "list", "data": [{"id": "stub-model", "object": "model"}]})

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                if length:
                    await reader.readexactly(length)
                status = "200 OK"
                if method == "GET" and path.endswith("/models"):
                    payload, ctype = models.encode(), "application/json"
                elif path.endswith("/chat/completions"):
                    payload, ctype = body, "text/event-stream"
                else:  # the agent's context-window probes: a server without them
                    status, payload, ctype = "404 Not Found", b"not found", "text/plain"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port_file.write_text(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


def start_stub(tmp: Path) -> tuple[subprocess.Popen, str]:
    port_file = tmp / "port"
    proc = subprocess.Popen([sys.executable, __file__, "--stub", str(port_file)])
    for _ in range(200):
        if port_file.exists() and port_file.read_text():
            return proc, f"http://127.0.0.1:{port_file.read_text()}/v1"
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("stub server did not start")


async def bench(
    base_url: str, turns: int, workdir: Path, rounds: int = 5
) -> dict[str, list[float]]:
    """Interleave the three ways in rounds, so the (shared, noisy) CPU load hits all alike."""
    import httpx
    from acp import spawn_agent_process, text_block
    from acp.schema import ClientCapabilities, FileSystemCapabilities

    from punie.agent.context import BudgetedModel, ContextBudget, TokenCounter
    from punie.agent.engine import build_agent, run_turn
    from punie.agent.models import openai_model
    from punie.agent.tools import ToolEnv
    from punie.agent.workspace import Workspace

    class Discard:
        async def send(self, update):
            pass

    class QuietClient:
        updates = 0
        text: list[str] = []

        async def session_update(self, session_id, update, **_):
            QuietClient.updates += 1
            if update.session_update == "agent_message_chunk":
                QuietClient.text.append(update.content.text)

    req = {
        "model": "stub-model",
        "stream": True,
        "messages": [{"role": "user", "content": "hello"}],
    }
    budget = ContextBudget(4096, TokenCounter(), "bench")
    model, agent = BudgetedModel(openai_model(base_url, "stub-model"), budget), build_agent()
    env = ToolEnv(workspace=Workspace.at(workdir), frontend=Discard())
    times: dict[str, list[float]] = {"direct": [], "engine": [], "agent": []}
    # CPU seconds per way; for ACP, the agent process and this (client) process apart.
    cpu = {"direct": 0.0, "engine": 0.0, "agent": 0.0, "client": 0.0}

    async def direct(client) -> None:
        async with client.stream("POST", f"{base_url}/chat/completions", json=req) as r:
            async for _ in r.aiter_lines():
                pass

    async def engine() -> None:
        await run_turn(agent, model, env, [], "hello")

    async with (
        httpx.AsyncClient() as client,
        spawn_agent_process(
            QuietClient(),
            sys.executable,
            "-m",
            "punie",
            "serve",
            "--model",
            f"local:{base_url}/stub-model",
            env={"PUNIE_HOME": str(workdir / "home")},
            cwd=workdir,
            transport_kwargs={"stderr": subprocess.DEVNULL},
        ) as (conn, proc),
    ):
        caps = ClientCapabilities(fs=FileSystemCapabilities(read_text_file=True))
        await conn.initialize(protocol_version=1, client_capabilities=caps)

        async def via_acp() -> None:
            # A fresh session per turn: every way sends the same one-message request.
            sid = (await conn.new_session(cwd=str(workdir), mcp_servers=[])).session_id
            t0 = time.perf_counter()
            resp = await conn.prompt(session_id=sid, prompt=[text_block("hello")])
            times["agent"].append(time.perf_counter() - t0)
            assert resp.stop_reason == "end_turn", resp

        for _ in range(3):  # warm-up: imports, the model handle, first connections
            await direct(client)
            await engine()
            await via_acp()
        times["agent"].clear()
        per_round = max(1, turns // rounds)
        for _ in range(rounds):
            c0 = time.process_time()
            for _ in range(per_round):
                t0 = time.perf_counter()
                await direct(client)
                times["direct"].append(time.perf_counter() - t0)
            c1 = time.process_time()
            for _ in range(per_round):
                t0 = time.perf_counter()
                await engine()
                times["engine"].append(time.perf_counter() - t0)
            c2 = time.process_time()
            a0 = _child_cpu(proc.pid)
            for _ in range(per_round):
                await via_acp()
            cpu["direct"] += c1 - c0
            cpu["engine"] += c2 - c1
            c3 = time.process_time()
            cpu["agent"] += _child_cpu(proc.pid) - a0
            cpu["client"] += c3 - c2
    acp_turns = 3 + len(times["agent"])  # with the warm-up
    assert "".join(QuietClient.text) == "".join(REPLY) * acp_turns, "the reply did not arrive"
    times["updates"] = [QuietClient.updates / acp_turns]
    n = {"direct": len(times["direct"]), "engine": len(times["engine"])}
    times["cpu"] = [cpu[k] / n.get(k, len(times["agent"])) for k in cpu]
    return times


def fit_cost(turns: int = 60, repeats: int = 20) -> tuple[float, float]:
    """ms to fit a long history: the first time, then the median of later times."""
    from pydantic_ai.messages import (
        ModelRequest,
        ModelResponse,
        TextPart,
        ToolCallPart,
        ToolReturnPart,
        UserPromptPart,
    )

    from punie.agent.context import ContextBudget, TokenCounter, fit_messages

    history: list = []
    for i in range(turns):
        history += [
            ModelRequest([UserPromptPart(f"question {i} " * 20)]),
            ModelResponse([ToolCallPart("read_file", {"path": f"f{i}.py"}, tool_call_id=f"c{i}")]),
            ModelRequest([ToolReturnPart("read_file", f"line {i}\n" * 200, tool_call_id=f"c{i}")]),
            ModelResponse([TextPart(f"answer {i} " * 30)]),
        ]
    history.append(ModelRequest([UserPromptPart("now")]))
    budget = ContextBudget(32768, TokenCounter(), "bench")
    t0 = time.perf_counter()
    fit_messages(history, 600, 32768 - 1024, budget)
    first = time.perf_counter() - t0
    again = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit_messages(history, 600, 32768 - 1024, budget)
        again.append(time.perf_counter() - t0)
    return 1000 * first, 1000 * statistics.median(again)


def _child_cpu(pid: int) -> float:
    """user+system CPU seconds of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(xs: list[float], q: float) -> float:
    return (
        1000 * statistics.quantiles(xs, n=100)[int(q) - 1]
        if q != 50
        else 1000 * statistics.median(xs)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=50)
    ap.add_argument("--stub", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stub:
        asyncio.run(_stub_server(Path(args.stub)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        stub, base_url = start_stub(tmp_path)
        try:
            times = asyncio.run(bench(base_url, args.turns, tmp_path))
        finally:
            stub.kill()
            stub.wait()
    direct, engine, agent = times["direct"], times["engine"], times["agent"]
    cpu_d, cpu_e, cpu_a, cpu_c = (1000 * c for c in times["cpu"])
    d50, a50 = _ms(direct, 50), _ms(agent, 50)
    load = os.getloadavg()[0]
    print(
        f"turns: {len(agent)} each, interleaved in rounds; cpus: {os.cpu_count()}, load {load:.1f}"
    )
    print(f"direct HTTP  median {d50:7.2f} ms   p90 {_ms(direct, 90):7.2f} ms")
    print(
        f"in-process   median {_ms(engine, 50):7.2f} ms   p90 {_ms(engine, 90):7.2f} ms"
        "   (pydantic-ai + OpenAI client, no ACP)"
    )
    print(f"punie (ACP)  median {a50:7.2f} ms   p90 {_ms(agent, 90):7.2f} ms")
    print(
        f"CPU per turn: direct {cpu_d:.2f} ms, in-process {cpu_e:.2f} ms, "
        f"punie serve process {cpu_a:.2f} ms (+ {cpu_c:.2f} ms in the ACP client)"
    )
    print(f"ACP session updates per turn: {times['updates'][0]:.1f} (reply of {len(REPLY)} chunks)")
    print(f"per-turn overhead: median {a50 - d50:.2f} ms ({a50 / d50:.1f}x the direct call)")
    print(f"target < 10 ms median: {'met' if a50 - d50 < 10 else 'NOT met'}")
    first, again = fit_cost()
    print(
        f"context budget on a 60-turn history (estimate counter): {first:.2f} ms the first "
        f"time, {again:.2f} ms again (cached)"
    )


if __name__ == "__main__":
    main()
