"""Generators: the exact agent tool specs, held-out pools disjoint from training."""

from __future__ import annotations

import json

from punie.data.gen_pools import TRAIN
from punie.data.gen_python import generate_python
from punie.data.gen_tools import generate_tools
from punie.data.gen_traces import TRAIN_MIX
from punie.data.generate import generate
from punie.data.validate import prompt_key, validate_path
from punie.toolspec import AGENT_TOOLS


def _user_texts(rows) -> set[str]:
    return {m["content"] for r in rows for m in r["messages"] if m["role"] == "user"}


def _arg_values(rows) -> set[str]:
    vals = set()
    for r in rows:
        for m in r["messages"]:
            for c in m.get("tool_calls") or ():
                vals.update(json.loads(c["function"]["arguments"]).values())
    return vals


def test_tools_rows_use_agent_tools_and_every_category():
    splits = generate_tools(400, seed=1)
    rows = [r for rs in splits.values() for r in rs]
    # Only the synthetic-tool rows offer other tools (beside Punie's, or instead).
    assert all(r["tools"] == AGENT_TOOLS for r in rows if r["category"] != "other_tools")
    assert {r["category"] for r in splits["train"]} == set(TRAIN_MIX)


def test_heldout_requests_and_argument_values_differ_from_train():
    splits = generate_tools(600, seed=2)
    train, held = splits["train"], splits["valid"] + splits["test"]
    assert not _user_texts(train) & _user_texts(held)
    assert not _arg_values(train) & _arg_values(held)
    assert not {prompt_key(r) for r in train} & {prompt_key(r) for r in held}


def test_train_argument_values_rarely_repeat():
    # A handful of values repeated in every row teaches a small model to emit them
    # instead of copying the one the user names.
    rows = generate_tools(600, seed=3)["train"]
    calls = [
        json.loads(c["function"]["arguments"])
        for r in rows
        for m in r["messages"]
        for c in m.get("tool_calls") or ()
    ]
    paths = [a["path"] for a in calls if "path" in a]
    commands = [a["command"] for a in calls if "command" in a]
    assert len(set(paths)) > len(paths) / 3
    assert max(paths.count(p) for p in set(paths)) < len(paths) / 20
    assert len(set(commands)) >= 25


def test_train_rows_are_whole_traces_ending_in_an_answer():
    # Not expanded any more: training masks every assistant turn of a row at once, and
    # every row ends with the answer after the last tool result.
    train = generate_tools(200, seed=4)["train"]
    for r in train:
        last = r["messages"][-1]
        assert last["role"] == "assistant" and last["content"] and not last.get("tool_calls")
    multi = [r for r in train if r["category"] == "multi_step"]
    ends = {sum(m["role"] == "assistant" for m in r["messages"]) for r in multi}
    assert ends == {3}


def test_same_seed_same_bytes(tmp_path):
    generate("tools", tmp_path / "a", n=50, seed=9)
    generate("tools", tmp_path / "b", n=50, seed=9)
    for split in ("train", "valid", "test"):
        assert (tmp_path / "a" / f"{split}.jsonl").read_bytes() == (
            tmp_path / "b" / f"{split}.jsonl"
        ).read_bytes()


def test_python_set_has_unique_requests_and_disjoint_heldout(tmp_path):
    splits = generate_python(500, seed=0)
    train, held = splits["train"], splits["valid"] + splits["test"]
    texts = [m["content"] for r in train + held for m in r["messages"] if m["role"] == "user"]
    assert len(texts) == len(set(texts))
    assert not _user_texts(train) & _user_texts(held)
    generate("python", tmp_path / "py", n=500, seed=0)
    report = validate_path(tmp_path / "py")
    assert report.ok and not report.warnings


def test_every_pool_value_makes_a_valid_row():
    # An empty tool result or file content fails validation only when a seed draws it.
    assert all(cmd and out and summary for cmd, out, summary in TRAIN.commands)
    assert all(name and desc and text for name, desc, text in TRAIN.contents)
    assert all(q and a for q, a in TRAIN.qa)


def test_no_training_row_asks_what_a_builtin_suite_asks():
    # The suites are committed files: a bank that grows must not move their
    # questions into train (5 of the 14 no-tool questions were there until 25 Nov).
    from punie.evaluate.suite import builtin_suites, load_any_suite

    asked = set()
    for name in builtin_suites():
        for case in load_any_suite(name).cases:
            asked |= {m["content"].strip() for m in case.messages if m["role"] == "user"}
            if getattr(case, "prompt", None):  # task suites
                asked.add(case.prompt.strip())
    train = generate_tools(600, seed=0)["train"] + generate_python(500, seed=0)["train"]
    assert not {t.strip() for t in _user_texts(train)} & asked


def test_train_answers_commands_that_name_no_file_and_calls_tools_for_those_that_do():
    # Every read/list/run request starts with a command verb; without direct answers to
    # "Show me how to ..." the tuned model called read_file on them.
    verbs = ("Show me", "Give me", "Write")
    answered, called = set(), set()
    for row in generate_tools(600, seed=0)["train"]:
        user = next(m["content"] for m in row["messages"] if m["role"] == "user")
        if not user.startswith(verbs):
            continue
        if any(m.get("tool_calls") or m["role"] == "tool" for m in row["messages"]):
            called.add(user)
        else:
            answered.add(user)
    assert len(answered) >= 5 and len(called) >= 5, (answered, called)


def test_train_answers_many_closing_thanks_directly():
    # Requests to act are statements; with 4 statements of thanks in train, tuned
    # adapters called a tool on "Thanks, that's all for now.".
    thanks = set()
    for row in generate_tools(600, seed=0)["train"]:
        if any(m.get("tool_calls") for m in row["messages"]):
            continue
        user = next(m["content"] for m in row["messages"] if m["role"] == "user")
        if not user.rstrip().endswith("?") and ("thank" in user.lower() or "cheers" in user):
            thanks.add(user)
    assert len(thanks) >= 8, thanks
