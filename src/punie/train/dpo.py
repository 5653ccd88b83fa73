"""Preference training (`method = "dpo"` or `"orpo"`) on pairs, in Punie's own loop.

DPO (Rafailov et al. 2023) raises the chosen answer's log-probability relative to the
rejected one's, measured against a frozen reference so the model cannot drift far:

    loss = -log sigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r)))

with pi/ref the summed log-probabilities of the answer's tokens under the trained
model and the reference. The reference is the base model with the adapter switched
off (`Reference.adapter_off`: each LoRA/DoRA module is swapped for the base layer it
wraps, the very same arrays, no second copy of the weights). Its values never change,
so each pair's are computed once, the first time the pair is batched, and cached.
With `fine_tune_type = "full"` there is no adapter to switch off: the reference keeps
the trained layers' starting arrays (one copy of those layers, not of the model).

ORPO (Hong et al. 2024) needs no reference: the chosen answer's mean token NLL plus
`beta` times -log sigmoid of the log odds ratio of the two answers' mean log-probs.

Imported only inside the worker (and tests): it needs mlx.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial

import mlx.core as mx
import mlx.nn as nn
import numpy as np
from mlx.utils import tree_flatten, tree_unflatten

from punie.train.config import TrainConfig
from punie.train.engine import accumulate_and_update, can_share_prefix
from punie.train.loss import head_of, prefix_body, prefix_plan, supports_prefix
from punie.train.pair_batches import Pair, PairBatch, collate_pairs

# What a batch's stats vector holds, in order (summed over micro-batches and ranks).
STATS = ("reward_margin", "accuracy", "tokens")


def dpo_loss(policy, reference, counts, beta: float):  # noqa: ARG001 - one signature for both
    """Per-pair DPO losses and reward margins. policy/reference: [2B] answer log-prob
    sums, chosen rows first."""
    b = policy.shape[0] // 2
    chosen = policy[:b] - reference[:b]
    rejected = policy[b:] - reference[b:]
    margin = beta * (chosen - rejected)
    return -nn.log_sigmoid(margin), margin


def _log1m_exp(x):
    """log(1 - exp(x)) for x < 0, clamped away from 0 where it diverges."""
    return mx.log(-mx.expm1(mx.minimum(x, -1e-6)))


def orpo_loss(policy, reference, counts, beta: float):  # noqa: ARG001 - no reference
    """Per-pair ORPO losses and margins (beta times the mean log-prob difference)."""
    b = policy.shape[0] // 2
    mean = policy / counts
    chosen, rejected = mean[:b], mean[b:]
    log_odds = (chosen - _log1m_exp(chosen)) - (rejected - _log1m_exp(rejected))
    return -chosen - beta * nn.log_sigmoid(log_odds), beta * (chosen - rejected)


OBJECTIVES = {"dpo": dpo_loss, "orpo": orpo_loss}


def body_args(model, tokens, share_prefix: bool):
    """("plain", ()) or ("prefix", (prefix, group, suffix)) for `answer_logps`."""
    p, groups = prefix_plan(tokens) if share_prefix else (0, [])
    if not p:
        return "plain", ()
    firsts = [groups.index(g) for g in range(max(groups) + 1)]
    return "prefix", (
        tokens[mx.array(firsts), :p],
        mx.array(groups, dtype=mx.int32),
        tokens[:, p:-1],
    )


def answer_logps(model, head, tokens, plan, index, weight, owner):
    """[rows] summed log-probabilities of each row's answer tokens. The head and the
    log-softmax run only at the answer positions when the model's head is known."""
    targets = mx.take(tokens[:, 1:].reshape(-1), index)
    if head is None:
        logits = model(tokens[:, :-1])
        picked = mx.take(logits.reshape(-1, logits.shape[-1]), index, axis=0)
    else:
        hidden = prefix_body(model, *plan) if plan else model.model(tokens[:, :-1])
        picked = head(mx.take(hidden.reshape(-1, hidden.shape[-1]), index, axis=0))
    logp = -nn.losses.cross_entropy(picked.astype(mx.float32), targets) * weight
    rows = mx.arange(tokens.shape[0])[:, None] == owner[None, :]
    return rows.astype(mx.float32) @ logp


def pair_logps(model, batch: PairBatch, share_prefix: bool = True):
    """[2B] answer log-prob sums of a batch, without gradients (reference, tests)."""
    head = head_of(model)
    ok = share_prefix and head is not None and supports_prefix(model)
    _, plan = body_args(model, batch.tokens, ok)
    return answer_logps(model, head, batch.tokens, plan, batch.index, batch.weight, batch.owner)


class Reference:
    """The reference log-probs of each pair, from the model with its adapter off.
    Create it after `apply_adapters` and before loading any trained weights."""

    def __init__(self, model, cfg: TrainConfig):
        self.model = model
        self.full = cfg.fine_tune_type == "full"
        # Full fine-tuning: the arrays the trained layers start from (mlx arrays are
        # immutable; holding them keeps them alive, which is the one copy it costs).
        self.start = dict(tree_flatten(model.trainable_parameters())) if self.full else None
        self.share_prefix = can_share_prefix(cfg)
        self._cache: dict[tuple[str, int], tuple[float, float]] = {}

    @contextmanager
    def adapter_off(self):
        """Inside, the model computes what the base computes: LoRA/DoRA modules are
        replaced by the base layers they wrap (or full fine-tuning's starting arrays
        are put back); everything is restored on the way out."""
        model = self.model
        if self.full:
            now = dict(tree_flatten(model.trainable_parameters()))
            model.update(tree_unflatten(list(self.start.items())))
            restore = list(now.items())
        else:
            adapted = [(n, m) for n, m in model.named_modules() if _base_of(m) is not None]
            model.update_modules(tree_unflatten([(n, _base_of(m)) for n, m in adapted]))
        training = model.training
        model.eval()
        try:
            yield model
        finally:
            model.train(training)
            if self.full:
                model.update(tree_unflatten(restore))
            else:
                model.update_modules(tree_unflatten(adapted))

    def logps(self, idx: list[int], batch: PairBatch, split: str = "train"):
        """[2B] reference sums for pairs `idx` of `split` (the rows of `batch`), cached
        per pair."""
        keys = [(split, i) for i in idx]
        if any(k not in self._cache for k in keys):
            with self.adapter_off() as base:
                sums = pair_logps(base, batch, self.share_prefix)
                mx.eval(sums)
            values = np.asarray(sums).tolist()
            b = len(idx)
            for j, k in enumerate(keys):
                self._cache.setdefault(k, (values[j], values[b + j]))
        chosen = [self._cache[k][0] for k in keys]
        rejected = [self._cache[k][1] for k in keys]
        return mx.array(chosen + rejected, dtype=mx.float32)


def _base_of(module):
    """The base layer an mlx-lm LoRA/DoRA module wraps, or None for other modules."""
    if not any(k.startswith("lora_") for k in module):
        return None
    base = module.get("linear", module.get("embedding"))
    return base if isinstance(base, nn.Module) else None


class PreferenceObjective:
    """The step and the evaluation the worker runs for dpo/orpo: `step(idx, prev_grad,
    do_update) -> (loss, stats, grad)` with `stats` as in STATS. DPO needs `reference`
    (made before trained weights were loaded); build this after the optimizer state is
    final, since the compiled step captures it."""

    def __init__(
        self,
        model,
        optimizer,
        cfg: TrainConfig,
        train: list[Pair],
        valid: list[Pair],
        reference: Reference | None = None,
    ):
        if (cfg.method == "dpo") != (reference is not None):
            raise ValueError("dpo needs a Reference, orpo none")
        self.model, self.cfg = model, cfg
        self.train_pairs, self.valid_pairs = train, valid
        self.objective = OBJECTIVES[cfg.method]
        self.head = head_of(model)
        self.share = can_share_prefix(cfg) and self.head is not None and supports_prefix(model)
        self.reference = reference
        self.state = [model.state, optimizer.state, mx.random.state]
        grad = nn.value_and_grad(model, self._loss)
        accum = cfg.grad_accumulation_steps

        def compiled(kind):
            @partial(mx.compile, inputs=self.state, outputs=self.state)
            def step(args, prev_grad, do_update):
                (lvalue, stats), g = grad(model, *args)
                g = accumulate_and_update(model, optimizer, g, prev_grad, do_update, accum)
                return lvalue, stats, g

            return step

        self._steps = {"plain": compiled("plain"), "prefix": compiled("prefix")}

    def _loss(self, model, tokens, plan, index, weight, owner, counts, reference):
        policy = answer_logps(model, self.head, tokens, plan, index, weight, owner)
        losses, margins = self.objective(policy, reference, counts, self.cfg.beta)
        correct = (margins > 0).astype(mx.float32)
        return losses.mean(), mx.stack([margins.mean(), correct.mean(), counts.sum()])

    def _args(self, idx: list[int], split: str):
        pairs = self.train_pairs if split == "train" else self.valid_pairs
        batch = collate_pairs([pairs[j] for j in idx], self.cfg.max_seq_length)
        kind, plan = body_args(self.model, batch.tokens, self.share)
        if self.reference is None:
            ref = mx.zeros(batch.counts.shape)
        else:
            ref = self.reference.logps(idx, batch, split)
        return kind, (batch.tokens, plan, batch.index, batch.weight, batch.owner, batch.counts, ref)

    def step(self, idx: list[int], prev_grad, do_update: bool):
        kind, args = self._args(idx, "train")
        return self._steps[kind](args, prev_grad, do_update)

    def evaluate(self, batches: list[list[int]]) -> dict[str, float]:
        """Pair-weighted val_loss, val_reward_margin and val_accuracy over fixed batches,
        summed across ranks."""
        self.model.eval()
        total = mx.zeros(4)  # loss, margin, accuracy (each times pairs), pairs
        for idx in batches:
            _, args = self._args(idx, "valid")
            lvalue, stats = self._loss(self.model, *args)
            n = len(idx)
            total = total + mx.stack([lvalue * n, stats[0] * n, stats[1] * n, mx.array(float(n))])
            mx.eval(total)
        self.model.train()
        loss, margin, acc, n = mx.distributed.all_sum(total, stream=mx.cpu).tolist()
        return {"val_loss": loss / n, "val_reward_margin": margin / n, "val_accuracy": acc / n}
