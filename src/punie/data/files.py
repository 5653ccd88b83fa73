"""Reading and writing dataset files: validated on the way in, atomic on the way out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from punie import atomic
from punie.data.schema import Example, parse_row
from punie.data.validate import SPLITS, Issue, dataset_files, read_file
from punie.errors import PunieError


def raise_for_errors(issues: list[Issue]) -> None:
    errors = [i for i in issues if i.severity == "error"]
    if not errors:
        return
    first = errors[0]
    more = f"; {len(errors) - 1} more errors" if len(errors) > 1 else ""
    hint = first.hint + ("; " if first.hint else "") + "see all: punie data validate"
    raise PunieError(f"{first.message}{more}", where=f"{first.path}:{first.line}", hint=hint)


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """The rows of one JSONL file as dicts; PunieError at the first bad `file:line`."""
    pf = read_file(Path(path))
    raise_for_errors(pf.issues)
    return [row for _, row in pf.rows]


def read_dataset(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """A file ({stem: rows}) or a dataset folder ({"train": rows, ...}), all validated."""
    files = dataset_files(Path(path))
    parsed = [read_file(p) for p in files]
    raise_for_errors([i for pf in parsed for i in pf.issues])
    return {Path(pf.path).stem: [row for _, row in pf.rows] for pf in parsed}


def load_examples(path: str | Path) -> list[Example]:
    """Every example of a file or folder as schema models (lossless: `to_dict()`);
    PunieError naming `file:line` for the first bad row."""
    from pydantic import ValidationError

    parsed = [read_file(p) for p in dataset_files(Path(path))]
    raise_for_errors([i for pf in parsed for i in pf.issues])
    out: list[Example] = []
    for pf in parsed:
        for lineno, row in pf.rows:
            try:
                out.append(parse_row(row))
            except (ValidationError, ValueError) as exc:
                first = str(exc).splitlines()[0]
                raise PunieError(
                    first, where=f"{pf.path}:{lineno}", hint="see docs/data.md"
                ) from None
    return out


def write_rows(path: str | Path, rows: Iterable[Mapping[str, Any] | Example]) -> None:
    """Write rows as JSONL atomically (a reader never sees half a file)."""
    atomic.write_jsonl(path, (r.to_dict() if hasattr(r, "to_dict") else r for r in rows))


def write_dataset(out: str | Path, splits: Mapping[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Write `train/valid/test.jsonl` (each atomically); returns rows per split."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PunieError(f"{out} is a file", hint="give a folder for the dataset")
    for name in splits:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}")
    for name, rows in splits.items():
        write_rows(out / f"{name}.jsonl", rows)
    return {name: len(rows) for name, rows in splits.items()}
