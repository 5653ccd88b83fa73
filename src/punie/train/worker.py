"""The training process: `python -m punie.train.worker RUN_DIR --model-path P [--resume-from CKPT]`.

Started by `punie.train.runner` (alone, or once per rank under `mlx.launch`) with
the fast BLAS preloaded. It reads the effective config from RUN_DIR/config.json and
reports JSON-line events to RUN_DIR/metrics.jsonl (rank 0; other ranks write
metrics.rank<N>.jsonl), which the parent tails: nothing human-readable is parsed.
It stops cleanly (checkpoint, then an `end` event) when it gets SIGINT/SIGTERM or
finds RUN_DIR/STOP, which is how the parent forwards Ctrl-C through mlx.launch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

from punie import atomic, procs
from punie.train import checkpoint as ck
from punie.train.config import TrainConfig

STOP_FILE = "STOP"
EXIT_CONFIG = 2


class _Stop:
    requested = False


def _on_signal(signum, frame) -> None:  # noqa: ARG001
    _Stop.requested = True


class Events:
    def __init__(self, run_dir: Path, rank: int):
        self.rank = rank
        name = "metrics.jsonl" if rank == 0 else f"metrics.rank{rank}.jsonl"
        self.path = run_dir / name
        self.t0 = time.time()

    def emit(self, event: str, **fields) -> None:
        row = {"event": event, **fields, "time": round(time.time(), 3)}
        atomic.append_jsonl(self.path, row)
        if event in ("train", "val", "checkpoint", "end", "start", "error"):
            print(json.dumps(row), flush=True)  # train.log copy for humans


def _peak() -> dict:
    import mlx.core as mx

    return {
        "peak_memory_gb": round(mx.get_peak_memory() / 1e9, 4),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 4),
    }


def _load_data(cfg: TrainConfig, tokenizer):
    """(train, valid) datasets and their rows' token lengths: chat rows for sft, pairs
    (`punie.train.pair_batches`) for dpo/orpo."""
    if cfg.method == "sft":
        from punie.train.dataset import load_datasets

        train_ds, valid_ds, _ = load_datasets(
            Path(cfg.data), tokenizer, cfg.mask_prompt, cfg.train_on
        )
        # Sort by real token length (mlx-lm's CacheDataset.itemlen is a row's key count).
        lengths = [[len(ds[i][0]) for i in range(len(ds))] for ds in (train_ds, valid_ds)]
        return train_ds, valid_ds, *lengths
    from punie.train.pair_batches import load_pairs

    train_ds, valid_ds = (
        load_pairs(Path(cfg.data) / f"{split}.jsonl", tokenizer, cfg.max_seq_length)
        for split in ("train", "valid")
    )
    return train_ds, valid_ds, [p.length for p in train_ds], [p.length for p in valid_ds]


def run(run_dir: Path, model_path: str, resume_from: Path | None) -> int:
    import mlx.core as mx
    import numpy as np
    from mlx.utils import tree_unflatten
    from mlx_lm.utils import load

    from punie.blas import blas_in_this_process
    from punie.errors import PunieError
    from punie.train import batches as B
    from punie.train import engine

    cfg = TrainConfig.model_validate_json((run_dir / "config.json").read_text())
    world = mx.distributed.init()
    rank, size = world.rank(), world.size()
    ev = Events(run_dir, rank)
    stop_file = run_dir / STOP_FILE

    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    mx.random.seed(cfg.seed)

    model, tokenizer = load(model_path)
    try:
        train_ds, valid_ds, train_lengths, valid_lengths = _load_data(cfg, tokenizer)
    except PunieError as exc:  # a row the template or max_seq_length cannot train
        if rank == 0:
            ev.emit("error", kind="config", message=exc.format_message())
        return EXIT_CONFIG
    train_plan = B.batch_plan(train_lengths, cfg.batch_size, rank, size)
    val_plan = B.batch_plan(valid_lengths, cfg.batch_size, rank, size)
    val_set = B.val_batches(val_plan, cfg.seed, cfg.val_batches)

    try:
        counts = engine.apply_adapters(model, cfg)
    except engine.ConfigMismatch as exc:
        if rank == 0:
            ev.emit("error", kind="config", message=str(exc))
        return EXIT_CONFIG
    optimizer = engine.build_optimizer(cfg)
    reference = None
    if cfg.method == "dpo":
        from punie.train.dpo import Reference

        # Before any trained weights load: the reference is the model as it starts.
        reference = Reference(model, cfg)

    start = 0
    state = {"best_val_loss": None, "best_step": None, "bad_evals": 0, "trained_tokens": 0}
    if resume_from is not None:
        saved = ck.read_state(resume_from)
        model.load_weights(str(resume_from / ck.ADAPTER_FILE), strict=False)
        opt_arrays = mx.load(str(resume_from / ck.OPTIMIZER_FILE))
        optimizer.state = tree_unflatten(list(opt_arrays.items()))
        start = int(saved["step"])
        state.update({k: saved[k] for k in state if k in saved})
    if rank > 0:
        ev.path.unlink(missing_ok=True)

    preference = None
    if cfg.method != "sft":
        from punie.train.dpo import PreferenceObjective

        preference = PreferenceObjective(model, optimizer, cfg, train_ds, valid_ds, reference)
        compiled_state = preference.state
    else:
        step_fn, compiled_state = engine.make_step(
            model,
            optimizer,
            cfg.grad_accumulation_steps,
            selective=cfg.mask_prompt,
            share_prefix=engine.can_share_prefix(cfg),
            start_weight=cfg.turn_start_weight,
        )
    adapter_cfg = cfg.adapter_config()
    mx.eval(model.parameters(), optimizer.state)

    ev.emit(
        "resume" if resume_from is not None else "start",
        step=start,
        iters=cfg.iters,
        method=cfg.method,
        world_size=size,
        rank=rank,
        pid=os.getpid(),
        blas=blas_in_this_process(),
        train_examples=len(train_ds),
        valid_examples=len(valid_ds),
        **counts,
    )

    def do_eval(step: int) -> bool:
        """Evaluate, keep the best adapter; True when early stopping says stop."""
        tic = time.perf_counter()
        extra: dict = {}
        if preference is not None:
            extra = preference.evaluate(val_set)
            val = extra.pop("val_loss")
        else:
            val = engine.evaluate(
                model,
                valid_ds,
                val_set,
                cfg.max_seq_length,
                selective=cfg.mask_prompt,
                share_prefix=engine.can_share_prefix(cfg),
            )
        best = state["best_val_loss"]
        improved = best is None or val < best - cfg.early_stopping_min_delta
        if improved:
            state.update(best_val_loss=val, best_step=step, bad_evals=0)
            if rank == 0:
                ck.save_adapter(
                    run_dir / "adapter-best",
                    engine.trainable_weights(model),
                    adapter_cfg,
                    {"step": step, "val_loss": val},
                )
        else:
            state["bad_evals"] += 1
        ev.emit(
            "val",
            step=step,
            val_loss=val,
            **extra,
            val_time=round(time.perf_counter() - tic, 4),
            best_val_loss=state["best_val_loss"],
            best_step=state["best_step"],
            improved=improved,
        )
        patience = cfg.early_stopping_patience
        return patience is not None and state["bad_evals"] >= patience

    def save(step: int) -> None:
        if rank != 0:
            return
        weights = engine.trainable_weights(model)
        path = ck.save_checkpoint(
            run_dir / "checkpoints",
            step,
            weights,
            engine.optimizer_arrays(optimizer),
            adapter_cfg,
            state,
            cfg.keep_checkpoints,
        )
        ck.save_adapter(run_dir / "adapter", weights, adapter_cfg, {"step": step})
        ev.emit("checkpoint", step=step, path=str(path))

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _on_signal)

    outcome = "completed"
    step = start
    saved_at = start if resume_from is not None else -1
    if start == 0 and do_eval(0):
        outcome = "early_stopped"
    losses, ntoks, micro, train_time = mx.array(0.0), mx.array(0), 0, 0.0
    pref_stats = mx.zeros(2)  # dpo/orpo: reward margin and accuracy, summed per micro-batch
    accum = cfg.grad_accumulation_steps
    while outcome == "completed" and step < cfg.iters:
        want_stop = _Stop.requested or stop_file.exists()
        if size > 1:  # every rank must stop at the same step
            want_stop = mx.distributed.all_sum(mx.array(int(want_stop)), stream=mx.cpu).item() > 0
        if want_stop:
            outcome = "interrupted"
            break
        # Dropout masks are drawn from (seed, step): a resumed run draws the same ones.
        mx.random.seed(cfg.seed * 1_000_003 + step)
        tic = time.perf_counter()
        grad = None
        for a in range(accum):
            idx = B.batch_at(train_plan, cfg.seed, step * accum + a)
            if preference is None:
                b, lengths = B.collate([train_ds[j] for j in idx], cfg.max_seq_length)
                lvalue, toks, grad = step_fn(b, lengths, grad, a == accum - 1)
            else:
                lvalue, stats, grad = preference.step(idx, grad, a == accum - 1)
                pref_stats, toks = pref_stats + stats[:2], stats[2]
            losses += lvalue
            ntoks += toks
            micro += 1
        mx.eval(compiled_state, losses, ntoks, pref_stats)
        train_time += time.perf_counter() - tic
        step += 1

        if step % cfg.steps_per_report == 0 or step == cfg.iters:
            loss = mx.distributed.all_sum(losses, stream=mx.cpu).item() / (micro * size)
            toks = int(mx.distributed.all_sum(ntoks, stream=mx.cpu).item())
            state["trained_tokens"] += toks
            if preference is not None:
                margin, acc = mx.distributed.all_sum(pref_stats, stream=mx.cpu).tolist()
                extra = {"reward_margin": margin / (micro * size), "accuracy": acc / (micro * size)}
            else:
                extra = {}
            ev.emit(
                "train",
                step=step,
                train_loss=loss,
                learning_rate=optimizer.learning_rate.item(),
                tokens_per_second=toks / train_time,
                seconds_per_iter=train_time / (micro / accum),
                trained_tokens=state["trained_tokens"],
                **extra,
                **_peak(),
            )
            losses, ntoks, micro, train_time = mx.array(0.0), mx.array(0), 0, 0.0
            pref_stats = mx.zeros(2)

        if step % cfg.steps_per_eval == 0 or step == cfg.iters:
            if do_eval(step):
                outcome = "early_stopped"
        if step % cfg.steps_per_save == 0 or step == cfg.iters or outcome != "completed":
            save(step)
            saved_at = step

    if step != saved_at:
        save(step)
    ev.emit("end", step=step, outcome=outcome, **{k: state[k] for k in state}, **_peak())
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m punie.train.worker")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--model-path", required=True)
    p.add_argument("--resume-from", type=Path, default=None)
    args = p.parse_args(argv)
    procs.die_with_parent()  # the supervisor SIGKILLed: go with it, don't train on unseen
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return run(args.run_dir, args.model_path, args.resume_from)
    except Exception as exc:
        rank = int(os.environ.get("MLX_RANK", "0") or 0)
        if rank == 0:
            Events(args.run_dir, 0).emit(
                "error", kind="crash", message=f"{type(exc).__name__}: {exc}"
            )
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
