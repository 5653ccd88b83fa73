"""The chat-JSONL schema that mlx-lm trains on and mlx_lm.server speaks.

Three row forms, as mlx-lm's `create_dataset` picks them:
- chat: `{"messages": [...], "tools": [...]}` (OpenAI fine-tuning format),
- completion: `{"prompt": ..., "completion": ...}`,
- text: `{"text": ...}`.

Assistant tool calls are `{"id", "type": "function", "function": {"name", "arguments"}}`
where `arguments` is the OpenAI JSON *string*; its canonical form is
`json.dumps(args, ensure_ascii=False)` (what mlx_lm.server itself emits).

Every model allows extra keys (`category`, `meta`, a message's `name`...) and dumps
with `exclude_unset`, so load -> dump gives back exactly the row that was read.
The hot validation path (`punie.data.validate`) uses plain dict checks instead of
these models: pydantic per example would cap throughput well below 50k rows/s.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

ROLES = ("system", "user", "assistant", "tool")


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready dict, with exactly the keys that were set."""
        return self.model_dump(mode="json", exclude_unset=True)


class FunctionCall(_Row):
    name: str
    arguments: str  # the OpenAI JSON string, not a dict

    def args(self) -> Any:
        return json.loads(self.arguments)


class ToolCall(_Row):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(_Row):
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class FunctionSpec(_Row):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class ToolSpec(_Row):
    type: Literal["function"] = "function"
    function: FunctionSpec


class ChatExample(_Row):
    messages: list[Message]
    tools: list[ToolSpec] | None = None


class CompletionExample(_Row):
    prompt: str
    completion: str
    tools: list[ToolSpec] | None = None


class TextExample(_Row):
    text: str


Example = ChatExample | CompletionExample | TextExample


def row_form(row: dict) -> str | None:
    """Which form mlx-lm would read this row as (its own precedence), or None."""
    if "prompt" in row and "completion" in row:
        return "completion"
    if "messages" in row:
        return "chat"
    if "text" in row:
        return "text"
    return None


def parse_row(row: dict) -> Example:
    """A dict as its schema model; raises pydantic.ValidationError or ValueError."""
    form = row_form(row)
    if form == "chat":
        return ChatExample.model_validate(row)
    if form == "completion":
        return CompletionExample.model_validate(row)
    if form == "text":
        return TextExample.model_validate(row)
    raise ValueError("row has none of messages, prompt+completion, text")


def canonical_arguments(args: dict[str, Any]) -> str:
    """The one string form of a call's arguments that Punie writes."""
    return json.dumps(args, ensure_ascii=False)


def tool_call(call_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI tool call dict with canonical arguments."""
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": canonical_arguments(args)},
    }
