"""Stage bookkeeping for flywheel runs: progress lines, timings, content-hash caching.

A run is a list of named stages. Each stage either runs or is reused ("cached")
because its inputs' content hash matches a finished earlier result; both outcomes
are recorded with their wall time in `stages.json` in the run folder, and the table
printed at the end comes from that same record, so what the user reads is what ran.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from punie import atomic

STAGES_FILE = "stages.json"


def content_hash(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (dict keys sorted)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def software_stack() -> dict[str, str | None]:
    """What a cached result depends on besides its inputs: the mlx, mlx-lm and Python
    versions and Punie's own source. Punie's version string stays 0.1.0 while its
    scorer, agent loop and trainer change, so the installed `.py` files are hashed."""
    from punie.train.rundir import versions

    return {**versions(), "punie_source": punie_source_hash()}


@functools.cache
def punie_source_hash() -> str:
    """The hash of the installed Punie package (see `source_hash`)."""
    import punie

    return source_hash(Path(punie.__file__).parent)


SOURCE_SUFFIXES = (".py", ".yaml", ".j2", ".css", ".jinja")


def source_hash(root: Path) -> str:
    """sha256 of every module and data file (suites, templates) under `root`."""
    h = hashlib.sha256()
    for p in sorted(Path(root).rglob("*")):
        if p.is_file() and p.suffix in SOURCE_SUFFIXES:
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def files_hash(folder: Path, pattern: str = "*.jsonl") -> str:
    h = hashlib.sha256()
    for p in sorted(Path(folder).glob(pattern)):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


@dataclass
class StageRecord:
    name: str
    status: str  # ran | cached | failed | skipped
    seconds: float
    detail: str = ""
    key: str | None = None
    # For a cached stage: how long it took when it last ran in this run folder.
    ran_seconds: float | None = None


@dataclass
class StageLog:
    """Runs stages in order, prints one progress line per stage, records timings."""

    run_dir: Path
    console: Any = None  # rich Console; None prints nothing
    records: list[StageRecord] = field(default_factory=list)
    previous: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        old = Path(self.run_dir) / STAGES_FILE
        try:
            for r in json.loads(old.read_text()):
                secs = r["seconds"] if r["status"] == "ran" else r.get("ran_seconds")
                if secs is not None:
                    self.previous[r["name"]] = secs
        except (OSError, ValueError, KeyError, TypeError):
            pass

    def _say(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text, highlight=False)

    def stage(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        cached: Callable[[], Any | None] | None = None,
        key: str | None = None,
        detail: Callable[[Any], str] | None = None,
    ) -> Any:
        """Run `fn` unless `cached()` returns a result; record either way."""
        n = len(self.records) + 1
        t0 = time.perf_counter()
        if cached is not None:
            hit = cached()
            if hit is not None:
                rec = StageRecord(name, "cached", time.perf_counter() - t0, "", key)
                rec.ran_seconds = self.previous.get(name)
                rec.detail = detail(hit) if detail else ""
                if rec.ran_seconds is not None:
                    rec.detail = f"{rec.detail} (ran in {rec.ran_seconds:.1f}s before)".strip()
                self._finish(n, rec)
                return hit
        self._say(f"[bold cyan]stage {n}: {name}[/] ...")
        try:
            out = fn()
        except BaseException as exc:
            rec = StageRecord(name, "failed", time.perf_counter() - t0, str(exc)[:200], key)
            self._finish(n, rec)
            raise
        rec = StageRecord(name, "ran", time.perf_counter() - t0, "", key)
        rec.detail = detail(out) if detail else ""
        self._finish(n, rec)
        return out

    def _finish(self, n: int, rec: StageRecord) -> None:
        self.records.append(rec)
        colour = {"ran": "green", "cached": "blue", "failed": "red"}.get(rec.status, "white")
        extra = f"  {rec.detail}" if rec.detail else ""
        self._say(f"[{colour}]stage {n}: {rec.name} {rec.status} in {rec.seconds:.1f}s[/]{extra}")
        atomic.write_json(Path(self.run_dir) / STAGES_FILE, [asdict(r) for r in self.records])

    @property
    def total_seconds(self) -> float:
        return sum(r.seconds for r in self.records)

    def all_done(self) -> bool:
        return bool(self.records) and all(r.status in ("ran", "cached") for r in self.records)

    def table(self):
        from rich.table import Table

        t = Table(title="Stage times")
        t.add_column("#", justify="right")
        t.add_column("stage")
        t.add_column("status")
        t.add_column("seconds", justify="right")
        t.add_column("detail")
        for i, r in enumerate(self.records, 1):
            t.add_row(str(i), r.name, r.status, f"{r.seconds:.1f}", r.detail)
        t.add_row("", "total", "", f"{self.total_seconds:.1f}", "")
        return t
