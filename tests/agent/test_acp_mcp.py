"""The IDE's MCP servers over a real pipe: a real stdio MCP server
(tests/agent/mcp_notes_server.py) given in `session/new`, its tools offered to the
model, each call asked about like run_command, and the server stopped with the agent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
from pathlib import Path

from acp.schema import (
    ClientCapabilities,
    HttpHeader,
    HttpMcpServer,
    McpServerStdio,
    SseMcpServer,
)
from agent_harness import RecordingClient, ask, running_agent
from fake_openai_server import FakeOpenAIServer

NOTES_SERVER = Path(__file__).with_name("mcp_notes_server.py")
# Starting a Python MCP server imports a lot: generous on a busy 2-core machine.
START_S = 90
TURN_S = 60


def notes_server(name: str = "notes", command: str = sys.executable) -> McpServerStdio:
    return McpServerStdio(name=name, command=command, args=[str(NOTES_SERVER)], env=[])


async def mcp_session(conn, ws: Path, *servers) -> str:
    resp = await asyncio.wait_for(
        conn.new_session(cwd=str(ws), mcp_servers=list(servers or [notes_server()])), START_S
    )
    return resp.session_id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_initialize_advertises_http_mcp_and_not_sse(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, _, _ws):
        init = await conn.initialize(protocol_version=1, client_capabilities=ClientCapabilities())
    mcp = init.agent_capabilities.mcp_capabilities
    assert (mcp.http, mcp.sse) == (True, False)


async def test_an_mcp_tool_is_offered_called_after_permission_and_its_result_reaches_the_model(
    tmp_path, client
):
    async with FakeOpenAIServer("notes_shout", {"text": "hi"}) as model:
        async with running_agent(tmp_path, client, model=model.spec) as (conn, _, ws):
            sid = await mcp_session(conn, ws)
            resp = await ask(conn, sid, "shout hi", TURN_S)
    assert resp.stop_reason == "end_turn"
    first, second = model.requests
    offered = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert offered["notes_shout"]["description"] == "Upper-case a text."
    (asked, options), *others = client.permission_requests
    assert others == [] and asked.title == "notes: shout"
    assert {o.kind for o in options} >= {"allow_once", "reject_once"}
    assert second["messages"][-1]["role"] == "tool"
    assert second["messages"][-1]["content"] == "HI!"
    assert client.final_statuses() == ["completed"]
    assert client.text() == "saw: HI!"


@contextlib.asynccontextmanager
async def http_notes_server(folder: Path):
    """The notes server on streamable HTTP, in its own process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder.mkdir()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(NOTES_SERVER), "--http", str(port), cwd=folder
    )
    try:
        async with asyncio.timeout(30):
            while True:
                try:
                    _, w = await asyncio.open_connection("127.0.0.1", port)
                    w.close()
                    break
                except OSError:
                    await asyncio.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        await proc.wait()


async def test_an_http_mcp_server_is_called_too(tmp_path, client):
    async with http_notes_server(tmp_path / "web") as url:
        web = HttpMcpServer(
            type="http", name="web", url=url, headers=[HttpHeader(name="X-Punie", value="1")]
        )
        async with running_agent(tmp_path, client) as (conn, _, ws):
            sid = await mcp_session(conn, ws, web)
            await ask(conn, sid, 'TOOL web_shout {"text": "over http"}', TURN_S)
    assert client.text() == 'results: ["OVER HTTP!"]'
    assert [tc.title for tc, _ in client.permission_requests] == ["web: shout"]


async def test_a_rejected_mcp_call_is_not_run_and_the_model_is_told(tmp_path):
    client = RecordingClient(choice="reject_once")
    async with FakeOpenAIServer("notes_note", {"text": "secret"}) as model:
        async with running_agent(tmp_path, client, model=model.spec) as (conn, _, ws):
            sid = await mcp_session(conn, ws)
            await ask(conn, sid, "take a note", TURN_S)
    assert not (ws / "notes.txt").exists()
    assert client.final_statuses() == ["failed"]
    assert "rejected" in model.requests[-1]["messages"][-1]["content"]


async def test_always_allow_is_remembered_per_mcp_tool(tmp_path):
    client = RecordingClient(choice="allow_always")
    script = "\n".join(
        [
            'TOOL notes_note {"text": "one"}',
            'TOOL notes_note {"text": "two"}',
            'TOOL notes_shout {"text": "three"}',
        ]
    )
    async with running_agent(tmp_path, client) as (conn, _, ws):
        sid = await mcp_session(conn, ws)
        await ask(conn, sid, script, TURN_S)
    assert [tc.title for tc, _ in client.permission_requests] == ["notes: note", "notes: shout"]
    assert (ws / "notes.txt").read_text() == "one\ntwo\n"
    assert json.loads(client.text().removeprefix("results: ")) == [
        "noted: one",
        "noted: two",
        "THREE!",
    ]


async def test_a_tool_error_reaches_the_model_as_an_error_text(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, _, ws):
        sid = await mcp_session(conn, ws)
        await ask(conn, sid, 'TOOL notes_fail {"text": "fly"}', TURN_S)
    (told,) = json.loads(client.text().removeprefix("results: "))
    assert told.startswith("error: notes: fail:") and "cannot fly" in told
    assert client.final_statuses() == ["failed"]


async def test_servers_that_cannot_start_are_reported_and_the_session_still_works(tmp_path, client):
    broken = notes_server("broken", command=str(tmp_path / "no-such-mcp-server"))
    sse = SseMcpServer(type="sse", name="old", url="http://127.0.0.1:9/sse", headers=[])
    async with running_agent(tmp_path, client) as (conn, _, ws):
        sid = await mcp_session(conn, ws, broken, sse, notes_server())
        resp = await ask(conn, sid, 'TOOL notes_shout {"text": "still here"}', TURN_S)
    assert resp.stop_reason == "end_turn"
    assert "MCP server 'broken' could not start" in client.text()
    refused = "MCP server 'old' could not start: ValueError: sse MCP servers are not supported"
    assert refused in client.text()
    assert client.text().endswith('results: ["STILL HERE!"]')


async def test_the_mcp_server_stops_when_the_agent_does(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, _, ws):
        await mcp_session(conn, ws)
        pid = int((ws / "mcp-server.pid").read_text())
        assert _alive(pid)
    for _ in range(100):
        if not _alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not _alive(pid)


async def test_a_model_repeating_an_mcp_call_ends_the_turn_like_its_own_tools(tmp_path):
    client = RecordingClient(choice="allow_always")
    async with running_agent(tmp_path, client) as (conn, _, ws):
        sid = await mcp_session(conn, ws)
        resp = await ask(conn, sid, 'REPEAT notes_note {"text": "again"}', TURN_S)
    assert resp.stop_reason == "end_turn"
    assert "repeated itself" in client.text()
    # Two identical calls ran; the third was refused before reaching the server.
    assert (ws / "notes.txt").read_text() == "again\nagain\n"
