"""punie.evaluate.harvested on hand-built harvested rows: the workspace a recorded turn
found, the checks a rerun must pass, and each reason a row is skipped."""

from __future__ import annotations

import itertools

from punie.data.schema import tool_call
from punie.evaluate.harvested import case_from_row, suite_from_rows
from punie.toolspec import AGENT_TOOLS, READ_FILE, WRITE_FILE

SYSTEM = {"role": "system", "content": "You are Punie."}
_ids = itertools.count()


def turn(prompt: str, *steps) -> list[dict]:
    """A user prompt, then (tool, args, result) calls, then a str answer."""
    out: list[dict] = [{"role": "user", "content": prompt}]
    for step in steps:
        if isinstance(step, str):
            out.append({"role": "assistant", "content": step})
            continue
        name, args, result = step
        cid = f"call_{next(_ids)}"
        out.append(
            {"role": "assistant", "content": None, "tool_calls": [tool_call(cid, name, args)]}
        )
        out.append({"role": "tool", "tool_call_id": cid, "content": result})
    return out


def row(*turns: list[dict], tools=None, sid="s" * 32, tid="t" * 16) -> dict:
    messages = [SYSTEM] + [m for t in turns for m in t]
    meta = {"source": "trace", "session_id": sid, "turn_id": tid}
    return {"messages": messages, "tools": tools or AGENT_TOOLS, "meta": meta}


CALC = "def add(a, b):\n    return a - b\n"
FIX = turn(
    "fix add in calc.py",
    ("read_file", {"path": "calc.py"}, CALC),
    ("edit_file", {"path": "calc.py", "old_text": "a - b", "new_text": "a + b"}, "edited"),
    ("run_command", {"command": "python -m pytest -q"}, "exit code 0\n1 passed\n"),
    "Fixed.",
)


def case(r: dict) -> dict:
    return case_from_row(r, "c")


def skipped(r: dict) -> list[str]:
    suite, skips = suite_from_rows([("test.jsonl:1", r)])
    assert suite is None
    return [s["reason"] for s in skips]


def test_the_prompt_is_the_last_user_turn_and_earlier_turns_are_the_conversation():
    earlier = turn("hi", "Hello!")
    c = case(row(earlier, FIX))
    assert c["prompt"] == "fix add in calc.py"
    assert c["messages"] == earlier  # the system turn is the agent's own


def test_a_read_files_result_is_its_text_in_the_workspace():
    assert case(row(FIX))["workspace"] == {"calc.py": CALC}


def test_the_checks_are_the_turns_tools_commands_and_what_its_edits_left():
    checks = case(row(FIX))["checks"]
    assert checks == {
        "called": ["read_file", "edit_file", "run_command"],
        "commands": ["python -m pytest -q"],
        "files_contain": {"calc.py": ["a + b"]},
        "max_tool_calls": 5,
    }


def test_the_call_budget_is_a_little_above_the_recorded_calls():
    c = case(row(FIX))
    assert c["checks"]["max_tool_calls"] == 3 + 2 and c["max_calls"] == 5 + 2


def test_a_name_list_dir_showed_but_nobody_read_is_an_empty_file_and_folders_are_left_out():
    listing = turn("what is here", ("list_dir", {"path": "."}, "src/\nREADME.md\ncalc.py"), "Two.")
    ws = case(row(listing))["workspace"]
    assert ws == {"README.md": "", "calc.py": ""}


def test_an_earlier_turns_write_is_in_the_workspace_the_turn_found():
    wrote = turn(
        "make notes", ("write_file", {"path": "notes.md", "content": "a\n"}, "wrote"), "Ok."
    )
    ask = turn("show notes", ("list_dir", {"path": "."}, "notes.md"), "notes.md")
    assert case(row(wrote, ask))["workspace"] == {"notes.md": "a\n"}


def test_what_the_turn_read_wins_over_what_earlier_turns_showed():
    earlier = turn("read", ("read_file", {"path": "calc.py"}, "old\n"), "Old.")
    assert case(row(earlier, FIX))["workspace"] == {"calc.py": CALC}


def test_a_file_the_turn_wrote_first_and_no_earlier_turn_showed_starts_absent():
    new = turn("make it", ("write_file", {"path": "out.txt", "content": "x\n"}, "wrote"), "Done.")
    c = case(row(new))
    assert c["workspace"] == {} and c["checks"]["files_contain"] == {"out.txt": ["x"]}


def test_only_what_is_still_in_the_file_at_the_end_is_checked():
    steps = turn(
        "write then fix",
        ("write_file", {"path": "a.py", "content": "x = 1\ny = 2\n"}, "wrote"),
        ("edit_file", {"path": "a.py", "old_text": "y = 2", "new_text": "y = 3"}, "edited"),
        "Done.",
    )
    assert case(row(steps))["checks"]["files_contain"] == {"a.py": ["y = 3"]}


def test_a_direct_answer_checks_that_no_tool_is_called():
    c = case(row(turn("what is a decorator?", "A function wrapping a function.")))
    assert c["checks"] == {"no_call": True} and c["category"] == "answers"


def test_a_git_command_gives_the_workspace_a_repository():
    steps = turn("status?", ("run_command", {"command": "git status"}, "clean"), "Clean.")
    assert case(row(steps))["git"] is True


def test_a_row_offering_fewer_tools_offers_the_same_in_its_case():
    steps = turn("show a", ("read_file", {"path": "a"}, "1"), "1")
    tools = case(row(steps, tools=[READ_FILE, WRITE_FILE]))["tools"]
    assert [t["function"]["name"] for t in tools] == ["read_file", "write_file"]


def test_an_edit_of_a_file_never_shown_is_skipped():
    steps = turn(
        "fix", ("edit_file", {"path": "b.py", "old_text": "1", "new_text": "2"}, "ok"), "Ok."
    )
    assert skipped(row(steps)) == ["unknown_base"]


def test_an_absolute_path_is_skipped_since_a_row_does_not_say_where_the_workspace_was():
    steps = turn("read", ("read_file", {"path": "/home/me/a.py"}, "x"), "x")
    assert skipped(row(steps)) == ["path_outside"]


def test_a_truncated_read_is_skipped():
    text = "x" * 10 + "\n[truncated: showing 10 of 99 bytes]"
    steps = turn("read", ("read_file", {"path": "big.txt"}, text), "Big.")
    assert skipped(row(steps)) == ["truncated_read"]


def test_a_call_to_a_tool_the_runner_lacks_is_skipped():
    steps = turn("notes", ("ide_notes", {"q": 1}, "x"), "x")
    assert skipped(row(steps)) == ["unknown_tool"]


def test_the_same_session_and_turn_twice_is_one_case():
    r = row(FIX)
    suite, skips = suite_from_rows([("a/test.jsonl:1", r), ("b/test.jsonl:1", r)])
    assert len(suite["cases"]) == 1 and [s["reason"] for s in skips] == ["duplicate"]
    assert skips[0]["where"] == "b/test.jsonl:1"


def test_case_ids_name_the_session_and_turn():
    suite, _ = suite_from_rows([("t:1", row(FIX, sid="abcdef0123" * 3, tid="9876543210"))])
    assert suite["cases"][0]["id"] == "abcdef01-98765432"


def test_two_turns_whose_ids_start_alike_are_two_cases():
    one, two = row(FIX, sid="a" * 32, tid="b" * 16), row(FIX, sid="a" * 32, tid="b" * 8 + "c" * 8)
    suite, _ = suite_from_rows([("t:1", one), ("t:2", two)])
    assert [c["id"] for c in suite["cases"]] == [
        "aaaaaaaa-bbbbbbbb",
        "a" * 32 + "-" + "b" * 8 + "c" * 8,
    ]


def test_a_search_before_the_read_leaves_the_read_its_file():
    steps = turn(
        "where is add?",
        ("search", {"pattern": "def add", "path": "calc.py"}, "calc.py:1: def add(a, b):"),
        ("read_file", {"path": "calc.py"}, CALC),
        "In calc.py.",
    )
    assert case(row(steps))["workspace"] == {"calc.py": CALC}


def test_a_file_an_earlier_listing_showed_exists_before_the_turn_writes_it():
    listing = turn("what is here", ("list_dir", {"path": "."}, "notes.md"), "notes.md")
    write = turn("fill it", ("write_file", {"path": "notes.md", "content": "x\n"}, "wrote"), "Ok.")
    assert case(row(listing, write))["workspace"] == {"notes.md": ""}


def test_a_file_the_turn_created_and_then_listed_starts_absent():
    steps = turn(
        "make it",
        ("write_file", {"path": "new.txt", "content": "x\n"}, "wrote"),
        ("list_dir", {"path": "."}, "new.txt"),
        "Done.",
    )
    assert case(row(steps))["workspace"] == {}
