"""Result records: one CaseResult per case (a line of cases.jsonl), one SuiteResult per run
(results.json). Pydantic so that `punie compare` reads back exactly what was written."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from punie.errors import PunieError
from punie.evaluate.scoring import FAILURES


class CaseResult(BaseModel):
    id: str
    category: str
    kind: str
    passed: bool
    failure: str | None = None
    detail: str = ""
    prompt: str = ""  # the last user message, for the report
    expected: dict[str, Any] = Field(default_factory=dict)
    content: str | None = None
    raw_text: str | None = None
    calls: list[dict[str, Any]] = Field(default_factory=list)
    finish_reason: str | None = None
    latency_s: float | None = None
    cached_tokens: int | None = None  # prompt tokens the server reused (None: not reported)


class CategoryScore(BaseModel):
    n: int
    passed: int

    @property
    def accuracy(self) -> float:
        return self.passed / self.n if self.n else 0.0


class SuiteResult(BaseModel):
    suite: str
    suite_fingerprint: str
    model: str
    adapter: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    started: str | None = None
    finished: str | None = None
    complete: bool = True  # False when some cases were not run (interrupted)
    n_suite: int | None = None  # cases in the suite (n is the cases with a result)
    cases: list[CaseResult]

    @property
    def n(self) -> int:
        return len(self.cases)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def accuracy(self) -> float:
        return self.passed / self.n if self.n else 0.0

    def per_category(self) -> dict[str, CategoryScore]:
        out: dict[str, CategoryScore] = {}
        for c in self.cases:
            s = out.get(c.category, CategoryScore(n=0, passed=0))
            out[c.category] = CategoryScore(n=s.n + 1, passed=s.passed + c.passed)
        return dict(sorted(out.items()))

    def failures(self) -> dict[str, int]:
        counts = Counter(c.failure for c in self.cases if not c.passed)
        return {f: counts[f] for f in FAILURES if counts.get(f)}

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "passed": self.passed,
            "accuracy": round(self.accuracy, 4),
            "per_category": {
                k: {"n": v.n, "passed": v.passed, "accuracy": round(v.accuracy, 4)}
                for k, v in self.per_category().items()
            },
            "failures": self.failures(),
        }

    def to_json(self) -> dict[str, Any]:
        # The summary sits beside the cases so a reader needs no code to see the score.
        return {"summary": self.summary(), **self.model_dump(mode="json")}


def load_result(path: str | Path) -> SuiteResult:
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PunieError(
            f"{p} does not exist", where="compare", hint="pass an eval's results.json"
        ) from None
    except json.JSONDecodeError as exc:
        raise PunieError(f"not JSON: {exc.msg}", where=f"{p}:{exc.lineno}") from None
    data.pop("summary", None)
    try:
        return SuiteResult(**data)
    except (ValidationError, TypeError) as exc:
        raise PunieError(
            f"not an evaluation result ({str(exc).splitlines()[0]})",
            where=str(p),
            hint="pass the results.json written by punie eval",
        ) from None
