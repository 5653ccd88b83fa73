"""Punie's step with mlx's own exponentials against `punie.train.cpu_ops`', in one run.

The demo recipe's compiled step (`engine.make_step`, what `punie train` runs) on the
demo's own batches, two ways, alternating one step at a time in one fast-BLAS child:

  mlx    mlx's softmax and SiLU and `mx.fast` attention
  fast   `cpu_ops`' attention softmax and SiLU traced into the step: what
         `punie train` does on CPU (the cross-entropy is mlx's on both sides)

Every shape is compiled in an untimed pass first; each (batch, side) keeps its best of
`--rounds`. Also printed: each side's first-batch loss before any update (they
must agree) and the process's peak RSS.

Usage: .venv/bin/python bench/train_cpu_ops.py [--steps 4] [--rounds 2] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

SIDES = ("mlx", "fast")


def child(data: Path, steps: int, rounds: int) -> dict:
    import mlx.core as mx
    from mlx.utils import tree_flatten, tree_map

    from punie.blas import blas_in_this_process
    from punie.train import engine
    from train_profile import _setup

    model, cfg, batches = _setup(data, steps)
    opt = engine.build_optimizer(cfg)
    start = tree_map(lambda a: a, dict(tree_flatten(model.trainable_parameters())))
    fns = {s: engine.make_step(model, opt, 1, selective=True, fast_ops=s == "fast") for s in SIDES}
    model.train()
    first_loss = {}
    for side in SIDES:  # the same weights for each side's first loss
        model.load_weights(list(start.items()), strict=False)
        step, _ = fns[side]
        loss, _, _ = step(*batches[0], None, False)
        mx.eval(loss)
        first_loss[side] = loss.item()
    wall = {s: [float("inf")] * steps for s in SIDES}
    for r in range(rounds + 1):  # round 0 compiles every shape, untimed
        for k, (b, lengths) in enumerate(batches):
            for side in SIDES:
                step, state = fns[side]
                t0 = time.perf_counter()
                loss, toks, _ = step(b, lengths, None, True)
                mx.eval(state, loss, toks)
                if r:
                    wall[side][k] = min(wall[side][k], time.perf_counter() - t0)
        print(f"round {r} done", file=sys.stderr, flush=True)
    return {
        "blas": blas_in_this_process(),
        "first_loss": first_loss,
        "wall": wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--steps", type=int, default=4, help="real batches timed per side")
    p.add_argument("--data", type=Path, default=None, help="default: generate the demo data")
    p.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        args.child.write_text(json.dumps(child(args.data, args.steps, args.rounds)))
        return

    from demo_batches import run_child

    res = run_child(__file__, args.data, ["--steps", str(args.steps), "--rounds", str(args.rounds)])
    print(
        f"demo recipe, {args.steps} real batches, blas {res['blas']}, best of {args.rounds}; "
        f"peak RSS {res['peak_rss_mb']} MB (both steps in one process)"
    )
    mean = {s: sum(res["wall"][s]) / args.steps for s in SIDES}
    for side in SIDES:
        print(
            f"  {side:5s} {mean[side]:6.2f} s/step  x{mean['mlx'] / mean[side]:.2f}  "
            f"first loss {res['first_loss'][side]:.6f}  per batch "
            f"{[round(t, 2) for t in res['wall'][side]]}"
        )


if __name__ == "__main__":
    main()
