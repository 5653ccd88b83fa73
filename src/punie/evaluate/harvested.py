"""The `harvest-newer` task suite: a harvest's held-out newest sessions as whole tasks.

`punie data harvest` keeps a turn as a positive when every call of it succeeded and
was allowed and the user's next prompt did not correct it; the newest sessions'
positives are its `test.jsonl`. Each such row becomes one task for the task runner
(`punie.evaluate.task_runner`, the one that runs every task suite):

- **prompt**: the row's last user message; **messages**: everything before it but
  the system turn (earlier turns of the session, with their calls and results).
- **workspace**: the files as the turn found them, as far as the row shows them.
  `read_file` returns a file's text verbatim, so a read's result is the file; a
  write or edit of an earlier turn is replayed on what is known; a file the turn
  wrote before reading keeps what earlier turns showed (else it starts absent); a
  name a `list_dir` listed whose text was never shown is an empty file.
- **checks**: `called` (every tool the turn called), `commands` (every command it
  ran), `files_contain` (what its writes and edits left in each file it wrote),
  `max_tool_calls` (the recorded count plus slack), or `no_call` for a turn that
  answered without a call. No answer check: nothing in a row says which words of
  an answer mattered, and the user's silence accepted the whole of it.

A row that cannot be rebuilt is skipped, each with a reason of `SKIPS`. The
functions here are pure; reading a harvest folder is `punie.evaluate.harvested_io`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from punie.toolcalls import read_tool_calls
from punie.toolspec import AGENT_TOOLS, TOOL_NAMES

SUITE_NAME = "harvest-newer"
SLACK = 2  # tool calls allowed beyond the recorded count (at least; half the count above 4)
MIN_MAX_TOKENS = 96  # the built-in task suites' per-call limit

SKIPS = {
    "no_prompt": "the row has no user message to prompt with",
    "no_result": "a call of the turn has no recorded result",
    "bad_arguments": "a call's arguments are not a JSON object",
    "unknown_tool": "it calls or offers a tool the task runner does not have",
    "path_outside": "a path is absolute or leaves the workspace (a row does not say where "
    "the workspace was)",
    "truncated_read": "a file read was truncated, so the file's whole text is unknown",
    "unknown_base": "an edit of a file whose text before it the row never showed",
    "path_conflict": "a path is both a file and a folder",
    "duplicate": "the same session and turn came from another harvest folder",
    "invalid": "the case fails the task-suite schema",
}

_TRUNCATED = re.compile(r"\n\[truncated(: showing \d+ of \d+ bytes| at \d+ characters)\]\Z")
_GIT = re.compile(r"^\s*git\b")
FILE_TOOLS = {"read_file", "write_file", "edit_file", "list_dir", "search"}


class Skip(Exception):
    """A row that cannot be a case: `key` is a SKIPS key."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key, self.detail = key, detail


def _steps(messages: list[dict], strict: bool) -> list[tuple[str, dict, Any]]:
    """(tool, arguments, result text or None) of every call in `messages`, in order; a
    call whose arguments are no JSON object is Skip (`strict`) or left out."""
    results = {m.get("tool_call_id"): m.get("content") for m in messages if m.get("role") == "tool"}
    out = []
    for m in messages:
        for c in (m.get("tool_calls") or []) if m.get("role") == "assistant" else []:
            calls, _ = read_tool_calls([c])  # the one decoder of a call's arguments
            if not calls:
                if strict:
                    raise Skip("bad_arguments", str((c.get("function") or {}).get("name")))
                continue
            out.append((calls[0].name, calls[0].arguments, results.get(c.get("id"))))
    return out


def workspace_path(value: Any, strict: bool = True) -> str | None:
    """A tool's path argument as a workspace-relative POSIX path ("." for the root);
    None (or Skip when `strict`) for one that is absolute or leaves the workspace."""
    text = str(value).strip() if value is not None else ""
    p = posixpath.normpath(text or ".")
    if p.startswith(("/", "~")) or p == ".." or p.startswith("../"):
        if strict:
            raise Skip("path_outside", text)
        return None
    return p


def _listed(folder: str, result: str) -> list[str]:
    """The files (not folders) a list_dir result names."""
    names = [ln for ln in result.splitlines() if ln and not ln.endswith("/")]
    names = [n for n in names if not (n.startswith("[") and n.endswith("more entries]"))]
    names = [n for n in names if n != "(empty directory)"]
    return [posixpath.normpath(posixpath.join(folder, n)) for n in names]


@dataclass
class Files:
    """What a row shows of the workspace: path -> text, and names only listed."""

    known: dict[str, str] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)

    def replay(self, name: str, args: dict, result: Any) -> None:
        """An earlier turn's call, believed only where its result says it worked."""
        path = workspace_path(args.get("path"), strict=False) if name in FILE_TOOLS else None
        if not isinstance(result, str) or result.startswith("error:") or path is None:
            return
        if name == "read_file":
            if _TRUNCATED.search(result):
                self.known.pop(path, None)
            else:
                self.known[path] = result
        elif name == "write_file" and isinstance(args.get("content"), str):
            self.known[path] = args["content"]
        elif name == "edit_file":
            new = _edited(self.known.get(path), args, path)
            if new is None:
                self.known.pop(path, None)
            else:
                self.known[path] = new
        elif name == "list_dir":
            self.listed.update(_listed(path, result))


def _edited(text: str | None, args: dict, path: str) -> str | None:
    """`text` after the edit `args`, or None when it is unknown or does not apply."""
    from punie.agent.edits import EditError, apply_edit

    old, new = args.get("old_text"), args.get("new_text")
    if text is None or not isinstance(old, str) or not isinstance(new, str):
        return None
    try:
        return apply_edit(text, old, new, path, bool(args.get("replace_all", False))).new_text
    except EditError:
        return None


@dataclass
class Turn:
    """The recorded turn replayed: the files it found, what it left, what it did."""

    start: dict[str, str]  # path -> text when the turn began (as far as shown)
    final: dict[str, str]  # path -> text when it ended
    wrote: dict[str, list[str]]  # path -> each write's content / edit's new_text
    calls: list[tuple[str, dict]]


def replay_turn(files: Files, steps: list[tuple[str, dict, Any]]) -> Turn:
    """Replay the turn's calls (all succeeded: the row is a positive) on `files`."""
    start, state = dict(files.known), dict(files.known)
    wrote: dict[str, list[str]] = {}  # also: the paths the turn has changed so far
    for name, args, result in steps:
        if not isinstance(result, str):
            raise Skip("no_result", name)
        path = workspace_path(args.get("path")) if name in FILE_TOOLS else None
        if name == "read_file":
            if _TRUNCATED.search(result):
                raise Skip("truncated_read", str(path))
            if path not in wrote:
                start[path] = result  # what was really there, whatever earlier turns showed
            state[path] = result
        elif name == "write_file":
            state[path] = str(args.get("content", ""))
            wrote.setdefault(path, []).append(state[path])
        elif name == "edit_file":
            new = _edited(state.get(path), args, path)
            if new is None:
                raise Skip("unknown_base", str(path))
            state[path] = new
            wrote.setdefault(path, []).append(str(args.get("new_text", "")))
        elif name == "list_dir":
            files.listed.update(p for p in _listed(path, result) if p not in wrote)
    return Turn(start, state, wrote, [(n, a) for n, a, _ in steps])


def _workspace(files: Files, turn: Turn) -> dict[str, str]:
    ws = {p: "" for p in sorted(files.listed) if p not in turn.start}
    ws.update(turn.start)
    ws.pop(".", None)
    for p in ws:
        parent = posixpath.dirname(p)
        while parent:
            if parent in ws:
                raise Skip("path_conflict", parent)
            parent = posixpath.dirname(parent)
    return ws


def checks_of(turn: Turn) -> dict[str, Any]:
    """The checks a rerun of the turn must pass (see the module doc)."""
    if not turn.calls:
        return {"no_call": True}
    names = list(dict.fromkeys(n for n, _ in turn.calls))
    commands = [str(a.get("command", "")) for n, a in turn.calls if n == "run_command"]
    contain: dict[str, list[str]] = {}
    for path, texts in turn.wrote.items():
        final = turn.final.get(path, "")
        kept = [t.strip() for t in texts if t.strip() and t.strip() in final]
        kept = list(dict.fromkeys(k for k in kept if not any(k != o and k in o for o in kept)))
        if kept:
            contain[path] = kept
    n = len(turn.calls)
    out: dict[str, Any] = {"called": names}
    if commands:
        out["commands"] = list(dict.fromkeys(c for c in commands if c.strip()))
    if contain:
        out["files_contain"] = contain
    out["max_tool_calls"] = n + max(SLACK, n // 2)
    return out


def _category(turn: Turn) -> str:
    names = {n for n, _ in turn.calls}
    if names & {"write_file", "edit_file"}:
        return "writes"
    if "run_command" in names:
        return "commands"
    return "reads" if names else "answers"


def _tools(row: dict) -> list[dict] | None:
    """The agent tools the row offered, when not all of them (None: all)."""
    names = [(t.get("function") or {}).get("name") for t in row.get("tools") or []]
    if not names:
        return None
    unknown = [n for n in names if n not in TOOL_NAMES]
    if unknown:
        raise Skip("unknown_tool", ", ".join(map(str, unknown)))
    if set(names) == set(TOOL_NAMES):
        return None
    return [t for t in AGENT_TOOLS if t["function"]["name"] in names]


def _max_tokens(messages: list[dict]) -> int:
    """Room for the turn's longest call message: ~2 characters a token, generously."""
    longest = max(
        (
            sum(len(str((c.get("function") or {}).get("arguments", ""))) + 32 for c in calls)
            for m in messages
            if (calls := m.get("tool_calls"))
        ),
        default=0,
    )
    return max(MIN_MAX_TOKENS, longest // 2 + 32)


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(c for c in content if isinstance(c, str))
    return content if isinstance(content, str) else ""


def case_from_row(row: dict[str, Any], case_id: str) -> dict[str, Any]:
    """The task case (a dict in the suite format) of one held-out positive row; Skip
    when it cannot be rebuilt."""
    messages = row.get("messages") or []
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    prompt = _text(messages[users[-1]].get("content")) if users else ""
    if not prompt.strip():
        raise Skip("no_prompt")
    at = users[-1]
    tools = _tools(row)
    files = Files()
    for step in _steps(messages[:at], strict=False):
        files.replay(*step)
    turn = replay_turn(files, _steps(messages[at + 1 :], strict=True))
    unknown = sorted({n for n, _ in turn.calls} - set(TOOL_NAMES))
    if unknown:
        raise Skip("unknown_tool", ", ".join(unknown))
    checks = checks_of(turn)
    commands = [str(a.get("command", "")) for n, a in turn.calls if n == "run_command"]
    case: dict[str, Any] = {
        "id": case_id,
        "category": _category(turn),
        "workspace": _workspace(files, turn),
        "git": any(_GIT.match(c) for c in commands),
        "messages": [m for m in messages[:at] if m.get("role") != "system"],
        "prompt": prompt,
        "max_tokens": _max_tokens(messages[at + 1 :]),
        "checks": checks,
    }
    if tools is not None:
        case["tools"] = tools
    if turn.calls:
        # One model call past the tool-call limit and the answer: a model that makes
        # one call too many fails max_tool_calls rather than ending on the budget.
        case["max_calls"] = checks["max_tool_calls"] + 2
    return case


def _case_ids(row: dict[str, Any], n: int) -> tuple[str, str]:
    """(the turn's identity, its case id: the session's and turn's first 8 characters)."""
    meta = row.get("meta") or {}
    sid, tid = meta.get("session_id"), meta.get("turn_id")
    if isinstance(sid, str) and isinstance(tid, str) and sid and tid:
        return f"{sid}-{tid}", f"{sid[:8]}-{tid[:8]}"
    return f"row-{n}", f"row-{n}"


def suite_from_rows(
    rows: list[tuple[str, dict[str, Any]]], name: str = SUITE_NAME, description: str = ""
) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """(the task suite as a dict, or None when no row made a case; each skipped row as
    {where, reason, detail}) of `(file:line, row)` pairs of held-out positives."""
    from pydantic import ValidationError

    from punie.evaluate.tasks import TaskCase

    cases: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    turns: set[str] = set()
    for n, (where, row) in enumerate(rows, 1):
        key, cid = _case_ids(row, n)
        if any(c["id"] == cid for c in cases):
            cid = key  # another turn's ids start alike: the whole ids tell them apart
        try:
            if key in turns:
                raise Skip("duplicate", key)
            case = case_from_row(row, cid)
            TaskCase.model_validate(case)
        except Skip as skip:
            skipped.append({"where": where, "reason": skip.key, "detail": skip.detail})
            continue
        except ValidationError as exc:
            err = exc.errors()[0]
            detail = f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
            skipped.append({"where": where, "reason": "invalid", "detail": detail})
            continue
        cases.append(case)
        turns.add(key)
    if not cases:
        return None, skipped
    suite = {
        "kind": "tasks",
        "name": name,
        "description": description or "Held-out newest recorded sessions, rerun as tasks.",
        "max_tokens": MIN_MAX_TOKENS,
        "max_calls": 4,
        "cases": cases,
    }
    return suite, skipped
