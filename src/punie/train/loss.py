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


def _target_ranges(lengths, span: int):
    """(row, lo, hi) target ranges [lo, hi) of the [B, span] targets, for `Spans` or
    mlx-lm's (offset, length) rows: target t predicts token t + 1, and a token range
    reaching the row's end also covers the position after it, as `default_loss`'s
    `offset <= t + 1 <= length` does."""
    from punie.train.batches import Spans

    spans = Spans.of(lengths)
    for row, (pairs, length) in enumerate(zip(spans.rows, spans.lengths, strict=True)):
        for start, end in pairs:
            stop = length + 1 if end >= length else end
            lo, hi = max(int(start) - 1, 0), min(int(stop) - 1, span)
            if hi > lo:
                yield row, lo, hi


def loss_positions(
    lengths, width: int, bucket: int = BUCKET, start_weight: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices into the [B, width - 1] targets that are trained, padded with index
    0 / weight False to a multiple of `bucket`.

    `lengths` is what `collate` makes: mlx-lm's (offset, length) rows (target t counts
    when offset <= t + 1 <= length, `default_loss`'s mask) or `Spans`, one or more
    trained token ranges per row (every assistant turn of a trace).

    `start_weight` != 1 gives float weights: the first target of each range (the
    turn's first token, where the model decides between a tool call and a text
    answer) weighs `start_weight`, the rest 1; the loss is then the weighted mean.
    """
    span = width - 1
    ranges = list(_target_ranges(lengths, span))
    parts = [np.arange(lo, hi, dtype=np.int64) + row * span for row, lo, hi in ranges]
    index = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    n = len(index)
    padded = max(bucket, bucket * -(-n // bucket))
    out = np.zeros(padded, np.int32)
    out[:n] = index
    if start_weight == 1.0:
        weight = np.zeros(padded, bool)
        weight[:n] = True
        return out, weight
    weight = np.zeros(padded, np.float32)
    weight[:n] = 1.0
    starts = np.cumsum([0] + [hi - lo for _, lo, hi in ranges[:-1]]).astype(np.int64)
    weight[starts] = start_weight
    return out, weight


def target_mask(lengths, width: int, start_weight: float = 1.0) -> np.ndarray:
    """The [B, width - 1] mask of trained targets: `loss_positions` scattered into a
    mask (bool, or float with each range's first target weighing `start_weight`)."""
    from punie.train.batches import Spans

    index, weight = loss_positions(lengths, width, bucket=1, start_weight=start_weight)
    mask = np.zeros(len(Spans.of(lengths).rows) * (width - 1), weight.dtype)
    trained = weight > 0
    mask[index[trained]] = weight[trained]
    return mask.reshape(-1, width - 1)


def masked_loss(model, batch, mask):
    """mlx-lm's `default_loss` with the mask given ([B, T - 1], see `target_mask`), for
    models without a known head split trained on several spans per row."""
    import mlx.nn as nn

    logits = model(batch[:, :-1])
    ce = nn.losses.cross_entropy(logits, batch[:, 1:]) * mask
    return _weighted_mean(ce, mask)


def _weighted_mean(ce, weight):
    """(sum of ce / sum of weight, trained token count): a bool weight is the plain
    mean; a float one (`start_weight`) weights each token but still counts tokens."""
    import mlx.core as mx

    total = ce.astype(mx.float32).sum()
    if weight.dtype == mx.bool_:
        ntoks = weight.sum()
        return total / ntoks, ntoks
    return total / weight.sum(), (weight > 0).sum()


def selective_loss(model, head, batch, index, weight):
    """`default_loss` with the head and cross-entropy only at `index` (see module doc).
    Returns (mean loss over weighted positions, count) like `default_loss`."""
    return _head_loss(head, model.model(batch[:, :-1]), batch[:, 1:], index, weight)


def _head_loss(head, hidden, targets, index, weight):
    import mlx.core as mx
    import mlx.nn as nn

    hidden = mx.take(hidden.reshape(-1, hidden.shape[-1]), index, axis=0)
    logits = head(hidden)
    ce = nn.losses.cross_entropy(logits, mx.take(targets.reshape(-1), index)) * weight
    return _weighted_mean(ce, weight)


# Shared prompt prefixes ------------------------------------------------------------
#
# Rows of a batch usually start with the same tokens (Punie's data: the same system
# turn listing the tools, ~150 of ~215 tokens; rows with and without a system message
# make two such families). With causal attention the hidden states of a common prefix
# are the same in every row at every layer (the adapter is one function for all
# rows), so the body runs each distinct prefix once and only the rest of each row
# attends to its prefix's keys and values: exact, and the body sees far fewer tokens.
# The prefix length is a multiple of PREFIX_ROUND so the compiled step sees few shapes.

PREFIX_ROUND = 16
MIN_PREFIX = 32


def prefix_plan(batch, round_to: int = PREFIX_ROUND) -> tuple[int, list[int]]:
    """(P, group of each row): rows of the inputs (`batch[:, :-1]`) in one group share
    their first P tokens. P (a multiple of `round_to`, leaving each row at least one
    token) maximises the tokens saved, (rows - groups) * P; (0, []) when none are."""
    inputs = np.asarray(batch)[:, :-1]
    rows, width = inputs.shape
    best, plan = 0, (0, [])
    for p in range(MIN_PREFIX, width, round_to):
        seen: dict[bytes, int] = {}
        groups = [seen.setdefault(inputs[r, :p].tobytes(), len(seen)) for r in range(rows)]
        if len(seen) == rows:
            break  # a longer prefix only splits the groups further
        if (rows - len(seen)) * p > best:
            best, plan = (rows - len(seen)) * p, (p, groups)
    return plan


def supports_prefix(model) -> bool:
    """The body's layers are plain causal attention blocks we can drive one by one."""
    inner = getattr(model, "model", None)
    layers = getattr(inner, "layers", None)
    if not layers or not all(hasattr(inner, a) for a in ("embed_tokens", "norm")):
        return False
    if len(getattr(inner, "pipeline_layers", layers)) != len(layers):  # pipelined: no
        return False
    return not any(getattr(layer, "use_sliding", False) for layer in layers)


class _PrefixKV:
    """A stand-in for mlx-lm's KV cache: keeps the prefixes' keys/values ([G, ...])
    and prepends each row's prefix to the suffix's. `offset` positions RoPE."""

    def __init__(self, group):
        self.group = group
        self.keys = self.values = None
        self.offset = 0

    def update_and_fetch(self, keys, values):
        import mlx.core as mx

        if self.keys is None:
            self.keys, self.values, self.offset = keys, values, keys.shape[2]
            return keys, values
        k = mx.take(self.keys, self.group, axis=0)
        v = mx.take(self.values, self.group, axis=0)
        return mx.concatenate([k, keys], axis=2), mx.concatenate([v, values], axis=2)


def prefix_body(model, prefix, group, suffix):
    """`model.model(inputs)` where row b of inputs is prefix[group[b]] + suffix[b],
    computing each prefix once. prefix: [G, P] ids; group: [B]; suffix: [B, S].
    Returns hidden states [B, P + S, D]."""
    import mlx.core as mx

    inner = model.model
    hp = inner.embed_tokens(prefix)
    hs = inner.embed_tokens(suffix)
    p, s = prefix.shape[1], suffix.shape[1]
    mask = mx.arange(p + s)[None] <= (p + mx.arange(s))[:, None]
    for layer in inner.layers:
        kv = _PrefixKV(group)
        hp = layer(hp, "causal", kv)
        hs = layer(hs, mask, kv)
    return inner.norm(mx.concatenate([mx.take(hp, group, axis=0), hs], axis=1))


def prefix_loss(model, head, prefix, group, suffix, targets, index, weight):
    """`selective_loss` with the body run by `prefix_body`; targets is `batch[:, 1:]`."""
    return _head_loss(head, prefix_body(model, prefix, group, suffix), targets, index, weight)


# Frozen prefixes ---------------------------------------------------------------------
#
# Below the lowest adapted layer nothing trains, so a prefix's hidden states and its
# keys/values there are the same at every step. Punie's rows share one ~150-token
# tool listing, which with LoRA on the top 8 of 30 layers made ~20% of each step's
# work. `FrozenPrefixes` computes them once per distinct prefix row (outside the
# compiled step) and `frozen_prefix_loss` starts the prefix at the first trained
# layer. Exact: the same operations on the same values, nothing to differentiate.


def frozen_layers(model) -> int:
    """How many bottom layers hold no trainable parameter."""
    from mlx.utils import tree_flatten

    if tree_flatten(model.model.embed_tokens.trainable_parameters()):
        return 0
    n = 0
    for layer in model.model.layers:
        if tree_flatten(layer.trainable_parameters()):
            break
        n += 1
    return n


class FrozenPrefixes:
    """Per-prefix-row states at the top of the frozen layers: the hidden state entering
    layer `n` and each frozen layer's keys and values. Bounded in bytes (a long prefix
    of a big model holds hundreds of MB), oldest dropped first."""

    def __init__(self, model, n: int, max_bytes: int = 512 << 20):
        self.model, self.n, self.max_bytes = model, n, max_bytes
        self._rows: dict[bytes, tuple] = {}
        self._sizes: dict[bytes, int] = {}

    def _row(self, ids):
        import mlx.core as mx

        key = np.asarray(ids).tobytes()
        hit = self._rows.get(key)
        if hit is None:
            inner = self.model.model
            h = inner.embed_tokens(ids[None])
            kvs = []
            for layer in inner.layers[: self.n]:
                kv = _PrefixKV(None)
                h = layer(h, "causal", kv)
                kvs.append((kv.keys, kv.values))
            hit = (h, kvs)
            mx.eval(hit)
            size = h.nbytes + sum(k.nbytes + v.nbytes for k, v in kvs)
            while self._rows and sum(self._sizes.values()) + size > self.max_bytes:
                oldest = next(iter(self._rows))
                del self._rows[oldest], self._sizes[oldest]
            self._rows[key], self._sizes[key] = hit, size
        return hit

    def states(self, prefix):
        """(hidden [G, P, D], [(keys, values) [G, ...] per frozen layer]) for prefix [G, P]."""
        import mlx.core as mx

        rows = [self._row(prefix[g]) for g in range(prefix.shape[0])]
        hidden = mx.concatenate([r[0] for r in rows], axis=0)
        kvs = [
            (
                mx.concatenate([r[1][i][0] for r in rows], axis=0),
                mx.concatenate([r[1][i][1] for r in rows], axis=0),
            )
            for i in range(self.n)
        ]
        return hidden, kvs


def frozen_prefix_body(model, hidden, kvs, group, suffix):
    """`prefix_body` with the prefix's states below layer len(kvs) given (see
    `FrozenPrefixes`)."""
    import mlx.core as mx

    inner = model.model
    hp = hidden
    hs = inner.embed_tokens(suffix)
    p, s = hidden.shape[1], suffix.shape[1]
    mask = mx.arange(p + s)[None] <= (p + mx.arange(s))[:, None]
    for i, layer in enumerate(inner.layers):
        kv = _PrefixKV(group)
        if i < len(kvs):
            kv.keys, kv.values = kvs[i]
            kv.offset = p
        else:
            hp = layer(hp, "causal", kv)
        hs = layer(hs, mask, kv)
    return inner.norm(mx.concatenate([mx.take(hp, group, axis=0), hs], axis=1))


def frozen_prefix_loss(model, head, hidden, kvs, group, suffix, targets, index, weight):
    """`prefix_loss` with the prefix's frozen-layer states precomputed."""
    body = frozen_prefix_body(model, hidden, kvs, group, suffix)
    return _head_loss(head, body, targets, index, weight)


def loss_args(
    batch,
    lengths,
    prefix_ok: bool,
    frozen: FrozenPrefixes | None = None,
    start_weight: float = 1.0,
):
    """(kind, mx args) for one batch: "prefix" (`prefix_loss`) when rows share long
    enough prefixes and the model allows it, "frozen_prefix" (`frozen_prefix_loss`)
    when also `frozen` is given, else "selective" (`selective_loss`); `start_weight`
    as in `loss_positions`."""
    import mlx.core as mx

    index, weight = loss_positions(lengths, batch.shape[1], start_weight=start_weight)
    index, weight = mx.array(index), mx.array(weight)
    p, groups = prefix_plan(batch) if prefix_ok else (0, [])
    if not p:
        return "selective", (batch, index, weight)
    firsts = [groups.index(g) for g in range(max(groups) + 1)]
    prefix = batch[mx.array(firsts), :p]
    group = mx.array(groups, dtype=mx.int32)
    if frozen is not None:
        hidden, kvs = frozen.states(prefix)
        return "frozen_prefix", (hidden, kvs, group, batch[:, p:-1], batch[:, 1:], index, weight)
    return "prefix", (prefix, group, batch[:, p:-1], batch[:, 1:], index, weight)
