"""Punie's training time against raw mlx-lm for the same LoRA config, in one run.

Three ways to run the same training (same model, data, LoRA config, iterations),
each a fresh child process timed wall-clock end to end (model load included):

  punie      `punie train ... --json`: preflight, manifest, supervised worker (fast BLAS)
  mlx-fast   `python -m mlx_lm lora --train -c cfg.yaml` with the same fast BLAS
  mlx-stock  the same mlx-lm command on the mlx wheel's stock BLAS (no preload)

and prints punie/mlx-stock (aim < 1: Punie faster, through the BLAS) and
punie/mlx-fast (Punie's own overhead, aim <= 1.03). The sides alternate for
`--rounds` rounds and each keeps its best time (least disturbed on a shared box).
A PyTorch+PEFT timing runs only when torch and peft are importable.

Caveat printed with the result: mlx-lm orders batches by a row's key count while
Punie sorts by token length, so with mixed lengths Punie pads less.

Usage: .venv/bin/python bench/train.py [--model tiny|smollm2-135m|DIR] [--iters N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from punie import blas


def tiny_data(out: Path, n_train: int = 64, n_valid: int = 16) -> Path:
    rng = random.Random(0)
    files = ["README.md", "src/app/main.py", "tests/test_utils.py", "notes.txt"]
    out.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("valid", n_valid)):
        with open(out / f"{split}.jsonl", "w") as f:
            for i in range(n):
                path = rng.choice(files)
                row = {
                    "messages": [
                        {"role": "user", "content": f"Read the file {path} ({i}) please."},
                        {"role": "assistant", "content": f"The file {path} parses the config."},
                    ]
                }
                f.write(json.dumps(row) + "\n")
    return out


def prepare(model: str, work: Path, n: int) -> tuple[str, Path]:
    if model == "tiny":
        from punie.model.tiny import build_tiny_model

        return str(build_tiny_model(work / "tiny")), tiny_data(work / "data")
    from punie.model import resolve_model

    data = work / "data"
    subprocess.run(
        [sys.executable, "-m", "punie", "data", "generate", "tools", "--out", str(data),
         "--n", str(n), "--seed", "0"],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(resolve_model(model)), data


def run_punie(model: str, data: Path, c: dict, run_dir: Path) -> float:
    shutil.rmtree(run_dir, ignore_errors=True)
    cmd = [
        sys.executable, "-m", "punie", "train", "--model", model, "--data", str(data),
        "--run-dir", str(run_dir), "--json", "--rank", str(c["rank"]), "--scale", str(c["scale"]),
        "--num-layers", str(c["num_layers"]), "--iters", str(c["iters"]),
        "--batch-size", str(c["batch_size"]), "--lr", str(c["learning_rate"]),
        "--max-seq-length", str(c["max_seq_length"]), "--val-batches", str(c["val_batches"]),
        "--steps-per-report", str(c["iters"]), "--steps-per-eval", str(c["iters"]),
        "--steps-per-save", str(c["iters"]),
    ]  # fmt: skip
    tic = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - tic


def run_mlx_lm(model: str, data: Path, c: dict, work: Path, env: dict) -> float:
    import yaml

    adapters = work / "mlx-adapters"
    shutil.rmtree(adapters, ignore_errors=True)
    cfg = {
        "model": model,
        "train": True,
        "data": str(data),
        "fine_tune_type": "lora",
        "num_layers": c["num_layers"],
        "lora_parameters": {"rank": c["rank"], "scale": c["scale"], "dropout": 0.0},
        "batch_size": c["batch_size"],
        "iters": c["iters"],
        "learning_rate": c["learning_rate"],
        "max_seq_length": c["max_seq_length"],
        "val_batches": c["val_batches"],
        "steps_per_report": c["iters"],
        "steps_per_eval": c["iters"],
        "save_every": c["iters"],
        "adapter_path": str(adapters),
        "seed": 0,
    }
    path = work / "mlx-lm.yaml"
    path.write_text(yaml.safe_dump(cfg))
    tic = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mlx_lm", "lora", "-c", str(path)],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - tic


def peft_line() -> str:
    try:
        import peft  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return "PyTorch+PEFT: skipped (torch and peft are not installed; optional bench extra)"
    return "PyTorch+PEFT: installed, but this script has no PEFT runner yet: skipped"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="tiny")
    p.add_argument("--iters", type=int, default=None)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--num-layers", type=int, default=None)
    args = p.parse_args()

    small = args.model == "tiny"
    c = {
        "rank": 8,
        "scale": 20.0,
        "num_layers": args.num_layers or (-1 if small else 4),
        "iters": args.iters or (200 if small else 3),
        "batch_size": 4,
        "learning_rate": 1e-4,
        "max_seq_length": 2048 if small else 512,
        "val_batches": 2,
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model, data = prepare(args.model, work, n=40)
        times: dict[str, list[float]] = {"punie": [], "mlx-fast": [], "mlx-stock": []}
        for r in range(args.rounds):
            times["punie"].append(run_punie(model, data, c, work / "run"))
            times["mlx-fast"].append(run_mlx_lm(model, data, c, work, blas.child_env()))
            times["mlx-stock"].append(run_mlx_lm(model, data, c, work, blas.stock_env()))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in times.items()))
        events = [json.loads(x) for x in (work / "run" / "metrics.jsonl").read_text().splitlines()]
        s_iter = next(e["seconds_per_iter"] for e in events if e["event"] == "train")

    best = {k: min(v) for k, v in times.items()}
    print(
        f"\nmodel {args.model}: LoRA rank {c['rank']}, layers {c['num_layers']}, "
        f"batch {c['batch_size']}, {c['iters']} iters; fast BLAS {blas.fast_blas().describe()}"
    )
    for k, v in best.items():
        print(f"  {k:<10} {v:7.1f} s  (best of {args.rounds})")
    print(f"  punie steady state (worker-measured): {s_iter:.3f} s/iter")
    print(f"punie / mlx-lm stock BLAS : {best['punie'] / best['mlx-stock']:.3f}  (aim < 1)")
    print(f"punie / mlx-lm same BLAS  : {best['punie'] / best['mlx-fast']:.3f}  (aim <= 1.03)")
    print(peft_line())
    print("note: mlx-lm batches by row key count, Punie by token length (less padding).")


if __name__ == "__main__":
    main()
