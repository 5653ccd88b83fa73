"""Preference pairs as token ids, and batches of them for `punie.train.dpo`.

A pair (`punie.data.pairs`) becomes two token rows that share the prompt:

    chosen   = template(messages + [chosen]),   trained from len(template(messages, gen))
    rejected = template(messages + [rejected]), trained from the same offset

so only the answer's own tokens (its end-of-turn token included) count in its
log-probability, as with `train_on = "assistant"`. A batch of B pairs is one [2B, T]
array, the B chosen rows first, so both halves run through the model together and
rows that share a prompt share its prefix (`punie.train.loss.prefix_body`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from punie.errors import PunieError
from punie.jsonl import numbered_rows
from punie.train.batches import PAD_TO
from punie.train.dataset import _check_prefix, _render
from punie.train.loss import BUCKET


@dataclass(frozen=True)
class Pair:
    """Token ids of both answers and where each answer's tokens start."""

    chosen: tuple[int, ...]
    chosen_start: int
    rejected: tuple[int, ...]
    rejected_start: int
    where: str = ""

    @property
    def length(self) -> int:
        return max(len(self.chosen), len(self.rejected))


def _answer_tokens(tokenizer, row: dict[str, Any], key: str, where: str) -> tuple[list[int], int]:
    messages, tools = row["messages"], row.get("tools")
    prompt = _render(tokenizer, messages, tools, add_generation_prompt=True)
    tokens = _render(tokenizer, [*messages, row[key]], tools)
    _check_prefix(prompt, tokens, where, f"the prompt before `{key}`")
    return tokens, len(prompt)


def tokenize_pair(tokenizer, row: dict[str, Any], where: str, max_seq_length: int) -> Pair:
    """One pair row as a `Pair`; PunieError naming `where` when an answer would be cut
    away entirely by `max_seq_length` (its log-probability would be that of nothing)."""
    chosen, c0 = _answer_tokens(tokenizer, row, "chosen", where)
    rejected, r0 = _answer_tokens(tokenizer, row, "rejected", where)
    for key, tokens, start in (("chosen", chosen, c0), ("rejected", rejected, r0)):
        if len(tokens) <= start:
            raise PunieError(f"`{key}` renders to no tokens", where=where, hint="give it content")
        if start >= max_seq_length:
            raise PunieError(
                f"the prompt is {start} tokens, so max_seq_length {max_seq_length} leaves "
                f"no `{key}` token",
                where=where,
                hint="raise max_seq_length or shorten the conversation",
            )
    return Pair(tuple(chosen), c0, tuple(rejected), r0, where)


def load_pairs(path: Path, tokenizer, max_seq_length: int) -> list[Pair]:
    """Every pair of a JSONL file, tokenised; [] when the file is absent."""
    if not path.exists():
        return []
    return [
        tokenize_pair(tokenizer, row, where, max_seq_length) for where, row in numbered_rows(path)
    ]


@dataclass(frozen=True)
class PairBatch:
    """B pairs as model input. `tokens` [2B, T]: chosen rows, then rejected rows.
    `index` [N]: flat positions into the [2B, T - 1] targets that are answer tokens,
    padded to a multiple of BUCKET (few compiled shapes) with `weight` 0; `owner` [N]:
    the row each position belongs to; `counts` [2B]: answer tokens per row."""

    tokens: Any
    index: Any
    weight: Any
    owner: Any
    counts: Any

    @property
    def pairs(self) -> int:
        return self.tokens.shape[0] // 2


def answer_targets(length: int, start: int) -> range:
    """Target positions t (predicting token t + 1) of the answer tokens [start, length)."""
    return range(max(start - 1, 0), length - 1)


def collate_pairs(pairs: list[Pair], max_seq_length: int) -> PairBatch:
    import mlx.core as mx

    rows = [(p.chosen, p.chosen_start) for p in pairs] + [
        (p.rejected, p.rejected_start) for p in pairs
    ]
    lengths = [min(len(t), max_seq_length) for t, _ in rows]
    width = min(1 + PAD_TO * ((max(lengths) + PAD_TO - 1) // PAD_TO), max_seq_length)
    tokens = np.zeros((len(rows), width), np.int32)
    index, owner = [], []
    for j, ((ids, start), n) in enumerate(zip(rows, lengths, strict=True)):
        tokens[j, :n] = ids[:n]
        targets = answer_targets(n, start)
        index.extend(t + j * (width - 1) for t in targets)
        owner.extend([j] * len(targets))
    n = len(index)
    padded = max(BUCKET, BUCKET * -(-n // BUCKET))
    weight = np.zeros(padded, np.float32)
    weight[:n] = 1.0
    counts = np.bincount(np.asarray(owner, np.int64), minlength=len(rows)).astype(np.float32)
    return PairBatch(
        tokens=mx.array(tokens),
        index=mx.array(np.pad(np.asarray(index, np.int32), (0, padded - n))),
        weight=mx.array(weight),
        owner=mx.array(np.pad(np.asarray(owner, np.int32), (0, padded - n))),
        counts=mx.array(counts),
    )
