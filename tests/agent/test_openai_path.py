"""The OpenAI-compatible path: a tool call streamed the way mlx_lm.server streams it is
run by the agent and its result goes back to the model in the next request."""

from __future__ import annotations

from agent_harness import ask, running_agent
from fake_openai_server import FakeOpenAIServer

from punie.agent.engine import INSTRUCTIONS
from punie.toolspec import AGENT_TOOLS


async def test_a_streamed_tool_call_runs_and_its_result_reaches_the_model(tmp_path, client):
    async with FakeOpenAIServer("read_file", {"path": "notes.txt"}) as server:
        async with running_agent(tmp_path, client, model=server.spec) as (conn, sid, ws):
            (ws / "notes.txt").write_text("the notes")
            resp = await ask(conn, sid, "read my notes")
    assert resp.stop_reason == "end_turn"
    assert client.final_statuses() == ["completed"]
    assert client.text() == "saw: the notes"
    first, second = server.requests
    assert first["model"] == "default_model" and first["stream"] is True
    # The model sees the tools it was trained on (pydantic-ai may add strictness flags,
    # which Punie's chat template does not render).
    sent = [
        (f["name"], f["description"], f["parameters"]["properties"], f["parameters"]["required"])
        for f in (t["function"] for t in first["tools"])
    ]
    assert sent == [
        (f["name"], f["description"], f["parameters"]["properties"], f["parameters"]["required"])
        for f in (t["function"] for t in AGENT_TOOLS)
    ]
    assert first["messages"][0] == {"role": "system", "content": INSTRUCTIONS}
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": second["messages"][-2]["tool_calls"][0]["id"],
        "content": "the notes",
    }
