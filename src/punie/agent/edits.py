"""`edit_file`'s text surgery: an exact replacement, or an error the model can act on.

Small models retype `old_text` from memory and get a space, a quote or a line wrong,
then send the same wrong text again. A bare "not found" teaches them nothing, so a
miss names the closest region of the file (its line numbers and its exact text, to
copy from), and a match that is not unique says how many there are and on which lines.
Pure functions over strings: the agent reads and writes the file around them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

# How many windows of the file a miss compares with old_text; past this, the region
# named is the best among the first ones (a 200 kB file has a few thousand lines).
MAX_WINDOWS = 20_000
# How many characters of the closest region a hint quotes.
MAX_HINT_CHARS = 1_500


class EditError(Exception):
    """old_text did not match exactly once; the message says what was found instead."""


@dataclass(frozen=True)
class Edit:
    new_text: str  # the whole file after the edit
    count: int  # replacements made
    lines: tuple[int, ...]  # 1-based first line of each replaced occurrence


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _occurrences(text: str, old: str) -> list[int]:
    out, at = [], text.find(old)
    while at != -1:
        out.append(at)
        at = text.find(old, at + len(old))
    return out


def closest_region(text: str, old: str) -> tuple[int, int, str] | None:
    """(first line, last line, text) of the window of the file most like `old`, as many
    lines long as `old`; None for an empty file."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return None
    size = max(1, len(old.splitlines()))
    best, best_at = -1.0, 0
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(old)  # seq2 is the one SequenceMatcher caches
    windows = max(1, len(lines) - size + 1)
    for start in range(min(windows, MAX_WINDOWS)):
        matcher.set_seq1("".join(lines[start : start + size]))
        # The cheap upper bounds first: most windows are ruled out without the full diff.
        if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
            continue
        ratio = matcher.ratio()
        if ratio > best:
            best, best_at = ratio, start
    region = "".join(lines[best_at : best_at + size])
    return best_at + 1, min(best_at + size, len(lines)), region


def _span(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _no_match(text: str, old: str, path: str) -> EditError:
    region = closest_region(text, old)
    if region is None:
        return EditError(f"{path} is empty; old_text was not found (use write_file)")
    first, last, body = region
    if len(body) > MAX_HINT_CHARS:
        body = body[:MAX_HINT_CHARS] + "[...]\n"
    body = body if body.endswith("\n") else body + "\n"
    return EditError(
        f"old_text not found in {path}; the closest text is at {_span(first, last)}:\n"
        f"{body}Copy old_text exactly from it."
    )


def apply_edit(text: str, old: str, new: str, path: str, replace_all: bool = False) -> Edit:
    """`text` with `old` replaced by `new`, once (the only occurrence) or everywhere."""
    if not old:
        raise EditError("old_text is empty (use write_file to write a whole file)")
    if old == new:
        raise EditError("old_text and new_text are the same; there is nothing to change")
    found = _occurrences(text, old)
    if not found:
        raise _no_match(text, old, path)
    where = tuple(line_of(text, i) for i in found)
    if len(found) > 1 and not replace_all:
        shown = ", ".join(map(str, where[:10])) + (", ..." if len(where) > 10 else "")
        raise EditError(
            f"old_text occurs {len(found)} times in {path} (lines {shown}); add the lines "
            "around it to make it unique, or set replace_all to replace every one"
        )
    return Edit(text.replace(old, new), len(found), where)
