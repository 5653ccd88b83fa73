"""Regenerate the built-in suites, each in a test draw and a dev draw, then the list of
what they ask (`punie/data/suite_requests.json`, which training holds out):

    python -m punie.evaluate.gen_suites

| family  | test draw (reported) | dev draw (recipes, sweeps) | made of                      |
|---------|----------------------|----------------------------|------------------------------|
| tools   | `tools`              | `tools-dev`                | a plan's request, its first call |
| no-tool | `no-tool`            | `no-tool-dev`              | questions, small talk        |
| tasks   | `tasks`              | `tasks-dev`                | whole plans (`gen_tasks`)    |

All three come from the plans the training traces are made of (`punie.data.gen_plans`)
on the TEST and DEV pools, whose phrasings and values are disjoint from training and
from each other, so a model scores by having learned the tools, not by remembering
training strings. The files are committed; run this again when the pools change.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from punie.data.gen_plans import Plan
from punie.data.gen_task_prompts import PROMPT_POOLS
from punie.data.gen_traces import fixed_env, run_steps, trace_messages, write_workspace
from punie.evaluate.gen_tasks import category_plans
from punie.evaluate.suite import SUITES_DIR, parse_suite
from punie.toolspec import SYSTEM_PROMPT

# Pool -> (tools suite, no-tool suite, seed). The task suites draw with seeds 0 and 1:
# other seeds here, so a single-turn case is not the first turn of a task case.
DRAWS = {"test": ("tools", "no-tool", 2), "dev": ("tools-dev", "no-tool-dev", 3)}
PER_CATEGORY = 6
# A tools-suite category -> the plan category whose first call it asks for.
FIRST_CALL_OF = {
    "read_file": "read_answer",
    "write_file": "write_file",
    "edit_file": "edit_file",
    "list_dir": "list_answer",
    "search": "search_read",
    "run_command": "run_report",
    "multi_step": "multi_step",
}
TOOL_CATEGORIES = tuple(FIRST_CALL_OF)
NO_TOOL_CATEGORIES = ("general", "small_talk", "coding")

# How the tools suite compares each argument: paths as paths (`./src/` is `src`),
# commands and regex patterns exactly (the tool would run or search something else),
# and a written file's content not at all (the schema still requires a string).
# An edit's old_text and new_text exactly, as the one pair the read result shows
# (`key = old` -> `key = new`, what the training traces send): arguments are compared
# one by one, so alternatives with more context (the whole file, a trailing newline)
# would also pass mismatched pairs that break the file. An edit quoting more context
# is still right and counts as a miss here; the tasks suite, which checks the file's
# contents, counts it. replace_all changes nothing when the text occurs once.
TOOL_COMPARE = {
    "read_file.path": "path",
    "write_file.path": "path",
    "write_file.content": "any",
    "edit_file.path": "path",
    "edit_file.old_text": "exact",
    "edit_file.new_text": "exact",
    "edit_file.replace_all": "any",
    "list_dir.path": "path",
    "search.pattern": "exact",
    "search.path": "path",
    "run_command.command": "exact",
}


def _expected(name: str, args: dict[str, Any]) -> dict[str, Any]:
    if name == "search":
        # Asked which file defines a function: the bare name, a call or the def line
        # all find the one file that has it (the workspace's other file is text).
        f = args["pattern"]
        patterns = [f, f"{f}(", f"def {f}", f"def {f}("]
        return {"name": name, "arguments": {"pattern": patterns, "path": [None, "."]}}
    if name == "write_file":
        return {"name": name, "arguments": {"path": [args["path"]]}}
    return {"name": name, "arguments": {k: [v] for k, v in args.items()}}


def _asked(prompt: str) -> list[dict[str, Any]]:
    """The request as Punie's agent sends it: its system prompt, then the user turn."""
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]


def _after_first_call(plan: Plan, root: Path) -> list[dict[str, Any]]:
    """The request, the plan's first call and that call's real result (the tools run
    on the plan's workspace), so the case asks for the second call."""
    first = dataclasses.replace(plan, steps=plan.steps[:1])
    root.mkdir(parents=True)
    write_workspace(first, root)
    results = asyncio.run(run_steps(first, root))
    return [_asked(plan.prompt)[0], *trace_messages(first, results)[:-1]]  # no answer


def _tool_case(plan: Plan, category: str, case_id: str, root: Path) -> dict[str, Any]:
    # An edit's first call reads the file: the edit itself is the call worth asking for.
    edit = category == "edit_file"
    messages = _after_first_call(plan, root) if edit else _asked(plan.prompt)
    name, args = _asked_call(plan, category)
    return {
        "id": case_id,
        "category": category,
        "messages": messages,
        "tools": "agent",
        "expected_calls": [_expected(name, args)],
    }


def _asked_call(plan: Plan, category: str) -> tuple[str, dict[str, Any]]:
    return plan.steps[1] if category == "edit_file" else plan.steps[0]


def _new_call(category: str) -> Callable[[Plan], bool]:
    """Keeps a plan whose asked-for call no earlier case of the category asks for (the
    TEST pool has six folders: six listings, not six phrasings of one)."""
    seen: set[str] = set()

    def keep(plan: Plan) -> bool:
        if category == "edit_file" and plan.steps[1][0] != "edit_file":
            # One edit plan in three rewrites the file with write_file: right too, but
            # a single-turn case names one call, and this category asks for edit_file.
            return False
        name, args = _asked_call(plan, category)
        if name == "edit_file":  # the same change in another folder is the same edit
            args = {k: v for k, v in args.items() if k != "path"}
        key = json.dumps([name, args], sort_keys=True)
        if key in seen:
            return False
        seen.add(key)
        return True

    return keep


def tool_plans(pool: str) -> dict[str, list[Plan]]:
    """Each tools-suite category's plans: distinct requests asking distinct calls."""
    seed = DRAWS[pool][2]
    return {
        c: category_plans(pool, FIRST_CALL_OF[c], PER_CATEGORY, seed, _new_call(c))
        for c in TOOL_CATEGORIES
    }


def tools_suite(pool: str) -> dict[str, Any]:
    by_cat = tool_plans(pool)
    with tempfile.TemporaryDirectory(prefix="punie-suites-") as tmp, fixed_env():
        cases = [
            _tool_case(by_cat[c][i], c, f"{c}-{i + 1:02d}", Path(tmp) / f"{c}{i}")
            for i in range(PER_CATEGORY)
            for c in TOOL_CATEGORIES
        ]
    return {
        "name": DRAWS[pool][0],
        "description": (
            f"Punie's agent tools, one expected call per case: a task plan's request and "
            f"its first call (an edit's second), {pool.upper()} pool."
        ),
        "max_tokens": 96,
        "compare": TOOL_COMPARE,
        "cases": cases,
    }


def no_tool_suite(pool: str) -> dict[str, Any]:
    """The pool's direct questions, small talk and coding questions, round-robin by
    category, each offered the tools."""
    pr = PROMPT_POOLS[pool]
    by_cat = {
        "general": [q for q, _, _ in pr.direct],
        "small_talk": [q for q, kind in pr.chat if kind == "small_talk"],
        "coding": [q for q, kind in pr.chat if kind == "coding"],
    }
    cases = [
        {
            "id": f"{c}-{i + 1:02d}",
            "category": c,
            "messages": _asked(by_cat[c][i]),
            "tools": "agent",
            "no_call": True,
        }
        for i in range(max(map(len, by_cat.values())))
        for c in NO_TOOL_CATEGORIES
        if i < len(by_cat[c])
    ]
    return {
        "name": DRAWS[pool][1],
        "description": (
            f"Questions and small talk offered the tools ({pool.upper()} pool): "
            "the right answer calls none."
        ),
        "max_tokens": 64,
        "cases": cases,
    }


def suite_text(data: dict[str, Any], pool: str) -> str:
    text = (
        "# Generated by `python -m punie.evaluate.gen_suites` from the "
        f"{pool.upper()} pool; do not edit by hand.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    )
    parse_suite(text, data["name"])  # never write a suite that would not load
    return text


def single_turn_texts() -> dict[str, str]:
    """File name -> text of every single-turn draw."""
    out = {}
    for pool, build in itertools.product(DRAWS, (tools_suite, no_tool_suite)):
        data = build(pool)
        out[f"{data['name']}.yaml"] = suite_text(data, pool)
    return out


def main() -> None:
    from punie.evaluate.asked import write_requests_file
    from punie.evaluate.gen_tasks import write_task_suites

    for name, text in single_turn_texts().items():
        (SUITES_DIR / name).write_text(text, encoding="utf-8")
    write_task_suites(SUITES_DIR)
    # The generator holds out every request a suite asks: rewrite that list too.
    write_requests_file()


if __name__ == "__main__":
    main()
