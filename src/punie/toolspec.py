"""Punie's agent tools as OpenAI function specs: the one contract shared by the
training-data generator, the evaluation suites and the agent that executes them.
A name or parameter changed here changes all three together."""

from __future__ import annotations

from typing import Any

# The agent's system prompt. The generated training data uses it too, so the tuned
# model sees at serve time what it was trained on.
SYSTEM_PROMPT = "You are Punie, a coding assistant."


def _tool(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


_STR = {"type": "string"}

READ_FILE = _tool("read_file", "Read a text file in the workspace.", {"path": _STR}, ["path"])
WRITE_FILE = _tool(
    "write_file",
    "Create or overwrite a text file in the workspace.",
    {"path": _STR, "content": _STR},
    ["path", "content"],
)
LIST_DIR = _tool("list_dir", "List a directory in the workspace.", {"path": _STR}, ["path"])
SEARCH = _tool(
    "search",
    "Search workspace files for a text or regex pattern.",
    {"pattern": _STR, "path": _STR},
    ["pattern"],
)
RUN_COMMAND = _tool(
    "run_command", "Run a shell command in the workspace.", {"command": _STR}, ["command"]
)

AGENT_TOOLS: list[dict] = [READ_FILE, WRITE_FILE, LIST_DIR, SEARCH, RUN_COMMAND]
TOOL_NAMES: list[str] = [t["function"]["name"] for t in AGENT_TOOLS]


def tool_by_name(name: str) -> dict:
    for t in AGENT_TOOLS:
        if t["function"]["name"] == name:
            return t
    raise KeyError(name)
