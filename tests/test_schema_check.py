"""The one JSON Schema check: Punie's integer rule, strict objects, and a shape memo
that never changes a verdict."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from punie.schema_check import (
    SchemaInvalid,
    _compiled,
    argument_problems,
    checker_for,
    is_type,
    problems,
)

LINE = {
    "type": "function",
    "function": {
        "name": "goto",
        "parameters": {
            "type": "object",
            "properties": {"line": {"type": "integer"}, "scale": {"type": "number"}},
            "required": ["line"],
        },
    },
}


def test_a_float_with_no_fraction_is_not_an_integer():
    # JSON Schema itself counts 3.0 as an integer; Punie's tool arguments do not.
    assert argument_problems(LINE, {"line": 3.0}) == ["goto.line: 3.0 is not of type 'integer'"]


def test_a_boolean_is_neither_integer_nor_number():
    assert argument_problems(LINE, {"line": True}) == ["goto.line: True is not of type 'integer'"]
    assert argument_problems(LINE, {"line": 1, "scale": False})


def test_an_int_is_a_number():
    assert argument_problems(LINE, {"line": 3, "scale": 2}) == []


def test_a_key_the_schema_does_not_name_is_refused_unless_it_allows_extras():
    assert "'col' was unexpected" in argument_problems(LINE, {"line": 1, "col": 2})[0]
    open_schema = {**LINE["function"]["parameters"], "additionalProperties": True}
    assert problems({"line": 1, "col": 2}, open_schema) == []


def test_an_invalid_schema_is_an_error_not_a_crash():
    with pytest.raises(SchemaInvalid, match="type"):
        checker_for({"type": "object", "properties": {"n": {"type": "int"}}})


def test_is_type_follows_the_same_rules():
    assert not is_type(3.0, "integer") and is_type(3, "number") and not is_type(True, "number")


SCHEMAS = [
    LINE["function"]["parameters"],
    {"type": "object", "properties": {"mode": {"enum": ["r", "w"]}, "n": {"type": "integer"}}},
    {"type": "object", "properties": {"xs": {"type": "array", "items": {"type": "string"}}}},
]
VALUES = st.dictionaries(
    st.sampled_from(["line", "scale", "mode", "n", "xs", "col"]),
    st.one_of(
        st.integers(),
        st.floats(allow_nan=False),
        st.booleans(),
        st.sampled_from(["r", "w", "x"]),
        st.lists(st.one_of(st.text(max_size=2), st.integers()), max_size=2),
    ),
    max_size=3,
)


@given(st.sampled_from(range(len(SCHEMAS))), st.lists(VALUES, min_size=1, max_size=6))
@settings(max_examples=200, deadline=None)
def test_a_remembered_shape_gives_the_verdict_a_fresh_validator_gives(which, values):
    # Every value through one memoising checker, and each through a fresh one that has
    # seen nothing: the memo may only skip work, never change an answer.
    text = json.dumps(SCHEMAS[which], sort_keys=True)
    warm = checker_for(SCHEMAS[which])
    for value in values:
        fresh = _compiled.__wrapped__(text, True)
        assert warm(value) == fresh.problems(value, "arguments"), value


def test_the_memo_is_used_for_plain_tool_schemas():
    # Without it, a jsonschema call per tool call would cost the dataset check ~3x.
    assert _compiled.__wrapped__(json.dumps(LINE["function"]["parameters"]), True).memo == set()
    assert _compiled.__wrapped__(json.dumps(SCHEMAS[1]), True).memo is None


def test_data_validation_the_scorer_and_the_agent_check_agree_on_3_0():
    # Before this module, the dataset check accepted 3.0 as an integer and the scorer
    # rejected it: one validator answers all three now.
    from punie.data.checks import check_row
    from punie.data.schema import tool_call
    from punie.evaluate.scoring import Answer, score
    from punie.evaluate.suite import Case

    args = {"line": 3.0}
    row = {
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": "", "tool_calls": [tool_call("c1", "goto", args)]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            {"role": "assistant", "content": "Done."},
        ],
        "tools": [LINE],
    }
    case = Case(
        id="c",
        category="t",
        messages=[{"role": "user", "content": "go"}],
        tools=[LINE],
        expected_calls=[{"name": "goto", "arguments": {"line": [3]}}],
    )
    raw = '<tool_call>{"name": "goto", "arguments": {"line": 3.0}}</tool_call>'
    verdicts = [
        [p for p, _hint in check_row(row, "chat")],
        [score(case, Answer(raw_text=raw)).detail],
        argument_problems(LINE, args),
    ]
    assert all(len(v) == 1 and v[0].endswith("3.0 is not of type 'integer'") for v in verdicts)
