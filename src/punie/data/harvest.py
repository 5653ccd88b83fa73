"""`punie data harvest`: recorded sessions (docs/traces.md) as training rows and
preference pairs. Pure functions over parsed records; reading and writing live in
`punie.data.harvest_io`.

- A **positive** is a turn that ended with an answer, has a row, and every call of
  which succeeded and was approved or needed no permission, and whose answer the
  user's next prompt did not correct (`correction_cue`). The example is the turn's
  row: the conversation so far, earlier turns as context.
- A **pair** is a rejected or failed call and the next call of the same turn that
  succeeded and was allowed: the prompt is the row up to the assistant message
  holding the bad call, `rejected` that message, `chosen` the one holding the good
  call. A pair is trusted as far as a positive would be: its turn ended with an
  answer nobody corrected.
- Every other turn is dropped, and every turn gets the reasons in `REASONS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from punie.data.harvest_checks import Checks, problem
from punie.data.near import norm

REASONS = {
    "positive": "kept: every call succeeded and was allowed, not corrected",
    "pairs": "kept as preference pairs: a rejected or failed call, then an allowed one",
    "cancelled": "the turn was cancelled",
    "no_row": "no chat row was recorded (the turn failed or was cut off)",
    "no_answer": "the turn ended without an answer",
    "correction": "the user's next prompt corrected it",
    "call_cancelled": "a call's permission request or run was cancelled",
    "negative": "a call was rejected or failed (not a positive)",
    "unpaired": "a rejected or failed call had no allowed, succeeded call after it",
    "unrecorded_call": "a call in the row never reached the tool runner (bad arguments)",
    "mcp_tool": "it calls an IDE's MCP tool, which the row's `tools` does not declare",
    "invalid": "it fails validation",
    "suite_leak": "a user turn is a near copy of an evaluation suite's request",
    "duplicate": "a duplicate of existing data",
    "duplicate_harvest": "a duplicate of a row harvested from an earlier turn",
    "too_long": "longer than --max-seq-length with the model's template",
    "format": "does not round-trip through the model's chat template and tool parser",
}

# A next prompt that corrects the answer it follows. Kept small and explicit: a
# false cue costs one example, a missed one trains on an answer the user undid.
_CUE_START = re.compile(r"^\W*(no|nope|wrong|undo|revert)\b(?!\s+(problem|worries|thanks)\b)")
_CUE_ANY = re.compile(
    r"\b(that'?s not|that is not|not what i|try again|undo|revert|roll ?back|instead|"
    r"incorrect|(that'?s|that is|it'?s|still) wrong|you broke|i meant|"
    r"(didn'?t|did not|doesn'?t|does not) work)\b"
)
ALLOWED = ("approved",)  # a permission answer under which a call counts as wanted


def correction_cue(prompt: str | None, command: str | None = None) -> str | None:
    """The cue that makes a next prompt a correction, or None. Slash commands
    (`/clear`, `/model` ...) never correct."""
    if not prompt or command:
        return None
    text = prompt.lower().replace("\u2019", "'")
    m = _CUE_START.search(text) or _CUE_ANY.search(text)
    return m.group(1) if m else None


@dataclass(frozen=True)
class Turn:
    """One turn record, where it was read, and the next prompt that followed it."""

    where: str  # file:line
    record: dict[str, Any]
    next_prompt: dict[str, Any] | None = None
    # Breaks ties between sessions that started in the same second (records' times
    # are to the second): the file whose last write came first is the older.
    mtime_ns: int = 0

    @property
    def session_id(self) -> str:
        return self.record["session_id"]


@dataclass
class Outcome:
    """What became of one turn: the harvest table's row."""

    where: str
    session_id: str
    turn_id: str
    prompt: str
    positive: bool = False
    pairs: int = 0
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (REASONS key, detail)
    split: str | None = None

    def drop(self, key: str, detail: str = "") -> None:
        self.reasons.append((key, detail))

    @property
    def kept(self) -> str:
        """`positive`, `N pair(s)`, or "" for a dropped turn."""
        if self.positive:
            return "positive"
        return f"{self.pairs} pair{'s' if self.pairs > 1 else ''}" if self.pairs else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "session_id": self.session_id,
            "turn_id": self.turn_id,
            "prompt": self.prompt[:200],
            "kept": self.kept,
            "split": self.split,
            "reasons": [{"reason": k, "detail": d} for k, d in self.reasons],
        }


def _allowed(call: dict) -> bool:
    perm = call.get("permission")
    return call.get("status") == "succeeded" and (perm is None or perm.get("answer") in ALLOWED)


def _holders(messages: list, start: int) -> dict[str, int]:
    """Row call id -> index of the assistant message (from `start` on) holding it."""
    return {
        c.get("id"): i
        for i, m in enumerate(messages)
        if i >= start
        for c in m.get("tool_calls") or []
    }


def _turnproblem(rec: dict, nxt: dict | None) -> tuple[str, str] | None:
    """Why neither a positive nor a pair can come from this turn, or None."""
    if rec["ended_by"] == "cancelled":
        return "cancelled", ""
    if rec.get("row") is None:
        return "no_row", rec.get("error") or rec["ended_by"]
    if rec["ended_by"] != "answer":
        return "no_answer", f"ended by {rec['ended_by']}"
    cue = correction_cue(*((nxt.get("prompt"), nxt.get("command")) if nxt else (None, None)))
    if cue:
        return "correction", f"{cue!r} in {nxt['prompt'][:80]!r}"
    return None


def _pairs(rec: dict, out: Outcome) -> list[dict[str, Any]]:
    """The turn's preference pairs; an unpaired negative is noted on `out`."""
    row, calls = rec["row"], rec["calls"]
    messages = row["messages"]
    held = _holders(messages, rec["turn_start"])
    pairs = []
    for i, bad in enumerate(calls):
        if bad["status"] not in ("rejected", "failed"):
            continue
        ri = held.get(bad.get("row_call_id"))
        good = next((c for c in calls[i + 1 :] if _allowed(c)), None)
        ci = held.get(good.get("row_call_id")) if good else None
        if ri is None or ci is None or ci <= ri:
            out.drop("unpaired", f"{bad['tool']} {bad['status']}")
            continue
        pairs.append(
            {
                "messages": messages[:ri],
                "tools": row.get("tools"),
                "chosen": messages[ci],
                "rejected": messages[ri],
                "meta": _meta(rec, {"rejected": bad["tool"], "status": bad["status"]}),
            }
        )
    return pairs


def _meta(rec: dict, extra: dict | None = None) -> dict[str, Any]:
    return {"source": "trace", "session_id": rec["session_id"], "turn_id": rec["turn_id"]} | (
        extra or {}
    )


def classify(turn: Turn) -> tuple[Outcome, dict | None, list[dict]]:
    """(the outcome, the positive row or None, the pairs) of one turn, before the
    checks against other data."""
    rec = turn.record
    out = Outcome(turn.where, rec["session_id"], rec["turn_id"], rec.get("prompt") or "")
    problem = _turnproblem(rec, turn.next_prompt)
    if problem:
        out.drop(*problem)
        return out, None, []
    calls = rec["calls"]
    if any(c.get("server") for c in calls):
        out.drop("mcp_tool", ", ".join(sorted({c["server"] for c in calls if c.get("server")})))
        return out, None, []
    if any(c["status"] == "cancelled" for c in calls):
        out.drop("call_cancelled")
        return out, None, []
    made = set(_holders(rec["row"]["messages"], rec["turn_start"]))
    if made - {c.get("row_call_id") for c in calls}:
        out.drop("unrecorded_call", ", ".join(sorted(made - {c.get("row_call_id") for c in calls})))
        return out, None, []
    if all(_allowed(c) for c in calls):
        return out, {**rec["row"], "meta": _meta(rec)}, []
    bad = [f"{c['tool']} {c['status']}" for c in calls if not _allowed(c)]
    out.drop("negative", ", ".join(bad))
    return out, None, _pairs(rec, out)


@dataclass(frozen=True)
class Harvest:
    positives: dict[str, list[dict]]  # split -> rows
    pairs: dict[str, list[dict]]  # split -> pairs
    outcomes: tuple[Outcome, ...]

    def counts(self) -> dict[str, int]:
        """Turns per reason (a turn with several reasons counts under each)."""
        out: dict[str, int] = {}
        for o in self.outcomes:
            keys = {k for k, _ in o.reasons} | ({"positive"} if o.positive else set())
            keys |= {"pairs"} if o.pairs else set()
            for k in keys:
                out[k] = out.get(k, 0) + 1
        return dict(sorted(out.items()))


def split_sessions(order: list[str], held_out: float = 0.2) -> dict[str, str]:
    """Session id -> split for sessions oldest first: the newest `held_out` share
    (at least one when there are two) is evaluated on, its older half `valid`, the
    rest `test`; no session is split across."""
    n = len(order)
    n_held = max(1, round(n * held_out)) if n >= 2 else 0
    n_valid = n_held - n_held // 2
    cut = n - n_held
    return {
        sid: "train" if i < cut else "valid" if i < cut + n_valid else "test"
        for i, sid in enumerate(order)
    }


def _oldest_session_first(turns: list[Turn]) -> list[Turn]:
    """Sessions ordered by their first turn's start, then their file's last write,
    then id; turns in file order."""
    first: dict[str, tuple[datetime, int]] = {}
    for t in turns:
        at = parse_time(t.record["started_at"])
        seen = first.get(t.session_id, (at, t.mtime_ns))
        first[t.session_id] = (min(at, seen[0]), max(t.mtime_ns, seen[1]))
    return sorted(turns, key=lambda t: (*first[t.session_id], t.session_id))


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is taken as UTC."""
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def harvest(turns: list[Turn], checks: Checks) -> Harvest:
    """Turns into split rows and pairs: sessions oldest first (the split is by time),
    so of two duplicates the older is kept."""
    turns = _oldest_session_first(turns)
    seen: set[str] = set()
    outcomes: list[Outcome] = []
    kept: list[tuple[Outcome, dict | None, list[dict]]] = []
    for turn in turns:
        out, row, pairs = classify(turn)
        if row is not None:
            why = problem(row, False, checks, seen)
            if why:
                out.drop(*why)
                row = None
        good_pairs = []
        for pair in pairs:
            why = problem(pair, True, checks, seen)
            if why:
                out.drop(why[0], "pair: " + why[1])
            else:
                good_pairs.append(pair)
        out.positive, out.pairs = row is not None, len(good_pairs)
        outcomes.append(out)
        kept.append((out, row, good_pairs))
    order = list(dict.fromkeys(o.session_id for o, r, p in kept if r is not None or p))
    splits = split_sessions(order)
    positives: dict[str, list[dict]] = {}
    pair_rows: dict[str, list[dict]] = {}
    for out, row, pairs in kept:
        out.split = splits.get(out.session_id)
        if row is not None:
            positives.setdefault(out.split, []).append(row)
        if pairs:
            pair_rows.setdefault(out.split, []).extend(pairs)
    return Harvest(positives, pair_rows, tuple(outcomes))


def normalised(requests: Iterable[str]) -> frozenset[str]:
    return frozenset(norm(r) for r in requests)
