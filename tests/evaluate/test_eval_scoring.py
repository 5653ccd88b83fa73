"""Scoring is pure: every failure category, BFCL-style argument checks, raw-text parsing."""

from __future__ import annotations

import json

import pytest

from punie.evaluate.scoring import (
    Answer,
    normalise,
    score,
    type_ok,
)
from punie.evaluate.suite import Case

USER = [{"role": "user", "content": "x"}]


def tool_case(*calls, **kw) -> Case:
    return Case(
        id="c", category="t", messages=USER, tools="agent", expected_calls=list(calls), **kw
    )


READ = {"name": "read_file", "arguments": {"path": ["src/app.py"]}}
LIST = {"name": "list_dir", "arguments": {"path": ["."]}}


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


def test_exact_call_passes_from_api_tool_calls():
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
    assert s.failure == "bad_arguments" and "unknown" in s.detail


def test_wrong_type():
    s = score(
        tool_case(READ), Answer(raw_text=raw({"name": "read_file", "arguments": {"path": 3}}))
    )
    assert s.failure == "bad_arguments" and "should be string" in s.detail


def test_optional_argument_may_be_absent():
    case = tool_case({"name": "search", "arguments": {"pattern": ["TODO"], "path": [None, "src"]}})
    ok = Answer(raw_text=raw({"name": "search", "arguments": {"pattern": "TODO"}}))
    assert score(case, ok).passed
    bad = Answer(raw_text=raw({"name": "search", "arguments": {"pattern": "TODO", "path": "lib"}}))
    assert score(case, bad).failure == "bad_arguments"


def test_ignore_case_only_where_asked():
    case = tool_case(
        {"name": "search", "arguments": {"pattern": ["todo"]}, "ignore_case": ["pattern"]}
    )
    assert score(
        case, Answer(raw_text=raw({"name": "search", "arguments": {"pattern": " TODO "}}))
    ).passed
    path_case = tool_case(READ)
    upper = Answer(raw_text=raw({"name": "read_file", "arguments": {"path": "SRC/app.py"}}))
    assert score(path_case, upper).failure == "bad_arguments"


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
    [(" ./src/ ", "src"), ("./", "."), (".", "."), ("/", "/"), ("a/b", "a/b"), (3, 3)],
)
def test_normalise(value, expected):
    assert normalise(value) == expected


def test_type_ok_bool_is_not_integer():
    assert not type_ok(True, "integer") and type_ok(2, "number") and type_ok("x", None)
