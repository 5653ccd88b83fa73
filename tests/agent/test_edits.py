"""edit_file's matching on plain strings (punie.agent.edits)."""

from __future__ import annotations

import pytest

from punie.agent.edits import EditError, apply_edit, closest_region


def test_the_closest_region_is_the_window_most_like_old_text():
    text = "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(50))
    assert closest_region(text, "def f37(x):\n    return x+37") == (
        75,
        76,
        "def f37(x):\n    return x + 37\n",
    )


def test_old_text_longer_than_the_file_compares_with_the_whole_file():
    assert closest_region("a = 1\n", "a = 1\nb = 2\nc = 3\n") == (1, 1, "a = 1\n")


def test_a_miss_in_an_empty_file_says_the_file_is_empty():
    with pytest.raises(EditError, match="is empty"):
        apply_edit("", "x", "y", "e.txt")


def test_an_empty_old_text_is_refused():
    with pytest.raises(EditError, match="old_text is empty"):
        apply_edit("x = 1\n", "", "y", "m.py")


def test_an_edit_that_changes_nothing_is_refused():
    with pytest.raises(EditError, match="nothing to change"):
        apply_edit("x = 1\n", "x", "x", "m.py")


def test_a_unique_match_is_replaced_and_its_line_reported():
    edit = apply_edit("a\nb\nc\n", "b", "B", "t.txt")
    assert (edit.new_text, edit.count, edit.lines) == ("a\nB\nc\n", 1, (2,))
