"""End to end: `punie serve --model PATH` with a real mlx_lm.server (the tiny random
model: it emits gibberish, so only the protocol's shape is checked)."""

from __future__ import annotations

import re
import socket

from agent_harness import ask, running_agent


async def test_a_prompt_completes_through_a_managed_mlx_server_stopped_on_exit(
    tmp_path, client, tiny_model
):
    async with running_agent(
        tmp_path, client, model=str(tiny_model), extra_args=("--max-tokens", "24")
    ) as (conn, sid, _):
        # The server starts on this first prompt (lazily), so allow its startup time.
        resp = await ask(conn, sid, "Say hello.", timeout=180)
    assert resp.stop_reason in ("end_turn", "max_tokens")
    chunks = client.of("agent_message_chunk")
    assert len(chunks) >= 2 and client.text()  # gibberish (often newlines), but streamed
    log = (tmp_path / "home" / "logs" / "agent.log").read_text()
    port = int(re.search(r"model ready at http://127\.0\.0\.1:(\d+)/v1", log).group(1))
    with socket.socket() as s:  # the agent stopped its server when it exited
        assert s.connect_ex(("127.0.0.1", port)) != 0
