"""Batch order that is a pure function of (seed, position), so a resumed run reads
exactly the batches the original would have read next.

mlx-lm's `iterate_batches` shuffles with numpy's global RNG inside a generator; its
position cannot be saved. Here the batches are the same (sorted by length, sliced
per rank, padded the same way), but epoch `e` is ordered by a generator seeded with
(seed, e), and micro-batch number `k` is found without replaying the earlier ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PAD_TO = 32  # mlx-lm pads to one plus a multiple of 32: same shapes, same compiled graphs


def batch_plan(
    lengths: Sequence[int], batch_size: int, rank: int = 0, world: int = 1
) -> list[list[int]]:
    """Example indices per batch for this rank: length-sorted, like mlx-lm."""
    if len(lengths) < batch_size:
        raise ValueError(f"need at least batch_size={batch_size} examples, have {len(lengths)}")
    idx = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [
        idx[i + rank : i + batch_size : world]
        for i in range(0, len(idx) - batch_size + 1, batch_size)
    ]


_VAL_STREAM = 2**32 - 1  # an "epoch" training never reaches


def epoch_order(n_batches: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed & 0xFFFFFFFF, epoch]).permutation(n_batches)


def batch_at(plan: list[list[int]], seed: int, position: int) -> list[int]:
    """The example indices of micro-batch number `position` (0-based, counting all epochs)."""
    epoch, i = divmod(position, len(plan))
    return plan[int(epoch_order(len(plan), seed, epoch)[i])]


def val_batches(plan: list[list[int]], seed: int, count: int) -> list[list[int]]:
    """A fixed subset for every evaluation, so val losses of a run compare like for like."""
    order = epoch_order(len(plan), seed, _VAL_STREAM)
    n = len(plan) if count == -1 else min(count, len(plan))
    return [plan[int(j)] for j in order[:n]]


@dataclass(frozen=True)
class Spans:
    """The trained tokens of a batch: per row, token index ranges [start, end) (a span
    reaching the row's end also trains the position after it, the padding mlx-lm's
    `default_loss` mask trains too), and each row's (truncated) length."""

    rows: tuple[tuple[tuple[int, int], ...], ...]
    lengths: tuple[int, ...]

    @classmethod
    def of(cls, lengths) -> Spans:
        """`Spans` as they are, or from mlx-lm's (offset, length) rows."""
        if isinstance(lengths, Spans):
            return lengths
        pairs = np.asarray(lengths).tolist()
        return cls(tuple(((int(o), int(n)),) for o, n in pairs), tuple(int(n) for _, n in pairs))


def row_lengths(lengths) -> list[int]:
    """Token count of each row of a `collate` result (either kind)."""
    return list(Spans.of(lengths).lengths)


def collate(rows: list[tuple[list[int], Any]], max_seq_length: int):
    """Token rows -> (int32 array [B, T], what is trained).

    Rows of (tokens, prompt_offset), as mlx-lm's datasets make them, give mlx-lm's
    lengths array [[offset, len]]; when any row is (tokens, spans) (`punie.train.dataset`
    with train_on="assistant") the second value is a `Spans`, clipped to the
    truncated lengths."""
    import mlx.core as mx

    tokens = [r[0] for r in rows]
    lengths = [min(len(t), max_seq_length) for t in tokens]
    width = min(1 + PAD_TO * ((max(lengths) + PAD_TO - 1) // PAD_TO), max_seq_length)
    arr = np.zeros((len(rows), width), np.int32)
    for j, t in enumerate(tokens):
        arr[j, : lengths[j]] = t[: lengths[j]]
    if all(isinstance(r[1], int) for r in rows):
        offsets = [r[1] for r in rows]
        return mx.array(arr), mx.array(list(zip(offsets, lengths, strict=True)))
    spans = []
    for (_, trained), n in zip(rows, lengths, strict=True):
        pairs = ((trained, n),) if isinstance(trained, int) else trained
        spans.append(tuple((a, min(b, n)) for a, b in pairs))
    return mx.array(arr), Spans(tuple(spans), tuple(lengths))
