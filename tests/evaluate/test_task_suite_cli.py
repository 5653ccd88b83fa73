"""Task suites from YAML: load_any_suite, `punie eval --suite`, and the tiny model end to end."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from punie.data.checks import check_row
from punie.errors import PunieError
from punie.evaluate.suite import load_any_suite, parse_any_suite
from punie.evaluate.task_runner import evaluate_tasks
from punie.evaluate.tasks import TaskSuite

sys.path.insert(0, str(Path(__file__).parents[1] / "agent"))
from fake_openai_server import FakeOpenAIServer  # noqa: E402

TASKS = """\
kind: tasks
name: mini-tasks
max_tokens: 16
max_calls: 2
cases:
- id: read-0
  category: read_answer
  workspace: {notes.txt: "the notes\\n"}
  prompt: Read notes.txt and tell me what it says.
  checks: {answer_contains: [the notes], called: [read_file]}
- id: chat-0
  category: no_tool
  prompt: What is 2 + 2?
  checks: {no_call: true, answer_contains: ["4"]}
"""


def test_load_any_suite_reads_either_kind(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text(TASKS)
    suite = load_any_suite(p)
    assert isinstance(suite, TaskSuite) and suite.budget(suite.cases[0]) == 2
    assert load_any_suite("tools").name == "tools"


def test_a_bad_task_suite_names_file_and_line():
    bad = TASKS.replace("checks: {no_call: true", "checks: {no_cal: true")
    with pytest.raises(PunieError) as err:
        parse_any_suite(bad, "t.yaml")
    assert "t.yaml:" in err.value.where and "no_cal" in str(err.value)


async def test_punie_eval_runs_a_task_suite(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text(TASKS)
    out = tmp_path / "out"
    async with FakeOpenAIServer("read_file", {"path": "notes.txt"}) as server:
        proc = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "punie", "eval", "--model", server.spec],
            *["--suite", str(p), "--out", str(out), "-j", "1"],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, stderr.decode()
    assert "calls/task" in stderr.decode()  # the task metrics, printed beside the score
    result = json.loads((out / "results.json").read_text())
    assert result["kind"] == "tasks" and result["summary"]["n"] == 2
    read = next(c for c in result["cases"] if c["id"] == "read-0")
    assert read["passed"] and read["content"] == "saw: the notes\n"


async def test_two_tasks_on_the_tiny_model_under_mlx_lm_server(tiny_model, tmp_path):
    suite = parse_any_suite(TASKS, "mini.yaml")
    result = await evaluate_tasks(str(tiny_model), suite, tmp_path, progress=False)
    assert result.complete and result.n == 2
    for c in result.cases:
        # It need not pass: every record must be complete, with its whole trace.
        assert c.ended_by in (
            "answer",
            "repeat_guard",
            "call_budget",
            "unusable_reply",
            "max_tokens",
        )
        assert c.passed or c.failure
        assert 1 <= c.model_calls <= 2
        assert c.trace["messages"][0]["role"] == "system"
        assert c.trace["messages"][1]["content"] == next(
            x.prompt for x in suite.cases if x.id == c.id
        )
        assert c.trace["tools"] and c.latency_s is not None
        if not c.invalid_calls and c.trace["messages"][-1]["role"] == "assistant":
            assert check_row(c.trace, "chat") == []
    assert (tmp_path / "report.html").exists()
