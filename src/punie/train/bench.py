"""`punie bench train MODEL`: steady-state seconds per training step, measured inside
the training process (fast BLAS child), model load and graph compile excluded.

The timed batch is `batch_size` rows of `seq_len` random token ids (seeded): the
cost of a step depends on shapes, not on which tokens they are. With `data` the timed
batches are the first `steps` training batches of that dataset instead (real lengths
and, with `mask_prompt`, real prompt offsets, which decide how much of the LM head the
selective loss skips); one untimed pass over them compiles every shape first, and
seconds per iteration is then the mean over the pass. `full_loss` times mlx-lm's
full-vocabulary loss at every position, for comparison; `share_prefix=False` times
the selective head without running shared prompt prefixes once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from punie import blas
from punie.errors import PunieError

THRESHOLDS = ((5.0, "excellent"), (30.0, "acceptable"), (60.0, "slow"))

_ADVICE = {
    "excellent": "train freely: a few hundred iterations take minutes.",
    "acceptable": "fine for short runs; keep iters in the low hundreds.",
    "slow": "use fewer layers (--num-layers 8), a lower rank or shorter sequences.",
    "too slow": "train a smaller model or shorter sequences; consider a GPU/Apple silicon machine.",
}


def verdict(seconds_per_iter: float) -> tuple[str, str]:
    """(label, one-line recommendation) for a measured s/iter."""
    for limit, label in THRESHOLDS:
        if seconds_per_iter < limit:
            return label, _ADVICE[label]
    return "too slow", _ADVICE["too slow"]


def bench_train(
    model: str,
    *,
    batch_size: int = 4,
    seq_len: int = 348,
    rank: int = 8,
    num_layers: int = 16,
    fine_tune_type: str = "lora",
    steps: int = 3,
    warmup: int = 1,
    env: dict[str, str] | None = None,
    data: Path | None = None,
    mask_prompt: bool = False,
    full_loss: bool = False,
    share_prefix: bool = True,
    train_on: str = "assistant",
) -> dict[str, Any]:
    from punie.train.preflight import model_layers, resolve_model_path

    if steps < 1 or warmup < 0 or batch_size < 1 or seq_len < 2:
        raise PunieError("steps, batch size and seq len must be positive", where="bench train")
    model_path = resolve_model_path(model)
    n = model_layers(model_path)
    layers = -1 if n is not None and num_layers >= n else num_layers
    spec = {
        "batch_size": batch_size,
        "seq_len": seq_len,
        "rank": rank,
        "num_layers": layers,
        "fine_tune_type": fine_tune_type,
        "steps": steps,
        "warmup": warmup,
        "data": str(Path(data).resolve()) if data is not None else None,
        "mask_prompt": mask_prompt,
        "full_loss": full_loss,
        "share_prefix": share_prefix,
        "train_on": train_on,
    }
    if data is not None and not (Path(data) / "train.jsonl").is_file():
        raise PunieError(f"no train.jsonl in {data}", where="bench train --data")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            "-m",
            "punie.train.bench",
            str(model_path),
            json.dumps(spec),
            str(out),
        ]
        tic = time.perf_counter()
        r = subprocess.run(cmd, env=env or blas.child_env(), capture_output=True, text=True)
        wall = time.perf_counter() - tic
        if r.returncode != 0 or not out.exists():
            tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
            raise PunieError(f"benchmark failed: {tail[0]}", where=str(model))
        result = json.loads(out.read_text())
    label, advice = verdict(result["seconds_per_iter"])
    return {
        **result,
        **spec,
        "model": str(model),
        "wall_seconds": wall,
        "verdict": label,
        "recommendation": advice,
    }


def render(r: dict[str, Any]) -> str:
    shape = f"{r['batch_size']}x{r['seq_len']}"
    if r.get("data"):
        shape = f"{r['batch_size']} x {r['mean_tokens']:.0f} tokens of {r['data']}"
        shape += ", mask_prompt" if r.get("mask_prompt") else ""
        shape += ", full loss" if r.get("full_loss") else ""
    return (
        f"model {r['model']} ({r['fine_tune_type']}, rank {r['rank']}, layers {r['num_layers']}, "
        f"batch {shape}, blas {r['blas']})\n"
        f"  {r['seconds_per_iter']:.3f} s/iter  {r['tokens_per_second']:.0f} tokens/s  "
        f"peak mlx {r['peak_memory_gb']:.2f} GB  peak RSS {r['peak_rss_gb']:.2f} GB  "
        f"(load {r['load_seconds']:.1f} s, compile {r['warmup_seconds']:.1f} s, not counted)\n"
        f"  verdict: {r['verdict']} - {r['recommendation']}"
    )


def _child(model_path: str, spec: dict[str, Any], out: Path) -> None:
    import resource

    import mlx.core as mx
    from mlx_lm.utils import load

    from punie.blas import blas_in_this_process
    from punie.train import batches as B
    from punie.train import engine
    from punie.train.config import TrainConfig

    tic = time.perf_counter()
    model, tokenizer = load(model_path)
    load_s = time.perf_counter() - tic
    cfg = TrainConfig(
        model=model_path,
        data=Path("."),
        rank=spec["rank"],
        num_layers=spec["num_layers"],
        fine_tune_type=spec["fine_tune_type"],
        learning_rate=1e-5,
        batch_size=spec["batch_size"],
    )
    counts = engine.apply_adapters(model, cfg)
    optimizer = engine.build_optimizer(cfg)
    selective = spec.get("mask_prompt", False) and not spec.get("full_loss", False)
    share = spec.get("share_prefix", True)
    step, state = engine.make_step(model, optimizer, 1, selective=selective, share_prefix=share)
    if spec.get("data"):
        batches = _data_batches(tokenizer, spec, cfg.max_seq_length)
    else:
        mx.random.seed(0)
        vocab = model.args.vocab_size if hasattr(model, "args") else 1000
        shape = (spec["batch_size"], spec["seq_len"] + 1)
        b = mx.random.randint(0, vocab, shape).astype(mx.int32)
        lengths = mx.array([[0, spec["seq_len"] + 1]] * spec["batch_size"])
        batches = [(b, lengths)] * (spec["warmup"] + spec["steps"])
    model.train()
    # Synthetic: `warmup` untimed steps. Data: one untimed pass over the timed batches,
    # so every batch shape is compiled before timing.
    warm = batches[: spec["warmup"]] if not spec.get("data") else batches
    timed = batches[spec["warmup"] :] if not spec.get("data") else batches
    tic = time.perf_counter()
    for b, lengths in warm:
        out_ = step(b, lengths, None, True)
        mx.eval(state, out_[0])
    warm_s = time.perf_counter() - tic
    mx.reset_peak_memory()
    times = []
    for b, lengths in timed:
        tic = time.perf_counter()
        loss, toks, _g = step(b, lengths, None, True)
        mx.eval(state, loss, toks)
        times.append(time.perf_counter() - tic)
    if spec.get("data"):
        s_iter = sum(times) / len(times)
        n_tokens = sum(sum(B.row_lengths(lengths)) for _, lengths in timed)
        extra = {"mean_tokens": n_tokens / (len(timed) * spec["batch_size"])}
        tps = n_tokens / sum(times)
    else:
        s_iter = sorted(times)[len(times) // 2]
        extra = {}
        tps = spec["batch_size"] * spec["seq_len"] / s_iter
    result = {
        "seconds_per_iter": s_iter,
        "step_times": times,
        "tokens_per_second": tps,
        **extra,
        "peak_memory_gb": mx.get_peak_memory() / 1e9,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        "load_seconds": load_s,
        "warmup_seconds": warm_s,
        "blas": blas_in_this_process(),
        **counts,
    }
    out.write_text(json.dumps(result))


def _data_batches(tokenizer, spec: dict[str, Any], max_seq_length: int) -> list:
    """The first `steps` training batches of spec["data"], in the order training reads them."""
    from punie.train import batches as B
    from punie.train.dataset import load_split

    train_on = spec.get("train_on", "assistant")
    ds = load_split(Path(spec["data"]) / "train.jsonl", tokenizer, spec["mask_prompt"], train_on)
    plan = B.batch_plan([len(ds[i][0]) for i in range(len(ds))], spec["batch_size"])
    return [
        B.collate([ds[j] for j in B.batch_at(plan, 0, k)], max_seq_length)
        for k in range(spec["steps"])
    ]


if __name__ == "__main__":
    _child(sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3]))
