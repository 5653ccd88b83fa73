"""Time `punie demo` cold (fresh PUNIE_HOME) and warm (the same home again), in one run.

    .venv/bin/python bench/demo.py [--runs 3] [--keep DIR]

Prints each run's stage table (from its stages.json), the median cold time and
the cold/warm ratio that caching buys. Measure on a quiet machine: the demo is
CPU-bound and shares the cores with anything else running.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_demo(home: Path) -> tuple[float, int, list[dict], dict]:
    env = {**os.environ, "PUNIE_HOME": str(home), "COLUMNS": "160"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "punie", "demo"], env=env, check=False)
    wall = time.perf_counter() - t0
    run = home / "flywheel" / "demo"
    stages = (
        json.loads((run / "stages.json").read_text()) if (run / "stages.json").is_file() else []
    )
    summary = (
        json.loads((run / "flywheel.json").read_text()) if (run / "flywheel.json").is_file() else {}
    )
    return wall, proc.returncode, stages, summary


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1, help="cold runs (each in a fresh home)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the homes under this folder")
    args = ap.parse_args()
    colds, warms = [], []
    for i in range(args.runs):
        base = args.keep or Path(tempfile.mkdtemp(prefix="punie-bench-demo-"))
        home = base / f"home{i}"
        wall, rc, stages, summary = run_demo(home)
        colds.append(wall)
        print(f"cold run {i + 1}: {wall:.1f}s rc={rc}")
        for s in stages:
            print(f"  {s['name']:40} {s['status']:7} {s['seconds']:7.1f}s  {s.get('detail', '')}")
        for line in (summary.get("verdict") or {}).get("suites", []):
            print(
                f"  {line['suite']}: {100 * line['base']:.1f}% -> {100 * line['new']:.1f}% ({line['delta']:+.1f})"
            )
        wall2, rc2, _, _ = run_demo(home)
        warms.append(wall2)
        print(f"warm run {i + 1}: {wall2:.1f}s rc={rc2}")
    med_cold, med_warm = statistics.median(colds), statistics.median(warms)
    print(
        f"median cold {med_cold:.1f}s, median warm {med_warm:.1f}s, cold/warm {med_cold / med_warm:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
