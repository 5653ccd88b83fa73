"""run_task_suite: records, resume, the settings guard, results and compare."""

from __future__ import annotations

import json

import pytest
from test_task_fakes import scripted, suite_of

from punie.errors import PunieError
from punie.evaluate.compare import compare
from punie.evaluate.results import TaskCaseResult, load_result
from punie.evaluate.runner import EvalSettings
from punie.evaluate.task_runner import run_task_suite

A = {"id": "a", "category": "read", "prompt": "read it", "workspace": {"f.txt": "42\n"}}
B = {"id": "b", "category": "chat", "prompt": "hi", "checks": {"no_call": True}}
SCRIPTS = {"read it": [("read_file", {"path": "f.txt"}), "It says 42."], "hi": ["Hello!"]}


def _suite():
    return suite_of({**A, "checks": {"answer_contains": ["42"], "called": ["read_file"]}}, B)


async def test_a_suite_writes_complete_task_records(tmp_path):
    res = await run_task_suite(scripted(SCRIPTS), _suite(), tmp_path, progress=False)
    assert res.kind == "tasks" and res.complete and res.passed == 2
    lines = [json.loads(x) for x in (tmp_path / "cases.jsonl").read_text().splitlines()]
    rec = next(x for x in lines if x["id"] == "a")
    assert rec["ended_by"] == "answer" and rec["model_calls"] == 2
    assert rec["content"] == "It says 42."
    assert rec["calls"][0]["name"] == "read_file" and rec["calls"][0]["ok"] is True
    assert rec["trace"]["messages"][-1] == {"role": "assistant", "content": "It says 42."}
    assert rec["latency_s"] is not None
    summary = json.loads((tmp_path / "results.json").read_text())["summary"]
    assert summary["tasks"]["mean_model_calls"] == 1.5
    assert summary["per_category"]["read"]["accuracy"] == 1.0
    assert (tmp_path / "report.html").exists()


async def test_load_result_gives_back_task_records(tmp_path):
    await run_task_suite(scripted(SCRIPTS), _suite(), tmp_path, progress=False)
    back = load_result(tmp_path)
    assert back.kind == "tasks" and all(isinstance(c, TaskCaseResult) for c in back.cases)
    assert back.cases[0].trace["messages"]


async def test_resume_keeps_the_done_cases(tmp_path):
    await run_task_suite(scripted(SCRIPTS), _suite(), tmp_path, progress=False)
    path = tmp_path / "cases.jsonl"
    kept = [x for x in path.read_text().splitlines() if json.loads(x)["id"] == "a"]
    path.write_text(kept[0] + "\n" + '{"id": "b", "cut off by a cra')  # interrupted
    seen = []
    res = await run_task_suite(
        scripted(SCRIPTS), _suite(), tmp_path, progress=False, on_case=lambda r: seen.append(r.id)
    )
    assert seen == ["b"] and res.complete and res.passed == 2
    assert [json.loads(x)["id"] for x in path.read_text().splitlines()] == ["a", "b"]


async def test_server_errors_are_asked_again_on_resume(tmp_path):
    await run_task_suite(scripted(SCRIPTS), _suite(), tmp_path, progress=False)
    path = tmp_path / "cases.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    rows[0].update(failure="server_error", passed=False)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    seen = []
    await run_task_suite(
        scripted(SCRIPTS), _suite(), tmp_path, progress=False, on_case=lambda r: seen.append(r.id)
    )
    assert seen == [rows[0]["id"]]


async def test_a_folder_written_with_other_settings_is_refused(tmp_path):
    await run_task_suite(scripted(SCRIPTS), _suite(), tmp_path, progress=False)
    with pytest.raises(PunieError, match="settings.max_tokens"):
        await run_task_suite(
            scripted(SCRIPTS), _suite(), tmp_path, settings=EvalSettings(max_tokens=7)
        )


async def test_compare_two_task_results_and_refuse_a_single_turn_one(tmp_path):
    base = await run_task_suite(scripted(SCRIPTS), _suite(), tmp_path / "a", progress=False)
    worse = {"read it": ["No idea."], "hi": ["Hello!"]}
    new = await run_task_suite(
        scripted(worse), _suite(), tmp_path / "b", progress=False, model_label="scripted"
    )
    cmp = compare(base, new)
    assert cmp.broken == ["a"] and cmp.verdict == "REGRESSION"
    assert cmp.task_metrics["mean_model_calls"] == (1.5, 1.0)
    single = base.model_copy(update={"kind": "single"})
    with pytest.raises(PunieError, match="task suite"):
        compare(single, new)


async def test_the_report_shows_each_task_as_a_conversation(tmp_path):
    scripts = {**SCRIPTS, "read it": [("read_file", {"path": "f.txt"}), "<b>42</b>"]}
    await run_task_suite(scripted(scripts), _suite(), tmp_path, progress=False)
    html = (tmp_path / "report.html").read_text()
    assert "Task evaluation" in html and "model calls / task" in html
    assert "read_file({&#34;path&#34;: &#34;f.txt&#34;})" in html  # the call, escaped
    assert "&lt;b&gt;42&lt;/b&gt;" in html and "<b>42" not in html  # autoescaped answer
    assert "<details><summary>tool result</summary>" in html


async def test_the_comparison_page_lists_task_metrics(tmp_path):
    from punie.evaluate.compare import write_comparison

    base = await run_task_suite(scripted(SCRIPTS), _suite(), tmp_path / "a", progress=False)
    new = await run_task_suite(scripted(SCRIPTS), _suite(), tmp_path / "b", progress=False)
    write_comparison(base, new, tmp_path)
    assert "Task metrics" in (tmp_path / "comparison.html").read_text()
