"""Traces: one chat-JSONL row per attempt, exactly what the chat model was sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_task_fakes import scripted, suite_of

from punie.agent.models import openai_model
from punie.data.checks import check_row
from punie.evaluate.runner import EvalSettings
from punie.evaluate.task_runner import run_case
from punie.toolspec import SYSTEM_PROMPT

sys.path.insert(0, str(Path(__file__).parents[1] / "agent"))
from fake_openai_server import FakeOpenAIServer  # noqa: E402

CASE = {
    "id": "t",
    "category": "read",
    "workspace": {"notes.txt": "the notes\n"},
    "prompt": "read my notes",
    "checks": {"called": ["read_file"]},
}
SCRIPT = [
    ("read_file", {"path": "notes.txt", "bogus": 1}),  # fails the agent's argument check
    ("read_file", '{"path": '),  # unparseable: pydantic-ai answers with a retry
    ("read_file", {"path": "notes.txt"}),
    "They say: the notes.",
]


async def _run(model, case=CASE):
    suite = suite_of(case)
    return await run_case(model, suite.cases[0], suite, EvalSettings())


async def test_a_trace_is_a_valid_chat_row():
    r = await _run(scripted(SCRIPT[2:]))
    assert r.passed and not r.invalid_calls
    assert check_row(r.trace, "chat") == []


async def test_a_trace_shows_invalid_calls_as_the_model_made_them():
    r = await _run(scripted(SCRIPT))
    assert r.passed and len(r.invalid_calls) == 2
    row = r.trace
    # The chat-row check flags exactly the two calls the agent refused, nothing else.
    problems = check_row(row, "chat")
    assert {p[0].split(":")[0].split(" ")[0] for p in problems} <= {"messages[2]", "messages[4]"}
    assert problems
    msgs = row["messages"]
    assert msgs[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert msgs[1] == {"role": "user", "content": "read my notes"}
    assert [m["role"] for m in msgs[2:]] == ["assistant", "tool"] * 3 + ["assistant"]
    assert msgs[-1]["content"] == "They say: the notes."
    assert msgs[3]["content"].startswith("error: read_file: invalid arguments")
    assert "error" in json.loads(msgs[5]["content"])  # the retry, as pydantic-ai sends it
    assert [t["function"]["name"] for t in row["tools"]][0] == "read_file"


async def test_a_trace_that_ended_on_the_repeat_guard_still_validates():
    r = await _run(scripted([("read_file", {"path": "notes.txt"})]))
    assert r.ended_by == "repeat_guard"
    assert check_row(r.trace, "chat") == []
    assert r.trace["messages"][-1]["tool_calls"]  # the call the guard refused ends it


async def test_a_prior_conversation_is_part_of_the_trace():
    prior = [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "Hi! What can I do?"},
    ]
    r = await _run(scripted(SCRIPT[2:]), {**CASE, "messages": prior})
    assert r.trace["messages"][1:3] == prior
    assert check_row(r.trace, "chat") == []


async def test_a_trace_passes_check_format_on_the_tiny_model(tiny_model, tmp_path):
    r = await _run(scripted(SCRIPT[2:]))
    path = tmp_path / "trace.jsonl"
    path.write_text(json.dumps(r.trace) + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "punie", "data", "check-format", str(path), "-m", str(tiny_model)],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _args_parsed(messages):
    out = json.loads(json.dumps(messages))
    for m in out:
        for c in m.get("tool_calls") or []:
            c["function"]["arguments"] = json.loads(c["function"]["arguments"])
    return out


async def test_the_trace_is_what_pydantic_ai_sends_to_an_openai_server():
    async with FakeOpenAIServer("read_file", {"path": "notes.txt"}) as server:
        r = await _run(openai_model(f"http://127.0.0.1:{server.port}/v1", "default_model"))
    assert r.ended_by == "answer" and r.content == "saw: the notes\n"
    last = server.requests[-1]
    # The server saw everything before the answer; pydantic-ai compacts the arguments
    # JSON (`{"path":"x"}`), the trace writes it canonically: compared parsed.
    assert _args_parsed(r.trace["messages"][:-1]) == _args_parsed(last["messages"])
    assert r.trace["tools"] == last["tools"]
    # pydantic-ai adds strictness flags to Punie's specs: the trace records them as sent.
    assert any(t["function"].get("strict") for t in last["tools"])
