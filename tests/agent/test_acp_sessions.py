"""Sessions over a real pipe: saved under PUNIE_HOME after each turn, loaded by a new
`punie serve` process (the history replayed to the IDE before the `session/load`
response, and sent to the model with the next prompt), listed by `session/list`."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from acp import RequestError
from agent_harness import RecordingClient, ask, running_agent
from fake_openai_server import FakeOpenAIServer

from punie.agent import sessions


class Wire:
    """Every message the client receives, in the order it arrived on the pipe."""

    def __init__(self):
        self.incoming: list[dict] = []

    def __call__(self, event) -> None:
        if event.direction.value == "incoming":
            self.incoming.append(event.message)

    def kinds(self) -> list[str]:
        """Each message as its update kind, or `response` for a response."""
        out = []
        for m in self.incoming:
            if "result" in m or "error" in m:
                out.append("response")
            elif m.get("method") == "session/update":
                out.append(m["params"]["update"]["sessionUpdate"])
        return out


async def _first_session(tmp_path, client, model_spec: str | None = None) -> str:
    """A session with one turn in a `punie serve` that then exits."""
    async with running_agent(tmp_path, client, model=model_spec) as (conn, sid, ws):
        (ws / "notes.txt").write_text("the notes")
        await ask(conn, sid, "read my notes")
    return sid


async def test_a_session_survives_a_restart_and_the_model_sees_its_history(tmp_path, client):
    async with FakeOpenAIServer("read_file", {"path": "notes.txt"}) as model:
        sid = await _first_session(tmp_path, client, model.spec)
        before = len(model.requests)
        async with running_agent(tmp_path, RecordingClient(), model=model.spec) as (conn, _, ws):
            await conn.load_session(cwd=str(ws), session_id=sid, mcp_servers=[])
            resp = await ask(conn, sid, "and now?")
    assert resp.stop_reason == "end_turn"
    (request,) = model.requests[before:]
    roles = [(m["role"], m.get("content")) for m in request["messages"][1:]]
    assert roles[0] == ("user", "read my notes")
    assert roles[1][0] == "assistant"  # the read_file call
    assert roles[2] == ("tool", "the notes")
    assert roles[3] == ("assistant", "saw: the notes")
    assert roles[4] == ("user", "and now?")


async def test_load_replays_the_history_before_its_response(tmp_path, client):
    async with FakeOpenAIServer("read_file", {"path": "notes.txt"}) as model:
        sid = await _first_session(tmp_path, client, model.spec)
        wire, replayed = Wire(), RecordingClient()
        async with running_agent(tmp_path, replayed, model=model.spec, observers=[wire]) as (
            conn,
            _,
            ws,
        ):
            # What the harness's own session/new brought ends with its commands.
            async with asyncio.timeout(5):
                while not replayed.of("available_commands_update"):
                    await asyncio.sleep(0.01)
            del wire.incoming[:]
            replayed.updates.clear()
            await conn.load_session(cwd=str(ws), session_id=sid, mcp_servers=[])
            async with asyncio.timeout(5):
                while not replayed.of("available_commands_update"):
                    await asyncio.sleep(0.01)
    assert wire.kinds()[:6] == [
        "user_message_chunk",
        "tool_call",
        "tool_call_update",
        "agent_message_chunk",
        "response",
        "available_commands_update",
    ]
    user, call, result, answer = replayed.updates[:4]
    assert user.content.text == "read my notes"
    assert (call.title, call.kind) == ("Read notes.txt", "read")
    assert (result.tool_call_id, result.status) == (call.tool_call_id, "completed")
    assert result.content[0].content.text == "the notes"
    assert answer.content.text == "saw: the notes"


async def test_session_list_shows_saved_sessions_of_the_workspace(tmp_path, client):
    sid = await _first_session(tmp_path, client)
    other_ws = tmp_path / "elsewhere"
    other_ws.mkdir()
    async with running_agent(tmp_path, RecordingClient()) as (conn, _, ws):
        other = (await conn.new_session(cwd=str(other_ws), mcp_servers=[])).session_id
        await ask(conn, other, "in another workspace")
        here = await conn.list_sessions(cwd=str(ws))
        everywhere = await conn.list_sessions()
    (info,) = here.sessions
    assert (info.session_id, info.cwd, info.title) == (sid, str(ws.resolve()), "read my notes")
    assert info.updated_at
    assert [s.session_id for s in everywhere.sessions] == [other, sid]  # newest first


async def test_clear_is_saved_too(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, _):
        await ask(conn, sid, "forget me")
        await ask(conn, sid, "/clear")
    again = RecordingClient()
    async with running_agent(tmp_path, again) as (conn, _, ws):
        await conn.load_session(cwd=str(ws), session_id=sid, mcp_servers=[])
        assert again.of("user_message_chunk") == []
        await ask(conn, sid, "HISTORY")
    assert again.text() == "earlier: []"


async def test_loading_an_unknown_session_is_a_clear_error(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, _, ws):
        with pytest.raises(RequestError) as err:
            await conn.load_session(cwd=str(ws), session_id=uuid.uuid4().hex, mcp_servers=[])
        with pytest.raises(RequestError) as odd:
            await conn.load_session(cwd=str(ws), session_id="../../etc/passwd", mcp_servers=[])
    assert err.value.code == -32602 and "no saved session" in json.dumps(err.value.data)
    assert odd.value.code == -32602 and "not an id Punie hands out" in json.dumps(odd.value.data)


async def test_a_corrupt_session_file_is_refused_and_left_as_it_is(tmp_path, client, monkeypatch):
    sid = await _first_session(tmp_path, client)
    monkeypatch.setenv("PUNIE_HOME", str(tmp_path / "home"))
    path = sessions.session_file(tmp_path / "ws", sid)
    path.write_text('{"format": 1, "history": [{"kind": "nonsense"}')
    async with running_agent(tmp_path, RecordingClient()) as (conn, _, ws):
        with pytest.raises(RequestError) as err:
            await conn.load_session(cwd=str(ws), session_id=sid, mcp_servers=[])
        listed = await conn.list_sessions(cwd=str(ws))
    assert err.value.code == -32602 and "not valid JSON" in json.dumps(err.value.data)
    assert path.read_text() == '{"format": 1, "history": [{"kind": "nonsense"}'
    assert listed.sessions == []


async def test_an_always_allow_answer_survives_a_restart(tmp_path):
    write = 'TOOL write_file {"path": "f.txt", "content": "%s"}'
    first = RecordingClient(choice="allow_always")
    async with running_agent(tmp_path, first) as (conn, sid, ws):
        await ask(conn, sid, write % "one")
    assert len(first.permission_requests) == 1
    again = RecordingClient(choice="reject_once")  # would refuse, if it were asked
    async with running_agent(tmp_path, again) as (conn, _, ws):
        await conn.load_session(cwd=str(ws), session_id=sid, mcp_servers=[])
        await ask(conn, sid, write % "two")
        assert (ws / "f.txt").read_text() == "two"
    assert again.permission_requests == []
