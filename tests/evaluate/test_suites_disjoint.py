"""Every built-in suite (tools, no-tool, tasks) comes as a dev and a test draw, and no
user turn of either draw is a near copy of a training turn or of the other draw.

Near copy (`punie.data.near`, which `punie data harvest` shares): the difflib ratio
of the two texts, lowercased with punctuation and runs of whitespace turned into
single spaces, is at least NEAR. At 0.85 the near copies the
exact-string checks let through score 0.90 and up ("what does http status 500 mean"
in training vs "... 404 ..." in the no-tool suite until 2026-12-03: 0.93; "how do i get
the current directory" vs "... current working directory": 0.89), while the closest
pairs left are other requests sharing a frame or a command: "what is the output of git
ls files library" (training) vs "i d like the output of git ls files bakery" (tasks-dev)
0.81, "give me a synonym of happy" vs "give me an antonym of ancient" 0.73.
"""

from __future__ import annotations

import re

import pytest

from punie.data.gen_pools import TRAIN
from punie.data.gen_task_prompts import PROMPT_POOLS
from punie.data.gen_tools import generate_tools
from punie.data.near import near_pairs
from punie.evaluate.suite import builtin_suites, load_any_suite

# Each suite family: its test draw (reported) and its dev draw (for choosing recipes).
DRAWS = {"tools": "tools-dev", "no-tool": "no-tool-dev", "tasks": "tasks-dev"}


def user_turns(name: str) -> list[str]:
    turns = []
    for case in load_any_suite(name).cases:
        turns += [m["content"] for m in case.messages if m["role"] == "user"]
        if getattr(case, "prompt", None):  # a task suite's case
            turns.append(case.prompt)
    return turns


@pytest.fixture(scope="module")
def training_turns() -> list[str]:
    """The demo's training rows (`punie demo` generates 600 tools rows with seed 0),
    and every question the no-tool banks hold, drawn by this seed or not."""
    rows = generate_tools(600, 0)["train"]
    turns = [m["content"] for r in rows for m in r["messages"] if m["role"] == "user"]
    return turns + [q for q, _ in TRAIN.qa] + [q for q, _, _ in PROMPT_POOLS["train"].direct]


def test_every_suite_family_has_a_dev_and_a_test_draw():
    assert set(builtin_suites()) >= set(DRAWS) | set(DRAWS.values())


@pytest.mark.parametrize("name", [*DRAWS, *DRAWS.values()])
def test_no_user_turn_of_a_draw_is_a_near_copy_of_a_training_turn(name, training_turns):
    assert near_pairs(training_turns, user_turns(name)) == []


@pytest.mark.parametrize("test_draw", DRAWS)
def test_the_dev_and_test_draws_share_no_near_copy(test_draw):
    assert near_pairs(user_turns(DRAWS[test_draw]), user_turns(test_draw)) == []


def _phrasings(pool: str) -> list[str]:
    """Every request phrasing of a prompt pool, placeholders as one word."""
    pr = PROMPT_POOLS[pool]
    out = []
    for field in pr.__dataclass_fields__:
        out += [x if isinstance(x, str) else x[0] for x in getattr(pr, field)]
    return [re.sub(r"\{\w+\}", "X", x) for x in out]


@pytest.mark.parametrize("pool", ["dev", "test"])
def test_no_dev_or_test_phrasing_is_a_near_copy_of_a_training_phrasing(pool):
    # What any seed can draw, not just the demo's: the templates themselves.
    assert near_pairs(_phrasings("train"), _phrasings(pool)) == []
