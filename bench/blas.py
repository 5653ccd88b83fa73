"""mlx float32 matmul throughput on the wheel's stock BLAS vs the BLAS Punie preloads.

A library cannot be swapped inside a running process, so each side runs in its own
child process in this one run: `punie.blas.stock_env()` vs `punie.blas.child_env()`.
Each child reports which BLAS it really loaded (from /proc/self/maps).

Shapes: 512x576 @ 576x1536 (a SmolLM2-135M MLP projection over 512 tokens) and a
larger 1024x1024 @ 1024x1024. The two sides alternate for a few rounds and each
reports its best time: on a shared machine the best is the least disturbed run.

Usage: .venv/bin/python bench/blas.py [--reps 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from punie import blas

SHAPES = [(512, 576, 1536), (1024, 1024, 1024)]

_CHILD = """
import json, sys, time
import mlx.core as mx
from punie.blas import blas_in_this_process
reps = int(sys.argv[1])
out = {"blas": blas_in_this_process(), "results": []}
for m, k, n in json.loads(sys.argv[2]):
    mx.random.seed(0)
    a = mx.random.normal((m, k))
    b = mx.random.normal((k, n))
    mx.eval(a, b)
    for _ in range(3):
        mx.eval(a @ b)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        mx.eval(a @ b)
        times.append(time.perf_counter() - t)
    sec = min(times)
    out["results"].append({"shape": [m, k, n], "ms": sec * 1e3, "gflops": 2 * m * k * n / sec / 1e9})
print(json.dumps(out))
"""


def measure(env: dict[str, str], reps: int) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(reps), json.dumps(SHAPES)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best(runs: list[dict]) -> dict:
    """Per shape, the fastest of the runs."""
    results = [
        min((r["results"][i] for r in runs), key=lambda x: x["ms"]) for i in range(len(SHAPES))
    ]
    return {"blas": runs[0]["blas"], "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10, help="timed repetitions per shape")
    parser.add_argument("--rounds", type=int, default=3, help="alternating child runs per side")
    args = parser.parse_args()

    choice = blas.fast_blas()
    runs: dict[str, list[dict]] = {"stock": [], "fast": []}
    for _ in range(args.rounds):
        runs["stock"].append(measure(blas.stock_env(), args.reps))
        runs["fast"].append(measure(blas.child_env(blas=choice), args.reps))
    stock, fast = (best(runs[side]) for side in ("stock", "fast"))
    print(f"stock: {stock['blas']}    punie: {fast['blas']} ({choice.describe()})")
    print(f"{'matmul (float32)':<22} {'stock':>18} {'punie':>18} {'speedup':>8}")
    for s, f in zip(stock["results"], fast["results"], strict=True):
        m, k, n = s["shape"]
        print(
            f"{f'{m}x{k} @ {k}x{n}':<22} "
            f"{s['ms']:7.1f} ms {s['gflops']:5.1f} GF "
            f"{f['ms']:7.1f} ms {f['gflops']:5.1f} GF "
            f"{s['ms'] / f['ms']:7.1f}x"
        )


if __name__ == "__main__":
    main()
