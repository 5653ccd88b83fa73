"""Scoring is pure: every failure category, BFCL-style argument checks, raw-text parsing."""

from __future__ import annotations

import json

import pytest

from punie.evaluate.scoring import Answer, free_text, path_form, score
from punie.evaluate.suite import Case, acceptable

USER = [{"role": "user", "content": "x"}]


def tool_case(*calls, tools="agent", **kw) -> Case:
    return Case(id="c", category="t", messages=USER, tools=tools, expected_calls=list(calls), **kw)


READ = {"name": "read_file", "arguments": {"path": ["src/app.py"]}, "compare": {"path": "path"}}
LIST = {"name": "list_dir", "arguments": {"path": ["."]}, "compare": {"path": "path"}}


def raw(*objs) -> str:
    return "".join(f"<tool_call>{json.dumps(o)}</tool_call>" for o in objs)


def api(*objs) -> list[dict]:
    return [
        {
            "type": "function",
            "function": {"name": o["name"], "arguments": json.dumps(o["arguments"])},
        }
        for o in objs
    ]


def test_exact_call_passes_from_raw_text():
    s = score(
        tool_case(READ),
        Answer(raw_text=raw({"name": "read_file", "arguments": {"path": "src/app.py"}})),
    )
    assert s.passed and s.failure is None


def test_a_path_argument_is_compared_as_a_path():
    answer = Answer(
        tool_calls=api({"name": "read_file", "arguments": {"path": "./src/app.py"}}),
        finish_reason="tool_calls",
    )
    assert score(tool_case(READ), answer).passed


def test_no_call():
    assert score(tool_case(READ), Answer(content="It is a file.")).failure == "no_call"


def test_wrong_tool():
    s = score(
        tool_case(READ), Answer(raw_text=raw({"name": "list_dir", "arguments": {"path": "src"}}))
    )
    assert s.failure == "wrong_tool"


def test_wrong_value_is_bad_arguments():
    s = score(
        tool_case(READ),
        Answer(raw_text=raw({"name": "read_file", "arguments": {"path": "src/main.py"}})),
    )
    assert s.failure == "bad_arguments" and "not in" in s.detail


def test_missing_required_argument():
    s = score(tool_case(READ), Answer(raw_text=raw({"name": "read_file", "arguments": {}})))
    assert s.failure == "bad_arguments" and "required" in s.detail


def test_unknown_argument():
    call = {"name": "read_file", "arguments": {"path": "src/app.py", "mode": "r"}}
    s = score(tool_case(READ), Answer(raw_text=raw(call)))
    assert s.failure == "bad_arguments" and "'mode' was unexpected" in s.detail


def test_wrong_type():
    s = score(
        tool_case(READ), Answer(raw_text=raw({"name": "read_file", "arguments": {"path": 3}}))
    )
    assert s.failure == "bad_arguments" and "3 is not of type 'string'" in s.detail


def test_optional_argument_may_be_absent():
    case = tool_case({"name": "search", "arguments": {"pattern": ["TODO"], "path": [None, "src"]}})
    ok = Answer(raw_text=raw({"name": "search", "arguments": {"pattern": "TODO"}}))
    assert score(case, ok).passed
    bad = Answer(raw_text=raw({"name": "search", "arguments": {"pattern": "TODO", "path": "lib"}}))
    assert score(case, bad).failure == "bad_arguments"


def test_an_argument_the_answer_does_not_name_may_not_take_any_value():
    # search(path="/etc") is not search(pattern="TODO") anywhere in the workspace.
    case = tool_case({"name": "search", "arguments": {"pattern": ["TODO"]}})
    call = {"name": "search", "arguments": {"pattern": "TODO", "path": "/etc"}}
    s = score(case, Answer(raw_text=raw(call)))
    assert s.failure == "bad_arguments" and "path='/etc' is not in the expected answer" in s.detail


def _tool(name: str, **props) -> dict:
    params = {"type": "object", "properties": props}
    return {"type": "function", "function": {"name": name, "parameters": params}}


NOTE = _tool("note", text={"type": "string"}, pinned={"type": "boolean", "default": False})


def test_an_argument_the_answer_does_not_name_passes_at_its_schema_default():
    case = tool_case({"name": "note", "arguments": {"text": ["hi"]}}, tools=[NOTE])
    at_default = {"name": "note", "arguments": {"text": "hi", "pinned": False}}
    assert score(case, Answer(raw_text=raw(at_default))).passed
    moved = {"name": "note", "arguments": {"text": "hi", "pinned": True}}
    assert "nor its default False" in score(case, Answer(raw_text=raw(moved))).detail


def test_an_argument_declared_any_may_take_any_value_or_be_left_out():
    case = tool_case({"name": "note", "arguments": {}, "compare": {"text": "any"}}, tools=[NOTE])
    assert score(case, Answer(raw_text=raw({"name": "note", "arguments": {"text": "x"}}))).passed
    assert score(case, Answer(raw_text=raw({"name": "note", "arguments": {}}))).passed


def test_free_text_ignores_case_whitespace_and_bfcl_punctuation():
    case = tool_case(
        {"name": "note", "arguments": {"text": ["Buy milk, eggs."]}, "compare": {"text": "free"}},
        tools=[NOTE],
    )
    call = {"name": "note", "arguments": {"text": "buy  milk eggs"}}
    assert score(case, Answer(raw_text=raw(call))).passed


def test_an_undeclared_string_argument_is_exact():
    case = tool_case({"name": "note", "arguments": {"text": ["Buy milk."]}}, tools=[NOTE])
    call = {"name": "note", "arguments": {"text": "buy milk."}}
    assert score(case, Answer(raw_text=raw(call))).failure == "bad_arguments"


def test_a_pattern_is_exact_not_folded_in_case():
    # The search tool's regex is case-sensitive: TODO and todo find different lines.
    case = tool_case({"name": "search", "arguments": {"pattern": ["TODO"]}})
    call = {"name": "search", "arguments": {"pattern": "todo"}}
    assert score(case, Answer(raw_text=raw(call))).failure == "bad_arguments"


def test_a_path_keeps_its_case():
    upper = Answer(raw_text=raw({"name": "read_file", "arguments": {"path": "SRC/app.py"}}))
    assert score(tool_case(READ), upper).failure == "bad_arguments"


OPEN = _tool(
    "open",
    path={"type": "string"},
    options={
        "type": "object",
        "properties": {
            "mode": {"type": "string"},
            "encoding": {"type": "string"},
            "buffering": {"type": "integer", "default": -1},
        },
    },
)
OPEN_CALL = {
    "name": "open",
    "arguments": {
        "path": ["a.txt"],
        "options": [{"mode": ["r", "rb"], "encoding": ["utf-8", None]}],
    },
}


def test_a_nested_object_is_compared_key_by_key():
    call = {"name": "open", "arguments": {"path": "a.txt", "options": {"mode": "rb"}}}
    assert score(tool_case(OPEN_CALL, tools=[OPEN]), Answer(raw_text=raw(call))).passed


def test_a_nested_value_outside_its_acceptable_values_fails():
    call = {"name": "open", "arguments": {"path": "a.txt", "options": {"mode": "w"}}}
    s = score(tool_case(OPEN_CALL, tools=[OPEN]), Answer(raw_text=raw(call)))
    assert s.failure == "bad_arguments" and "options.mode='w' not in ['r', 'rb']" in s.detail


def test_a_nested_key_the_answer_does_not_name_must_be_at_its_default():
    ok = {"name": "open", "arguments": {"path": "a.txt", "options": {"mode": "r", "buffering": -1}}}
    assert score(tool_case(OPEN_CALL, tools=[OPEN]), Answer(raw_text=raw(ok))).passed
    bad = {"name": "open", "arguments": {"path": "a.txt", "options": {"mode": "r", "buffering": 0}}}
    s = score(tool_case(OPEN_CALL, tools=[OPEN]), Answer(raw_text=raw(bad)))
    assert "options.buffering=0 is not in the expected answer" in s.detail


def test_a_nested_key_takes_the_kind_declared_by_its_dotted_path():
    case = tool_case({**OPEN_CALL, "compare": {"options.mode": "free"}}, tools=[OPEN])
    call = {"name": "open", "arguments": {"path": "a.txt", "options": {"mode": "R"}}}
    assert score(case, Answer(raw_text=raw(call))).passed


def test_a_literal_answer_made_acceptable_matches_only_itself():
    # As flywheel.checkpoints builds cases from valid.jsonl rows: each nested key's
    # own value is its one acceptable value.
    value = {"mode": "r", "encoding": "utf-8"}
    case = tool_case(
        {"name": "open", "arguments": {"path": ["a.txt"], "options": [acceptable(value)]}},
        tools=[OPEN],
    )
    same_call = {"name": "open", "arguments": {"path": "a.txt", "options": value}}
    assert score(case, Answer(raw_text=raw(same_call))).passed
    other = {"name": "open", "arguments": {"path": "a.txt", "options": {"mode": "r"}}}
    assert "'options.encoding' missing" in score(case, Answer(raw_text=raw(other))).detail


GOTO = _tool("goto", line={"type": "integer"}, zoom={"type": "number"})
GOTO_CALL = {"name": "goto", "arguments": {"line": [3], "zoom": [2, None]}}


@pytest.mark.parametrize(
    "arguments,passed",
    [({"line": 3.0}, False), ({"line": True}, False), ({"line": 3, "zoom": 2}, True)],
)
def test_an_integer_is_an_int_literal_and_an_int_is_a_number(arguments, passed):
    s = score(
        tool_case(GOTO_CALL, tools=[GOTO]),
        Answer(raw_text=raw({"name": "goto", "arguments": arguments})),
    )
    assert s.passed is passed, s.detail


def test_true_does_not_equal_an_acceptable_1():
    case = tool_case({"name": "goto", "arguments": {"line": [1], "zoom": [1]}}, tools=[GOTO])
    call = {"name": "goto", "arguments": {"line": 1, "zoom": True}}
    assert score(case, Answer(raw_text=raw(call))).failure == "bad_arguments"


def test_several_calls_in_any_order():
    case = tool_case(READ, LIST)
    answer = Answer(
        raw_text=raw(
            {"name": "list_dir", "arguments": {"path": "./"}},
            {"name": "read_file", "arguments": {"path": "src/app.py"}},
        )
    )
    assert score(case, answer).passed


def test_missing_one_of_several_calls():
    case = tool_case(READ, LIST)
    answer = Answer(raw_text=raw({"name": "read_file", "arguments": {"path": "src/app.py"}}))
    assert score(case, answer).failure == "bad_arguments"


def test_malformed_call_is_format_error_not_no_call():
    answer = Answer(raw_text='<tool_call>{"name": "read_file", "arguments": {"path": }</tool_call>')
    assert score(tool_case(READ), answer).failure == "format_error"


def test_truncated_call_is_format_error():
    answer = Answer(raw_text='<tool_call>{"name": "read_file", "argu')
    assert score(tool_case(READ), answer).failure == "format_error"


def test_dropped_call_without_raw_text_is_format_error():
    # mlx_lm.server drops an unparseable call but keeps finish_reason tool_calls.
    answer = Answer(content=None, tool_calls=[], finish_reason="tool_calls")
    assert score(tool_case(READ), answer).failure == "format_error"


def test_markup_left_in_content_is_parsed():
    answer = Answer(content=raw({"name": "read_file", "arguments": {"path": "src/app.py"}}))
    assert score(tool_case(READ), answer).passed


def test_unexpected_call_on_no_tool_case():
    case = Case(id="n", category="chat", messages=USER, tools="agent", no_call=True)
    answer = Answer(raw_text=raw({"name": "run_command", "arguments": {"command": "ls"}}))
    assert score(case, answer).failure == "unexpected_call"
    assert score(case, Answer(content="Paris.", raw_text="Paris.")).passed


def test_keywords_alternatives_and_forbidden():
    case = Case(
        id="k",
        category="py",
        messages=USER,
        keywords=["decorator", ["wraps", "functools"]],
        forbidden=["I cannot"],
    )
    assert score(case, Answer(content="A Decorator... use functools.")).passed
    assert score(case, Answer(content="A decorator.")).failure == "missing_keyword"
    assert score(case, Answer(content="decorator wraps. I cannot")).failure == "missing_keyword"


@pytest.mark.parametrize(
    "error,category", [("timeout: 30s", "timeout"), ("server_error: refused", "server_error")]
)
def test_transport_errors(error, category):
    assert score(tool_case(READ), Answer(error=error)).failure == category


def test_string_arguments_are_format_error_as_the_server_double_encodes_them():
    # Punie's parser (mlx-lm's json_tools) keeps the string; mlx_lm.server json.dumps it
    # again, so the client gets a JSON string where an object belongs.
    call = {"name": "read_file", "arguments": json.dumps({"path": "src/app.py"})}
    s = score(tool_case(READ), Answer(raw_text=raw(call)))
    assert s.failure == "format_error" and "double-encoded" in s.detail


@pytest.mark.parametrize(
    "value,expected",
    [(" ./src/ ", "src"), ("./", "."), (".", "."), ("/", "/"), ("a/b", "a/b")],
)
def test_path_form(value, expected):
    assert path_form(value) == expected


def test_free_text_is_bfcls_standard_form():
    assert free_text("New York, N.Y. - it's_*^ \tBig") == 'newyorknyit"sbig'
