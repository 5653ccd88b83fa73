"""The context budget over the pipe: `punie serve --context N` against the scripted
OpenAI server (FakeOpenAIServer, which records every request body). Each turn reads
a big file, so the history outgrows the window within a few prompts."""

from __future__ import annotations

import json
import math

from agent_harness import RecordingClient, ask, running_agent
from fake_openai_server import FakeOpenAIServer

WINDOW, MAX_TOKENS = 3000, 256
ARGS = ("--context", str(WINDOW), "--max-tokens", str(MAX_TOKENS))


def estimated_tokens(body: dict) -> int:
    """What the request asks of the window by the documented estimate (3 chars a
    token): every message's text and call arguments, the tool definitions, the reply."""
    chars = len(json.dumps(body["tools"]))
    for m in body["messages"]:
        chars += len(m.get("content") or "")
        chars += sum(len(json.dumps(c["function"])) for c in m.get("tool_calls") or [])
    return math.ceil(chars / 3) + body["max_completion_tokens"]


async def session(tmp_path, client: RecordingClient, prompts: list[str]):
    async with FakeOpenAIServer("read_file", {"path": "big.txt"}) as server:
        async with running_agent(tmp_path, client, model=server.spec, extra_args=ARGS) as (
            conn,
            sid,
            ws,
        ):
            (ws / "big.txt").write_text("".join(f"line {i} of the big file\n" for i in range(400)))
            stops = [(await ask(conn, sid, p)).stop_reason for p in prompts]
    return server.requests, stops


PROMPTS = [f"read big.txt, turn {i}" for i in range(4)]


async def test_no_request_is_larger_than_the_window(tmp_path, client):
    requests, stops = await session(tmp_path, client, PROMPTS)
    assert stops == ["end_turn"] * 4
    assert all(r["max_completion_tokens"] == MAX_TOKENS for r in requests)
    assert max(estimated_tokens(r) for r in requests) <= WINDOW


async def test_an_over_long_history_is_cut_before_the_request_and_the_ide_is_told(tmp_path, client):
    requests, _ = await session(tmp_path, client, PROMPTS)
    last = requests[-1]["messages"]
    users = [m["content"] for m in last if m["role"] == "user"]
    assert users[-1] == PROMPTS[-1] and len(users) < len(PROMPTS)  # older turns dropped
    assert "[punie: to fit the 3000-token context window (--context)" in client.text()
    assert "dropped the" in client.text()


async def test_a_long_tool_result_reaches_the_model_clipped_with_a_marker(tmp_path, client):
    requests, _ = await session(tmp_path, client, PROMPTS[:1])
    (result,) = [m["content"] for m in requests[1]["messages"] if m["role"] == "tool"]
    assert "tokens of this result]" in result and "[punie: cut " in result
    assert result.startswith("line 0 of the big file") and result.endswith(
        "line 399 of the big file\n"
    )


async def test_usage_update_reports_the_context_in_use_not_a_running_total(tmp_path, client):
    requests, _ = await session(tmp_path, client, PROMPTS)
    usage = client.of("usage_update")
    assert len(usage) == len(requests)  # one after every model response
    assert {u.size for u in usage} == {WINDOW}
    used = [u.used for u in usage]
    # A running total only grows; the context in use falls when older turns are cut.
    assert all(u > 0 for u in used)
    assert any(b < a for a, b in zip(used, used[1:], strict=False))


async def test_a_prompt_that_cannot_fit_ends_the_turn_without_a_request(tmp_path, client):
    requests, stops = await session(tmp_path, client, ["x " * 6000])
    assert requests == [] and stops == ["end_turn"]
    assert "[punie: stopped before sending: the request needs" in client.text()


async def test_a_managed_models_window_comes_from_its_folder_counted_by_its_tokenizer(
    tmp_path, client, tiny_model
):
    args = ("--max-tokens", "16")
    async with running_agent(tmp_path, client, model=str(tiny_model), extra_args=args) as (
        conn,
        sid,
        _,
    ):
        await ask(conn, sid, "Say hello.", timeout=180)  # starts mlx_lm.server
        client.updates.clear()
        await ask(conn, sid, "/model")
    assert "context window: 2048 tokens" in client.text()  # TinyConfig's
    log = (tmp_path / "home" / "logs" / "agent.log").read_text()
    assert "context window 2048 tokens (tiny/config.json max_position_embeddings)" in log
    assert f"counting with {tiny_model / 'tokenizer.json'}" in log


async def test_model_says_when_the_window_is_only_assumed(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, _):  # the test fake: no window
        await ask(conn, sid, "hello")
        client.updates.clear()
        await ask(conn, sid, "/model")
    assert "context window: not known (Punie assumes 4096 tokens; pass --context N)" in (
        client.text()
    )
