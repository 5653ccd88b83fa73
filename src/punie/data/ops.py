"""Dataset operations as pure functions over rows: split, dedupe, merge, stats, filter."""

from __future__ import annotations

import ast
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from punie.data.traces import assistant_turns, expand_rows
from punie.data.validate import exact_key, near_key
from punie.errors import PunieError

Rows = list[dict[str, Any]]


def parse_ratios(text: str) -> tuple[float, float, float]:
    """`0.8,0.1,0.1` (or `80,10,10`) as train/valid/test fractions summing to 1."""
    try:
        parts = [float(x) for x in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 3 or any(p < 0 for p in parts) or sum(parts) <= 0 or parts[0] <= 0:
        raise PunieError(
            f"ratios {text!r} are not three non-negative numbers", hint="e.g. 0.8,0.1,0.1"
        )
    total = sum(parts)
    return (parts[0] / total, parts[1] / total, parts[2] / total)


def split_rows(
    rows: Rows,
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    expand_train: bool = True,
) -> dict[str, Rows]:
    """Seeded shuffle, then cut into train/valid/test. Traces are expanded (train only)
    after the cut, so the pieces of one trace never land in two splits."""
    order = list(rows)
    random.Random(seed).shuffle(order)
    n = len(order)
    n_valid = round(n * ratios[1])
    n_test = round(n * ratios[2])
    # A split asked for gets at least one row when there are rows to spare.
    if ratios[1] > 0 and n_valid == 0 and n >= 3:
        n_valid = 1
    if ratios[2] > 0 and n_test == 0 and n >= 3:
        n_test = 1
    n_train = n - n_valid - n_test
    train = order[:n_train]
    out = {
        "train": expand_rows(train) if expand_train else train,
        "valid": order[n_train : n_train + n_valid],
        "test": order[n_train + n_valid :],
    }
    return out


def dedupe(rows: Iterable[dict[str, Any]], near: bool = False) -> tuple[Rows, int]:
    """Rows without exact (or, with near, case/punctuation-only) duplicates; and how many went."""
    seen: set = set()
    kept: Rows = []
    dropped = 0
    for row in rows:
        key = near_key(row) if near else exact_key(row)
        if key in seen:
            dropped += 1
            continue
        seen.add(key)
        kept.append(row)
    return kept, dropped


def merge(datasets: Iterable[Mapping[str, Rows]], near: bool = False) -> dict[str, Rows]:
    """Concatenate datasets split by split, dropping duplicates across them."""
    out: dict[str, Rows] = {}
    for ds in datasets:
        for name, rows in ds.items():
            out.setdefault(name, []).extend(rows)
    return {name: dedupe(rows, near)[0] for name, rows in out.items()}


@dataclass(frozen=True)
class Stats:
    examples: int
    forms: dict[str, int]
    categories: dict[str, int]
    tools: dict[str, int]  # tool calls per tool name
    assistant_turns: dict[int, int]  # rows per number of assistant turns
    tokens: dict[str, float] = field(default_factory=dict)  # min/mean/max/total with a model


def stats(rows: Rows, tok: Any = None) -> Stats:
    from punie.data.schema import row_form
    from punie.data.tokens import example_tokens

    forms: Counter = Counter()
    cats: Counter = Counter()
    tools: Counter = Counter()
    turns: Counter = Counter()
    lengths: list[int] = []
    for row in rows:
        forms[row_form(row) or "unknown"] += 1
        cats[str(row.get("category", "-"))] += 1
        turns[assistant_turns(row)] += 1
        for m in row.get("messages") or ():
            for c in m.get("tool_calls") or ():
                tools[c.get("function", {}).get("name", "?")] += 1
        if tok is not None:
            lengths.append(len(example_tokens(tok, row)))
    tokens = {}
    if lengths:
        tokens = {
            "min": min(lengths),
            "mean": round(sum(lengths) / len(lengths), 1),
            "max": max(lengths),
            "total": sum(lengths),
        }
    return Stats(
        len(rows), dict(forms), dict(cats), dict(tools), dict(sorted(turns.items())), tokens
    )


# --- filters -----------------------------------------------------------------------

_FENCE = re.compile(r"```([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.DOTALL)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_EN_STOP = frozenset(
    "the a an is are was be to of and in that it for on with as this what how do does "
    "i you my me can should why when which use file code".split()
)
_BOILERPLATE = ("as an ai language model", "i cannot help with", "i'm sorry, but i can't")


def _texts(row: dict, roles: tuple[str, ...]) -> list[str]:
    msgs = row.get("messages")
    if isinstance(msgs, list):
        return [
            m["content"]
            for m in msgs
            if m.get("role") in roles and isinstance(m.get("content"), str)
        ]
    keys = ("prompt",) if "user" in roles else ()
    keys += ("completion", "text") if "assistant" in roles else ()
    return [row[k] for k in keys if isinstance(row.get(k), str)]


def python_blocks_ok(text: str) -> bool:
    """Every fenced block tagged python (or untagged) parses as Python 3. Uses the
    parser, not regexes: a regex guess drops valid code (f-strings, match, walrus)."""
    for lang, body in _FENCE.findall(text):
        if lang.lower() in ("python", "py", "python3", ""):
            try:
                ast.parse(body)
            except SyntaxError:
                if lang:  # an untagged block may be shell output or prose
                    return False
    return True


def looks_english(text: str) -> bool:
    """Most letters are Latin and common English words appear (code excluded)."""
    prose = _FENCE.sub(" ", text)
    words = [w.lower() for w in _WORD.findall(prose)]
    if not words:
        return True  # nothing to judge: code-only or numbers
    latin = sum(1 for w in words if w.isascii())
    if latin / len(words) < 0.8:
        return False
    # Short requests ("ls src", "grep for TODO") carry no stopword; judge longer prose only.
    return len(words) < 12 or any(w in _EN_STOP for w in words)


def quality(row: dict) -> float:
    """A 0..1 score from cheap signals: a substantive answer, code that parses, no
    refusal boilerplate, no obviously truncated ending."""
    answers = [t for t in _texts(row, ("assistant",)) if t.strip()]
    calls = any(m.get("tool_calls") for m in row.get("messages") or () if isinstance(m, dict))
    if calls and not answers:
        return 1.0  # a pure tool call: its structure was validated already
    answer = "\n".join(answers).strip()
    if not answer:
        return 0.0
    score = 1.0
    if len(answer) < 20 and not calls:
        score -= 0.4
    if not python_blocks_ok(answer):
        score -= 0.5
    if any(b in answer.lower() for b in _BOILERPLATE):
        score -= 0.5
    if answer.count("```") % 2:
        score -= 0.3  # an unclosed fence: cut off mid-answer
    return max(0.0, round(score, 2))


def filter_rows(
    rows: Rows, language: str | None = None, min_quality: float = 0.0, python_only: bool = False
) -> tuple[Rows, Counter]:
    """Rows that pass; and why the others were dropped."""
    if language not in (None, "en"):
        raise PunieError(f"language {language!r} is not supported", hint="use en")
    kept: Rows = []
    why: Counter = Counter()
    for row in rows:
        if language == "en" and not all(
            looks_english(t) for t in _texts(row, ("user", "assistant"))
        ):
            why["language"] += 1
        elif python_only and not all(python_blocks_ok(t) for t in _texts(row, ("assistant",))):
            why["python"] += 1
        elif quality(row) < min_quality:
            why["quality"] += 1
        else:
            kept.append(row)
    return kept, why
