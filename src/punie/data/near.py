"""Near copies between requests: the one measure the suites' disjointness tests and
`punie data harvest`'s leakage check share.

Two texts are near copies when the difflib ratio of their normalised forms
(lowercased, punctuation and runs of whitespace turned into single spaces) is at
least NEAR. At 0.85 the near copies exact-string checks let through score 0.90 and
up, while different requests sharing a frame stay under it (tests/evaluate/
test_suites_disjoint.py quotes the closest pairs measured).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

NEAR = 0.85
_PUNCT = re.compile(r"[^\w\s]")


def norm(text: str) -> str:
    text = _PUNCT.sub(" ", text.lower())
    return " ".join(text.split())


def ratio(a: str, b: str, threshold: float = NEAR) -> float | None:
    """The ratio of two normalised texts when it reaches `threshold`, else None."""
    sm = SequenceMatcher(None, a, b)
    # The cheap upper bounds first: most pairs are rejected without ratio().
    if sm.real_quick_ratio() < threshold or sm.quick_ratio() < threshold:
        return None
    r = sm.ratio()
    return r if r >= threshold else None


def near_pairs(
    left: Iterable[str], right: Iterable[str], threshold: float = NEAR
) -> list[tuple[str, str, float]]:
    """Every (left, right, ratio) of near copies, normalised, sorted."""
    out = []
    rights = {norm(x) for x in right}
    for a in {norm(x) for x in left}:
        for b in rights:
            r = ratio(a, b, threshold)
            if r is not None:
                out.append((a, b, round(r, 3)))
    return sorted(out)


def nearest(text: str, normed: Iterable[str], threshold: float = NEAR) -> tuple[str, float] | None:
    """The closest of already-normalised texts that `text` nearly copies, or None."""
    a = norm(text)
    best: tuple[str, float] | None = None
    for b in normed:
        r = ratio(a, b, threshold)
        if r is not None and (best is None or r > best[1]):
            best = (b, round(r, 3))
    return best
