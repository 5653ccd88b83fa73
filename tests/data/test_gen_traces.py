"""Whole traces from real tool runs, and the TRAIN pool's distance from the task suites."""

from __future__ import annotations

import asyncio
import json
import random
import re
from pathlib import Path

import pytest

from punie.data.checks import check_row
from punie.data.gen_plans import BUILDERS, TASK_CATEGORIES
from punie.data.gen_task_prompts import PROMPT_POOLS
from punie.data.gen_traces import TRAIN_MIX, fixed_env, play, run_steps, trace_rows, write_workspace
from punie.data.gen_vocab import TRAIN_DIRS, TRAIN_FILES
from punie.data.gen_workspaces import WS_POOLS
from punie.data.generate import build
from punie.data.near import near_pairs, norm
from punie.evaluate.gen_tasks import task_suite


@pytest.fixture(scope="module")
def train_rows():
    return build("tools", 600, 0)["train"]


@pytest.fixture(scope="module")
def suites():
    return {pool: task_suite(pool) for pool in ("dev", "test")}


def _users(rows) -> list[str]:
    return [m["content"] for r in rows for m in r["messages"] if m["role"] == "user"]


def test_every_generated_row_is_valid_chat(train_rows):
    splits = build("tools", 100, 5)
    for row in train_rows + splits["valid"] + splits["test"]:
        assert check_row(row, "chat") == [], row
        assert row["category"] and row["tools"]


def test_the_mix_has_every_category_and_a_fifth_direct_answers(train_rows):
    cats = [r["category"] for r in train_rows]
    assert set(cats) == set(TRAIN_MIX)
    assert 0.12 < cats.count("no_tool") / len(cats) < 0.3


def test_answers_use_what_the_tools_returned(train_rows):
    for r in train_rows:
        tool_texts = [m["content"] for m in r["messages"] if m["role"] == "tool"]
        answer = r["messages"][-1]["content"]
        if r["category"] == "list_answer":
            assert all(f"`{name}`" in answer for name in tool_texts[0].splitlines())
        elif r["category"] == "run_report":
            code = tool_texts[0].splitlines()[0].removeprefix("exit code ")
            assert f"code {code}" in answer
        elif r["category"] == "read_answer" and "returns" in answer:
            expr = answer.split("returns `")[1].rstrip("`.")
            assert f"return {expr}" in tool_texts[0]


def test_tool_results_equal_a_rerun_of_execute(tmp_path):
    # Played once, then re-run on a fresh copy of the workspace elsewhere: the same
    # bytes, so what training shows is what the agent returns at serve time.
    rng = random.Random(11)
    ws, pr = WS_POOLS["train"], PROMPT_POOLS["train"]
    with fixed_env():
        for i in range(40):
            plan = BUILDERS[list(BUILDERS)[i % len(BUILDERS)]](rng, ws, pr)
            msgs = asyncio.run(play(plan, tmp_path / f"a{i}"))
            (tmp_path / f"b{i}").mkdir()
            write_workspace(plan, tmp_path / f"b{i}")
            again = asyncio.run(run_steps(plan, tmp_path / f"b{i}"))
            assert [m["content"] for m in msgs if m["role"] == "tool"] == again


def _calls(row) -> list[tuple[str, dict]]:
    return [
        (c["function"]["name"], json.loads(c["function"]["arguments"]))
        for m in row["messages"]
        for c in m.get("tool_calls") or ()
    ]


def _results(row) -> list[str]:
    return [m["content"] for m in row["messages"] if m["role"] == "tool"]


def test_a_recovery_trace_holds_a_real_error_then_a_successful_call(train_rows):
    recoveries = [r for r in train_rows if r["category"] == "recovery"]
    assert len(recoveries) >= 10
    for r in recoveries:
        results = _results(r)
        assert results[0].startswith("error: ")
        assert "no such file" in results[0] or "old_text not found" in results[0]
        assert not results[-1].startswith("error")
        assert r["messages"][-1]["content"]


def test_an_edit_recovery_retries_with_the_text_its_miss_named(train_rows):
    retries = [
        r for r in train_rows if r["category"] == "recovery" and _calls(r)[0][0] == "edit_file"
    ]
    assert len(retries) >= 3
    for r in retries:
        (_, miss), (name, retry) = _calls(r)
        first, second = _results(r)
        assert name == "edit_file" and miss["old_text"] != retry["old_text"]
        hint = first.split(":\n", 1)[1].splitlines()
        assert retry["old_text"] in hint, first  # the retry copies the named region
        assert second == f"edited {retry['path']} at line 1"


def test_edit_traces_edit_with_edit_file_mostly_and_stay_a_small_share(train_rows):
    edits = [r for r in train_rows if r["category"] == "edit_file"]
    last = [_calls(r)[-1][0] for r in edits]
    assert set(last) == {"edit_file", "write_file"}
    assert last.count("edit_file") > last.count("write_file")
    with_edit = [r for r in train_rows if "edit_file" in {n for n, _ in _calls(r)}]
    assert len(with_edit) < 0.12 * len(train_rows)


def test_edit_plans_really_edit_their_workspace(tmp_path):
    # Every way: read+edit_file, read+write_file, and a missed edit_file then its retry.
    rng = random.Random(3)
    ws, pr = WS_POOLS["train"], PROMPT_POOLS["train"]
    ways: set[tuple[str, ...]] = set()
    with fixed_env():
        for i in range(40):
            plan = BUILDERS["edit_file" if i % 2 else "recovery"](rng, ws, pr)
            if plan.steps[-1][0] not in ("edit_file", "write_file"):
                continue  # a recovery that is not an edit
            ways.add(tuple(name for name, _ in plan.steps))
            root = tmp_path / f"w{i}"
            msgs = asyncio.run(play(plan, root))
            ((path, wants),) = plan.checks["files_contain"].items()
            assert all(w in (root / path).read_text() for w in wants), (plan.prompt, msgs)
            assert not _results({"messages": msgs})[-1].startswith("error")
    assert ways == {
        ("read_file", "edit_file"),
        ("read_file", "write_file"),
        ("edit_file", "edit_file"),
    }


def test_generation_is_deterministic_and_ignores_the_cwd(tmp_path, monkeypatch):
    first = trace_rows(80, 3)
    monkeypatch.chdir(tmp_path)
    assert json.dumps(trace_rows(80, 3)) == json.dumps(first)


def test_train_prompts_are_neither_copies_nor_near_copies_of_task_prompts(train_rows, suites):
    task_prompts = [c["prompt"] for s in suites.values() for c in s["cases"]]
    train = _users(train_rows)
    assert not {norm(t) for t in train} & {norm(t) for t in task_prompts}
    assert near_pairs(train, task_prompts) == []


def _vocab_items(ws) -> dict[str, set]:
    return {
        "dirs": set(ws.dirs),
        "verbs": set(ws.verbs),
        "nouns": set(ws.nouns),
        "params": {p for pair in ws.params for p in pair},
        "text files": {name for name, _ in ws.texts},
        "text lines": {line for _, lines in ws.texts for line in lines},
        "settings": {s for k in ws.settings for s in k[:1]},
        "settings files": set(ws.settings_files),
        "prints": {p for pr in ws.prints for p in pr},
        "writes": {w for pair in ws.writes for w in pair},
        "commits": set(ws.commits),
    }


def test_workspace_pools_are_disjoint_from_each_other_and_from_single_turn_training():
    items = {pool: _vocab_items(ws) for pool, ws in WS_POOLS.items()}
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        for field in items[a]:
            assert not items[a][field] & items[b][field], (a, b, field)
    for pool in ("dev", "test"):  # the single-turn training vocabulary stays out too
        assert not items[pool]["dirs"] & set(TRAIN_DIRS)
        assert not {f"{n}.py" for n in items[pool]["nouns"]} & set(TRAIN_FILES)


def test_prompt_pools_share_no_phrasing_or_question():
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        pa, pb = PROMPT_POOLS[a], PROMPT_POOLS[b]
        for field in pa.__dataclass_fields__:
            left = {x if isinstance(x, str) else x[0] for x in getattr(pa, field)}
            right = {x if isinstance(x, str) else x[0] for x in getattr(pb, field)}
            assert not left & right, (a, b, field)


def test_workspace_contents_and_identifiers_of_train_never_reach_a_suite(suites):
    rng = random.Random(5)
    ws, pr = WS_POOLS["train"], PROMPT_POOLS["train"]
    train_files: dict[str, str] = {}
    for i in range(600):
        train_files.update(BUILDERS[TASK_CATEGORIES[i % 7]](rng, ws, pr).workspace)
    suite_files = {
        p: c
        for s in suites.values()
        for case in s["cases"]
        for p, c in case.get("workspace", {}).items()
    }

    def idents(files):
        return {n for c in files.values() for n in re.findall(r"def (\w+)", c)}

    def names(files):
        return {Path(p).name for p in files} | {str(Path(p).parent) for p in files}

    assert not set(train_files.values()) & set(suite_files.values())
    assert not idents(train_files) & idents(suite_files)
    assert not (names(train_files) & names(suite_files)) - {"."}


def test_the_acceptance_workspace_is_in_no_pool(train_rows, suites):
    text = json.dumps(train_rows) + json.dumps(suites)
    assert "calc.py" not in text and "a + b" not in text
    assert not re.search(r"def add\(|\badd\(", text)


def test_six_hundred_rows_come_from_a_few_hundred_distinct_workspace_values(train_rows):
    paths = [
        json.loads(c["function"]["arguments"]).get("path")
        for r in train_rows
        for m in r["messages"]
        for c in m.get("tool_calls") or ()
    ]
    paths = [p for p in paths if p]
    assert len(set(paths)) > len(paths) / 3
