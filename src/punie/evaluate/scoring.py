"""Scoring one model answer against one case: pure functions, no I/O.

Tool calls are matched like the Berkeley Function Calling Leaderboard's AST
checker: the function name; the arguments valid under the tool's JSON schema (by
`punie.schema_check`, the check the data validator and the agent use: required
ones present, no unknown ones, an int never 3.0 or true); each value among the
case's acceptable values, compared as the suite declares that argument (exact, as
a path, as BFCL's free text, or any; nested objects key by key); and an argument
the expected answer does not name left at its schema default. Several expected
calls match in any order.

The calls are what mlx_lm.server would have delivered: when the RAW generated text
is known, it is read by `punie.toolcalls.ServerParser`, with the tool parser the
server picks for that model's tokenizer and chat template (the runner's decoder
carries it; without one, Punie's own `<tool_call>` JSON format). A call the server
would drop (its parser fails: it only logs it), fail on, or pass on double-encoded
(arguments a JSON string) is a `format_error`, not "no call" and not a pass. Without
the raw text (another server), its `tool_calls` field is read as a client reads it,
plus `<tool_call>` markup a server left in the content; a `tool_calls` finish reason
with no calls is the tell of a dropped one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from punie import schema_check
from punie.evaluate.suite import ArgKind, Case, acceptable
from punie.toolcalls import (
    DEFAULT_FORMAT,
    START_MARKERS,
    Delivered,
    ServerParser,
    read_tool_calls,
)
from punie.toolcalls import ToolCall as Call

FAILURES = (
    "no_call",
    "wrong_tool",
    "bad_arguments",
    "format_error",
    "unexpected_call",
    "missing_keyword",
    "server_error",
    "timeout",
)

__all__ = ["FAILURES", "Answer", "Call", "Score", "calls_from_answer", "score"]


@dataclass(frozen=True)
class Answer:
    """What the endpoint returned for one case, as the scorer needs it."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # OpenAI-shaped
    finish_reason: str | None = None
    raw_text: str | None = None  # the whole generation, tool-call markup included
    error: str | None = None  # "server_error: ..." or "timeout: ..."
    cached_tokens: int | None = None  # prompt tokens the server took from its KV cache
    # How mlx_lm.server reads raw_text for this model; None: Punie's own format.
    parser: ServerParser | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Score:
    passed: bool
    failure: str | None = None  # one of FAILURES when not passed
    detail: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)


def calls_from_answer(answer: Answer, tools: list[dict] | None = None) -> Delivered:
    """The calls a client of the server would have received (`tools`: the request's)."""
    if answer.raw_text is not None:
        parser = answer.parser or ServerParser.for_format(DEFAULT_FORMAT)
        return parser.deliver(answer.raw_text, answer.finish_reason, tools)
    calls, errors = read_tool_calls(answer.tool_calls)
    if answer.content and START_MARKERS[DEFAULT_FORMAT] in answer.content:
        # A server that does not parse the format leaves the markup in the content.
        own = ServerParser.for_format(DEFAULT_FORMAT)
        more = own.deliver(answer.content, answer.finish_reason, tools)
        calls += more.calls
        errors += more.errors
    if answer.finish_reason == "tool_calls" and not calls and not errors:
        errors.append("finish_reason is tool_calls but the server returned no parseable call")
    return Delivered(calls, errors, answer.content or "")


# -- argument checking (BFCL-style) ------------------------------------------------

# BFCL's free-text form (its AST checker's `standardize_string`): these characters and
# case do not count, and single quotes read as double ones.
_FREE_TEXT_NOISE = re.compile(r"[\s,./\-_*^]")


def free_text(value: str) -> str:
    return _FREE_TEXT_NOISE.sub("", value).lower().replace("'", '"')


def path_form(value: str) -> str:
    """Strip whitespace, a leading `./` and a trailing `/` (so `./src/`, `src/` and
    `src` agree; `./` and `.` agree)."""
    v = value.strip()
    while v.startswith("./") and len(v) > 2:
        v = v[2:]
    if v == "./":
        return "."
    if len(v) > 1 and v.endswith("/"):
        v = v.rstrip("/") or "/"
    return v


def same(got: Any, want: Any, kind: ArgKind) -> bool:
    """One scalar against one acceptable value. JSON's true is no 1 (Python's is)."""
    if kind == "any":
        return True
    if isinstance(got, bool) or isinstance(want, bool):
        return type(got) is type(want) and got == want
    if isinstance(got, str) and isinstance(want, str):
        if kind == "free":
            return free_text(got) == free_text(want)
        if kind == "path":
            return path_form(got) == path_form(want)
    return got == want  # for numbers 5 == 5.0: an int is a number


Path = tuple[str | int, ...]  # an argument's place: keys and list indices


def _show(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _kind(kinds: dict[str, ArgKind], path: Path) -> ArgKind:
    """The declared kind of the deepest declared prefix of `path` (indices skipped)."""
    keys = [p for p in path if isinstance(p, str)]
    for n in range(len(keys), 0, -1):
        kind = kinds.get(".".join(keys[:n]))
        if kind:
            return kind
    return "exact"


def _value(got: Any, want: Any, schema: Any, kinds: dict, path: Path) -> str | None:
    """None when `got` is the acceptable value `want`, else why not."""
    schema = schema if isinstance(schema, dict) else {}
    kind = _kind(kinds, path)
    if kind == "any":
        return None
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{_show(path)}={got!r} is not an object"
        listed = {k: v if isinstance(v, list) else [v] for k, v in want.items()}
        return _object(got, listed, schema.get("properties") or {}, kinds, path)
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return f"{_show(path)}={got!r}, expected {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            reason = _value(g, w, schema.get("items"), kinds, (*path, i))
            if reason:
                return reason
        return None
    return None if same(got, want, kind) else f"{_show(path)}={got!r}, expected {want!r}"


def _object(got: dict, want: dict[str, list], props: dict, kinds: dict, path: Path) -> str | None:
    """Key by key: each expected key among its acceptable values (`null`: may be
    absent); each other key of `got` at its schema default or of kind `any`."""
    for key, options in want.items():
        where = (*path, key)
        if key not in got:
            if None in options:
                continue
            return f"argument {_show(where)!r} missing"
        present = [o for o in options if o is not None]
        reasons = [_value(got[key], o, props.get(key), kinds, where) for o in present]
        if None not in reasons:
            if len(present) == 1 and isinstance(present[0], dict | list):
                return reasons[0]  # the nested reason says more than "not in"
            return f"{_show(where)}={got[key]!r} not in {present!r}"
    for key in [k for k in got if k not in want]:
        where = (*path, key)
        kind = _kind(kinds, where)
        sub = props.get(key) if isinstance(props.get(key), dict) else {}
        at_default = "default" in sub and (
            _value(got[key], acceptable(sub["default"]), sub, kinds, where) is None
        )
        if kind == "any" or at_default:
            continue
        default = f" nor its default {sub['default']!r}" if "default" in sub else ""
        return f"{_show(where)}={got[key]!r} is not in the expected answer{default}"
    return None


def check_call(call: Call, expected, spec: dict[str, Any] | None) -> str | None:
    """None when `call` matches `expected` (an ExpectedCall), else why not."""
    if call.name != expected.name:
        return f"called {call.name}, expected {expected.name}"
    params = (spec or {}).get("parameters") or {}
    problems = schema_check.problems(call.arguments, params, where=call.name)
    if problems:
        return problems[0]
    props = params.get("properties") or {}
    reason = _object(call.arguments, expected.arguments, props, expected.compare, ())
    return f"{call.name}: {reason}" if reason else None


def match_calls(calls: list[Call], case: Case) -> tuple[str | None, str]:
    """(failure, detail): failure None when the calls match the expected ones in any order."""
    expected = case.expected_calls
    names = {e.name for e in expected}
    if not any(c.name in names for c in calls):
        got = ", ".join(c.name for c in calls)
        return "wrong_tool", f"called {got}, expected {', '.join(e.name for e in expected)}"
    if len(calls) != len(expected):
        return "bad_arguments", f"{len(calls)} call(s), expected {len(expected)}"
    # Small n: a greedy search over expected calls per actual call suffices only when
    # matches are unique, so try every assignment (n is 1-3 in practice).
    from itertools import permutations

    first_reason = None
    for order in permutations(range(len(expected))):
        reasons = [
            check_call(c, expected[i], case.tool_spec(expected[i].name))
            for c, i in zip(calls, order, strict=True)
        ]
        failed = [r for r in reasons if r]
        if not failed:
            return None, "all calls match"
        first_reason = first_reason or failed[0]
    if not all(c.name in names for c in calls) or {c.name for c in calls} != names:
        return "wrong_tool", first_reason or "tool names differ"
    return "bad_arguments", first_reason or "arguments differ"


def keyword_failure(text: str, case: Case) -> str | None:
    low = text.casefold()
    for kw in case.keywords:
        options = kw if isinstance(kw, list) else [kw]
        if not any(o.casefold() in low for o in options):
            return f"missing keyword {' / '.join(options)!r}"
    for bad in case.forbidden:
        if bad.casefold() in low:
            return f"forbidden keyword {bad!r} present"
    return None


def score(case: Case, answer: Answer) -> Score:
    """The verdict for one case: passed, or exactly one failure category."""
    if answer.error:
        kind = "timeout" if answer.error.startswith("timeout") else "server_error"
        return Score(False, kind, answer.error)
    parsed = calls_from_answer(answer, case.tools or None)
    calls = [c.to_dict() for c in parsed.calls]
    text = answer.content or ""
    if case.kind == "tool":
        if parsed.errors:
            return Score(False, "format_error", parsed.errors[0], calls)
        if not parsed.calls:
            return Score(False, "no_call", "answered without a call", calls)
        failure, detail = match_calls(parsed.calls, case)
        if failure:
            return Score(False, failure, detail, calls)
    elif parsed.attempted:
        what = parsed.calls[0].name if parsed.calls else "a malformed call"
        return Score(False, "unexpected_call", f"called {what}; no call was expected", calls)
    reason = keyword_failure(text, case)
    if reason:
        return Score(False, "missing_keyword", reason, calls)
    return Score(True, None, "ok", calls)
