"""The session's workspace: every local path a tool touches must resolve inside it.

A model's path is untrusted input. `..`, absolute paths elsewhere and symlinks that
point out of the workspace are refused before any file is opened; `resolve()` follows
symlinks, so a link inside the workspace that leads outside is caught too.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

# Directories no one wants in a listing or a search hit.
SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules", ".mypy_cache"}
MAX_READ_BYTES = 200_000
MAX_SEARCH_HITS = 200
MAX_SEARCH_FILE_BYTES = 1_000_000
MAX_LIST_ENTRIES = 500
# Paths looked at for a search's path matches (a big checkout stays fast).
MAX_PATH_WALK = 5000


class ToolError(Exception):
    """A tool call that cannot be done; the message goes back to the model and the IDE."""


@dataclass(frozen=True)
class Workspace:
    root: Path  # absolute and resolved

    @classmethod
    def at(cls, cwd: str | os.PathLike[str]) -> Workspace:
        root = Path(cwd).expanduser()
        if not root.is_absolute():
            raise ToolError(f"workspace {cwd!r} is not an absolute path")
        root = root.resolve()
        if not root.is_dir():
            raise ToolError(f"workspace {root} is not a directory")
        return cls(root)

    def resolve(self, path: str | None) -> Path:
        """The absolute path for a tool argument, or ToolError when it leaves the workspace."""
        if path is None or not str(path).strip():
            path = "."
        raw = Path(str(path).strip()).expanduser()
        candidate = raw if raw.is_absolute() else self.root / raw
        # strict=False: a file about to be written need not exist yet, but every
        # existing ancestor (and symlink) on the way is still followed.
        resolved = candidate.resolve(strict=False)
        if resolved != self.root and self.root not in resolved.parents:
            raise ToolError(f"{path}: outside the workspace {self.root} (refused)")
        return resolved

    def relative(self, path: Path) -> str:
        rel = path.relative_to(self.root).as_posix()
        return rel or "."


def read_local(ws: Workspace, path: str) -> str:
    p = ws.resolve(path)
    if not p.exists():
        raise ToolError(f"{path}: no such file")
    if p.is_dir():
        raise ToolError(f"{path}: is a directory (use list_dir)")
    data = p.read_bytes()
    if b"\0" in data[:8192]:
        raise ToolError(f"{path}: binary file, not shown")
    text = data[:MAX_READ_BYTES].decode("utf-8", errors="replace")
    if len(data) > MAX_READ_BYTES:
        text += f"\n[truncated: showing {MAX_READ_BYTES} of {len(data)} bytes]"
    return text


def old_text_local(ws: Workspace, path: str) -> str | None:
    """The file's current text for a diff, or None when it does not exist yet."""
    p = ws.resolve(path)
    if not p.is_file():
        return None
    return p.read_text(encoding="utf-8", errors="replace")


def text_to_edit_local(ws: Workspace, path: str) -> str:
    """The whole file for edit_file: no size cut, and bytes that are not UTF-8 refuse
    the edit (decoding them with replacements would rewrite them on save)."""
    p = ws.resolve(path)
    data = p.read_bytes()
    if b"\0" in data[:8192]:
        raise ToolError(f"{path}: binary file, not edited")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{path}: not UTF-8 text, not edited (write_file replaces it)") from None


def write_local(ws: Workspace, path: str, content: str) -> None:
    from punie import atomic

    p = ws.resolve(path)
    if p.is_dir():
        raise ToolError(f"{path}: is a directory")
    atomic.write_text(p, content)


def list_local(ws: Workspace, path: str | None) -> str:
    p = ws.resolve(path)
    if not p.exists():
        raise ToolError(f"{path}: no such directory")
    if not p.is_dir():
        raise ToolError(f"{path}: not a directory")
    entries = sorted(p.iterdir(), key=lambda e: (not e.is_dir(), e.name))
    lines = [e.name + ("/" if e.is_dir() else "") for e in entries if e.name not in SKIP_DIRS]
    if len(lines) > MAX_LIST_ENTRIES:
        lines = lines[:MAX_LIST_ENTRIES] + [f"[{len(lines) - MAX_LIST_ENTRIES} more entries]"]
    return "\n".join(lines) if lines else "(empty directory)"


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:
        # Models often pass plain text with regex metacharacters ("foo(").
        return re.compile(re.escape(pattern))


def _walk_files(ws: Workspace, start: Path):
    if start.is_file():
        yield start
        return
    for dirpath, dirnames, filenames in os.walk(start):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            f = Path(dirpath) / name
            if _confined(ws, f):
                yield f


def _confined(ws: Workspace, f: Path) -> bool:
    """False for a symlink that points outside: such a path is skipped quietly."""
    try:
        ws.resolve(str(f))
    except ToolError:
        return False
    return True


def search_local(ws: Workspace, pattern: str, path: str | None = None) -> str:
    if not pattern:
        raise ToolError("search: empty pattern")
    start = ws.resolve(path)
    if not start.exists():
        raise ToolError(f"{path}: no such file or directory")
    rx = _compile(pattern)
    hits: list[str] = []
    for f in _walk_files(ws, start):
        try:
            if f.stat().st_size > MAX_SEARCH_FILE_BYTES:
                continue
            data = f.read_bytes()
        except OSError:
            continue
        if b"\0" in data[:8192]:
            continue
        for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if rx.search(line):
                hits.append(f"{ws.relative(f)}:{n}: {line.strip()[:200]}")
                if len(hits) >= MAX_SEARCH_HITS:
                    hits.append(f"[stopped after {MAX_SEARCH_HITS} matches]")
                    return "\n".join(hits)
    return "\n".join(hits) if hits else _no_matches(ws, start, pattern)


def _no_matches(ws: Workspace, start: Path, pattern: str) -> str:
    """No line matches; paths that do are named, since a model often searches for a
    file or folder name (search "notes" to find notes/)."""
    told = f"no matches for {pattern!r}"
    names = _matching_paths(ws, start, pattern.strip().lower())
    if names:
        told += "; paths that match: " + ", ".join(names[:10])
    return told


def _matching_paths(ws: Workspace, start: Path, low: str) -> list[str]:
    """The searched path and those under it whose workspace-relative name contains
    `low` (any case), folders with a trailing "/", in one walk of at most
    MAX_PATH_WALK entries."""
    if not low:
        return []
    found: list[str] = []
    if start != ws.root and low in ws.relative(start).lower():
        found.append(ws.relative(start) + ("/" if start.is_dir() else ""))
    seen = 0
    for dirpath, dirnames, filenames in os.walk(start):  # a file: nothing to walk
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in dirnames + filenames:
            f = Path(dirpath) / name
            rel = ws.relative(f)
            seen += 1
            if low in rel.lower() and _confined(ws, f):
                found.append(rel + ("/" if f.is_dir() else ""))
        if seen >= MAX_PATH_WALK:
            break
    return sorted(found)
