"""The runner end to end: the tiny model under a real managed mlx_lm.server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_fakes import RecordingServer, serving

from punie.errors import PunieError
from punie.evaluate.runner import EvalSettings, evaluate, run_suite
from punie.evaluate.suite import parse_suite
from punie.procs import free_port
from punie.serve.endpoints import Endpoint, open_endpoint

SMALL = """
name: small
max_tokens: 8
cases:
  - id: read
    category: read_file
    messages: [{role: user, content: "Read the file README.md"}]
    tools: agent
    expected_calls: [{name: read_file, arguments: {path: [README.md]}}]
  - id: chat
    category: no_tool
    messages: [{role: user, content: "What is the capital of France?"}]
    tools: agent
    no_call: true
  - id: py
    category: python
    messages: [{role: user, content: "Explain a decorator"}]
    keywords: [decorator]
  - id: listing
    category: list_dir
    messages: [{role: user, content: "List the directory src"}]
    tools: agent
    expected_calls: [{name: list_dir, arguments: {path: [src]}}]
  - id: run
    category: run_command
    messages: [{role: user, content: "Run pytest -q"}]
    tools: agent
    expected_calls: [{name: run_command, arguments: {command: [pytest -q]}}]
"""


@pytest.fixture
def suite():
    return parse_suite(SMALL, "small.yaml")


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


async def test_end_to_end_small_suite(tiny_model: Path, tmp_path: Path, suite):
    result = await evaluate(str(tiny_model), suite, tmp_path, progress=False)
    assert result.complete and result.n == 5
    # Every case has a verdict, and every failure exactly one known category.
    for c in result.cases:
        assert c.passed or c.failure in {
            "no_call",
            "wrong_tool",
            "bad_arguments",
            "format_error",
            "unexpected_call",
            "missing_keyword",
        }
        # The raw generation was decoded from token ids, so dropped calls would show.
        assert c.raw_text is not None
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["summary"]["n"] == 5
    assert len(_lines(tmp_path / "cases.jsonl")) == 5
    assert (tmp_path / "report.html").read_text().startswith("<!doctype html>")


async def test_same_run_twice_gives_same_answers(tiny_model: Path, tmp_path: Path, suite):
    a = await evaluate(str(tiny_model), suite, tmp_path / "a", progress=False)
    b = await evaluate(str(tiny_model), suite, tmp_path / "b", progress=False)
    assert [c.raw_text for c in a.cases] == [c.raw_text for c in b.cases]


async def test_first_case_runs_alone_so_the_rest_find_the_prompt_cache(tmp_path: Path, suite):
    # mlx_lm.server reuses a finished prompt's KV cache for the common prefix (the
    # tool listing); cases started together would all miss it.
    fake = RecordingServer()
    async with serving(fake) as ep:
        settings = EvalSettings(concurrency=4)
        result = await run_suite(ep, suite, tmp_path, settings=settings, progress=False)
    assert fake.seen[:2] == [0, 0]  # the second arrives only after the first finished
    assert max(fake.seen) == 3  # then four at a time
    assert all(c.cached_tokens == 7 for c in result.cases)


async def test_server_killed_mid_run_then_resume(tiny_model: Path, tmp_path: Path, suite):
    settings = EvalSettings(concurrency=1, retries=1)
    async with open_endpoint(str(tiny_model)) as ep:
        done = []

        def kill_after_two(case_result):
            done.append(case_result.id)
            if len(done) == 2:
                ep.server.kill()

        first = await run_suite(
            ep,
            suite,
            tmp_path,
            settings=settings,
            model_label="tiny",
            progress=False,
            on_case=kill_after_two,
        )
    assert [c.failure for c in first.cases].count("server_error") == 3
    assert (tmp_path / "results.json").exists()
    # Resume: only the server errors are asked again, under a new server.
    async with open_endpoint(str(tiny_model)) as ep:
        second = await run_suite(
            ep, suite, tmp_path, settings=settings, model_label="tiny", progress=False
        )
    assert all(c.failure != "server_error" for c in second.cases)
    assert len(_lines(tmp_path / "cases.jsonl")) == 5  # the latest record of each case


async def test_resume_skips_finished_cases(tiny_model: Path, tmp_path: Path, suite):
    async with open_endpoint(str(tiny_model)) as ep:
        await run_suite(ep, suite, tmp_path, model_label="tiny", progress=False)
        again = await run_suite(ep, suite, tmp_path, model_label="tiny", progress=False)
    assert again.n == 5
    assert len(_lines(tmp_path / "cases.jsonl")) == 5


async def test_a_line_cut_off_by_a_crash_does_not_swallow_the_next_case(tmp_path: Path, suite):
    # Found in review: the next append was glued to the cut-off fragment and lost.
    ep = Endpoint(f"http://127.0.0.1:{free_port()}/v1", "m")
    settings = EvalSettings(retries=0)
    await run_suite(ep, suite, tmp_path, settings=settings, model_label="m", progress=False)
    cases = tmp_path / "cases.jsonl"
    rows = _lines(cases)
    done = {**rows[0], "failure": None, "passed": True}  # pretend one case had finished
    cases.write_text(json.dumps(done) + "\n" + '{"id": "chat", "cut off by a cra')
    again = await run_suite(ep, suite, tmp_path, settings=settings, model_label="m", progress=False)
    assert [r["id"] for r in _lines(cases)].count(done["id"]) == 1
    assert {c.id for c in again.cases} == {c.id for c in suite.cases}
    assert len(_lines(cases)) == len(suite.cases)


async def test_out_dir_of_another_model_is_refused(tmp_path: Path, suite):
    ep = Endpoint(f"http://127.0.0.1:{free_port()}/v1", "m")
    settings = EvalSettings(retries=0)
    await run_suite(ep, suite, tmp_path, settings=settings, model_label="other", progress=False)
    with pytest.raises(PunieError, match="other inputs: model 'other' -> 'tiny' [(]"):
        await run_suite(ep, suite, tmp_path, settings=settings, model_label="tiny", progress=False)


async def test_unreachable_server_is_server_error_not_a_crash(tmp_path: Path, suite):
    ep = Endpoint(f"http://127.0.0.1:{free_port()}/v1", "m")
    result = await run_suite(ep, suite, tmp_path, settings=EvalSettings(retries=1), progress=False)
    assert {c.failure for c in result.cases} == {"server_error"}
    assert "ConnectError" in result.cases[0].detail


async def test_request_past_its_timeout_is_timeout(tiny_model: Path, tmp_path: Path, suite):
    settings = EvalSettings(timeout_s=0.0001, retries=0)
    async with open_endpoint(str(tiny_model)) as ep:
        result = await run_suite(ep, suite, tmp_path, settings=settings, progress=False)
    assert {c.failure for c in result.cases} == {"timeout"}
