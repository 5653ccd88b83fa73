"""Split, dedupe, merge, filter and trace expansion."""

from __future__ import annotations

import pytest

from punie.data.ops import dedupe, filter_rows, merge, parse_ratios, split_rows, stats
from punie.data.traces import expand_trace
from punie.errors import PunieError


def _qa(i: int, answer: str = "Use a list comprehension.") -> dict:
    return {
        "messages": [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": answer},
        ]
    }


def _trace() -> dict:
    return {
        "category": "multi_step",
        "messages": [
            {"role": "user", "content": "find it"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c1"}]},
            {"role": "tool", "tool_call_id": "c1", "content": "a.py:1"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c2"}]},
            {"role": "tool", "tool_call_id": "c2", "content": "x = 1"},
            {"role": "assistant", "content": "Done."},
        ],
    }


def test_expand_trace_ends_one_row_at_each_assistant_turn_and_keeps_extra_keys():
    rows = expand_trace(_trace())
    assert [len(r["messages"]) for r in rows] == [2, 4, 6]
    assert all(r["messages"][-1]["role"] == "assistant" for r in rows)
    assert all(r["category"] == "multi_step" for r in rows)
    assert expand_trace(_qa(1)) == [_qa(1)]


def test_split_is_seeded_shuffled_and_expands_train_only():
    rows = [_qa(i) for i in range(20)] + [_trace() | {"id": i} for i in range(10)]
    a = split_rows(rows, (0.6, 0.2, 0.2), seed=1)
    assert a == split_rows(rows, (0.6, 0.2, 0.2), seed=1)
    assert a != split_rows(rows, (0.6, 0.2, 0.2), seed=2)
    assert len(a["valid"]) == 6 and len(a["test"]) == 6
    assert all(len(r["messages"]) == 6 for r in a["valid"] + a["test"] if "id" in r)
    train_traces = [r for r in a["train"] if "id" in r]
    assert {len(r["messages"]) for r in train_traces} == {2, 4, 6}
    ids = lambda rs: {r["id"] for r in rs if "id" in r}  # noqa: E731
    assert not ids(a["train"]) & (ids(a["valid"]) | ids(a["test"]))
    assert [r["messages"][0]["content"] for r in a["train"][:3]] != [
        "question 0",
        "question 1",
        "question 2",
    ]


def test_ratios_are_checked():
    assert parse_ratios("80,10,10") == pytest.approx((0.8, 0.1, 0.1))
    with pytest.raises(PunieError):
        parse_ratios("0.8,0.2")


def test_dedupe_and_merge():
    rows = [
        _qa(1),
        _qa(1),
        _qa(2) | {"meta": 1},
        {
            "messages": [
                {"role": "user", "content": "Question 1!"},
                {"role": "assistant", "content": "use a list comprehension"},
            ]
        },
    ]
    assert dedupe(rows)[1] == 1
    assert dedupe(rows, near=True)[1] == 2
    merged = merge([{"train": [_qa(1)]}, {"train": [_qa(1), _qa(3)], "valid": [_qa(4)]}])
    assert len(merged["train"]) == 2 and len(merged["valid"]) == 1


def test_python_filter_keeps_valid_modern_python_3():
    modern = "```python\nmatch cmd:\n    case [x, *rest] if (n := len(rest)) > 1:\n        print(f'{x=} {n}')\n```"
    broken = "```python\nprint 'hello'\n```"
    kept, why = filter_rows([_qa(1, modern), _qa(2, broken)], python_only=True)
    assert kept == [_qa(1, modern)] and why["python"] == 1


def test_language_and_quality_filters():
    rows = [_qa(1), _qa(2, "Используйте генератор списков для этого."), _qa(3, "ok")]
    kept, why = filter_rows(rows, language="en", min_quality=0.8)
    assert kept == [_qa(1)] and why == {"language": 1, "quality": 1}


def test_stats_counts_tools_categories_and_turns():
    st = stats([_trace(), _qa(1)])
    assert st.examples == 2 and st.assistant_turns == {1: 1, 3: 1}
    assert st.categories == {"multi_step": 1, "-": 1}


def test_quality_filter_keeps_rows_that_end_in_a_tool_call():
    call_row = expand_trace(_trace())[0]
    kept, why = filter_rows([call_row, _trace()], language="en", min_quality=0.9)
    assert len(kept) == 2 and not why
