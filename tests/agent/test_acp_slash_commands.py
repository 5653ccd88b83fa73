"""Slash commands over a real pipe: advertised after the `session/new` response (never
before it, never after a prompt's response), and answered by Punie, not the model."""

from __future__ import annotations

import asyncio
import json

from agent_harness import ask, running_agent

NAMES = {"help", "clear", "model", "compact"}


class Wire:
    """Every message the client receives, in the order it arrived on the pipe."""

    def __init__(self):
        self.incoming: list[dict] = []

    def __call__(self, event) -> None:
        if event.direction.value == "incoming":
            self.incoming.append(event.message)

    def index(self, pred) -> int:
        return next(i for i, m in enumerate(self.incoming) if pred(m))


def _is_commands(m: dict) -> bool:
    update = (m.get("params") or {}).get("update") or {}
    return update.get("sessionUpdate") == "available_commands_update"


def _is_new_session_response(m: dict) -> bool:
    return "sessionId" in (m.get("result") or {})


async def _until(pred, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.01)


async def test_commands_arrive_only_after_the_session_new_response(tmp_path, client):
    wire = Wire()
    async with running_agent(tmp_path, client, observers=[wire]) as (conn, sid, _):
        await _until(lambda: client.of("available_commands_update"))
    update = client.of("available_commands_update")[0]
    assert {c.name for c in update.available_commands} >= NAMES
    assert wire.index(_is_new_session_response) < wire.index(_is_commands)
    assert len(client.of("available_commands_update")) == 1


async def test_commands_never_arrive_after_a_prompt_response(tmp_path, client):
    wire = Wire()
    async with running_agent(tmp_path, client, observers=[wire]) as (conn, sid, ws):
        await ask(conn, sid, "warm up")  # the model is open: the next turn is quick
        other = (await conn.new_session(cwd=str(ws), mcp_servers=[])).session_id
        await ask(conn, other, "hello")  # at once, without waiting for the commands
        await asyncio.sleep(0.3)
    advertised = wire.index(lambda m: _is_commands(m) and m["params"]["sessionId"] == other)
    answered = max(
        i for i, m in enumerate(wire.incoming) if (m.get("result") or {}).get("stopReason")
    )
    assert advertised < answered


async def test_help_lists_the_commands_without_asking_the_model(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, _):
        resp = await ask(conn, sid, "/help")
        help_text = client.text()
        client.updates.clear()
        await ask(conn, sid, "HISTORY")
    assert resp.stop_reason == "end_turn"
    assert not help_text.startswith("echo:")
    assert all(f"/{name}" in help_text for name in NAMES)
    assert client.text() == "earlier: []"  # the command is not part of the history


async def test_clear_forgets_the_session_history(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, _):
        await ask(conn, sid, "remember the word pelican")
        client.updates.clear()
        await ask(conn, sid, "/clear")
        reply = client.text()
        client.updates.clear()
        await ask(conn, sid, "HISTORY")
    assert reply.startswith("Cleared") and "1 earlier turn" in reply
    assert client.text() == "earlier: []"


async def test_model_shows_the_model_adapter_server_and_context_window(tmp_path, client):
    async with running_agent(tmp_path, client, extra_args=("--max-tokens", "64")) as (
        conn,
        sid,
        _,
    ):
        await ask(conn, sid, "/model")
    lines = dict(line.split(": ", 1) for line in client.text().splitlines())
    assert lines["model"].startswith("test-fake:")
    assert lines["adapter"] == "none"
    assert lines["server"].startswith("none (a test fake")
    assert lines["context window"] == "not known"
    assert lines["max tokens per reply"] == "64"


async def test_compact_drops_old_turns_and_says_nothing_was_summarised(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, _):
        for word in ("one", "two", "three"):
            await ask(conn, sid, word)
        client.updates.clear()
        await ask(conn, sid, "/compact 1")
        reply = client.text()
        client.updates.clear()
        await ask(conn, sid, "HISTORY")
    assert "Dropped the 2 oldest of 3" in reply and "Nothing was summarised" in reply
    assert json.loads(client.text().removeprefix("earlier: ")) == ["three"]


async def test_a_prompt_starting_with_an_unknown_slash_goes_to_the_model(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, _):
        await ask(conn, sid, "/etc/hosts is what?")
    assert client.text().strip() == "echo: /etc/hosts is what?"
