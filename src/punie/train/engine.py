"""The mlx parts of a training step, shared by the worker and the benchmark.

Built on mlx-lm's own pieces (`linear_to_lora_layers`, `default_loss`,
`average_gradients`) and the same compiled step as `mlx_lm.tuner.trainer.train`,
so a Punie step costs what an mlx-lm step costs; Punie only owns the loop around it
(for resume, events and early stopping). Imported only inside the worker process.
"""

from __future__ import annotations

from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
from mlx.nn.utils import average_gradients
from mlx.utils import tree_flatten, tree_map
from mlx_lm.tuner.trainer import default_loss, grad_checkpoint
from mlx_lm.tuner.utils import linear_to_lora_layers

from punie.train import cpu_ops
from punie.train.batches import Spans, collate
from punie.train.config import TrainConfig
from punie.train.loss import (
    FrozenPrefixes,
    frozen_layers,
    frozen_prefix_loss,
    head_of,
    loss_args,
    masked_loss,
    prefix_loss,
    selective_loss,
    supports_prefix,
    target_mask,
)


class ConfigMismatch(ValueError):
    """The config names something the loaded model does not have (exit 2)."""


def build_schedule(cfg: TrainConfig):
    """Learning rate as a function of the optimizer step (restored on resume).

    mlx evaluates the schedule at the step count before each update, so update k
    (0-based) uses lr(k): warm-up spans updates 0..warmup_steps-1 and the decay ends
    exactly at `min_learning_rate` on the last update (k = iters - 1).
    """
    s = optim.schedulers
    lr = cfg.learning_rate
    decay_steps = max(cfg.iters - cfg.warmup_steps - 1, 1)
    if cfg.lr_schedule == "cosine":
        main = s.cosine_decay(lr, decay_steps, cfg.min_learning_rate)
    elif cfg.lr_schedule == "linear":
        main = s.linear_schedule(lr, cfg.min_learning_rate, decay_steps)
    else:
        if not cfg.warmup_steps:
            return lr
        main = s.linear_schedule(lr, lr, 1)
    if not cfg.warmup_steps:
        return main
    warm = s.linear_schedule(cfg.warmup_init, lr, cfg.warmup_steps)
    return s.join_schedules([warm, main], [cfg.warmup_steps])


def build_optimizer(cfg: TrainConfig):
    classes = {
        "adam": optim.Adam,
        "adamw": optim.AdamW,
        "sgd": optim.SGD,
        "adafactor": optim.Adafactor,
    }
    kwargs = {}
    if cfg.weight_decay is not None and cfg.optimizer in ("adamw", "sgd"):
        kwargs["weight_decay"] = cfg.weight_decay
    return classes[cfg.optimizer](learning_rate=build_schedule(cfg), **kwargs)


def apply_adapters(model: nn.Module, cfg: TrainConfig) -> dict[str, int]:
    """Freeze the base, add LoRA/DoRA (or unfreeze the top layers) and check that every
    configured key matched a module: mlx-lm silently ignores keys that match nothing."""
    n_model = len(model.layers)
    if cfg.num_layers > n_model:
        raise ConfigMismatch(f"num_layers {cfg.num_layers} but the model has {n_model} layers")
    model.freeze()
    if cfg.fine_tune_type == "full":
        for layer in model.layers[-max(cfg.num_layers, 0) :]:
            layer.unfreeze()
    else:
        params = cfg.lora_parameters
        if params["keys"] is None:
            params.pop("keys")
        linear_to_lora_layers(model, cfg.num_layers, params, use_dora=cfg.fine_tune_type == "dora")
    names = [k for k, _ in tree_flatten(model.trainable_parameters())]
    if cfg.keys is not None and cfg.fine_tune_type != "full":
        for key in cfg.keys:
            if not any(f".{key}.lora_" in n or n.startswith(f"{key}.lora_") for n in names):
                have = sorted(
                    {n.split(".lora_")[0].split(".", 2)[-1] for n in names if ".lora_" in n}
                )
                raise ConfigMismatch(
                    f"key {key!r} matches no linear module of the model"
                    + (f" (adapted: {', '.join(have)})" if have else "")
                )
    if not names:
        raise ConfigMismatch("nothing to train: no module was adapted")
    if cfg.grad_checkpoint:
        grad_checkpoint(model.layers[0])
    trainable = sum(v.size for _, v in tree_flatten(model.trainable_parameters()))
    total = sum(v.size for _, v in tree_flatten(model.parameters()))
    return {"trainable_parameters": int(trainable), "total_parameters": int(total)}


def can_share_prefix(cfg: TrainConfig) -> bool:
    """Shared-prefix bodies are exact only without dropout (rows sharing a prefix would
    share its dropout masks) and without gradient checkpointing (its recompute would
    replay the prefix cache)."""
    return cfg.dropout == 0 and not cfg.grad_checkpoint


def accumulate_and_update(model, optimizer, grad, prev_grad, do_update: bool, accum: int):
    """Add this micro-batch's gradient to the running sum; on an update step average
    it across ranks and micro-batches and apply it. Returns the sum still running
    (None after an update)."""
    if prev_grad is not None:
        grad = tree_map(lambda x, y: x + y, grad, prev_grad)
    if do_update:
        grad = average_gradients(grad)
        if accum > 1:
            grad = tree_map(lambda x: x / accum, grad)
        optimizer.update(model, grad)
        grad = None
    return grad


def make_step(
    model: nn.Module,
    optimizer,
    grad_accum: int,
    selective: bool = False,
    share_prefix: bool = True,
    freeze_prefix: bool = True,
    start_weight: float = 1.0,
    fast_ops: bool | None = None,
):
    """mlx-lm's compiled step: forward+backward, gradient accumulation, all-reduce, update.

    `selective` (used with mask_prompt) computes the LM head and cross-entropy only at
    the positions the loss counts (`lengths` from `collate`: mlx-lm's (offset, length)
    rows or `Spans`, every assistant turn of a trace) and, with `share_prefix` (see `can_share_prefix`),
    runs each prompt prefix the rows of a batch share once (`punie.train.loss`), and
    with `freeze_prefix` reuses a prefix's states below the lowest trained layer
    across steps; same loss and gradients, and a model without a known body/head
    split keeps mlx-lm's full loss. The returned
    `step(batch, lengths, prev_grad, do_update)` has the same signature either way.
    `start_weight` != 1 weighs each trained turn's first token that much in the loss
    (`punie.train.loss.loss_positions`). `fast_ops` (default: on mlx's CPU backend)
    traces the step with `punie.train.cpu_ops`' exponentials.
    """
    fast = cpu_ops.wanted() if fast_ops is None else fast_ops
    head = head_of(model) if selective else None
    state = [model.state, optimizer.state, mx.random.state]

    def finish(lvalue, toks, grad, prev_grad, do_update):
        grad = accumulate_and_update(model, optimizer, grad, prev_grad, do_update, grad_accum)
        return lvalue, toks, grad

    if head is None:
        full = {
            "lengths": nn.value_and_grad(model, default_loss),
            "mask": nn.value_and_grad(model, masked_loss),
        }

        def compiled_full(kind):
            @partial(mx.compile, inputs=state, outputs=state)
            def full_step(batch, trained, prev_grad, do_update):
                with cpu_ops.fast_cpu_ops(fast):
                    (lvalue, toks), grad = full[kind](model, batch, trained)
                return finish(lvalue, toks, grad, prev_grad, do_update)

            return full_step

        full_steps = {kind: compiled_full(kind) for kind in full}

        def step(batch, lengths, prev_grad, do_update):
            if isinstance(lengths, Spans) or start_weight != 1.0:  # spans or weights: a mask
                mask = mx.array(target_mask(lengths, batch.shape[1], start_weight))
                return full_steps["mask"](batch, mask, prev_grad, do_update)
            return full_steps["lengths"](batch, lengths, prev_grad, do_update)

        return step, state

    prefix_ok = share_prefix and supports_prefix(model)
    n_frozen = frozen_layers(model) if prefix_ok and freeze_prefix else 0
    frozen = FrozenPrefixes(model, n_frozen) if n_frozen else None
    grads = {
        "selective": nn.value_and_grad(model, lambda m, *a: selective_loss(m, head, *a)),
        "prefix": nn.value_and_grad(model, lambda m, *a: prefix_loss(m, head, *a)),
        "frozen_prefix": nn.value_and_grad(model, lambda m, *a: frozen_prefix_loss(m, head, *a)),
    }

    def compiled(kind):
        @partial(mx.compile, inputs=state, outputs=state)
        def sel_step(args, prev_grad, do_update):
            with cpu_ops.fast_cpu_ops(fast):
                (lvalue, toks), grad = grads[kind](model, *args)
            return finish(lvalue, toks, grad, prev_grad, do_update)

        return sel_step

    steps = {kind: compiled(kind) for kind in grads}

    def step(batch, lengths, prev_grad, do_update):
        kind, args = loss_args(batch, lengths, prefix_ok, frozen, start_weight)
        return steps[kind](args, prev_grad, do_update)

    step.frozen = frozen  # what the step caches, for tests and benchmarks
    return step, state


def evaluate(
    model: nn.Module,
    dataset,
    batches: list[list[int]],
    max_seq_length: int,
    selective: bool = False,
    share_prefix: bool = True,
) -> float:
    """Token-weighted mean loss over fixed batches, summed across ranks (`selective`,
    `share_prefix`: as in `make_step`)."""
    head = head_of(model) if selective else None
    prefix_ok = head is not None and share_prefix and supports_prefix(model)
    model.eval()
    total = mx.array(0.0)
    ntoks = mx.array(0)
    for idx in batches:
        b, lengths = collate([dataset[j] for j in idx], max_seq_length)
        if head is None and isinstance(lengths, Spans):
            loss, toks = masked_loss(model, b, mx.array(target_mask(lengths, b.shape[1])))
        elif head is None:
            loss, toks = default_loss(model, b, lengths)
        else:
            kind, args = loss_args(b, lengths, prefix_ok)
            fn = prefix_loss if kind == "prefix" else selective_loss
            loss, toks = fn(model, head, *args)
        total += loss * toks
        ntoks += toks
        mx.eval(total, ntoks)
    total = mx.distributed.all_sum(total, stream=mx.cpu)
    ntoks = mx.distributed.all_sum(ntoks, stream=mx.cpu)
    model.train()
    return (total / ntoks).item()


def trainable_weights(model: nn.Module) -> dict:
    return dict(tree_flatten(model.trainable_parameters()))


def optimizer_arrays(optimizer) -> dict:
    return dict(tree_flatten(optimizer.state))
