"""`punie data generate KIND`: build a dataset folder (train/valid/test.jsonl)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from punie.errors import PunieError

KINDS = ("tools", "python")


def build(kind: str, n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """The rows of each split, without writing anything."""
    if n < 10:
        raise PunieError(f"--n {n} is too small", hint="ask for at least 10 examples")
    if kind == "tools":
        from punie.data.gen_tools import generate_tools

        return generate_tools(n, seed)
    if kind == "python":
        from punie.data.gen_python import generate_python

        return generate_python(n, seed)
    raise PunieError(f"kind {kind!r} is unknown", hint=f"use one of {', '.join(KINDS)}")


def generate(kind: str, out: str | Path, n: int, seed: int = 0) -> dict[str, int]:
    """Write train/valid/test.jsonl under `out` (each atomically); rows per split."""
    from punie.data.checks import check_row
    from punie.data.files import write_dataset

    splits = build(kind, n, seed)
    for name, rows in splits.items():
        for i, row in enumerate(rows):
            problems = check_row(row, "chat")
            if problems:  # a generator bug: refuse to write data we know is wrong
                raise RuntimeError(f"generated {name}[{i}] is invalid: {problems[0]}")
    return write_dataset(out, splits)
