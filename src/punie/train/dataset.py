"""Training rows as token ids plus what is trained, with every assistant turn of a trace.

mlx-lm's `ChatDataset` with `mask_prompt` trains only a row's last message, so an
agent trace (call -> result -> call -> result -> answer) teaches only its answer
unless it is expanded into one row per turn, which repeats the shared prompt once per
turn. With `train_on="assistant"` a chat row stays one example and every assistant
message in it is trained: its tokens are found by rendering prefixes of the
conversation through the tokenizer's chat template,

    span i = [len(render(messages[:i], add_generation_prompt=True)),
              len(render(messages[:i + 1])))

which holds only when each shorter rendering is a prefix of the full one; a template
that breaks that (one that rewrites earlier turns, say) fails loudly with the row's
file:line instead of training the wrong tokens. The assistant message's end-of-turn
tokens are inside the span; system, user and tool-result tokens are not.

Completion and text rows, `mask_prompt` off, and `train_on="last"` load exactly as
mlx-lm loads them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from punie.errors import PunieError
from punie.jsonl import numbered_rows

SPLITS = ("train", "valid", "test")


def _render(tokenizer, messages, tools, add_generation_prompt: bool = False) -> list[int]:
    return list(
        tokenizer.apply_chat_template(
            messages,
            tools=tools,
            add_generation_prompt=add_generation_prompt,
            return_dict=False,
        )
    )


def _check_prefix(part: list[int], tokens: list[int], where: str, what: str) -> None:
    if tokens[: len(part)] != part:
        at = next(
            (k for k, (a, b) in enumerate(zip(part, tokens, strict=False)) if a != b), len(tokens)
        )
        raise PunieError(
            f"the chat template renders {what} differently inside the whole conversation "
            f"(first difference at token {at}), so its assistant tokens cannot be located",
            where=where,
            hint="fix the chat template, or train with train_on=last",
        )


def assistant_spans(
    tokenizer, row: dict[str, Any], where: str = "row"
) -> tuple[list[int], tuple[tuple[int, int], ...]]:
    """(tokens of the whole row, [start, end) token range of each assistant message).
    Raises PunieError naming `where` when the template breaks the prefix property."""
    messages, tools = row["messages"], row.get("tools")
    tokens = _render(tokenizer, messages, tools)
    spans = []
    for i, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        before = _render(tokenizer, messages[:i], tools, add_generation_prompt=True)
        _check_prefix(before, tokens, where, f"the prompt before message {i}")
        upto = tokens if i == len(messages) - 1 else _render(tokenizer, messages[: i + 1], tools)
        _check_prefix(upto, tokens, where, f"the conversation up to message {i}")
        if len(upto) > len(before):
            spans.append((len(before), len(upto)))
    return tokens, tuple(spans)


class TraceDataset:
    """Chat rows as (tokens, assistant spans), tokenised once on first use (like
    mlx-lm's CacheDataset); `wheres[i]` is row i's file:line for error messages."""

    def __init__(self, rows: list[dict[str, Any]], wheres: list[str], tokenizer):
        self._rows, self._wheres, self.tokenizer = rows, wheres, tokenizer
        self._done: list[tuple | None] = [None] * len(rows)

    def __getitem__(self, idx: int):
        if self._done[idx] is None:
            self._done[idx] = assistant_spans(self.tokenizer, self._rows[idx], self._wheres[idx])
        return self._done[idx]

    def __len__(self) -> int:
        return len(self._rows)


def _read_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    numbered = list(numbered_rows(path))
    return [row for _, row in numbered], [where for where, _ in numbered]


def load_split(path: Path, tokenizer, mask_prompt: bool, train_on: str = "assistant"):
    """One split file as an indexable dataset of (tokens, offset) or (tokens, spans)
    rows; an empty list when the file is absent."""
    from mlx_lm.tuner.datasets import CacheDataset, create_dataset

    if not path.exists():
        return []
    rows, wheres = _read_rows(path)
    if not rows:
        return []
    chat = "messages" in rows[0] and not ("prompt" in rows[0] and "completion" in rows[0])
    if mask_prompt and train_on == "assistant" and chat:
        return TraceDataset(rows, wheres, tokenizer)
    ns = argparse.Namespace(mask_prompt=mask_prompt)
    return CacheDataset(create_dataset(rows, tokenizer, ns))


def load_datasets(data: Path, tokenizer, mask_prompt: bool, train_on: str = "assistant"):
    """(train, valid, test) of a data folder, each as `load_split` makes it."""
    return tuple(
        load_split(Path(data) / f"{name}.jsonl", tokenizer, mask_prompt, train_on)
        for name in SPLITS
    )
