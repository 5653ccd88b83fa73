"""The IDE's MCP servers over a real pipe: a real stdio MCP server
(tests/agent/mcp_notes_server.py) given in `session/new`, its tools offered to the
model, each call asked about like run_command, and the server stopped with the agent."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from acp.schema import ClientCapabilities, McpServerStdio
from agent_harness import RecordingClient, ask, running_agent
from fake_openai_server import FakeOpenAIServer

NOTES_SERVER = Path(__file__).with_name("mcp_notes_server.py")


def notes_server(name: str = "notes", command: str = sys.executable) -> McpServerStdio:
    return McpServerStdio(name=name, command=command, args=[str(NOTES_SERVER)], env=[])


async def mcp_session(conn, ws: Path, *servers: McpServerStdio) -> str:
    resp = await asyncio.wait_for(
        conn.new_session(cwd=str(ws), mcp_servers=list(servers or [notes_server()])), 30
    )
    return resp.session_id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_initialize_advertises_stdio_mcp_only(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, _, _ws):
        init = await conn.initialize(protocol_version=1, client_capabilities=ClientCapabilities())
    mcp = init.agent_capabilities.mcp_capabilities
    assert (mcp.http, mcp.sse) == (False, False)


async def test_an_mcp_tool_is_offered_called_after_permission_and_its_result_reaches_the_model(
    tmp_path, client
):
    async with FakeOpenAIServer("notes_shout", {"text": "hi"}) as model:
        async with running_agent(tmp_path, client, model=model.spec) as (conn, _, ws):
            sid = await mcp_session(conn, ws)
            resp = await ask(conn, sid, "shout hi")
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


async def test_a_rejected_mcp_call_is_not_run_and_the_model_is_told(tmp_path):
    client = RecordingClient(choice="reject_once")
    async with FakeOpenAIServer("notes_note", {"text": "secret"}) as model:
        async with running_agent(tmp_path, client, model=model.spec) as (conn, _, ws):
            sid = await mcp_session(conn, ws)
            await ask(conn, sid, "take a note")
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
        await ask(conn, sid, script)
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
        await ask(conn, sid, 'TOOL notes_fail {"text": "fly"}')
    (told,) = json.loads(client.text().removeprefix("results: "))
    assert told.startswith("error: notes: fail:") and "cannot fly" in told
    assert client.final_statuses() == ["failed"]


async def test_a_server_that_cannot_start_is_reported_and_the_session_still_works(tmp_path, client):
    broken = notes_server("broken", command=str(tmp_path / "no-such-mcp-server"))
    async with running_agent(tmp_path, client) as (conn, _, ws):
        sid = await mcp_session(conn, ws, broken, notes_server())
        resp = await ask(conn, sid, 'TOOL notes_shout {"text": "still here"}')
    assert resp.stop_reason == "end_turn"
    assert "MCP server 'broken' could not start" in client.text()
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
