"""Scoring a task: pure functions over what the agent did (`Outcome`) and the task's checks.

The first failing check names the failure (`tasks.TASK_FAILURES`), with a detail
saying what was expected and what happened. A turn that did not end with an answer
(repeat guard, call budget, unusable reply, or cut off at max_tokens before any text)
fails `no_answer` before anything else: an agent that loops never finished the task,
whatever it wrote. An answer cut off at max_tokens is still what the user reads (ACP's
`max_tokens` stop shows it), so its text is checked like any answer: both sides of a
comparison get the same token limit, and a rambling base answer is not failed unread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from punie.evaluate.tasks import TaskCase

_QUOTES = re.compile(r"[`'\"“”‘’]")


@dataclass(frozen=True)
class Outcome:
    answer: str  # the final answer's text ("" when the turn ended without one)
    ended_by: str
    calls: tuple[dict[str, Any], ...] = ()  # {name, arguments, ok}, in order
    files: dict[str, str | None] = field(default_factory=dict)  # path -> content (None: absent)
    error: str = ""


@dataclass(frozen=True)
class TaskVerdict:
    passed: bool
    failure: str | None = None
    detail: str = ""


def normalize(text: str) -> str:
    """Case-insensitive, whitespace collapsed."""
    return " ".join(text.lower().split())


def contains(answer: str, needle: str) -> bool:
    """`needle` in `answer`, also when either wraps code in backticks or quotes."""
    a, n = normalize(answer), normalize(needle)
    if n in a:
        return True
    return normalize(_QUOTES.sub("", n)) in normalize(_QUOTES.sub("", a))


def checked_paths(case: TaskCase) -> set[str]:
    """Every workspace path a check reads after the run."""
    c = case.checks
    return {*c.files_equal, *c.files_contain, *c.files_absent, *c.files_unchanged}


def read_files(root: Path, paths: set[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for p in sorted(paths):
        f = root / p
        out[p] = f.read_text(encoding="utf-8", errors="replace") if f.is_file() else None
    return out


def _short(text: str | None, limit: int = 120) -> str:
    if text is None:
        return "(absent)"
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _answer_contains(case: TaskCase, o: Outcome) -> str | None:
    for alts in case.checks.answer_contains:
        if not any(contains(o.answer, a) for a in alts):
            want = " or ".join(repr(a) for a in alts)
            return f"answer lacks {want}; answer was {_short(o.answer)}"
    return None


def _answer_excludes(case: TaskCase, o: Outcome) -> str | None:
    for bad in case.checks.answer_excludes:
        if contains(o.answer, bad):
            return f"answer contains {bad!r}; answer was {_short(o.answer)}"
    return None


def _files_equal(case: TaskCase, o: Outcome) -> str | None:
    for path, want in case.checks.files_equal.items():
        got = o.files.get(path)
        if got != want:
            return f"{path} should be {_short(want)}, is {_short(got)}"
    return None


def _files_contain(case: TaskCase, o: Outcome) -> str | None:
    for path, needles in case.checks.files_contain.items():
        got = o.files.get(path)
        for n in needles:
            if got is None or n not in got:
                return f"{path} should contain {n!r}, is {_short(got)}"
    return None


def _files_absent(case: TaskCase, o: Outcome) -> str | None:
    for path in case.checks.files_absent:
        if o.files.get(path) is not None:
            return f"{path} should not exist, holds {_short(o.files[path])}"
    return None


def _files_unchanged(case: TaskCase, o: Outcome) -> str | None:
    for path in case.checks.files_unchanged:
        before, after = case.workspace.get(path), o.files.get(path)
        if before != after:
            return f"{path} changed from {_short(before)} to {_short(after)}"
    return None


def _names(o: Outcome) -> list[str]:
    return [str(c.get("name")) for c in o.calls]


def _called(case: TaskCase, o: Outcome) -> str | None:
    for name in case.checks.called:
        if name not in _names(o):
            return f"expected a {name} call; calls were {_names(o) or 'none'}"
    return None


def _not_called(case: TaskCase, o: Outcome) -> str | None:
    for name in case.checks.not_called:
        if name in _names(o):
            return f"expected no {name} call; calls were {_names(o)}"
    return None


def _commands(case: TaskCase, o: Outcome) -> str | None:
    ran = [
        str((c.get("arguments") or {}).get("command", ""))
        for c in o.calls
        if c.get("name") == "run_command"
    ]
    for want in case.checks.commands:
        if not any(want in cmd for cmd in ran):
            return f"expected a run_command containing {want!r}; commands were {ran or 'none'}"
    return None


def _max_tool_calls(case: TaskCase, o: Outcome) -> str | None:
    limit = case.checks.max_tool_calls
    if limit is not None and len(o.calls) > limit:
        return f"at most {limit} tool call(s) expected, made {len(o.calls)}: {_names(o)}"
    return None


def _no_call(case: TaskCase, o: Outcome) -> str | None:
    if case.checks.no_call and o.calls:
        return f"expected no tool call; calls were {_names(o)}"
    return None


# In TASK_FAILURES order: the first that fails names the failure.
CHECKS: tuple[tuple[str, Callable[[TaskCase, Outcome], str | None]], ...] = (
    ("answer_contains", _answer_contains),
    ("answer_excludes", _answer_excludes),
    ("files_equal", _files_equal),
    ("files_contain", _files_contain),
    ("files_absent", _files_absent),
    ("files_unchanged", _files_unchanged),
    ("called", _called),
    ("not_called", _not_called),
    ("commands", _commands),
    ("max_tool_calls", _max_tool_calls),
    ("no_call", _no_call),
)


def score_task(case: TaskCase, o: Outcome) -> TaskVerdict:
    answered = o.ended_by == "answer" or (o.ended_by == "max_tokens" and o.answer.strip())
    if not answered:
        why = f": {o.error}" if o.error else ""
        return TaskVerdict(False, "no_answer", f"the turn ended by {o.ended_by}{why}")
    for name, check in CHECKS:
        detail = check(case, o)
        if detail is not None:
            return TaskVerdict(False, name, detail)
    return TaskVerdict(True)
