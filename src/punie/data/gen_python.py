"""The `python` dataset: code explanation, debugging and best practices, answered
directly (no tools). Each item is a distinct request: no prompt is a template filled
with different values, so the model cannot score by remembering a template.

Items are split in two fixed parts by position (`TRAIN_ITEMS`, `HELDOUT_ITEMS`), and
every question a built-in suite asks is held out, so the held-out rows of
`generate python` and the evaluation cases never share a question with training.
"""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path
from typing import Any

from punie.data.python_bank import ITEMS as _ITEMS

# Every user turn and task prompt of the built-in evaluation suites, written by
# `python -m punie.evaluate.asked` (punie.data does not import punie.evaluate; a test
# there fails when this file and the suites disagree).
SUITE_REQUESTS_FILE = Path(__file__).with_name("suite_requests.json")


# Bank questions the no-tool suite asked until it was regenerated on 2026-12-03 that
# the split by position would put in train. Still held out: back in train they would
# change every generated row (the bank is shuffled whole), and so the demo's data and
# every number measured on it.
RETIRED_REQUESTS = frozenset(
    {
        "How do I copy a dict?",
        "What does `range(3)` produce?",
        "How do I remove duplicates from a list?",
        "What is the GIL?",
        "Hi there!",
    }
)


@functools.cache
def suite_requests() -> frozenset[str]:
    """What the built-in suites ask (and asked: RETIRED_REQUESTS): held out, whichever
    position it has in the bank.

    The suites are committed files, written before the bank grew; the split by
    position below then moved 5 of the 14 no-tool questions into train."""
    asked = json.loads(SUITE_REQUESTS_FILE.read_text(encoding="utf-8"))
    return frozenset(asked) | RETIRED_REQUESTS


_ASKED = suite_requests()
# Every fourth item is held out, so each kind of request is on both sides.
TRAIN_ITEMS = tuple(
    item for i, item in enumerate(_ITEMS) if i % 4 != 3 and item[1].strip() not in _ASKED
)
HELDOUT_ITEMS = tuple(
    item for i, item in enumerate(_ITEMS) if i % 4 == 3 or item[1].strip() in _ASKED
)

SYSTEM_PROMPT = "You are a Python expert. Answer concisely."


def qa_pairs(heldout: bool) -> tuple[tuple[str, str], ...]:
    """(question, answer) pairs without tools, for no-tool examples."""
    items = HELDOUT_ITEMS if heldout else TRAIN_ITEMS
    return tuple((q, a) for _, q, a in items)


def _row(item: tuple[str, str, str], system: bool) -> dict[str, Any]:
    category, request, answer = item
    messages = [{"role": "user", "content": request}, {"role": "assistant", "content": answer}]
    if system:
        messages.insert(0, {"role": "system", "content": SYSTEM_PROMPT})
    return {"messages": messages, "category": category}


def generate_python(n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Up to n rows, each request used once: train from TRAIN_ITEMS, valid/test split
    from HELDOUT_ITEMS. Asking for more than the bank holds gives the whole bank."""
    rng = random.Random(seed)
    n_eval = min(len(HELDOUT_ITEMS), max(2, n // 5))
    train = rng.sample(TRAIN_ITEMS, min(len(TRAIN_ITEMS), n - n_eval))
    heldout = rng.sample(HELDOUT_ITEMS, n_eval)
    half = n_eval // 2
    return {
        "train": [_row(it, rng.random() < 0.5) for it in train],
        "valid": [_row(it, rng.random() < 0.5) for it in heldout[:half]],
        "test": [_row(it, rng.random() < 0.5) for it in heldout[half:]],
    }


def bank_size() -> int:
    return len(_ITEMS)
