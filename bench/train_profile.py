"""Where one demo training step spends its time on the CPU.

In one fast-BLAS child, on the demo's own batches (the demo recipe: SmolLM2-135M,
LoRA rank 8 on the top 12 layers, batch 4, every assistant turn of a trace trained,
shared prefixes run once, frozen-layer prefix states cached):

1. the CPU's element-wise throughput: mlx `exp` and `add` against numpy's `exp`
   (Melem/s) and mlx's float32 matmul (GFLOP/s, the roof `bench/blas.py` measures);
2. the parts of a step, each evaluated on its own (eager): the frozen layers over
   the suffixes, the whole body forward, body + LM head + cross-entropy forward, the
   same forward + backward, the head + cross-entropy alone (forward + backward) and
   the optimizer update;
3. the whole compiled step as `punie train` runs it.

What it showed on the 2-core AMD EPYC box (2 Dec 2026): mlx's CPU `exp` runs at
~40M elements/s against numpy's ~230M/s, and a step's softmaxes (attention in 30
layers, SiLU, the 49k-way cross-entropy) are exponential-bound. Moving the
cross-entropy's exponentials into numpy halved the head + cross-entropy part but
left the whole step as it was (x0.98): the graph break it needs rules out
`mx.compile`, whose fusion of the element-wise ops saved as much elsewhere.

The box's load swings, so compare the ratios printed by one run, not absolute times
across runs.

Usage: .venv/bin/python bench/train_profile.py [--steps 8] [--rounds 2] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def _best(fn, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def throughput() -> dict:
    import mlx.core as mx
    import numpy as np

    x = mx.random.normal((384, 49152))
    a = mx.random.normal((768, 576))
    w = mx.random.normal((1536, 576))
    xn = np.array(x)
    mx.eval(x, a, w)
    n = x.size
    return {
        "mlx_exp_melem_s": n / _best(lambda: mx.eval(mx.exp(x)), 3) / 1e6,
        "mlx_add_melem_s": n / _best(lambda: mx.eval(x + 1), 3) / 1e6,
        "numpy_exp_melem_s": n / _best(lambda: np.exp(xn), 3) / 1e6,
        "matmul_gflop_s": 2 * 768 * 576 * 1536 / _best(lambda: mx.eval(a @ w.T), 10) / 1e9,
    }


def _setup(data: Path, steps: int):
    from mlx_lm.utils import load

    from punie.flywheel.demo_recipe import DEMO_MODEL, DEMO_TRAIN
    from punie.model import resolve_model
    from punie.train import batches as B
    from punie.train import engine
    from punie.train.config import TrainConfig
    from punie.train.dataset import load_datasets

    path = str(resolve_model(DEMO_MODEL))
    model, tok = load(path)
    keys = ("fine_tune_type", "num_layers", "rank", "scale", "batch_size", "max_seq_length")
    cfg = TrainConfig(model=path, data=data, mask_prompt=True, **{k: DEMO_TRAIN[k] for k in keys})
    engine.apply_adapters(model, cfg)
    train, _, _ = load_datasets(data, tok, True, "assistant")
    plan = B.batch_plan([len(train[i][0]) for i in range(len(train))], cfg.batch_size)
    batches = [
        B.collate([train[j] for j in B.batch_at(plan, cfg.seed, k)], cfg.max_seq_length)
        for k in range(steps)
    ]
    return model, cfg, batches


def parts(model, cfg, batches, rounds: int) -> dict:
    import mlx.core as mx
    import mlx.nn as nn

    from punie.train import engine
    from punie.train import loss as L

    frozen = L.FrozenPrefixes(model, L.frozen_layers(model))
    head = L.head_of(model)
    model.train()
    args = []
    for b, lengths in batches:
        kind, a = L.loss_args(b, lengths, True, frozen)
        assert kind == "frozen_prefix", kind
        mx.eval(a)
        args.append(a)
    grad = nn.value_and_grad(model, lambda m, *a: L.frozen_prefix_loss(m, head, *a))
    n_frozen = len(args[0][1])

    def frozen_suffix(a):
        inner, hs = model.model, model.model.embed_tokens(a[3])
        p, s = a[0].shape[1], a[3].shape[1]
        mask = mx.arange(p + s)[None] <= (p + mx.arange(s))[:, None]
        for i, layer in enumerate(inner.layers[:n_frozen]):
            kv = L._PrefixKV(a[2])
            kv.keys, kv.values, kv.offset = a[1][i][0], a[1][i][1], p
            hs = layer(hs, mask, kv)
        mx.eval(hs)

    hiddens = [L.frozen_prefix_body(model, *a[:4]) for a in args]
    mx.eval(hiddens)

    def head_ce(a, hidden):
        def f(h, index=a[5], targets=a[4], weight=a[6]):
            h = mx.take(h.reshape(-1, h.shape[-1]), index, axis=0)
            ce = nn.losses.cross_entropy(head(h), mx.take(targets.reshape(-1), index))
            return (ce * weight).sum()

        mx.eval(mx.value_and_grad(f)(hidden))

    opt = engine.build_optimizer(cfg)
    (_, _), g = grad(model, *args[0])
    mx.eval(g)
    timed = {
        f"frozen {n_frozen} layers fwd": lambda a, _: frozen_suffix(a),
        "body fwd": lambda a, _: mx.eval(L.frozen_prefix_body(model, *a[:4])),
        "loss fwd": lambda a, _: mx.eval(L.frozen_prefix_loss(model, head, *a)),
        "loss fwd+bwd": lambda a, _: mx.eval(grad(model, *a)),
        "head+CE fwd+bwd": head_ce,
    }
    out = {
        k: sum(
            _best(lambda a=a, h=h, f=f: f(a, h), rounds) for a, h in zip(args, hiddens, strict=True)
        )
        / len(args)
        for k, f in timed.items()
    }
    out["optimizer update"] = _best(lambda: mx.eval(opt.update(model, g), opt.state), rounds)
    out["loss positions per step"] = sum(int(a[6].sum()) for a in args) / len(args)
    out["padded positions per step"] = sum(a[5].shape[0] for a in args) / len(args)
    return out


def compiled_step(model, cfg, batches, rounds: int) -> float:
    """Mean over the batches of the best compiled step (round 0 compiles, untimed)."""
    import mlx.core as mx

    from punie.train import engine

    step, state = engine.make_step(model, engine.build_optimizer(cfg), 1, selective=True)
    best = [float("inf")] * len(batches)
    model.train()
    for r in range(rounds + 1):
        for k, (b, lengths) in enumerate(batches):
            t0 = time.perf_counter()
            loss, toks, _ = step(b, lengths, None, True)
            mx.eval(state, loss, toks)
            if r:
                best[k] = min(best[k], time.perf_counter() - t0)
    return sum(best) / len(best)


def child(data: Path, steps: int, rounds: int) -> dict:
    from punie.blas import blas_in_this_process

    model, cfg, batches = _setup(data, steps)
    return {
        "blas": blas_in_this_process(),
        "throughput": throughput(),
        "parts": parts(model, cfg, batches, rounds),
        "step": compiled_step(model, cfg, batches, rounds),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=8, help="real batches per measurement")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--data", type=Path, default=None, help="default: generate the demo data")
    p.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        args.child.write_text(json.dumps(child(args.data, args.steps, args.rounds)))
        return

    from demo_batches import run_child

    res = run_child(
        __file__, args.data, ["--steps", str(args.steps), "--rounds", str(args.rounds)], n=600
    )
    t = res["throughput"]
    print(f"blas {res['blas']}; {args.steps} demo batches, best of {args.rounds} each")
    print(
        f"element-wise: mlx exp {t['mlx_exp_melem_s']:.0f} Melem/s, mlx add "
        f"{t['mlx_add_melem_s']:.0f}, numpy exp {t['numpy_exp_melem_s']:.0f}; "
        f"matmul {t['matmul_gflop_s']:.0f} GFLOP/s"
    )
    print("parts of a step (s, mean over the batches):")
    for k, v in res["parts"].items():
        print(f"  {k:32s} {v:8.3f}")
    print(f"whole step, compiled as `punie train` runs it: {res['step']:.2f} s")


if __name__ == "__main__":
    main()
