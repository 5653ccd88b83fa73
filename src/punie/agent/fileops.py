"""The file tools' reads and writes, through the IDE's fs/* when it offers them, else on
the local disk (confined to the workspace, atomic, keeping the file's mode).

A write or an edit is worked out before it is asked about (`FileChange`): the IDE
shows the same diff (old and new text) in the `tool_call`, in the permission request
and in the final update, so the user approves exactly what will be written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acp import tool_diff_content
from acp.schema import FileEditToolCallContent

from punie.agent import workspace as wsmod
from punie.agent.edits import EditError, apply_edit
from punie.agent.workspace import ToolError

if TYPE_CHECKING:
    from punie.agent.tools import ToolEnv

# Failed edit_file matches on one file after which the error suggests write_file:
# a small model that missed twice tends to resend the same wrong old_text.
EDIT_FAILURES_BEFORE_WRITE = 2


@dataclass(frozen=True)
class FileChange:
    path: Path  # resolved, inside the workspace
    old: str | None  # None: the file does not exist yet
    new: str
    told: str  # what the model is told once it is written

    def diff(self) -> FileEditToolCallContent:
        return tool_diff_content(str(self.path), self.new, self.old)


def _through_ide(env: ToolEnv, write: bool = False) -> bool:
    return env.client is not None and (env.caps.write if write else env.caps.read)


async def _ide_read(env: ToolEnv, target: Path) -> str:
    return (await env.client.read_text_file(session_id=env.session_id, path=str(target))).content


async def read(env: ToolEnv, path: str) -> str:
    if _through_ide(env):
        text = await _ide_read(env, env.workspace.resolve(path))
        limit = wsmod.MAX_READ_BYTES
        return text if len(text) <= limit else text[:limit] + f"\n[truncated at {limit} characters]"
    return await asyncio.to_thread(wsmod.read_local, env.workspace, path)


async def old_text(env: ToolEnv, path: str) -> str | None:
    """The text a write replaces (for its diff), None when the file is new."""
    target = env.workspace.resolve(path)
    if _through_ide(env):
        # The IDE may hold unsaved edits, so ask it; a missing file is an error there.
        if not target.exists():
            return None
        try:
            return await _ide_read(env, target)
        except Exception:
            return None
    return await asyncio.to_thread(wsmod.old_text_local, env.workspace, path)


async def text_to_edit(env: ToolEnv, path: str) -> str:
    """The whole text an edit applies to; a missing or binary file is an error."""
    target = env.workspace.resolve(path)
    if not target.exists():
        raise ToolError(f"{path}: no such file (write_file creates a new one)")
    if target.is_dir():
        raise ToolError(f"{path}: is a directory")
    if _through_ide(env):
        return await _ide_read(env, target)
    return await asyncio.to_thread(wsmod.text_to_edit_local, env.workspace, path)


async def write(env: ToolEnv, path: str, content: str) -> None:
    target = env.workspace.resolve(path)
    if _through_ide(env, write=True):
        # Not every IDE creates missing folders; inside the workspace, that is safe here.
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        await env.client.write_text_file(
            session_id=env.session_id, path=str(target), content=content
        )
    else:
        await asyncio.to_thread(wsmod.write_local, env.workspace, path, content)


async def write_change(env: ToolEnv, args: dict[str, Any]) -> FileChange:
    path, content = args["path"], args["content"]
    return FileChange(
        env.workspace.resolve(path),
        await old_text(env, path),
        content,
        f"wrote {len(content.encode())} bytes to {path}",
    )


def _replace_all(args: dict[str, Any]) -> bool:
    value = args.get("replace_all", False)
    if not isinstance(value, bool):
        raise ToolError(f"edit_file: replace_all must be true or false, not {value!r}")
    return value


def _failed(env: ToolEnv, path: str, target: Path, message: str) -> ToolError:
    n = env.edit_failures[target] = env.edit_failures.get(target, 0) + 1
    if n >= EDIT_FAILURES_BEFORE_WRITE:
        message += (
            f"\n{n} edits of {path} have failed: read_file it, then write_file "
            "the whole new content instead."
        )
    return ToolError(message)


async def edit_change(env: ToolEnv, args: dict[str, Any], text: str | None = None) -> FileChange:
    """The edit's change on `text` (default: the file as it is now), or a ToolError the
    model can retry from; a miss counts towards suggesting write_file."""
    path = args["path"]
    target = env.workspace.resolve(path)
    replace_all = _replace_all(args)
    if text is None:
        text = await text_to_edit(env, path)
    try:
        # A miss on a long file diffs thousands of windows (~1 s): off the event loop.
        edit = await asyncio.to_thread(
            apply_edit, text, args["old_text"], args["new_text"], path, replace_all
        )
    except EditError as exc:
        raise _failed(env, path, target, str(exc)) from None
    where = ", ".join(map(str, edit.lines[:10])) + (", ..." if len(edit.lines) > 10 else "")
    if edit.count == 1:
        told = f"edited {path} at line {where}"
    else:
        told = f"edited {path}: {edit.count} replacements, at lines {where}"
    return FileChange(target, text, edit.new_text, told)


async def apply_change(
    env: ToolEnv, name: str, args: dict[str, Any], change: FileChange
) -> FileChange:
    """Write an approved change, returning what was written: an edit is redone if the
    file moved on meanwhile (the user may have typed in it while asked)."""
    if name == "edit_file":
        now = await text_to_edit(env, args["path"])
        if now != change.old:
            change = await edit_change(env, args, now)
        env.edit_failures.pop(change.path, None)
    await write(env, args["path"], change.new)
    return change
