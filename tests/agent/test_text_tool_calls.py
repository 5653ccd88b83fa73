"""Tool calls recovered from text (issue 17, item 2): a reply with no `tool_calls`
whose content holds a call in a known format runs as that call, streamed (through
`punie serve` over a real pipe) and not; only calls naming an offered tool."""

from __future__ import annotations

import importlib
import json

import pytest
from agent_harness import ask, running_agent
from text_call_server import CALL, SHAPES, TextCallServer

from punie import toolcalls
from punie.toolspec import AGENT_TOOLS


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_is_recovered_with_the_shared_parsers(shape):
    found = toolcalls.recover(SHAPES[shape], AGENT_TOOLS)
    assert found is not None
    assert [c.to_dict() for c in found.calls] == [CALL]


def test_text_without_a_call_is_left_alone():
    for text in ("The file holds notes.", "Use {braces} freely", '{"a": 1}', "[1, 2]", ""):
        assert toolcalls.recover(text, AGENT_TOOLS) is None


def test_only_calls_naming_an_offered_tool_are_recovered():
    unoffered = json.dumps({"name": "delete_everything", "arguments": {}})
    assert toolcalls.recover(unoffered, AGENT_TOOLS) is None
    assert toolcalls.recover(SHAPES["hermes_json"], []) is None
    both = f"<tool_call>{unoffered}</tool_call>{SHAPES['hermes_json']}"
    found = toolcalls.recover(both, AGENT_TOOLS)
    assert [c.name for c in found.calls] == ["read_file"]
    assert found.errors == ["delete_everything is not an offered tool"]


def test_a_call_the_server_would_not_deliver_is_not_recovered():
    # Arguments as a JSON string: mlx_lm.server would double-encode them, the scorer
    # calls it a format_error, and the agent does not run it either.
    text = json.dumps({"name": "read_file", "arguments": json.dumps({"path": "x"})})
    assert toolcalls.recover(f"<tool_call>{text}</tool_call>", AGENT_TOOLS) is None


def test_the_markers_checked_before_importing_mlx_lm_are_its_own():
    for fmt in toolcalls.RECOVERED_FORMATS:
        mod = importlib.import_module(f"mlx_lm.tool_parsers.{fmt}")
        assert toolcalls.START_MARKERS[fmt] == mod.tool_call_start


async def test_streamed_text_calls_run_through_punie_serve(tmp_path, client):
    # One session, a prompt per shape (one agent process: it imports mlx-lm once).
    unoffered = json.dumps({"name": "delete_everything", "arguments": {}})
    shapes = sorted(SHAPES)
    async with TextCallServer(*(SHAPES[s] for s in shapes), unoffered) as server:
        async with running_agent(tmp_path, client, model=server.spec) as (conn, sid, ws):
            (ws / "notes.txt").write_text("the notes")
            for n, shape in enumerate(shapes, 1):
                resp = await ask(conn, sid, f"read my notes ({shape})")
                assert resp.stop_reason == "end_turn", shape
                assert client.final_statuses() == ["completed"] * n, shape
                assert client.text().endswith("saw: the notes"), shape
                call, result = server.requests[-1]["messages"][-2:]
                (sent,) = call["tool_calls"]
                assert sent["function"]["name"] == "read_file", shape
                assert json.loads(sent["function"]["arguments"]) == {"path": "notes.txt"}
                assert result["content"] == "the notes", shape
            # A call naming a tool that is not offered stays the answer.
            client.updates.clear()
            resp = await ask(conn, sid, "clean up")
    assert resp.stop_reason == "end_turn" and client.text() == unoffered
    assert not client.final_statuses()
    assert len(server.requests) == 2 * len(shapes) + 1
    assert all(r["stream"] is True for r in server.requests)
    log = (tmp_path / "home" / "logs" / "agent.log").read_text()
    assert log.count("recovered 1 tool call(s) from the reply text") == len(shapes)


class Frontend:
    def __init__(self):
        self.updates = []

    async def send(self, update):
        self.updates.append(update)

    async def ask_permission(self, tool_call, options):
        return "allow_once"


@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_a_text_call_in_a_plain_completion_runs(tmp_path, shape, caplog):
    from punie.agent.engine import build_agent
    from punie.agent.models import openai_model
    from punie.agent.tools import ToolEnv
    from punie.agent.workspace import Workspace

    (tmp_path / "notes.txt").write_text("the notes")
    env = ToolEnv(workspace=Workspace.at(tmp_path), frontend=Frontend())
    async with TextCallServer(SHAPES[shape]) as server:
        model = openai_model(server.base_url, "default_model")
        with caplog.at_level("INFO", logger="punie.agent"):
            result = await build_agent().run("read my notes", model=model, deps=env)
    assert result.output == "saw: the notes"
    assert [r["stream"] for r in server.requests] == [False, False]
    assert "recovered 1 tool call(s)" in caplog.text
