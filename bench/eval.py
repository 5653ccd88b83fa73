"""Evaluation throughput: N cases one at a time vs with Punie's concurrency, same server.

    .venv/bin/python bench/eval.py [--model smollm2-135m] [--n 16] [--concurrency 8]

One managed mlx_lm.server (decode concurrency = --concurrency) serves both runs, so
the ratio isolates what the runner's bounded concurrency buys through the server's
batched decoding. Prints both wall times and the ratio measured in this one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from punie.evaluate.runner import EvalSettings, run_suite
from punie.evaluate.suite import Suite, load_suite
from punie.serve.endpoints import open_endpoint


def pick_model(spec: str | None) -> str:
    if spec:
        return spec
    try:
        from punie.model import resolve_model

        return str(resolve_model("smollm2-135m"))
    except Exception as exc:  # noqa: BLE001 - any failure: fall back to the tiny model
        from punie.model.tiny import build_tiny_model

        print(f"smollm2-135m unavailable ({exc}); using the tiny model")
        return str(build_tiny_model(Path(tempfile.mkdtemp()) / "tiny"))


def subset(suite: Suite, n: int, max_tokens: int) -> Suite:
    cases = [suite.cases[i % len(suite.cases)] for i in range(n)]
    cases = [c.model_copy(update={"id": f"{c.id}-{i}"}) for i, c in enumerate(cases)]
    return suite.model_copy(update={"cases": cases, "max_tokens": max_tokens})


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder or name (default smollm2-135m)")
    ap.add_argument("--suite", default="tools")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=48)
    args = ap.parse_args()

    model = pick_model(args.model)
    suite = subset(load_suite(args.suite), args.n, args.max_tokens)
    out = Path(tempfile.mkdtemp(prefix="punie-bench-eval-"))
    async with open_endpoint(model, decode_concurrency=args.concurrency) as ep:
        # Warm-up: the first requests pay one-off costs (prompt cache, kernels).
        warm = subset(suite, min(2, args.n), args.max_tokens)
        await run_suite(ep, warm, out / "warm", progress=False, write_report=False)
        times = {}
        results = {}
        for label, conc in (("sequential", 1), ("concurrent", args.concurrency)):
            t0 = time.perf_counter()
            results[label] = await run_suite(
                ep,
                suite,
                out / label,
                settings=EvalSettings(concurrency=conc),
                progress=False,
                write_report=False,
            )
            times[label] = time.perf_counter() - t0
    seq, conc = times["sequential"], times["concurrent"]
    same = sum(
        a.raw_text == b.raw_text
        for a, b in zip(results["sequential"].cases, results["concurrent"].cases, strict=True)
    )
    print(f"model       {model}")
    # Other processes on the same cores shrink the ratio; the load says how busy it was.
    print(f"load avg    {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"cases       {args.n} (suite {args.suite}, max_tokens {args.max_tokens})")
    print(f"sequential  {seq:7.2f} s  ({args.n / seq:.2f} cases/s)")
    print(
        f"concurrent  {conc:7.2f} s  ({args.n / conc:.2f} cases/s, concurrency {args.concurrency})"
    )
    print(f"ratio       {seq / conc:.2f}x")
    print(f"identical outputs sequential vs concurrent: {same}/{args.n}")


if __name__ == "__main__":
    asyncio.run(main())
