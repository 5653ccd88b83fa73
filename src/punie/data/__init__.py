"""punie.data: the chat-JSONL toolkit that training and evaluation trust.

Public surface (imported lazily so `punie --help` stays fast):
- `validate_path(path, model=None, max_seq_length=2048) -> ValidationReport`
- `check_format(path, model) -> FormatReport`
- `load_examples(path) -> list[Example]`, `read_dataset(path)`, `write_dataset(out, splits)`
- `generate(kind, out, n, seed)`
- `expand_trace(row)`, `split_rows(rows, ratios, seed)`
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "validate_path": "punie.data.validate",
    "ValidationReport": "punie.data.validate",
    "Issue": "punie.data.validate",
    "check_format": "punie.data.check_format",
    "FormatReport": "punie.data.check_format",
    "load_examples": "punie.data.files",
    "read_dataset": "punie.data.files",
    "read_rows": "punie.data.files",
    "write_dataset": "punie.data.files",
    "generate": "punie.data.generate",
    "expand_trace": "punie.data.traces",
    "split_rows": "punie.data.ops",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'punie.data' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
