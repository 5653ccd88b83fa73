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
# Named as ACP's own diff fields (oldText/newText) beside Punie's `path`; replace_all as
# in Claude Code's Edit. The description is short because Punie's chat template lists
# every tool in every prompt (each token costs on a 2-core CPU) and shows no parameter
# descriptions; servers that render the whole schema show those. A miss is answered with
# the closest region of the file, so the model can copy the real text and retry.
EDIT_FILE = _tool(
    "edit_file",
    "Replace exact text in a file.",
    {
        "path": _STR,
        "old_text": {
            "type": "string",
            "description": "the exact text to replace; it must occur once unless replace_all",
        },
        "new_text": {"type": "string", "description": "the text to put in its place"},
        "replace_all": {
            "type": "boolean",
            "default": False,
            "description": "replace every occurrence of old_text",
        },
    },
    ["path", "old_text", "new_text"],
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

AGENT_TOOLS: list[dict] = [READ_FILE, WRITE_FILE, EDIT_FILE, LIST_DIR, SEARCH, RUN_COMMAND]
TOOL_NAMES: list[str] = [t["function"]["name"] for t in AGENT_TOOLS]


def tool_by_name(name: str) -> dict:
    for t in AGENT_TOOLS:
        if t["function"]["name"] == name:
            return t
    raise KeyError(name)
