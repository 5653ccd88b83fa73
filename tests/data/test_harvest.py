"""punie.data.harvest on hand-built trace records (the format of docs/traces.md):
positives, pairs, every drop reason, correction cues, the time split, dedupe, leakage."""

from __future__ import annotations

import itertools

import pytest

from punie.data.gen_python import suite_requests
from punie.data.harvest import (
    Checks,
    Turn,
    classify,
    correction_cue,
    harvest,
    normalised,
    split_sessions,
)
from punie.data.schema import tool_call
from punie.toolspec import READ_FILE, RUN_COMMAND, WRITE_FILE

SYSTEM = {"role": "system", "content": "You are Punie, a coding assistant."}
TOOLS = [READ_FILE, WRITE_FILE, RUN_COMMAND]
_ids = itertools.count()
OK, REJ, FAIL = "succeeded", "rejected", "failed"


def perm(answer: str | None) -> dict | None:
    if answer is None:
        return None
    kind = {"approved": "allow_once", "rejected": "reject_once"}.get(answer)
    return {"answer": answer, "kind": kind, "remembered": False}


def turn(
    prompt: str,
    steps=(),
    *,
    sid: str = "s1",
    at: str = "2026-03-01T10:00:00+00:00",
    ended_by: str = "answer",
    answer: str = "Done.",
    next_prompt: str | None = None,
    command: str | None = None,
) -> Turn:
    """A turn record; steps are (tool, args, status, permission answer or None)."""
    messages = [SYSTEM, {"role": "user", "content": prompt}]
    calls = []
    for i, (tool, args, status, answer_) in enumerate(steps):
        cid = f"call_{i}"
        messages.append(
            {"role": "assistant", "content": None, "tool_calls": [tool_call(cid, tool, args)]}
        )
        result = "ok" if status == OK else f"error: {tool} did not work"
        messages.append({"role": "tool", "tool_call_id": cid, "content": result})
        calls.append(
            {
                "tool": tool,
                "server": None,
                "arguments": args,
                "model_call_id": cid,
                "row_call_id": cid,
                "call_id": f"{cid}-{i}",
                "permission": perm(answer_),
                "status": status,
                "error": None if status == OK else result,
            }
        )
    messages.append({"role": "assistant", "content": answer})
    tid = f"t{next(_ids)}"
    rec = {
        "type": "turn",
        "format": 1,
        "session_id": sid,
        "turn_id": tid,
        "source": "serve",
        "workspace": "/w",
        "started_at": at,
        "time": at,
        "ended_by": ended_by,
        "prompt": prompt,
        "error": "",
        "calls": calls,
        "turn_start": 1,
        "row": None
        if ended_by in ("cancelled", "error")
        else {"messages": messages, "tools": TOOLS},
    }
    nxt = None
    if next_prompt is not None:
        nxt = {
            "type": "next_prompt",
            "format": 1,
            "turn_id": tid,
            "prompt": next_prompt,
            "command": command,
        }
    return Turn(f"{sid}.jsonl:{next(_ids)}", rec, nxt)


READ = ("read_file", {"path": "a.py"}, OK, None)
WRITE_BAD = ("write_file", {"path": "a.py", "content": "bad"}, REJ, "rejected")
WRITE_OK = ("write_file", {"path": "a.py", "content": "good"}, OK, "approved")
READ_MISSING = ("read_file", {"path": "nope.py"}, FAIL, None)


def reasons(t: Turn, checks: Checks = Checks()) -> list[str]:
    (out,) = harvest([t], checks).outcomes
    return [k for k, _ in out.reasons]


def test_an_allowed_succeeded_uncorrected_turn_is_its_row_as_a_positive():
    t = turn("show a.py", [READ, ("run_command", {"command": "ls"}, OK, "approved")])
    result = harvest([t], Checks())
    (row,) = result.positives["train"]
    assert row["messages"] == t.record["row"]["messages"] and row["tools"] == TOOLS
    assert row["meta"] == {"source": "trace", "session_id": "s1", "turn_id": t.record["turn_id"]}
    assert result.outcomes[0].positive and result.outcomes[0].reasons == []


def test_a_rejected_call_then_an_approved_one_is_a_pair_split_at_the_rejected_message():
    t = turn("write a.py", [WRITE_BAD, WRITE_OK])
    (pair,) = harvest([t], Checks()).pairs["train"]
    messages = t.record["row"]["messages"]
    assert pair["messages"] == messages[:2]  # system + the prompt
    assert pair["rejected"] == messages[2] and pair["chosen"] == messages[4]
    assert pair["meta"]["rejected"] == "write_file" and pair["meta"]["status"] == REJ


def test_a_failed_call_then_a_call_needing_no_permission_is_a_pair():
    t = turn("show nope.py", [READ_MISSING, READ])
    (pair,) = harvest([t], Checks()).pairs["train"]
    assert pair["messages"][-1]["role"] == "user"
    assert pair["chosen"]["tool_calls"][0]["function"]["arguments"] == '{"path": "a.py"}'


def test_a_pair_sits_mid_trace_after_earlier_results():
    t = turn("read then write", [READ, WRITE_BAD, WRITE_OK])
    (pair,) = harvest([t], Checks()).pairs["train"]
    assert [m["role"] for m in pair["messages"]] == ["system", "user", "assistant", "tool"]


def test_a_turn_with_a_rejected_call_is_never_a_positive():
    result = harvest([turn("write a.py", [WRITE_BAD, WRITE_OK])], Checks())
    assert result.positives == {} and reasons(turn("w", [WRITE_BAD, WRITE_OK])) == ["negative"]


def test_a_rejected_call_with_no_allowed_call_after_it_is_unpaired():
    t = turn("write a.py", [READ, WRITE_BAD])
    assert reasons(t) == ["negative", "unpaired"]
    assert harvest([t], Checks()).pairs == {}


def test_a_call_rejected_after_an_approved_one_does_not_pair_backwards():
    assert reasons(turn("write a.py", [WRITE_OK, WRITE_BAD])) == ["negative", "unpaired"]


@pytest.mark.parametrize(
    ("ended_by", "reason"),
    [
        ("cancelled", "cancelled"),
        ("error", "no_row"),
        ("max_tokens", "no_answer"),
        ("call_budget", "no_answer"),
        ("context_full", "no_answer"),
        ("unusable_reply", "no_answer"),
    ],
)
def test_a_turn_that_did_not_end_with_an_answer_is_dropped(ended_by, reason):
    assert reasons(turn("write a.py", [WRITE_BAD, WRITE_OK], ended_by=ended_by)) == [reason]


def test_a_corrected_turn_gives_neither_a_positive_nor_pairs():
    fine = turn("show a.py", [READ], next_prompt="no, the other file")
    paired = turn("write a.py", [WRITE_BAD, WRITE_OK], next_prompt="that's not what I asked")
    result = harvest([fine, paired], Checks())
    assert (result.positives, result.pairs) == ({}, {})
    assert [o.reasons[0][0] for o in result.outcomes] == ["correction", "correction"]


@pytest.mark.parametrize(
    "prompt",
    [
        "no, the other file",
        "No.",
        "nope",
        "Wrong file",
        "undo that",
        "please revert it",
        "That's not right",
        "that is not what I wanted",
        "try again",
        "use b.py instead",
        "still wrong",
        "it didn't work",
        "I meant the test file",
        "roll back the change",
        "That\u2019s not it",
        "this is incorrect",
    ],
)
def test_a_next_prompt_with_a_correction_cue_is_a_correction(prompt):
    assert correction_cue(prompt) is not None


@pytest.mark.parametrize(
    "prompt",
    [
        "thanks",
        "now do the same for b.py",
        "no problem, next: run the tests",
        "No worries",
        "what's wrong with this code?",
        "note that down",
        "knowledge check",
        "great, commit it",
    ],
)
def test_a_follow_up_without_a_cue_is_not_a_correction(prompt):
    assert correction_cue(prompt) is None


def test_a_slash_command_is_never_a_correction():
    assert correction_cue("/clear no", "clear") is None


def test_the_last_turn_of_a_session_has_no_next_prompt_and_is_kept():
    assert harvest([turn("show a.py", [READ])], Checks()).outcomes[0].positive


def test_a_cancelled_call_in_an_answered_turn_drops_it():
    assert reasons(
        turn("run ls", [("run_command", {"command": "ls"}, "cancelled", "cancelled")])
    ) == ["call_cancelled"]


def test_a_call_of_the_row_that_never_reached_the_runner_drops_the_turn():
    t = turn("show a.py", [READ])
    t.record["calls"].clear()  # pydantic-ai refused its arguments: in the row only
    assert reasons(t) == ["unrecorded_call"]


def test_an_mcp_call_drops_the_turn_its_tool_is_not_declared():
    t = turn("shout", [("shout", {"text": "hi"}, OK, "approved")])
    t.record["calls"][0]["server"] = "notes"
    assert reasons(t) == ["mcp_tool"]


def test_a_row_failing_validation_is_dropped_with_the_problem():
    t = turn("show a.py", [READ], answer="")  # an empty final assistant turn
    (out,) = harvest([t], Checks()).outcomes
    assert out.reasons[0][0] == "invalid" and "assistant turn is empty" in out.reasons[0][1]


def test_a_pair_whose_chosen_call_breaks_its_schema_is_dropped_invalid():
    bad_ok = ("write_file", {"path": "a.py"}, OK, "approved")  # no content
    (out,) = harvest([turn("write a.py", [WRITE_BAD, bad_ok])], Checks()).outcomes
    assert out.pairs == 0 and out.reasons[-1][0] == "invalid"


def test_a_near_copy_of_a_suite_request_is_dropped_as_leakage():
    asked = sorted(suite_requests())[0]
    checks = Checks(suite_requests=normalised(suite_requests()))
    t = turn(asked.upper().replace("?", "!!"), [READ])
    assert reasons(t, checks) == ["suite_leak"]


def test_a_request_unlike_every_suite_request_is_not_leakage():
    checks = Checks(suite_requests=normalised(suite_requests()))
    assert reasons(turn("rename the helper in zqx_internal.py", [READ]), checks) == []


def test_a_row_already_in_existing_data_is_dropped_as_duplicate():
    from punie.data.validate import near_key

    t = turn("show a.py", [READ])
    checks = Checks(existing=frozenset({near_key(t.record["row"])}))
    assert reasons(t, checks) == ["duplicate"]


def test_of_two_identical_turns_the_older_sessions_is_kept():
    old = turn("show a.py", [READ], sid="old", at="2026-01-01T00:00:00+00:00")
    new = turn("show a.py", [READ], sid="new", at="2026-02-01T00:00:00+00:00")
    result = harvest([new, old], Checks())
    by_sid = {o.session_id: o for o in result.outcomes}
    assert by_sid["old"].positive
    assert [k for k, _ in by_sid["new"].reasons] == ["duplicate_harvest"]


def test_a_length_check_drops_a_row_it_finds_too_long():
    checks = Checks(too_long=lambda row: "999 tokens > 10")
    assert reasons(turn("show a.py", [READ]), checks) == ["too_long"]


def test_a_pair_whose_rejected_side_is_too_long_is_dropped():
    checks = Checks(too_long=lambda row: "long" if "bad" in str(row["messages"][-1]) else None)
    (out,) = harvest([turn("write a.py", [WRITE_BAD, WRITE_OK])], checks).outcomes
    assert out.pairs == 0 and out.reasons[-1] == ("too_long", "pair: long")


@pytest.mark.parametrize(
    ("n", "sizes"),
    [(1, (1, 0, 0)), (2, (1, 1, 0)), (5, (4, 1, 0)), (10, (8, 1, 1)), (20, (16, 2, 2))],
)
def test_the_newest_fifth_of_sessions_is_held_out_valid_before_test(n, sizes):
    splits = split_sessions([f"s{i}" for i in range(n)])
    assert tuple(list(splits.values()).count(s) for s in ("train", "valid", "test")) == sizes
    held = [s for s in splits.values() if s != "train"]
    assert held == sorted(held, key=("valid", "test").index)
    assert list(splits.values())[: sizes[0]] == ["train"] * sizes[0]


def test_sessions_split_by_their_first_turn_time_not_record_order():
    days = {
        "a": "2026-01-05",
        "b": "2026-01-01",
        "c": "2026-01-03",
        "d": "2026-01-02",
        "e": "2026-01-04",
    }
    turns = [
        turn(f"task {sid}", [READ], sid=sid, at=f"{day}T00:00:00+00:00")
        for sid, day in days.items()
    ]
    result = harvest(turns, Checks())
    assert {o.session_id: o.split for o in result.outcomes} == {
        "b": "train",
        "d": "train",
        "c": "train",
        "e": "train",
        "a": "valid",
    }


def test_a_session_is_never_split_across_even_when_its_later_turns_are_newest():
    early = turn("task one", [READ], sid="long", at="2026-01-01T00:00:00+00:00")
    late = turn("task two", [READ], sid="long", at="2026-01-09T00:00:00+00:00")
    mid = turn("task three", [READ], sid="short", at="2026-01-05T00:00:00+00:00")
    result = harvest([early, late, mid], Checks())
    assert {(o.session_id, o.split) for o in result.outcomes} == {
        ("long", "train"),
        ("short", "valid"),
    }


def test_sessions_that_gave_nothing_take_no_place_in_the_split():
    newest_empty = turn("x", ended_by="cancelled", sid="z", at="2026-09-01T00:00:00+00:00")
    kept = [
        turn(f"task {i}", [READ], sid=f"s{i}", at=f"2026-01-0{i + 1}T00:00:00+00:00")
        for i in range(2)
    ]
    result = harvest([*kept, newest_empty], Checks())
    assert set(result.positives) == {"train", "valid"}


def test_classify_of_a_positive_has_no_reasons_before_the_checks():
    out, row, pairs = classify(turn("show a.py", [READ]))
    assert (out.reasons, pairs) == ([], []) and row is not None


def test_counts_list_each_reason_once_per_turn():
    result = harvest([turn("write", [WRITE_BAD, WRITE_OK]), turn("w2", [WRITE_BAD])], Checks())
    assert result.counts() == {"negative": 2, "pairs": 1, "unpaired": 1}


def test_sessions_started_in_the_same_second_are_ordered_by_their_files_last_write():
    from dataclasses import replace

    at = "2026-01-01T00:00:00+00:00"
    first = replace(turn("task one", [READ], sid="zzz", at=at), mtime_ns=1)
    second = replace(turn("task two", [READ], sid="aaa", at=at), mtime_ns=2)
    result = harvest([second, first], Checks())
    assert {o.session_id: o.split for o in result.outcomes} == {"zzz": "train", "aaa": "valid"}
