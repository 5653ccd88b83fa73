"""Reading and deleting recorded sessions: what `punie traces list / show / rm` use.

A session is one file, `traces/<workspace>-<hash>/<session id>.jsonl`. Reading is
tolerant (a record cut off by a crash is skipped). Deleting removes whole session
files (an unlink is atomic: a reader sees the session or nothing), then the
workspace folders left empty.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from punie import jsonl
from punie.errors import PunieError
from punie.traces.recorder import workspace_key

STATUSES = ("succeeded", "failed", "rejected", "cancelled")


@dataclass(frozen=True)
class SessionSummary:
    session_id: str
    path: Path
    workspace: str
    source: str
    turns: int
    outcomes: dict[str, int]  # call status -> count
    last_time: datetime  # the last record's time (the file's mtime if none says)
    model: str

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


def read_records(path: Path) -> list[dict[str, Any]]:
    return [r for r in jsonl.read_jsonl(path, tolerant=True) if isinstance(r, dict)]


def session_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*/*.jsonl") if p.is_file())


def _time(value: Any) -> datetime | None:
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def summarize(path: Path) -> SessionSummary:
    records = read_records(path)
    turns = [r for r in records if r.get("type") == "turn"]
    outcomes = Counter(
        c.get("status", "?") for t in turns for c in t.get("calls") or [] if isinstance(c, dict)
    )
    times = [t for t in (_time(r.get("time")) for r in records) if t is not None]
    if times:
        last = max(times)
    else:
        last = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    first = turns[0] if turns else {}
    return SessionSummary(
        session_id=path.stem,
        path=path,
        workspace=str(first.get("workspace", "?")),
        source=str(first.get("source", "?")),
        turns=len(turns),
        outcomes=dict(outcomes),
        last_time=last,
        model=str(turns[-1].get("model", "?")) if turns else "?",
    )


def list_sessions(root: Path, workspace: Path | None = None) -> list[SessionSummary]:
    """Recorded sessions, newest first (of one workspace when given)."""
    files = session_files(root)
    if workspace is not None:
        key = workspace_key(workspace)
        files = [p for p in files if p.parent.name == key]
    return sorted((summarize(p) for p in files), key=lambda s: s.last_time, reverse=True)


def find_session(root: Path, session: str) -> Path:
    """A session's file by its id or an unambiguous start of it."""
    hits = [p for p in session_files(root) if p.stem.startswith(session.strip().lower())]
    if not session.strip() or not hits:
        raise PunieError(f"no recorded session {session!r}", where=str(root), hint=_LIST_HINT)
    if len({p.stem for p in hits}) > 1:
        ids = ", ".join(sorted({p.stem for p in hits})[:5])
        raise PunieError(f"{session!r} is the start of several sessions: {ids}", hint=_LIST_HINT)
    return hits[0]


_LIST_HINT = "`punie traces list` shows them"
_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """`30d`, `12h`, `2w`, `90m`, `45s` as a timedelta; PunieError otherwise."""
    m = _AGE.fullmatch(text.strip().lower())
    if m is None:
        raise PunieError(
            f"not an age: {text!r}", where="--older-than", hint="a number and s, m, h, d or w"
        )
    return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})


def select(
    root: Path,
    *,
    session: str | None = None,
    workspace: Path | None = None,
    older_than: timedelta | None = None,
    now: datetime | None = None,
) -> list[SessionSummary]:
    """The sessions every given filter matches."""
    found = list_sessions(root, workspace)
    if session is not None:
        path = find_session(root, session)
        found = [s for s in found if s.path == path]
    if older_than is not None:
        cutoff = (now or datetime.now(UTC)) - older_than
        found = [s for s in found if s.last_time < cutoff]
    return found


def remove(sessions: list[SessionSummary]) -> int:
    """Delete the sessions' files, then workspace folders left empty; how many went."""
    gone = 0
    for s in sessions:
        try:
            s.path.unlink()
            gone += 1
        except FileNotFoundError:
            pass
    for folder in {s.path.parent for s in sessions}:
        try:
            os.rmdir(folder)
        except OSError:
            pass  # not empty: other sessions of that workspace remain
    return gone
