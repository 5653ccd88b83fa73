"""Result records: one CaseResult per case (a line of cases.jsonl), one SuiteResult per run
(results.json). Pydantic so that `punie compare` reads back exactly what was written."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SerializeAsAny, ValidationError, model_validator

from punie.errors import PunieError
from punie.evaluate.scoring import FAILURES
from punie.evaluate.tasks import TASK_FAILURES


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


class TaskCaseResult(CaseResult):
    """One task of a task suite: the outcome of a whole agent turn.
    `content` is the final answer, `calls` every tool call ({name, arguments, ok, result}),
    `expected` the task's checks, `latency_s` the seconds the task took."""

    kind: str = "task"
    ended_by: str = "answer"  # one of tasks.ENDINGS
    model_calls: int = 0
    invalid_calls: list[dict[str, Any]] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    error: str = ""  # why the turn ended without an answer
    trace: dict[str, Any] = Field(default_factory=dict)  # a chat-JSONL row (agent.trace)


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 3) if values else 0.0


def task_metrics(cases: list[TaskCaseResult]) -> dict[str, Any]:
    """What a task suite measures beyond success: effort, loops and argument mistakes."""
    tool_calls = sum(len(c.calls) for c in cases)
    ended = Counter(c.ended_by for c in cases)
    return {
        "mean_model_calls": _mean([c.model_calls for c in cases]),
        "mean_tool_calls": _mean([len(c.calls) for c in cases]),
        "ended_by": dict(sorted(ended.items())),
        "repeat_guard": ended.get("repeat_guard", 0),
        "call_budget": ended.get("call_budget", 0),
        "invalid_per_call": round(
            sum(len(c.invalid_calls) for c in cases) / tool_calls if tool_calls else 0.0, 4
        ),
        "mean_input_tokens": _mean([c.input_tokens for c in cases]),
        "mean_output_tokens": _mean([c.output_tokens for c in cases]),
        "mean_seconds": _mean([c.latency_s or 0.0 for c in cases]),
    }


class CategoryScore(BaseModel):
    n: int
    passed: int

    @property
    def accuracy(self) -> float:
        return self.passed / self.n if self.n else 0.0


class SuiteResult(BaseModel):
    kind: str = "single"  # "tasks": a task suite, its cases TaskCaseResults
    suite: str
    suite_fingerprint: str
    model: str
    adapter: str | None = None
    # Content hashes of the model and adapter folders (None: not known, e.g. a
    # running server) and the software that asked and scored (see evaluate.resume).
    model_hash: str | None = None
    adapter_hash: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    software: dict[str, Any] = Field(default_factory=dict)
    started: str | None = None
    finished: str | None = None
    complete: bool = True  # False when some cases were not run (interrupted)
    n_suite: int | None = None  # cases in the suite (n is the cases with a result)
    # SerializeAsAny: a TaskCaseResult is written with all its fields.
    cases: list[SerializeAsAny[CaseResult]]

    @model_validator(mode="before")
    @classmethod
    def _task_cases(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") == "tasks":
            cases = [TaskCaseResult(**c) if isinstance(c, dict) else c for c in data["cases"]]
            data = {**data, "cases": cases}
        return data

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
        names = TASK_FAILURES if self.kind == "tasks" else FAILURES
        return {f: counts[f] for f in names if counts.get(f)}

    def task_metrics(self) -> dict[str, Any]:
        return task_metrics([c for c in self.cases if isinstance(c, TaskCaseResult)])

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
            **({"tasks": self.task_metrics()} if self.kind == "tasks" else {}),
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
