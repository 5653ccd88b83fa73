"""The protocol around the tools: initialize, streaming, history, cancel, errors, stdout."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import pytest
from acp import RequestError, spawn_agent_process
from acp.schema import ClientCapabilities
from agent_harness import FAKE_MODEL, RecordingClient, agent_env, ask, running_agent


async def test_initialize_is_honest_and_negotiates_the_version(tmp_path, client):
    async with spawn_agent_process(
        client,
        sys.executable,
        "-m",
        "punie",
        "serve",
        "--model",
        f"test-fake:{FAKE_MODEL}",
        env=agent_env(tmp_path),
        transport_kwargs={"stderr": None},
    ) as (conn, _):
        ours = await conn.initialize(protocol_version=1, client_capabilities=ClientCapabilities())
        future = await conn.initialize(protocol_version=999)
    assert ours.protocol_version == 1 and future.protocol_version == 1
    assert ours.agent_info.name == "punie"
    caps = ours.agent_capabilities
    assert caps.load_session is True and caps.session_capabilities.list is not None
    assert caps.prompt_capabilities.image is False
    assert ours.auth_methods == []


async def test_text_streams_as_chunks_and_a_second_prompt_sees_the_first(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, _):
        first = await ask(conn, sid, "remember the word pelican")
        assert client.text().strip() == "echo: remember the word pelican"
        client.updates.clear()
        second = await ask(conn, sid, "HISTORY")
    assert (first.stop_reason, second.stop_reason) == ("end_turn", "end_turn")
    assert json.loads(client.text().removeprefix("earlier: ")) == ["remember the word pelican"]


async def test_text_from_a_slower_model_streams_one_update_per_chunk(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, _):
        await ask(conn, sid, "TRICKLE")
    assert [u.content.text for u in client.of("agent_message_chunk")] == [
        f"drop{i} " for i in range(5)
    ]


async def test_text_ready_at_once_goes_out_in_fewer_updates_than_chunks(tmp_path, client):
    words = " ".join(f"w{i}" for i in range(30))
    async with running_agent(tmp_path, client) as (conn, sid, _):
        resp = await ask(conn, sid, words)
    # The fake hands over 31 chunks without waiting: coalesced, none lost or reordered.
    assert resp.stop_reason == "end_turn"
    assert client.text() == "".join(w + " " for w in f"echo: {words}".split(" "))
    assert len(client.of("agent_message_chunk")) < 31


async def test_sessions_keep_separate_histories(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        await ask(conn, sid, "only in the first session")
        other = (await conn.new_session(cwd=str(ws), mcp_servers=[])).session_id
        client.updates.clear()
        await ask(conn, other, "HISTORY")
    assert client.text() == "earlier: []"


async def test_cancel_mid_turn_answers_cancelled_within_a_second_then_stays_quiet(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, _):
        turn = asyncio.create_task(ask(conn, sid, "SLOW"))
        while len(client.of("agent_message_chunk")) < 3:
            await asyncio.sleep(0.02)
        t0 = time.perf_counter()
        await conn.cancel(session_id=sid)
        resp = await turn
        took = time.perf_counter() - t0
        seen = len(client.updates)
        await asyncio.sleep(0.5)
        after = len(client.updates)
        # The session still works after a cancel.
        again = await ask(conn, sid, "hello")
    assert resp.stop_reason == "cancelled"
    assert took < 1.0
    assert after == seen  # nothing after the prompt's response
    assert len(client.of("agent_message_chunk")) < 100 + 4
    assert again.stop_reason == "end_turn"


async def test_cancel_while_waiting_for_permission(tmp_path):
    class SlowToDecide(RecordingClient):
        async def request_permission(self, session_id, tool_call, options, **_):
            self.permission_requests.append(tool_call)
            await asyncio.sleep(30)

    client = SlowToDecide()
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        turn = asyncio.create_task(ask(conn, sid, 'TOOL write_file {"path": "a", "content": "x"}'))
        while not client.permission_requests:
            await asyncio.sleep(0.02)
        await conn.cancel(session_id=sid)
        resp = await asyncio.wait_for(turn, 2)
        assert not (ws / "a").exists()
    assert resp.stop_reason == "cancelled"
    assert client.final_statuses() == ["failed"]  # the IDE is not left with a pending call


@pytest.mark.parametrize("method", ["session/bogus", "authenticate"])
async def test_unimplemented_methods_are_method_not_found(tmp_path, client, method):
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        with pytest.raises(RequestError) as err:
            await conn._conn.send_request(
                method, {"sessionId": sid, "cwd": str(ws), "mcpServers": [], "methodId": "x"}
            )
    assert err.value.code == -32601


async def test_stdout_carries_only_protocol_even_when_something_prints(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "punie",
        "serve",
        "--model",
        f"test-fake:{FAKE_MODEL}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=agent_env(tmp_path),
        cwd=tmp_path,
    )
    ws = str(tmp_path)

    def send(i, method, params):
        line = {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
        proc.stdin.write((json.dumps(line) + "\n").encode())

    send(0, "initialize", {"protocolVersion": 1, "clientCapabilities": {}})
    send(1, "session/new", {"cwd": ws, "mcpServers": []})
    lines = []
    while len(lines) < 2:
        lines.append(json.loads(await asyncio.wait_for(proc.stdout.readline(), 30)))
    sid = lines[1]["result"]["sessionId"]
    prompt = 'NOISE\nTOOL run_command {"command": "echo to-the-pipe"}'
    send(2, "session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": prompt}]})
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not raw:
            break
        msg = json.loads(raw)  # every line is JSON-RPC, or this raises
        assert msg["jsonrpc"] == "2.0"
        lines.append(msg)
        if msg.get("method") == "session/request_permission":
            proc.stdin.write(
                (
                    json.dumps(
                        {
                            "jsonrpc": "2.0",
                            "id": msg["id"],
                            "result": {
                                "outcome": {"outcome": "selected", "optionId": "allow_once"}
                            },
                        }
                    )
                    + "\n"
                ).encode()
            )
        if msg.get("id") == 2:
            break
    proc.stdin.close()
    await asyncio.wait_for(proc.wait(), 10)
    assert lines[-1]["result"]["stopReason"] == "end_turn"
    texts = [
        m["params"]["update"]["content"]["text"]
        for m in lines
        if m.get("method") == "session/update"
        and m["params"]["update"]["sessionUpdate"] == "agent_message_chunk"
    ]
    assert "to-the-pipe" in "".join(texts)


async def test_a_model_that_keeps_sending_broken_tool_calls_ends_the_turn_with_a_note(
    tmp_path, client
):
    async with running_agent(tmp_path, client) as (conn, sid, _):
        resp = await ask(conn, sid, "BADJSON")
        assert resp.stop_reason == "end_turn"
        assert "could not be used" in client.text()
        assert (await ask(conn, sid, "still here?")).stop_reason == "end_turn"


async def test_a_model_repeating_the_same_call_ends_the_turn_with_a_note(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "a.txt").write_text("hello")
        resp = await ask(conn, sid, 'REPEAT read_file {"path": "a.txt"}')
        assert resp.stop_reason == "end_turn"
        assert "repeated itself" in client.text()
        # Two identical reads ran; the third was refused before reaching the IDE.
        assert client.final_statuses() == ["completed", "completed"]
        assert (await ask(conn, sid, "still here?")).stop_reason == "end_turn"
