"""Token lengths with the model's own tokenizer and chat template, rendered the way
mlx-lm's training datasets render them (so the count is what training will see)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from punie.errors import PunieError


def resolve_model_dir(model: str | Path) -> Path:
    """A model spec as a local folder: `punie.model.resolve_model` when it exists
    (names like `smollm2-135m`), else the spec taken as a folder."""
    p = Path(model).expanduser()
    if p.is_dir():
        return p
    try:
        resolve = importlib.import_module("punie.model").__dict__.get("resolve_model")
        if resolve is None:
            resolve = importlib.import_module("punie.model.store").resolve_model
    except (ImportError, AttributeError):
        resolve = None
    if resolve is not None:
        return Path(resolve(str(model)))
    raise PunieError(f"model {model!r} is not a folder", hint="give a local model folder")


def load_tokenizer(model: str | Path) -> Any:
    """mlx-lm's TokenizerWrapper for the model: its HF tokenizer, chat template and
    the tool parser mlx_lm.server would pick."""
    from mlx_lm.tokenizer_utils import load

    path = resolve_model_dir(model)
    if not (path / "tokenizer_config.json").exists() and not (path / "tokenizer.json").exists():
        raise PunieError(
            f"{path} has no tokenizer", hint="give a model folder with tokenizer files"
        )
    try:
        return load(path)
    except (OSError, ValueError) as exc:
        raise PunieError(
            f"{path}: cannot load tokenizer: {exc}", hint="check the model folder"
        ) from exc


def example_tokens(tok: Any, row: dict) -> list[int]:
    """Token ids of one row exactly as mlx_lm.tuner.datasets builds them."""
    if "prompt" in row and "completion" in row:
        messages = [
            {"role": "user", "content": row["prompt"]},
            {"role": "assistant", "content": row["completion"]},
        ]
        return list(tok.apply_chat_template(messages, tools=row.get("tools"), return_dict=False))
    if "messages" in row:
        return list(
            tok.apply_chat_template(row["messages"], tools=row.get("tools"), return_dict=False)
        )
    ids = tok.encode(row["text"])
    if not ids or ids[-1] != tok.eos_token_id:
        ids.append(tok.eos_token_id)
    return ids


def length_issues(path: str, rows: list[tuple[int, Any]], tok: Any, max_seq_length: int):
    """(issues for rows longer than max_seq_length, longest length seen)."""
    from punie.data.validate import Issue

    issues = []
    longest = 0
    for lineno, row in rows:
        try:
            n = len(example_tokens(tok, row))
        except Exception as exc:  # a template error is the data's problem to report
            issues.append(
                Issue(path, lineno, f"chat template failed: {exc}", "check roles and content")
            )
            continue
        longest = max(longest, n)
        if n > max_seq_length:
            issues.append(
                Issue(
                    path,
                    lineno,
                    f"{n} tokens, over --max-seq-length {max_seq_length}",
                    "shorten it or raise max_seq_length: mlx-lm would truncate it",
                )
            )
    return issues, longest
