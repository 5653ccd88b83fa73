"""Useful arithmetic of a training step, one formula for every side of
bench/train_peer.py: linear layers and causal attention forward, plus the
input-gradient backward of the layers above the lowest adapted one (frozen weights
need no weight gradient; the rank-8 LoRA terms are ignored)."""

from __future__ import annotations


def layer_flops(cfg: dict, tokens: int, context_pairs: int) -> float:
    """Forward FLOPs of one decoder layer for `tokens` positions attending over
    `context_pairs` (query, key) pairs in all."""
    d, ff = cfg["hidden_size"], cfg["intermediate_size"]
    hd = cfg.get("head_dim") or d // cfg["num_attention_heads"]
    q, kv = cfg["num_attention_heads"] * hd, cfg["num_key_value_heads"] * hd
    linear = 2 * tokens * (d * q + 2 * d * kv + q * d + 3 * d * ff)
    return linear + 2 * 2 * context_pairs * q


def step_flops(cfg: dict, parts: list[tuple[int, int, int]], head_positions: int, n_bwd: int):
    """A step's FLOPs: `parts` are (tokens, context pairs, first layer) runs through the
    layers from `first layer` up; the top `n_bwd` layers and the head also run their
    input-gradient backward (same FLOPs as forward; frozen weights need no weight
    gradient)."""
    n_layers = cfg["num_hidden_layers"]
    total = 0.0
    for tokens, pairs, first in parts:
        per = layer_flops(cfg, tokens, pairs)
        fwd_layers = n_layers - first
        bwd_layers = min(n_bwd, fwd_layers)
        total += per * (fwd_layers + bwd_layers)
    head = 2 * head_positions * cfg["hidden_size"] * cfg["vocab_size"]
    return total + 2 * head


def causal_pairs(lengths: list[int]) -> int:
    return sum(n * (n + 1) // 2 for n in lengths)
