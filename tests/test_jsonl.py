"""punie.jsonl: one reader, strict for files users hand in, tolerant for Punie's logs."""

from __future__ import annotations

import pytest

from punie.errors import PunieError
from punie.jsonl import numbered_rows, read_jsonl


def test_strict_read_names_the_bad_line(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text('{"a": 1}\n\n{"a": \n')
    with pytest.raises(PunieError) as err:
        read_jsonl(p)
    assert err.value.where == f"{p}:3"


def test_tolerant_read_skips_a_line_cut_off_by_a_crash(tmp_path):
    p = tmp_path / "metrics.jsonl"
    p.write_text('{"step": 1}\n{"step": 2}\n{"st')
    assert read_jsonl(p, tolerant=True) == [{"step": 1}, {"step": 2}]


def test_tolerant_read_of_a_missing_file_is_empty(tmp_path):
    assert read_jsonl(tmp_path / "absent.jsonl", tolerant=True) == []


def test_numbered_rows_refuses_a_row_that_is_not_an_object(tmp_path):
    p = tmp_path / "train.jsonl"
    p.write_text('{"messages": []}\n[1, 2]\n')
    rows = numbered_rows(p)
    assert next(rows) == (f"{p}:1", {"messages": []})
    with pytest.raises(PunieError, match="JSON object") as err:
        next(rows)
    assert err.value.where == f"{p}:2"
