"""Validation throughput: structural checks on 100k generated rows (examples/s), the
whole `validate_path` (adds duplicate/leakage scans), and the token-length check
(tokens/s) with the tiny model's tokenizer and, when available, SmolLM2's.

    .venv/bin/python bench/data.py [--n 100000] [--token-rows 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from punie import atomic
from punie.data.gen_pools import TRAIN
from punie.data.gen_tools import CATEGORIES, tool_example
from punie.data.tokens import example_tokens, load_tokenizer
from punie.data.validate import read_file, validate_path


def _rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [tool_example(rng, TRAIN, rng.choice(CATEGORIES)) for _ in range(n)]


def _timed(fn):
    """(result, wall seconds, CPU seconds of this process). On a shared machine the
    CPU-time rate is the stable number; the wall rate is what a user waits for."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def _rates(n: float, wall: float, cpu: float, unit: str) -> str:
    return f"{n / wall:,.0f} {unit}/s wall ({wall:.2f} s), {n / cpu:,.0f} {unit}/CPU-s"


def _tokens(model: Path, rows: list[dict]) -> str:
    tok = load_tokenizer(model)
    example_tokens(tok, rows[0])  # warm the template compile
    total, wall, cpu = _timed(lambda: sum(len(example_tokens(tok, r)) for r in rows))
    return f"{_rates(total, wall, cpu, 'tokens')}; {len(rows) / cpu:,.0f} examples/CPU-s"


def _row_checks(rows: list[dict]) -> str:
    """check_row over parsed rows: the part that includes the tool-argument schema check
    (punie.schema_check), without the JSON parsing that dominates a file's validation."""
    import gc

    from punie.data.checks import check_row

    cache: dict = {}
    gc.disable()  # as check_lines does: the 100k rows in memory would be rescanned
    try:
        _, wall, cpu = _timed(lambda: [check_row(r, "chat", cache) for r in rows])
    finally:
        gc.enable()
    return _rates(len(rows), wall, cpu, "examples")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--token-rows", type=int, default=2000)
    args = ap.parse_args()

    rows = _rows(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.jsonl"
        atomic.write_jsonl(path, rows)
        mb = path.stat().st_size / 1e6
        parsed, s_wall, s_cpu = _timed(lambda: read_file(path))
        assert not parsed.issues, parsed.issues[:3]
        report, f_wall, f_cpu = _timed(lambda: validate_path(path))
        print(f"rows: {args.n} ({mb:.1f} MB), load average {os.getloadavg()[0]:.1f}")
        print(f"structural validation: {_rates(args.n, s_wall, s_cpu, 'examples')}")
        print(
            f"validate_path (+ duplicate scan, {len(report.warnings)} warnings): "
            f"{_rates(args.n, f_wall, f_cpu, 'examples')}"
        )
        print(f"duplicate scan cost: {f_cpu / s_cpu:.2f}x the structural pass (CPU time)")
        print(f"row checks alone (no JSON parsing): {_row_checks(rows)}")

        from punie.model.tiny import build_tiny_model

        tiny = build_tiny_model(Path(tmp) / "tiny")
        sample = rows[: args.token_rows]
        print(f"length check, tiny tokenizer: {_tokens(tiny, sample)}")
        try:
            from punie.model.store import resolve_model

            smol = resolve_model("smollm2-135m")
        except Exception as exc:  # the embedded model may be missing on this machine
            print(f"length check, smollm2-135m: skipped ({exc})")
        else:
            print(f"length check, smollm2-135m: {_tokens(smol, sample)}")


if __name__ == "__main__":
    main()
