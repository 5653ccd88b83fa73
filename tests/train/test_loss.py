"""The selective loss (head + cross-entropy only at loss positions) equals mlx-lm's
`default_loss` in value and gradients, on the tiny model with mask_prompt batches."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from conftest import tiny_config
from punie.train.loss import BUCKET, loss_positions


def test_loss_positions_match_default_loss_mask():
    lengths = [[0, 5], [3, 7], [7, 7], [9, 4]]  # no prompt, prompt, 1 answer token, none
    width = 8
    index, weight = loss_positions(lengths, width)
    steps = np.arange(1, width)
    lo, hi = np.array(lengths)[:, :1], np.array(lengths)[:, 1:]
    mask = ((steps >= lo) & (steps <= hi)).reshape(-1)
    assert sorted(index[weight].tolist()) == np.flatnonzero(mask).tolist()
    assert len(index) == BUCKET and not weight[mask.sum() :].any()


@pytest.fixture(scope="module")
def lora_batch(tiny_model, chat_data):
    from mlx_lm.tuner.datasets import CacheDataset, load_local_dataset
    from mlx_lm.utils import load

    from punie.train import engine
    from punie.train.batches import collate

    model, tok = load(str(tiny_model))
    train_raw, _, _ = load_local_dataset(chat_data, tok, argparse.Namespace(mask_prompt=True))
    ds = CacheDataset(train_raw)
    cfg = tiny_config(tiny_model, chat_data, rank=4, mask_prompt=True)
    engine.apply_adapters(model, cfg)
    # lora_b starts at zero, which would make every lora_a gradient zero: nothing to compare.
    import mlx.core as mx
    from mlx.utils import tree_flatten, tree_unflatten

    mx.random.seed(0)
    nonzero = [
        (k, 0.05 * mx.random.normal(v.shape))
        for k, v in tree_flatten(model.trainable_parameters())
        if k.endswith("lora_b")
    ]
    model.update(tree_unflatten(nonzero))
    batch, lengths = collate([ds[i] for i in range(4)], cfg.max_seq_length)
    assert int(np.asarray(lengths)[:, 0].min()) > 1  # a real prompt is masked
    return model, cfg, batch, lengths


def test_selective_loss_equals_default_loss_and_gradients(lora_batch):
    import mlx.core as mx
    import mlx.nn as nn
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.trainer import default_loss

    from punie.train.loss import head_of, selective_loss

    model, _, batch, lengths = lora_batch
    head = head_of(model)
    assert head is not None
    index, weight = loss_positions(lengths, batch.shape[1])
    (l_ref, n_ref), g_ref = nn.value_and_grad(model, default_loss)(model, batch, lengths)
    (l_sel, n_sel), g_sel = nn.value_and_grad(
        model, lambda m, b, i, w: selective_loss(m, head, b, i, w)
    )(model, batch, mx.array(index), mx.array(weight))
    assert int(n_sel) == int(n_ref) == int(weight.sum())
    assert float(l_sel) == pytest.approx(float(l_ref), rel=1e-5)
    ref, sel = dict(tree_flatten(g_ref)), dict(tree_flatten(g_sel))
    assert ref.keys() == sel.keys() and len(ref) >= 4
    for name in ref:
        a, b = np.array(ref[name]), np.array(sel[name])
        assert np.abs(a).max() > 0, name
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6 * np.abs(a).max(), err_msg=name)


def test_compiled_selective_step_matches_the_full_step(lora_batch):
    """Two steps from the same weights: same losses and the same updated adapter."""
    import mlx.core as mx
    from mlx.utils import tree_flatten

    from punie.train import engine

    model, cfg, batch, lengths = lora_batch
    start = engine.trainable_weights(model)
    results = []
    for selective in (False, True):
        model.update(tree_flatten_to_tree(start))
        opt = engine.build_optimizer(cfg)
        step, state = engine.make_step(model, opt, 1, selective=selective, share_prefix=False)
        losses = []
        for _ in range(2):
            loss, toks, _g = step(batch, lengths, None, True)
            mx.eval(state, loss, toks)
            losses.append(float(loss))
        results.append((losses, dict(tree_flatten(model.trainable_parameters()))))
    model.update(tree_flatten_to_tree(start))
    (l_full, w_full), (l_sel, w_sel) = results
    assert l_sel == pytest.approx(l_full, rel=1e-5)
    for name, w in w_full.items():
        np.testing.assert_allclose(np.array(w_sel[name]), np.array(w), rtol=1e-4, atol=1e-6)


def tree_flatten_to_tree(flat: dict):
    from mlx.utils import tree_unflatten

    return tree_unflatten(list(flat.items()))


def test_selective_evaluate_equals_full_evaluate(lora_batch, tiny_model, chat_data):
    from mlx_lm.tuner.datasets import CacheDataset, load_local_dataset
    from mlx_lm.utils import load

    from punie.train import engine

    model = lora_batch[0]
    _, tok = load(str(tiny_model))
    _, valid_raw, _ = load_local_dataset(chat_data, tok, argparse.Namespace(mask_prompt=True))
    ds = CacheDataset(valid_raw)
    batches = [[0, 1, 2, 3], [4, 5, 6, 7]]
    full = engine.evaluate(model, ds, batches, 2048)
    sel = engine.evaluate(model, ds, batches, 2048, selective=True)
    assert sel == pytest.approx(full, rel=1e-5)


def test_mask_prompt_run_trains_with_the_selective_loss(tiny_model, chat_data, tmp_path):
    from punie.train.rundir import read_events
    from punie.train.runner import train

    cfg = tiny_config(tiny_model, chat_data, mask_prompt=True, iters=3, learning_rate=5e-2)
    result = train(cfg, tmp_path / "run")
    losses = [e["train_loss"] for e in read_events(result.metrics_path) if e["event"] == "train"]
    assert result.outcome == "completed" and len(losses) == 3
    assert all(np.isfinite(losses)) and np.isfinite(result.final_val_loss)


@pytest.fixture(scope="module")
def prefix_batch(lora_batch):
    """The fixture's batch with three rows made to share their first 40 tokens, and one
    row trained on every token, so loss positions fall in the prefix too."""
    import mlx.core as mx

    _, _, batch, lengths = lora_batch
    b = np.array(batch)
    b[:3, :40] = b[0, :40]  # rows 0-2: one 40-token prefix; row 3: its own
    ln = np.array(lengths)
    ln[0, 0] = 0
    return mx.array(b), mx.array(ln)


def test_prefix_plan_groups_rows_and_maximises_the_saving():
    from punie.train.loss import prefix_plan

    rows = np.tile(np.arange(100), (4, 1))
    assert prefix_plan(rows) == (96, [0, 0, 0, 0])  # 99 inputs: round down, keep a suffix
    rows[2:, 50:] = -1
    assert prefix_plan(rows) == (96, [0, 0, 1, 1])  # two families of two
    rows[3, 80] = -2  # saves 3 x 48 at 48, 2 x 80 at 80, 1 x 96 at 96
    assert prefix_plan(rows) == (80, [0, 0, 1, 1])
    rows[1:, 20] = [-3, -4, -5]
    assert prefix_plan(rows) == (0, [])  # the shared part is too short to pay
    assert prefix_plan(rows[:1]) == (0, [])  # one row: nothing to share


def test_prefix_loss_equals_default_loss_and_gradients(lora_batch, prefix_batch):
    import mlx.nn as nn
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.trainer import default_loss

    from punie.train.loss import head_of, loss_args, prefix_loss

    model = lora_batch[0]
    batch, lengths = prefix_batch
    kind, args = loss_args(batch, lengths, prefix_ok=True)
    assert kind == "prefix" and args[0].shape == (2, 32) and args[1].tolist() == [0, 0, 0, 1]
    head = head_of(model)
    (l_ref, n_ref), g_ref = nn.value_and_grad(model, default_loss)(model, batch, lengths)
    (l_pre, n_pre), g_pre = nn.value_and_grad(model, lambda m, *a: prefix_loss(m, head, *a))(
        model, *args
    )
    assert int(n_pre) == int(n_ref)
    assert float(l_pre) == pytest.approx(float(l_ref), rel=1e-5)
    ref, pre = dict(tree_flatten(g_ref)), dict(tree_flatten(g_pre))
    assert ref.keys() == pre.keys()
    for name in ref:
        a = np.array(ref[name])
        np.testing.assert_allclose(
            np.array(pre[name]), a, rtol=1e-5, atol=1e-6 * np.abs(a).max(), err_msg=name
        )


def test_compiled_step_with_a_shared_prefix_matches_the_full_step(lora_batch, prefix_batch):
    import mlx.core as mx
    from mlx.utils import tree_flatten

    from punie.train import engine

    model, cfg, _, _ = lora_batch
    batch, lengths = prefix_batch
    start = engine.trainable_weights(model)
    results = []
    for selective in (False, True):
        model.update(tree_flatten_to_tree(start))
        step, state = engine.make_step(model, engine.build_optimizer(cfg), 1, selective)
        losses = []
        for _ in range(2):
            loss, toks, _g = step(batch, lengths, None, True)
            mx.eval(state, loss, toks)
            losses.append(float(loss))
        results.append((losses, dict(tree_flatten(model.trainable_parameters()))))
    model.update(tree_flatten_to_tree(start))
    (l_full, w_full), (l_pre, w_pre) = results
    assert l_pre == pytest.approx(l_full, rel=1e-5)
    for name, w in w_full.items():
        np.testing.assert_allclose(np.array(w_pre[name]), np.array(w), rtol=1e-4, atol=1e-6)


def test_prefix_sharing_is_off_with_dropout_or_grad_checkpoint(tiny_model, chat_data):
    from punie.train.engine import can_share_prefix

    assert can_share_prefix(tiny_config(tiny_model, chat_data))
    assert not can_share_prefix(tiny_config(tiny_model, chat_data, dropout=0.1))
    assert not can_share_prefix(tiny_config(tiny_model, chat_data, grad_checkpoint=True))


@pytest.fixture(scope="module")
def top_lora(tiny_model, prefix_batch):
    """The tiny model (2 layers) with LoRA on the top layer only: layer 0 is frozen."""
    import mlx.core as mx
    from mlx.utils import tree_flatten, tree_unflatten
    from mlx_lm.utils import load

    from punie.train import engine

    model, _ = load(str(tiny_model))
    cfg = tiny_config(tiny_model, tiny_model, rank=4, mask_prompt=True, num_layers=1)
    engine.apply_adapters(model, cfg)
    mx.random.seed(1)
    nonzero = [
        (k, 0.05 * mx.random.normal(v.shape))
        for k, v in tree_flatten(model.trainable_parameters())
        if k.endswith("lora_b")
    ]
    model.update(tree_unflatten(nonzero))
    return model, cfg


def test_frozen_prefix_loss_equals_prefix_loss_and_gradients(top_lora, prefix_batch):
    import mlx.nn as nn
    from mlx.utils import tree_flatten

    from punie.train.loss import (
        FrozenPrefixes,
        frozen_layers,
        frozen_prefix_loss,
        head_of,
        loss_args,
        prefix_loss,
    )

    model, _ = top_lora
    batch, lengths = prefix_batch
    assert frozen_layers(model) == 1
    head = head_of(model)
    _, plain = loss_args(batch, lengths, prefix_ok=True)
    kind, args = loss_args(batch, lengths, prefix_ok=True, frozen=FrozenPrefixes(model, 1))
    assert kind == "frozen_prefix" and len(args[1]) == 1
    (l_ref, n_ref), g_ref = nn.value_and_grad(model, lambda m, *a: prefix_loss(m, head, *a))(
        model, *plain
    )
    (l_fro, n_fro), g_fro = nn.value_and_grad(model, lambda m, *a: frozen_prefix_loss(m, head, *a))(
        model, *args
    )
    assert int(n_fro) == int(n_ref)
    assert float(l_fro) == pytest.approx(float(l_ref), rel=1e-6)
    ref, fro = dict(tree_flatten(g_ref)), dict(tree_flatten(g_fro))
    assert ref.keys() == fro.keys()
    for name in ref:
        a = np.array(ref[name])
        np.testing.assert_allclose(
            np.array(fro[name]), a, rtol=1e-5, atol=1e-6 * np.abs(a).max(), err_msg=name
        )


def test_compiled_step_with_a_frozen_prefix_matches_the_full_step(top_lora, prefix_batch):
    """The same gradient before any update, then the same losses over two updates.
    (Updated weights are not compared: Adam divides by the gradient's running size, so
    where a gradient is ~1e-7 of its tensor's largest entry — this fixture has one — a
    float-order difference moves that weight by a good part of the learning rate.)"""
    import mlx.core as mx
    from mlx.utils import tree_flatten

    from punie.train import engine

    model, cfg = top_lora
    batch, lengths = prefix_batch
    start = engine.trainable_weights(model)
    results = []
    for selective in (False, True):
        model.update(tree_flatten_to_tree(start))
        step, state = engine.make_step(model, engine.build_optimizer(cfg), 1, selective)
        _, _, grad = step(batch, lengths, None, False)
        mx.eval(grad)
        losses = []
        for _ in range(2):
            loss, toks, _g = step(batch, lengths, None, True)
            mx.eval(state, loss, toks)
            losses.append(float(loss))
        results.append((losses, dict(tree_flatten(grad))))
    model.update(tree_flatten_to_tree(start))
    assert len(step.frozen._rows) == 2  # the selective step ran the frozen path: 2 prefixes
    (l_full, g_full), (l_fro, g_fro) = results
    assert l_fro == pytest.approx(l_full, rel=1e-5)
    for name, g in g_full.items():
        a = np.array(g)
        np.testing.assert_allclose(
            np.array(g_fro[name]), a, rtol=1e-5, atol=1e-5 * np.abs(a).max(), err_msg=name
        )


def test_frozen_prefixes_stay_within_their_byte_budget(top_lora):
    import mlx.core as mx

    from punie.train.loss import FrozenPrefixes

    model, _ = top_lora
    one = FrozenPrefixes(model, 1)
    one.states(mx.array([[1, 2, 3, 4]]))
    size = next(iter(one._sizes.values()))
    cache = FrozenPrefixes(model, 1, max_bytes=2 * size)
    for first in (1, 5, 9):
        cache.states(mx.array([[first, 2, 3, 4]]))
    assert len(cache._rows) == 2  # the oldest of three went
    assert np.asarray([5, 2, 3, 4], np.int32).tobytes() in cache._rows


def test_start_weight_weighs_each_ranges_first_target():
    lengths = [[3, 7], [1, 4]]  # targets 2..6 of row 0, 0..3 of row 1
    index, weight = loss_positions(lengths, 8, start_weight=5.0)
    n = int((weight > 0).sum())
    assert weight.dtype == np.float32 and n == 9
    firsts = {int(index[k]) for k in range(n) if weight[k] == 5.0}
    assert firsts == {2, 7 + 0}  # row 0's target 2, row 1's target 0 (flat 1 * 7 + 0)
    assert (weight[:n] == 1.0).sum() == n - 2


def test_weighted_selective_loss_is_the_weighted_mean_of_default_losses(lora_batch):
    """start_weight = 1 keeps today's loss; > 1 is sum(w * ce) / sum(w) over the same
    positions, with the token count unchanged (it feeds tokens/s)."""
    import mlx.core as mx
    import mlx.nn as nn

    from punie.train.loss import head_of, selective_loss, target_mask

    model, _, batch, lengths = lora_batch
    head = head_of(model)
    index, weight = loss_positions(lengths, batch.shape[1], start_weight=4.0)
    loss, ntoks = selective_loss(model, head, batch, mx.array(index), mx.array(weight))
    ce = np.array(nn.losses.cross_entropy(model(batch[:, :-1]), batch[:, 1:]))
    w = target_mask(lengths, batch.shape[1], start_weight=4.0)
    assert int(ntoks) == int((w > 0).sum()) and (w == 4.0).sum() == batch.shape[0]
    assert float(loss) == pytest.approx(float((ce * w).sum() / w.sum()), rel=1e-5)
    plain, _ = selective_loss(
        model, head, batch, *map(mx.array, loss_positions(lengths, batch.shape[1]))
    )
    assert float(loss) != pytest.approx(float(plain), rel=1e-4)


def _rel_err(got: dict, ref: dict) -> float:
    """The worst tensor's relative L2 distance."""
    return max(float(np.linalg.norm(got[k] - ref[k]) / np.linalg.norm(ref[k])) for k in ref)


@pytest.mark.parametrize("selective", [False, True], ids=["full", "selective"])
def test_cpu_step_is_as_exact_as_mlx_lms_own_loss(lora_batch, selective):
    """`punie train`'s step on CPU traces `cpu_ops`' exponentials. Its loss equals
    mlx-lm's default loss (with mlx's own ops) to 1e-5 and its gradients to float32
    noise; against the same loss computed in float64 they are no less exact than
    mlx-lm's own float32 gradients. (This random tiny model's float32 gradients are
    only ~5e-5 from float64's, so an element-wise 1e-5 would test rounding.)"""
    import mlx.core as mx
    import mlx.nn as nn
    from mlx.utils import tree_flatten, tree_map
    from mlx_lm.tuner.trainer import default_loss

    from punie.train import cpu_ops, engine

    model, cfg, batch, lengths = lora_batch
    assert cpu_ops.wanted()  # the tests run where the swap is on by default
    start = engine.trainable_weights(model)
    mx.random.seed(2)  # every adapter non-zero, so every weight gets a gradient
    model.update(tree_map(lambda a: 0.1 * mx.random.normal(a.shape), model.trainable_parameters()))

    def reference():
        (loss, n), g = nn.value_and_grad(model, default_loss)(model, batch, lengths)
        mx.eval(loss, g)
        return float(loss), int(n), {k: np.array(v) for k, v in tree_flatten(g)}

    try:
        l32, n32, g32 = reference()
        step, state = engine.make_step(model, engine.build_optimizer(cfg), 1, selective)
        loss, toks, grad = step(batch, lengths, None, False)
        mx.eval(state, loss, toks, grad)
        fast = {k: np.array(v) for k, v in tree_flatten(grad)}
        model.set_dtype(mx.float64)
        _, _, g64 = reference()
    finally:
        model.set_dtype(mx.float32)
        model.update(tree_flatten_to_tree(start))
    assert int(toks) == n32 and fast.keys() == g32.keys() and len(g32) >= 4
    assert float(loss) == pytest.approx(l32, rel=1e-5)
    assert _rel_err(fast, g32) < 3e-5
    assert _rel_err(fast, g64) <= 1.25 * _rel_err(g32, g64)
