"""Scoring one model answer against one case: pure functions, no I/O.

Tool calls are matched like the Berkeley Function Calling Leaderboard's AST
checker: the function name, required arguments present, no unknown arguments,
JSON types, and each value among the case's acceptable values after
normalisation; several expected calls match in any order.

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

from dataclasses import dataclass, field
from typing import Any

from punie.evaluate.suite import Case
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

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def type_ok(value: Any, json_type: str | None) -> bool:
    if json_type is None or json_type not in _JSON_TYPES:
        return True
    if isinstance(value, bool) and json_type in ("integer", "number"):
        return False
    return isinstance(value, _JSON_TYPES[json_type])


def normalise(value: Any, ignore_case: bool = False) -> Any:
    """Strip whitespace, a leading `./` and a trailing `/` (so `./src/`, `src/` and
    `src` agree; `./` and `.` agree); optionally fold case."""
    if isinstance(value, str):
        v = value.strip()
        while v.startswith("./") and len(v) > 2:
            v = v[2:]
        if v in ("./", ""):
            v = "." if v == "./" else v
        if len(v) > 1 and v.endswith("/"):
            v = v.rstrip("/") or "/"
        return v.casefold() if ignore_case else v
    if isinstance(value, list):
        return [normalise(v, ignore_case) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v, ignore_case) for k, v in value.items()}
    return value


def check_call(call: Call, expected, spec: dict[str, Any] | None) -> str | None:
    """None when `call` matches `expected` (an ExpectedCall), else why not."""
    if call.name != expected.name:
        return f"called {call.name}, expected {expected.name}"
    params = (spec or {}).get("parameters", {})
    props: dict[str, Any] = params.get("properties", {})
    required = set(params.get("required", []))
    for name in sorted(required):
        if name not in call.arguments:
            return f"{call.name}: required argument {name!r} missing"
    if props:
        unknown = sorted(set(call.arguments) - set(props))
        if unknown:
            return f"{call.name}: unknown argument(s) {', '.join(map(repr, unknown))}"
    for name, value in call.arguments.items():
        if not type_ok(value, props.get(name, {}).get("type")):
            return f"{call.name}: {name!r} should be {props[name]['type']}, got {value!r}"
    for name, acceptable in expected.arguments.items():
        if name not in call.arguments:
            if None in acceptable:
                continue
            return f"{call.name}: argument {name!r} missing"
        fold = name in expected.ignore_case
        got = normalise(call.arguments[name], fold)
        if not any(got == normalise(a, fold) for a in acceptable if a is not None):
            return f"{call.name}: {name}={call.arguments[name]!r} not in {acceptable!r}"
    return None


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
