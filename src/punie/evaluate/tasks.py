"""Task suites: whole tasks run through Punie's own agent loop, scored on the outcome.

A task case is a small workspace (written fresh for every run), a user prompt (after
an optional prior conversation), a budget of model calls, and checks on what the
agent did and said:

    kind: tasks
    name: tasks
    max_tokens: 96          # per model call
    max_calls: 4            # model calls per task (the agent's request limit)
    cases:
    - id: read_answer-0001
      category: read_answer
      workspace:                       # path -> file content, written before the run
        src/calc.py: "def add(a, b):\\n    return a + b\\n"
      git: false                       # `git init` + one commit of the workspace first
      messages: []                     # optional prior conversation (chat messages)
      prompt: What does the add function in src/calc.py return?
      checks:
        answer_contains: [a + b, [sum, total]]   # every item; an inner list = alternatives
        answer_excludes: [I cannot]
        files_equal: {out.txt: "hello\\n"}       # whole content afterwards
        files_contain: {setup.cfg: [debug = false]}
        files_absent: [tmp.txt]
        files_unchanged: [src/calc.py]
        called: [read_file]            # tools that must have been called
        not_called: [write_file]
        commands: [git status]         # a run_command whose command contains each
        max_tool_calls: 2              # at most this many tool calls
        no_call: false                 # true: no tool call at all

Built-in task suites live beside the single-turn ones in `suites/` and carry
`kind: tasks`; `load_any_suite` reads either kind.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from punie.evaluate.suite import SuiteBase, check_roles
from punie.toolspec import AGENT_TOOLS, TOOL_NAMES

TASK_FAILURES = (
    "answer_contains",
    "answer_excludes",
    "files_equal",
    "files_contain",
    "files_absent",
    "files_unchanged",
    "called",
    "not_called",
    "commands",
    "max_tool_calls",
    "no_call",
    "no_answer",  # the turn ended without an answer (repeat guard, budget, bad reply)
    "server_error",
    "timeout",
)

# How a task's turn ended (TaskResult.ended_by).
ENDINGS = (
    "answer",
    "repeat_guard",
    "call_budget",
    "unusable_reply",
    "max_tokens",
    "context_full",
    "error",
)


def _alternatives(value: Any) -> Any:
    if isinstance(value, list):
        return [v if isinstance(v, list) else [v] for v in value]
    return value


class TaskChecks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Each item must appear in the final answer (case-insensitive, spaces collapsed);
    # an item is a list of alternatives, any one of which will do.
    answer_contains: list[list[str]] = Field(default_factory=list)
    answer_excludes: list[str] = Field(default_factory=list)
    files_equal: dict[str, str] = Field(default_factory=dict)
    files_contain: dict[str, list[str]] = Field(default_factory=dict)
    files_absent: list[str] = Field(default_factory=list)
    files_unchanged: list[str] = Field(default_factory=list)
    called: list[str] = Field(default_factory=list)
    not_called: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
    max_tool_calls: int | None = Field(default=None, ge=0)
    no_call: bool = False

    @field_validator("answer_contains", mode="before")
    @classmethod
    def _alts(cls, value: Any) -> Any:
        return _alternatives(value)

    @field_validator("files_contain", mode="before")
    @classmethod
    def _contain_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v if isinstance(v, list) else [v] for k, v in value.items()}
        return value

    def is_empty(self) -> bool:
        return self == TaskChecks()


class TaskCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    category: str
    workspace: dict[str, str] = Field(default_factory=dict)
    git: bool = False
    messages: list[dict[str, Any]] = Field(default_factory=list)
    prompt: str = Field(min_length=1)
    tools: list[dict[str, Any]] = Field(default_factory=lambda: list(AGENT_TOOLS))
    max_calls: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    checks: TaskChecks

    @field_validator("tools", mode="before")
    @classmethod
    def _tools(cls, value: Any) -> Any:
        if value in (None, "agent"):
            return list(AGENT_TOOLS)
        return value

    @field_validator("workspace")
    @classmethod
    def _relative_paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value:
            p = PurePosixPath(path)
            if p.is_absolute() or ".." in p.parts or not p.parts:
                raise ValueError(f"workspace path {path!r} must be relative, inside the workspace")
        return value

    @field_validator("messages")
    @classmethod
    def _messages(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return check_roles(value)

    @model_validator(mode="after")
    def _checkable(self) -> TaskCase:
        if self.checks.is_empty():
            raise ValueError("a task needs at least one check")
        names = {t.get("function", {}).get("name") for t in self.tools}
        for name in [*self.checks.called, *self.checks.not_called]:
            if name not in names:
                raise ValueError(f"check names tool {name!r}, which the task does not offer")
        if self.checks.no_call and (self.checks.called or self.checks.commands):
            raise ValueError("no_call contradicts called/commands")
        return self

    @property
    def offers_agent_tools_only(self) -> bool:
        return {t.get("function", {}).get("name") for t in self.tools} <= set(TOOL_NAMES)


class TaskSuite(SuiteBase):
    kind: str = "tasks"
    name: str
    description: str = ""
    max_tokens: int = 96
    max_calls: int = 4
    cases: list[TaskCase] = Field(min_length=1)
    source: str | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value != "tasks":
            raise ValueError("a task suite has kind: tasks")
        return value

    def budget(self, case: TaskCase) -> int:
        return case.max_calls or self.max_calls
