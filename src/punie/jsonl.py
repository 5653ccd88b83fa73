"""Punie's one JSONL reader.

Two kinds of file, two policies:
- files Punie appends to while it runs (metrics, case records, events): a crash can
  leave the last line cut off, so a line that does not parse is skipped (`tolerant`);
- files a user hands in (datasets, suites' sources): a bad line is an error naming
  `file:line`, so it can be fixed (`strict`, the default).
Dataset validation (`punie.data.validate`) reports every bad line instead; it reads
lines with `parse_lines` too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from punie.errors import PunieError


def parse_lines(lines: Iterable[str | bytes]) -> Iterator[tuple[int, Any | ValueError]]:
    """(1-based line number, the parsed value or the ValueError) per non-blank line."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except ValueError as exc:
            yield n, exc


def read_jsonl(path: str | Path, *, tolerant: bool = False) -> list[Any]:
    """The values of a JSONL file, in order; a missing file is empty when `tolerant`."""
    p = Path(path)
    if tolerant and not p.is_file():
        return []
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PunieError(f"cannot read: {exc}", where=str(p)) from None
    return list(_values(parse_lines(text.splitlines()), p, tolerant))


def numbered_rows(path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`file:line`, row) for each row of a JSONL file of objects; PunieError at the
    first line that is not a JSON object."""
    p = Path(path)
    with open(p, encoding="utf-8") as f:
        for n, value in parse_lines(f):
            where = f"{p}:{n}"
            if isinstance(value, ValueError):
                raise PunieError(f"not valid JSON: {value}", where=where, hint=_HINT)
            if not isinstance(value, dict):
                raise PunieError("a row must be a JSON object", where=where, hint=_HINT)
            yield where, value


_HINT = "each line must be one JSON object (see docs/data.md)"


def _values(parsed: Iterable[tuple[int, Any]], p: Path, tolerant: bool) -> Iterator[Any]:
    for n, value in parsed:
        if isinstance(value, ValueError):
            if tolerant:
                continue  # a line cut off by a crash
            raise PunieError(f"not valid JSON: {value}", where=f"{p}:{n}", hint=_HINT)
        yield value
