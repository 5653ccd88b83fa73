"""Faster exponentials for training on mlx's CPU backend.

mlx 0.32's CPU `exp` (and so `sigmoid`, `softmax`) runs at ~60M elements/s on x86:
its portable wheel has no SIMD path for x86, so every exponential is a scalar
polynomial with a libm `floor`. A demo step spends much of its time there: the
attention softmax in every layer and SiLU in every MLP. Adds and multiplies, which
`mx.compile` fuses into one loop the compiler vectorises, run 5-50x faster, so this
module builds `exp` out of them (Cody-Waite range reduction by the float rounding
trick, Cephes' expf polynomial, the exponent put in with an integer shift: relative
error < 2e-7 over float32's normal range, results below it flushed to 0, where mlx's
own reaches 4e-6 because it reduces x * log2(e) in float32) and the two functions the
step calls on top of it, each with its exact gradient as its own vjp.

The 49k-way cross-entropy keeps mlx's `logsumexp`: this `exp` there made the demo
step ~5% faster but raised its peak memory by ~0.4 GB (1.53 -> 1.96 GB), because the
three kernels below materialise full-size [positions, vocabulary] temporaries in the
forward and again in the backward, where mlx's one fused `exp` materialises none.

`fast_cpu_ops()` swaps them in for mlx's while a step is traced (`engine.make_step`),
so mlx-lm's model code, unchanged, calls them: the swap lasts only for the trace, and
the compiled step keeps what was traced. Off on other devices (Metal's kernels are
fast) and for anything but float32 without extra arguments: those calls go to mlx.
"""

from __future__ import annotations

from contextlib import contextmanager

import mlx.core as mx
import mlx.nn as nn

_ROUND = 12582912.0  # 1.5 * 2**23: x + _ROUND - _ROUND rounds a float32 to an integer
_LOG2E = 1.4426950408889634
# ln 2 split in two (Cody-Waite): r * _LN2_HI is exact for |r| < 2**9, so the reduced
# argument keeps full precision where x * log2(e) in float32 would not
_LN2_HI, _LN2_LO = 0.693359375, -2.12194440e-4
# Below _LO the exponent field becomes 0, so exp flushes to 0 without a mask; above
# _HI it saturates at exp(88) ~ 1.7e38 instead of inf
_LO, _HI = -88.0, 88.0
# e**g on [-ln2/2, ln2/2] (Cephes' expf): e**g = 1 + g + g*g * p(g)
_POLY = (
    1.9875691500e-4,
    1.3981999507e-3,
    8.3334519073e-3,
    4.1665795894e-2,
    1.6666665459e-1,
    5.0000001201e-1,
)

# How the graph is shaped matters as much as the arithmetic. `mx.compile` fuses an
# element-wise chain only up to depth 11 (a scalar's broadcast counts as a level)
# and cuts it wherever a shared value is reached before all its users; each cut is
# one more pass over memory, and a cut on a broadcast scalar makes the next kernel
# a slow strided one. So `_exp` is three kernels by design: the exponent bits (two
# clamps in the other order, so compile does not merge it with the next), the
# reduced argument `g` (materialised by `mx.contiguous`, a fusion barrier), and the
# polynomial in Estrin's form (depth 10, where Horner's would be 13) times the scale.


def _scale(x):
    """2**round(x * log2(e)) as float32 bits (0 below _LO)."""
    c = mx.maximum(mx.minimum(x, _HI), _LO)
    r = (c * _LOG2E + _ROUND) - _ROUND
    return mx.left_shift(r.astype(mx.int32) + 127, 23).view(mx.float32)


def _reduced(x):
    """x - r * ln2 in [-ln2/2, ln2/2], for the same r as `_scale`."""
    c = mx.minimum(mx.maximum(x, _LO), _HI)
    r = (c * _LOG2E + _ROUND) - _ROUND
    return mx.contiguous((c - r * _LN2_HI) - r * _LN2_LO)


def _exp(x):
    g = _reduced(x)
    g2 = g * g
    p0 = _POLY[4] * g + _POLY[5]
    p1 = _POLY[2] * g + _POLY[3]
    p2 = _POLY[0] * g + _POLY[1]
    p = p0 + g2 * (p1 + g2 * p2)
    return ((p * g2 + g) + 1.0) * _scale(x)


@mx.custom_function
def exp(x):
    """`mx.exp` for float32 (inputs above 88 give exp(88), not inf)."""
    return _exp(x)


@exp.vjp
def _exp_vjp(primals, cotangent, output):
    return (cotangent * output,)


@mx.custom_function
def softmax(x):
    """`mx.softmax(x, axis=-1)`."""
    e = _exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@softmax.vjp
def _softmax_vjp(primals, cotangent, output):
    return (output * (cotangent - (cotangent * output).sum(axis=-1, keepdims=True)),)


@mx.custom_function
def silu(x):
    """`nn.silu`: x * sigmoid(x)."""
    return x / (1.0 + _exp(-x))


@silu.vjp
def _silu_vjp(primals, cotangent, output):
    x = primals  # one argument: mlx passes the array itself
    s = 1.0 / (1.0 + _exp(-x))
    return (cotangent * s * (1.0 + x * (1.0 - s)),)


def attention(queries, keys, values, *, scale, mask=None, sinks=None, **extra):
    """`mx.fast.scaled_dot_product_attention` composed as mlx's CPU fallback composes
    it (grouped heads, bool or additive mask, "causal"), with `softmax` above."""
    if sinks is not None or extra or not _ours(queries):
        kwargs = dict(extra, scale=scale, mask=mask, sinks=sinks)
        return _MLX["attention"](queries, keys, values, **kwargs)
    b, h, n_q, d = queries.shape
    h_kv, n_k = keys.shape[1], keys.shape[2]
    rep = h // h_kv
    q = (queries * scale).reshape(b, h_kv, rep, n_q, d)
    scores = q @ keys[:, :, None].swapaxes(-1, -2)  # [b, h_kv, rep, n_q, n_k]
    if isinstance(mask, str):
        if mask != "causal":
            raise ValueError(f"unknown attention mask {mask!r}")
        mask = mx.arange(n_k)[None] <= (n_k - n_q + mx.arange(n_q))[:, None]
    if mask is not None:
        if mask.ndim == 4:  # [b|1, h|1, n_q, n_k]: split the head axis like the queries
            mask = mask.reshape(mask.shape[0], -1, rep if mask.shape[1] == h else 1, n_q, n_k)
        if mask.dtype == mx.bool_:
            scores = scores + mx.where(mask, 0.0, -mx.inf)
        else:
            scores = scores + mask.astype(scores.dtype)
    out = softmax(scores) @ values[:, :, None]
    return out.reshape(b, h, n_q, d)


def _ours(x) -> bool:
    return x.dtype == mx.float32


_MLX = {
    "attention": mx.fast.scaled_dot_product_attention,
    "silu": nn.silu,
}


def wanted() -> bool:
    """Only mlx's CPU backend needs them."""
    return mx.default_device().type == mx.DeviceType.cpu


@contextmanager
def fast_cpu_ops(enabled: bool = True):
    """Within the block, mlx-lm's models call this module's functions."""
    if not enabled:
        yield
        return
    mx.fast.scaled_dot_product_attention = attention
    nn.silu = silu
    try:
        yield
    finally:
        mx.fast.scaled_dot_product_attention = _MLX["attention"]
        nn.silu = _MLX["silu"]
