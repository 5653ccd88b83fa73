"""Validation throughput: structural checks on 100k generated rows (examples/s), the
whole `validate_path` (adds duplicate/leakage scans), and the token-length check
(tokens/s) with the tiny model's tokenizer and, when available, SmolLM2's.

    .venv/bin/python bench/data.py [--n 100000] [--token-rows 2000]
"""

from __future__ import annotations

import argparse
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


def _tokens_per_s(model: Path, rows: list[dict]) -> tuple[float, float]:
    tok = load_tokenizer(model)
    example_tokens(tok, rows[0])  # warm the template compile
    t0 = time.perf_counter()
    total = sum(len(example_tokens(tok, r)) for r in rows)
    dt = time.perf_counter() - t0
    return total / dt, len(rows) / dt


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
        t0 = time.perf_counter()
        parsed = read_file(path)
        structural = time.perf_counter() - t0
        assert not parsed.issues, parsed.issues[:3]
        t0 = time.perf_counter()
        report = validate_path(path)
        full = time.perf_counter() - t0
        print(f"rows: {args.n} ({mb:.1f} MB)")
        print(f"structural validation: {args.n / structural:,.0f} examples/s ({structural:.2f} s)")
        print(
            f"validate_path (+ duplicate scan): {args.n / full:,.0f} examples/s ({full:.2f} s, "
            f"{len(report.warnings)} duplicate warnings)"
        )
        print(f"duplicate scan cost: {full / structural:.2f}x the structural pass")

        from punie.model.tiny import build_tiny_model

        tiny = build_tiny_model(Path(tmp) / "tiny")
        sample = rows[: args.token_rows]
        tps, eps = _tokens_per_s(tiny, sample)
        print(f"length check, tiny tokenizer: {tps:,.0f} tokens/s ({eps:,.0f} examples/s)")
        try:
            from punie.model.store import resolve_model

            smol = resolve_model("smollm2-135m")
        except Exception as exc:  # the embedded model may be missing on this machine
            print(f"length check, smollm2-135m: skipped ({exc})")
        else:
            tps, eps = _tokens_per_s(smol, sample)
            print(f"length check, smollm2-135m: {tps:,.0f} tokens/s ({eps:,.0f} examples/s)")


if __name__ == "__main__":
    main()
