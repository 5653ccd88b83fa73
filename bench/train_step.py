"""One training step of the demo recipe: mlx-lm's full loss against Punie's, in one run.

Four compiled steps of the same LoRA model (the demo recipe: SmolLM2-135M, rank 8,
top 8 layers, batch 4, mask_prompt) on the same real batches of the demo's data
(`punie data generate tools --n 400 --seed 0`), in one fast-BLAS child:

  full    mlx-lm's `default_loss`: LM head + full-vocab cross-entropy at every position
  head    head + cross-entropy only at the loss positions
  prefix  that, and the body runs each prompt prefix the rows of a batch share once
  punie   that, and a prefix's states below the lowest adapted layer are computed
          once per run, not per step (`punie.train.loss`): what `punie train` does
          with mask_prompt

The box is shared and its load swings by 2x within minutes, so the sides alternate
per batch (each batch is timed full, head, prefix, punie back to back), every shape is
compiled in an untimed pass first, and each (batch, side) keeps its best of
`--rounds`. Printed: mean s/step per side (wall and CPU time) and the ratios.

Usage: .venv/bin/python bench/train_step.py [--rounds 3] [--steps 8] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

SIDES = ("full", "head", "prefix", "punie")


def child(data: Path, steps: int, rounds: int) -> dict:
    import mlx.core as mx
    from mlx_lm.tuner.datasets import CacheDataset, load_local_dataset
    from mlx_lm.utils import load

    from punie.blas import blas_in_this_process
    from punie.flywheel.demo_recipe import DEMO_MODEL, DEMO_TRAIN
    from punie.model import resolve_model
    from punie.train import batches as B
    from punie.train import engine
    from punie.train.config import TrainConfig

    path = str(resolve_model(DEMO_MODEL))
    model, tok = load(path)
    keys = ("fine_tune_type", "num_layers", "rank", "scale", "batch_size", "max_seq_length")
    cfg = TrainConfig(model=path, data=data, mask_prompt=True, **{k: DEMO_TRAIN[k] for k in keys})
    engine.apply_adapters(model, cfg)
    train_raw, _, _ = load_local_dataset(data, tok, argparse.Namespace(mask_prompt=True))
    ds = CacheDataset(train_raw)
    plan = B.batch_plan([len(ds[i][0]) for i in range(len(ds))], cfg.batch_size)
    batches = [
        B.collate([ds[j] for j in B.batch_at(plan, cfg.seed, k)], cfg.max_seq_length)
        for k in range(steps)
    ]
    opt = engine.build_optimizer(cfg)
    fns = {
        "full": engine.make_step(model, opt, 1, selective=False),
        "head": engine.make_step(model, opt, 1, selective=True, share_prefix=False),
        "prefix": engine.make_step(model, opt, 1, selective=True, freeze_prefix=False),
        "punie": engine.make_step(model, opt, 1, selective=True),
    }
    model.train()
    wall = {s: [float("inf")] * steps for s in SIDES}
    cpu = {s: [float("inf")] * steps for s in SIDES}
    for r in range(rounds + 1):  # round 0 compiles every shape, untimed
        for k, (b, lengths) in enumerate(batches):
            for side in SIDES:
                step, state = fns[side]
                t0, c0 = time.perf_counter(), time.process_time()
                loss, toks, _ = step(b, lengths, None, True)
                mx.eval(state, loss, toks)
                if r:
                    wall[side][k] = min(wall[side][k], time.perf_counter() - t0)
                    cpu[side][k] = min(cpu[side][k], time.process_time() - c0)
        print(f"round {r} done", file=sys.stderr, flush=True)
    tokens = sum(int(lengths[:, 1].sum().item()) for _, lengths in batches)
    return {
        "blas": blas_in_this_process(),
        "mean_tokens_per_row": tokens / (steps * cfg.batch_size),
        "wall": wall,
        "cpu": cpu,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=8, help="real batches timed per side")
    p.add_argument("--data", type=Path, default=None, help="default: generate the demo data")
    p.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        args.child.write_text(json.dumps(child(args.data, args.steps, args.rounds)))
        return

    from demo_batches import run_child

    res = run_child(
        __file__, args.data, ["--steps", str(args.steps), "--rounds", str(args.rounds)], n=400
    )
    print(
        f"demo recipe, {args.steps} real batches x 4 rows of ~{res['mean_tokens_per_row']:.0f} "
        f"tokens, blas {res['blas']}, best of {args.rounds} per batch"
    )
    for clock in ("wall", "cpu"):
        mean = {s: sum(res[clock][s]) / args.steps for s in SIDES}
        print(
            f"{clock:4s} s/step: full {mean['full']:.2f}  head {mean['head']:.2f}  "
            f"prefix {mean['prefix']:.2f}  punie {mean['punie']:.2f}   "
            f"full/head x{mean['full'] / mean['head']:.2f}  "
            f"prefix/punie x{mean['prefix'] / mean['punie']:.2f}  "
            f"full/punie x{mean['full'] / mean['punie']:.2f}"
        )
    for side in SIDES:
        print(f"  {side:6s} wall per batch {[round(t, 2) for t in res['wall'][side]]}")


if __name__ == "__main__":
    main()
