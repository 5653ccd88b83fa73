"""Reading trace files and writing a harvest for `punie data harvest`.

Trace files are Punie's own append-only records: a last line cut off by a crash is
skipped (and counted), but any other line that is not a well-formed record is an
error naming `file:line` (exit 2): a harvest never guesses at a record. The output
folder is built beside `--out` and renamed into place, so a reader sees the old
harvest or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from punie import atomic, jsonl
from punie.data.harvest import REASONS, Harvest, Turn, parse_time
from punie.data.harvest_checks import pair_key
from punie.data.validate import SPLITS, dataset_files, near_key
from punie.errors import PunieError

FORMAT = 1  # the trace record format this reader knows
REPORT = "harvest.json"
PAIRS = "pairs"
_HINT = "see the record format in docs/traces.md"


def _turn_problem(rec: dict) -> str | None:
    for key in ("session_id", "turn_id", "started_at", "ended_by", "prompt"):
        if not isinstance(rec.get(key), str):
            return f"turn record has no string `{key}`"
    try:
        parse_time(rec["started_at"])
    except ValueError:
        return f"`started_at` {rec['started_at']!r} is not an ISO 8601 time"
    calls = rec.get("calls")
    if not isinstance(calls, list):
        return "`calls` is not a list"
    for i, c in enumerate(calls):
        if not isinstance(c, dict) or not isinstance(c.get("tool"), str):
            return f"calls[{i}] has no `tool`"
        if not isinstance(c.get("status"), str):
            return f"calls[{i}] has no `status`"
        if not isinstance(c.get("permission"), dict | None):
            return f"calls[{i}] `permission` is not an object or null"
    row = rec.get("row")
    if row is None:
        return None
    if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
        return "`row` has no `messages` list"
    start = rec.get("turn_start")
    if not isinstance(start, int) or not 0 <= start < len(row["messages"]):
        return "`turn_start` is not an index into `row.messages`"
    if not all(isinstance(m, dict) for m in row["messages"]):
        return "`row.messages` holds a non-object"
    return None


def _record_problem(rec: Any) -> str | None:
    if not isinstance(rec, dict):
        return "a record must be a JSON object"
    if rec.get("format") != FORMAT:
        return f"record format {rec.get('format')!r}, this Punie reads format {FORMAT}"
    if rec.get("type") == "turn":
        return _turn_problem(rec)
    if rec.get("type") == "next_prompt":
        if not isinstance(rec.get("turn_id"), str) or not isinstance(rec.get("prompt"), str):
            return "next_prompt record has no string `turn_id` and `prompt`"
        return None
    return f"unknown record type {rec.get('type')!r}"


def read_session(path: Path) -> tuple[list[Turn], int]:
    """The turns of one trace file with their next prompts, and how many cut-off
    last lines were skipped; PunieError at the first malformed record."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PunieError(f"cannot read: {exc}", where=str(path)) from None
    last = max((n for n, ln in enumerate(lines, 1) if ln.strip()), default=0)
    turns: dict[str, tuple[str, dict]] = {}
    nexts: dict[str, dict] = {}
    skipped = 0
    for n, value in jsonl.parse_lines(lines):
        where = f"{path}:{n}"
        if isinstance(value, ValueError):
            if n == last:  # a crash cut the last record short
                skipped += 1
                continue
            raise PunieError(f"not valid JSON: {value}", where=where, hint=_HINT)
        problem = _record_problem(value)
        if problem:
            raise PunieError(problem, where=where, hint=_HINT)
        if value["type"] == "turn":
            turns[value["turn_id"]] = (where, value)
        else:
            nexts[value["turn_id"]] = value
    mtime = path.stat().st_mtime_ns
    return [Turn(w, rec, nexts.get(tid), mtime) for tid, (w, rec) in turns.items()], skipped


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`2026-03-01`, `2026-03-01T10:00`, or an age (`30d`, `12h`, `2w`) back from now."""
    try:
        return parse_time(text.strip())
    except ValueError:
        pass
    from punie.traces.store import parse_age

    try:
        age = parse_age(text)
    except PunieError:
        raise PunieError(
            f"not a date or an age: {text!r}",
            where="--since",
            hint="e.g. 2026-03-01, 2026-03-01T10:00 or 30d",
        ) from None
    return (now or datetime.now(UTC)) - age


def load_turns(
    root: Path, since: datetime | None = None, workspace: Path | None = None
) -> tuple[list[Turn], dict[str, int]]:
    """The recorded turns under `root` (a workspace's, started at `since` or later),
    and counts of what was left out."""
    from punie.traces.store import session_files

    files = session_files(root)
    if workspace is not None:
        from punie.traces.recorder import workspace_key

        key = workspace_key(workspace)
        files = [p for p in files if p.parent.name == key]
    turns: list[Turn] = []
    info = {"sessions": len(files), "cut_off_lines": 0, "before_since": 0}
    for path in files:
        found, skipped = read_session(path)
        info["cut_off_lines"] += skipped
        for t in found:
            if since is not None and parse_time(t.record["started_at"]) < since:
                info["before_since"] += 1
            else:
                turns.append(t)
    return turns, info


def existing_keys(paths: Iterable[Path]) -> frozenset[str]:
    """Dedupe keys of every chat row and pair in the given datasets (files or folders)."""
    keys: set[str] = set()
    for path in paths:
        for f in dataset_files(Path(path)):
            for _, row in jsonl.numbered_rows(f):
                is_pair = all(k in row for k in ("messages", "chosen", "rejected"))
                keys.add(pair_key(row) if is_pair else near_key(row))
    return frozenset(keys)


def model_checks(model: str, max_seq_length: int):
    """(too_long, bad_format) checks with the model's tokenizer and chat template."""
    from punie.data.check_format import check_row_format
    from punie.data.tokens import example_tokens, load_tokenizer

    tok = load_tokenizer(model)

    def too_long(row: dict) -> str | None:
        n = len(example_tokens(tok, row))
        return f"{n} tokens > {max_seq_length}" if n > max_seq_length else None

    def bad_format(row: dict) -> str | None:
        issues, _, _ = check_row_format(tok, row, "harvest", 0)
        return issues[0].message if issues else None

    return too_long, bad_format


def report(result: Harvest, info: dict[str, Any]) -> dict[str, Any]:
    """The harvest's JSON report: counts, each split's size, every turn's outcome."""
    return {
        "format": 1,
        **info,
        "turns": len(result.outcomes),
        "positives": {k: len(v) for k, v in sorted(result.positives.items())},
        "pairs": {k: len(v) for k, v in sorted(result.pairs.items())},
        "reasons": {k: {"turns": n, "meaning": REASONS[k]} for k, n in result.counts().items()},
        "outcomes": [o.as_dict() for o in result.outcomes],
    }


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise PunieError(f"{out} is a file", where="--out", hint="give a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / REPORT).is_file():
        raise PunieError(
            f"{out} is not empty and holds no {REPORT}",
            where="--out",
            hint="give an empty folder or an earlier harvest's (it is replaced whole)",
        )


def write_harvest(out: Path, result: Harvest, rep: dict[str, Any]) -> None:
    """Write `out/{split}.jsonl`, `out/pairs/{split}.jsonl` (non-empty splits only:
    mlx-lm fails on an empty one) and `out/harvest.json`, replacing `out` whole."""
    _check_out(out)
    out = Path(os.path.abspath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{secrets.token_hex(4)}.tmp"
    old = out.parent / f".{out.name}.{secrets.token_hex(4)}.old"
    try:
        tmp.mkdir()
        for folder, splits in ((tmp, result.positives), (tmp / PAIRS, result.pairs)):
            for name in SPLITS:
                if splits.get(name):
                    atomic.write_jsonl(folder / f"{name}.jsonl", splits[name])
        atomic.write_text(tmp / REPORT, json.dumps(rep, indent=1, ensure_ascii=False) + "\n")
        if out.exists():
            out.rename(old)
        try:
            tmp.rename(out)
        except OSError:
            if old.exists():
                old.rename(out)  # put the earlier harvest back
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
