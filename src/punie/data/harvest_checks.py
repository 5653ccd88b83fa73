"""The checks `punie data harvest` runs on each candidate row and pair, after the
rules of `punie.data.harvest` chose it: validation (`check_row`, `check_pair`),
leakage into the evaluation suites (`punie.data.near`), duplicates of existing data
and of earlier harvested turns (`near_key`: case, punctuation and spacing folded),
and with a model, length and chat-template format."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from punie.data.checks import check_row
from punie.data.near import nearest
from punie.data.pairs import check_pair
from punie.data.validate import near_key


@dataclass(frozen=True)
class Checks:
    """What harvested rows are checked against: keys of existing data (`near_key`),
    the suites' requests (normalised), and with a model, length and format checks
    (each returns a problem string or None)."""

    existing: frozenset[str] = frozenset()
    suite_requests: frozenset[str] = frozenset()
    too_long: Callable[[dict], str | None] | None = None
    bad_format: Callable[[dict], str | None] | None = None


def pair_key(pair: dict) -> str:
    """A pair's identity for dedupe: its chat row and its rejected answer, folded."""
    chosen = near_key({"messages": [*pair["messages"], pair["chosen"]]})
    return chosen + "\x01" + near_key({"messages": [pair["rejected"]]})


def _leak(messages: Iterable[dict], suites: frozenset[str]) -> str | None:
    for m in messages:
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            hit = nearest(m["content"], suites)
            if hit:
                return f"{m['content'][:60]!r} ~ {hit[0][:60]!r} ({hit[1]})"
    return None


def problem(item: dict, is_pair: bool, checks: Checks, seen: set[str]) -> tuple[str, str] | None:
    """The first reason a candidate row or pair is dropped; adds its key to `seen`."""
    found = check_pair(item) if is_pair else check_row(item, "chat")
    if found:
        return "invalid", f"{found[0][0]} ({found[0][1]})"
    leak = _leak(item["messages"], checks.suite_requests)
    if leak:
        return "suite_leak", leak
    key = pair_key(item) if is_pair else near_key(item)
    if key in checks.existing:
        return "duplicate", ""
    if key in seen:
        return "duplicate_harvest", ""
    learned = item
    sides = [item]
    if is_pair:
        learned = {"messages": [*item["messages"], item["chosen"]], "tools": item.get("tools")}
        sides = [learned, {**learned, "messages": [*item["messages"], item["rejected"]]}]
    if checks.too_long is not None:
        why = next((w for side in sides if (w := checks.too_long(side))), None)
        if why:
            return "too_long", why
    # Only the chosen side is learned as a chat turn; the rejected one only has to fit.
    if checks.bad_format is not None and (why := checks.bad_format(learned)):
        return "format", why
    seen.add(key)
    return None
