"""punie.train.cpu_ops: each replacement equals mlx's op in value and gradient, and the
swap into mlx-lm's model code lasts only for its block."""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn
import numpy as np
import pytest

from punie.train import cpu_ops


def _close(a, b, rtol=2e-6, atol=1e-7):
    np.testing.assert_allclose(np.array(a), np.array(b), rtol=rtol, atol=atol)


def _grad_of(fn, x):
    """d/dx of sum(fn(x) * w) for a fixed random w: a full vector-Jacobian product."""
    w = mx.random.normal(fn(x).shape, key=mx.random.key(7))
    return mx.grad(lambda a: (fn(a) * w).sum())(x)


def test_exp_is_within_two_ulp_across_float32s_range():
    x = np.linspace(-87, 88, 400_001, dtype=np.float32)
    got = np.array(cpu_ops.exp(mx.array(x))).astype(np.float64)
    assert np.abs(got / np.exp(x.astype(np.float64)) - 1).max() < 2e-7


def test_exp_below_float32s_normal_range_is_zero():
    assert np.array(cpu_ops.exp(mx.array([-mx.inf, -1e4, -88.5]))).tolist() == [0, 0, 0]


def test_exp_gradient_is_its_value():
    x = mx.random.normal((64,)) * 5
    _close(_grad_of(cpu_ops.exp, x), _grad_of(mx.exp, x))


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (cpu_ops.softmax, lambda x: mx.softmax(x, axis=-1)),
        (cpu_ops.silu, nn.silu),
    ],
    ids=["softmax", "silu"],
)
def test_function_and_gradient_match_mlx(ours, theirs):
    x = mx.random.normal((3, 5, 97), key=mx.random.key(1)) * 6
    _close(ours(x), theirs(x), rtol=1e-6, atol=1e-7)
    _close(_grad_of(ours, x), _grad_of(theirs, x), rtol=1e-5, atol=1e-7)


def test_softmax_of_masked_scores_is_zero_there():
    x = mx.where(mx.arange(8) < 5, mx.random.normal((2, 8)), -mx.inf)
    out = cpu_ops.softmax(x)
    assert np.array(out)[:, 5:].max() == 0
    _close(out, mx.softmax(x, axis=-1))


def _qkv(h=6, h_kv=2, n_q=9, n_k=9, d=16, dtype=mx.float32):
    keys = mx.random.split(mx.random.key(4), 3)
    q = mx.random.normal((2, h, n_q, d), key=keys[0])
    k = mx.random.normal((2, h_kv, n_k, d), key=keys[1])
    v = mx.random.normal((2, h_kv, n_k, d), key=keys[2])
    return q.astype(dtype), k.astype(dtype), v.astype(dtype)


_N_Q, _N_K = 5, 9  # queries at the end of a longer key sequence, as with a cache
_MASKS = {
    "none": None,
    "causal": "causal",
    "bool": mx.random.uniform(shape=(_N_Q, _N_K), key=mx.random.key(5)) < 0.7,
    "additive": mx.random.normal((_N_Q, _N_K), key=mx.random.key(6)),
    "per-head": mx.random.uniform(shape=(2, 6, _N_Q, _N_K), key=mx.random.key(8)) < 0.7,
    "per-row": mx.random.normal((2, 1, _N_Q, _N_K), key=mx.random.key(9)),
}


@pytest.mark.parametrize("mask", list(_MASKS), ids=list(_MASKS))
def test_attention_matches_mx_fast_with_grouped_heads(mask):
    m = _MASKS[mask]
    if isinstance(m, mx.array) and m.dtype == mx.bool_:
        m = m | (mx.arange(_N_K) == 0)  # every query sees at least one key
    q, k, v = _qkv(n_q=_N_Q, n_k=_N_K)

    def ours(q, k, v):
        return cpu_ops.attention(q, k, v, scale=0.25, mask=m)

    def theirs(q, k, v):
        return mx.fast.scaled_dot_product_attention(q, k, v, scale=0.25, mask=m)

    _close(ours(q, k, v), theirs(q, k, v), rtol=1e-5, atol=1e-6)
    w = mx.random.normal(q.shape, key=mx.random.key(10))
    g_ours = mx.grad(lambda *a: (ours(*a) * w).sum(), argnums=(0, 1, 2))(q, k, v)
    g_theirs = mx.grad(lambda *a: (theirs(*a) * w).sum(), argnums=(0, 1, 2))(q, k, v)
    for a, b in zip(g_ours, g_theirs, strict=True):
        _close(a, b, rtol=1e-4, atol=1e-5)


def test_attention_in_bfloat16_or_with_sinks_is_mlx_own():
    q, k, v = _qkv(dtype=mx.bfloat16)
    ref = mx.fast.scaled_dot_product_attention(q, k, v, scale=0.25, mask="causal")
    assert mx.array_equal(cpu_ops.attention(q, k, v, scale=0.25, mask="causal"), ref)
    q, k, v = _qkv()
    sinks = mx.zeros((6,))
    ref = mx.fast.scaled_dot_product_attention(q, k, v, scale=0.25, mask=None, sinks=sinks)
    assert mx.array_equal(cpu_ops.attention(q, k, v, scale=0.25, sinks=sinks), ref)


def test_unknown_string_mask_is_an_error():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="unknown attention mask"):
        cpu_ops.attention(q, k, v, scale=1.0, mask="sliding")


def test_swap_lasts_only_for_the_block_even_on_error():
    originals = (mx.fast.scaled_dot_product_attention, nn.silu)
    with pytest.raises(RuntimeError):
        with cpu_ops.fast_cpu_ops():
            assert nn.silu is cpu_ops.silu
            assert mx.fast.scaled_dot_product_attention is cpu_ops.attention
            raise RuntimeError("trace failed")
    assert (mx.fast.scaled_dot_product_attention, nn.silu) == originals


def test_cross_entropy_stays_mlx_own_in_the_block():
    # cpu_ops' exp there costs ~0.4 GB of peak memory per demo step (module docstring)
    original = nn.losses.cross_entropy
    with cpu_ops.fast_cpu_ops():
        assert nn.losses.cross_entropy is original


def test_disabled_swap_changes_nothing():
    with cpu_ops.fast_cpu_ops(False):
        assert nn.silu is not cpu_ops.silu
