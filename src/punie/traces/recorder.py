"""Appends trace records under `PUNIE_HOME/traces/`, off the event loop, never failing
the turn.

One worker thread takes the jobs in order (a turn's record is always written before
the `next_prompt` that follows it) and does the slow part: converting the turn to a
row, redacting, appending with fsync. An error is logged and the session goes on.

Size cap: when the files under `traces/` reach `max_bytes`, recording stops with one
log line, until the user frees space (`punie traces rm`). Rotating the oldest files
out instead would delete recorded sessions the user never asked to delete.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from punie import atomic, jsonl
from punie.traces.config import TracesConfig, load_config, traces_root
from punie.traces.record import TurnInfo, next_prompt_record, turn_record

log = logging.getLogger("punie.traces")
RECOUNT_S = 60.0  # once full, how often the size under traces/ is counted again


def workspace_key(workspace: str | Path) -> str:
    """The folder a workspace's traces live in: the same name as its saved sessions'."""
    from punie.agent.sessions import workspace_dir

    return workspace_dir(workspace).name


def trace_file(root: Path, workspace: str | Path, session_id: str) -> Path:
    from punie.agent.sessions import SESSION_ID

    # Only ids Punie hands out become file names.
    if not SESSION_ID.fullmatch(session_id):
        raise ValueError(f"not a Punie session id: {session_id!r}")
    return root / workspace_key(workspace) / f"{session_id}.jsonl"


def tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            try:
                total += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def pending_turn(path: Path) -> str | None:
    """The last turn of a trace file that no `next_prompt` follows yet."""
    last = None
    for rec in jsonl.read_jsonl(path, tolerant=True):
        if not isinstance(rec, dict):
            continue
        if rec.get("type") == "turn":
            last = rec.get("turn_id")
        elif rec.get("type") == "next_prompt" and rec.get("turn_id") == last:
            last = None
    return last


class Recorder:
    """Records turns and next prompts; a disabled one does nothing at all."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        enabled: bool = True,
        max_bytes: int = TracesConfig().max_bytes,
        source: str = "serve",
    ):
        self.root = root or traces_root()
        self.enabled = enabled
        self.max_bytes = max_bytes
        self.source = source
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="punie-traces") if enabled else None
        # Worker thread only: bytes under root (counted at the first write), the
        # session -> turn that awaits its next prompt, whether the cap was reached.
        self._size: int | None = None
        self._pending: dict[str, str | None] = {}
        self._full = False
        self._counted = 0.0

    @classmethod
    def from_config(cls, no_record: bool, source: str) -> Recorder:
        """The user's recorder: off with --no-record or `record = false` (config.toml)."""
        cfg = load_config()
        on = cfg.record and not no_record
        log.info("traces: %s", f"recording to {traces_root()}" if on else "not recording")
        return cls(enabled=on, max_bytes=cfg.max_bytes, source=source)

    def turn(self, info: TurnInfo) -> None:
        self._submit(self._write_turn, info)

    def next_prompt(self, session_id: str, workspace: str, prompt: str, command: str | None):
        from punie.agent.sessions import now

        self._submit(self._write_next, session_id, workspace, prompt, command, now())

    async def aclose(self, timeout: float = 10.0) -> None:
        """Wait (bounded) for the records queued so far."""
        if self._pool is None:
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(self._pool.shutdown, wait=True), timeout)
        except Exception:
            log.warning("traces: records still being written at exit", exc_info=True)

    def _submit(self, fn: Callable[..., None], *args: Any) -> None:
        if self._pool is None:
            return
        try:
            self._pool.submit(self._guarded, fn, *args)
        except RuntimeError:  # already shut down: the agent is stopping
            log.warning("traces: not recorded (the recorder is closed)")

    def _guarded(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:
            log.warning(
                "traces: could not record (%s: %s); the session goes on", type(exc).__name__, exc
            )

    def _write_turn(self, info: TurnInfo) -> None:
        path = trace_file(self.root, info.workspace, info.session_id)
        if self._append(path, turn_record(info)):
            self._pending[info.session_id] = info.turn_id

    def _write_next(
        self, sid: str, workspace: str, prompt: str, command: str | None, at: str
    ) -> None:
        path = trace_file(self.root, workspace, sid)
        if sid not in self._pending:  # a session recorded by an earlier process
            self._pending[sid] = pending_turn(path) if path.is_file() else None
        turn_id = self._pending[sid]
        if turn_id is None:
            return
        if self._append(path, next_prompt_record(sid, turn_id, prompt, command, at)):
            self._pending[sid] = None

    def _append(self, path: Path, record: dict[str, Any]) -> bool:
        import json

        size = len(json.dumps(record, ensure_ascii=False, default=str).encode()) + 1
        if self._size is None or (self._full and time.monotonic() - self._counted > RECOUNT_S):
            # Recounted now and then once full: `punie traces rm` may have made room.
            self._size, self._counted = tree_bytes(self.root), time.monotonic()
        if self._size + size > self.max_bytes:
            if not self._full:
                log.warning(
                    "traces: %s holds %.1f MB, the cap is %.1f MB: recording stopped "
                    "(free space with `punie traces rm`, or raise max_mb in config.toml)",
                    self.root,
                    self._size / 2**20,
                    self.max_bytes / 2**20,
                )
                self._full = True
            return False
        if self._full:
            log.info("traces: below the cap again, recording")
            self._full = False
        atomic.append_jsonl(path, record)
        self._size += size
        return True
