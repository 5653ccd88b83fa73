"""The schema keeps every row exactly as read: tools, tool_calls, ids and extra keys."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from punie.data.files import load_examples, write_rows
from punie.data.schema import ChatExample, canonical_arguments, parse_row, tool_call
from punie.toolspec import AGENT_TOOLS

_text = st.text(min_size=1, max_size=20).filter(str.strip)
_json_scalar = st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none())
_args = st.dictionaries(st.text(min_size=1, max_size=8), _json_scalar, max_size=3)
_extra = st.dictionaries(
    st.sampled_from(["category", "meta", "source", "weight"]),
    st.one_of(_json_scalar, st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)),
    max_size=2,
)


# A value of each JSON type a tool parameter declares, so drawn calls fit the schema.
_BY_TYPE = {"string": st.text(max_size=12), "boolean": st.booleans(), "integer": st.integers()}


def _agent_call(draw, call_id: str) -> dict:
    spec = draw(st.sampled_from(AGENT_TOOLS))["function"]
    props = spec["parameters"]["properties"]
    args = {k: draw(_BY_TYPE[p["type"]]) for k, p in props.items()}
    return tool_call(call_id, spec["name"], args)


@st.composite
def chat_rows(draw, valid: bool = False) -> dict:
    messages = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(_text)})
    for turn in range(draw(st.integers(1, 3))):
        messages.append({"role": "user", "content": draw(_text), **draw(_extra)})
        if draw(st.booleans()):
            calls = [
                _agent_call(draw, f"call_{turn}_{k}")
                if valid
                else tool_call(f"call_{turn}_{k}", draw(_text), draw(_args))
                for k in range(draw(st.integers(1, 2)))
            ]
            msg = {"role": "assistant", "tool_calls": calls}
            if draw(st.booleans()):
                msg["content"] = draw(st.one_of(st.none(), _text))
            messages.append(msg)
            for c in calls:
                messages.append({"role": "tool", "tool_call_id": c["id"], "content": draw(_text)})
        messages.append({"role": "assistant", "content": draw(_text)})
    row = {"messages": messages, **draw(_extra)}
    if valid or draw(st.booleans()):
        row["tools"] = AGENT_TOOLS
    return row


@given(chat_rows())
@settings(max_examples=150, deadline=None)
def test_chat_row_round_trips_through_the_model(row):
    assert parse_row(row).to_dict() == row


@given(
    st.one_of(
        st.fixed_dictionaries({"prompt": _text, "completion": _text}),
        st.fixed_dictionaries({"text": _text}),
    ),
    _extra,
)
@settings(max_examples=50, deadline=None)
def test_completion_and_text_rows_round_trip(row, extra):
    row = {**row, **extra}
    assert parse_row(row).to_dict() == row


@given(st.lists(chat_rows(valid=True), min_size=1, max_size=4))
@settings(max_examples=25, deadline=None)
def test_file_round_trip_is_lossless(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("rt") / "train.jsonl"
    write_rows(path, rows)
    loaded = load_examples(path)
    assert all(isinstance(e, ChatExample) for e in loaded)
    assert [e.to_dict() for e in loaded] == rows
    write_rows(path, loaded)
    assert [
        json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line
    ] == rows


def test_canonical_arguments_keep_unicode_and_are_the_openai_string():
    call = tool_call("c1", "write_file", {"path": "ä.txt", "content": "naïve"})
    assert call["function"]["arguments"] == '{"path": "ä.txt", "content": "naïve"}'
    assert canonical_arguments({}) == "{}"


def test_loading_a_bad_row_names_its_file_and_line(tmp_path):
    import pytest

    from punie.errors import PunieError

    path = tmp_path / "train.jsonl"
    good = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    }
    path.write_text(json.dumps(good) + "\n" + json.dumps({"messages": [{"role": "robot"}]}) + "\n")
    with pytest.raises(PunieError) as err:
        load_examples(path)
    assert err.value.format_message().startswith(f"{path}:2: messages[0] role 'robot' is unknown")
