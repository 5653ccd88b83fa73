"""The training loss computed only where it counts.

mlx-lm's `default_loss` runs the LM head and a full-vocabulary cross-entropy at every
position, then multiplies by a mask. With `mask_prompt` most positions are prompt
(~85% in Punie's tool-call data) and the head is large (SmolLM2: 49152 x 576, tied),
so most of that work is thrown away. Here the model body runs once, the hidden
states at the positions the loss uses are gathered, and only those go through the
head and the cross-entropy. Same loss and gradients (the masked positions contribute
exact zeros in the full version).

The gathered count is padded to a multiple of `BUCKET` with zero-weight slots so a
compiled step sees few distinct shapes (it retraces per shape).
"""

from __future__ import annotations

import numpy as np

BUCKET = 64

# Model modules whose `Model.__call__` is exactly `head(self.model(inputs))` with the
# head `lm_head` or, when tied, `model.embed_tokens.as_linear` (read in mlx-lm 0.32:
# no logit scaling or soft-capping after the head). Others use the full loss.
_SPLIT_MODULES = ("mlx_lm.models.llama", "mlx_lm.models.qwen2", "mlx_lm.models.qwen3")


def head_of(model):
    """The LM head as a function of hidden states, or None when the model's logits
    are not known to be `head(model.model(inputs))`."""
    if type(model).__module__ not in _SPLIT_MODULES:
        return None
    args = getattr(model, "args", None)
    if args is None or not hasattr(model, "model"):
        return None
    if getattr(args, "tie_word_embeddings", False):
        return model.model.embed_tokens.as_linear
    return getattr(model, "lm_head", None)


def loss_positions(lengths, width: int, bucket: int = BUCKET) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices into the [B, width - 1] targets where `default_loss`'s mask is
    true, padded with index 0 / weight False to a multiple of `bucket`.

    `lengths` rows are (offset, length) as `collate` makes them: target t (token t+1)
    counts when offset <= t + 1 <= length.
    """
    lengths = np.asarray(lengths)
    span = width - 1
    parts = []
    for row, (offset, length) in enumerate(lengths.tolist()):
        lo = max(int(offset) - 1, 0)
        hi = min(int(length), span)  # exclusive
        if hi > lo:
            parts.append(np.arange(lo, hi, dtype=np.int64) + row * span)
    index = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    n = len(index)
    padded = max(bucket, bucket * -(-n // bucket))
    out = np.zeros(padded, np.int32)
    out[:n] = index
    weight = np.zeros(padded, bool)
    weight[:n] = True
    return out, weight


def selective_loss(model, head, batch, index, weight):
    """`default_loss` with the head and cross-entropy only at `index` (see module doc).
    Returns (mean loss over weighted positions, count) like `default_loss`."""
    import mlx.core as mx
    import mlx.nn as nn

    inputs = batch[:, :-1]
    targets = batch[:, 1:]
    hidden = model.model(inputs)
    hidden = mx.take(hidden.reshape(-1, hidden.shape[-1]), index, axis=0)
    logits = head(hidden)
    ce = nn.losses.cross_entropy(logits, mx.take(targets.reshape(-1), index)) * weight
    ntoks = weight.sum()
    return ce.astype(mx.float32).sum() / ntoks, ntoks
