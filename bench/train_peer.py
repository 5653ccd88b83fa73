"""Punie's LoRA training step against PyTorch + PEFT on the same batches, in one run.

Sides (the demo recipe: SmolLM2-135M, LoRA rank 8 on all seven projections of the
top 12 layers, batch 4, every assistant turn of a trace trained, AdamW):

  punie        `punie train`'s compiled step (shared prefixes once, frozen-layer
               prefix states cached, head only at the loss positions, the
               exponentials of `punie.train.cpu_ops`), mlx on CPU
  punie-mlx-exp the same step with mlx's own softmax and SiLU
  peft         PyTorch + PEFT, eager, the plain full-sequence loss (labels -100
               outside the trained tokens)
  peft-compile the same under `torch.compile`
  peft-head    PEFT eager with the LM head and cross-entropy only where the loss counts

Each side lives in its own long-lived child (mlx and torch each bring their own BLAS
threads; one process would make them fight), the parent alternates the sides one
step at a time, every shape gets an untimed compile pass first, and each (batch,
side) keeps its best of `--rounds`: the box is shared and its load swings.

Printed per side: s/step, trained tokens/s, peak RSS of its process, and the share
of the matmul roof (`punie.blas` float32 GFLOP/s, measured in the mlx child) that
its useful arithmetic reaches. Useful arithmetic is counted from the shapes each
side processes (linear layers and causal attention, forward and the input-gradient
backward of the layers above the lowest adapted one; the rank-8 LoRA terms are
ignored), with one formula for all sides, so the shares compare the algorithms'
work as well as their speed.

torch and peft come from the optional `peer` extra in a separate venv (the default
PyPI torch on Linux is the 2.8 GB CUDA build): `make bench-peer-venv` builds
`.venv-peer` with the CPU wheel. Without it the torch sides print "skipped" and why.

Usage: .venv/bin/python bench/train_peer.py [--steps 6] [--rounds 2] [--data DIR]
       [--peer-python .venv-peer/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from step_flops import causal_pairs, step_flops

MLX_SIDES = ("punie", "punie-mlx-exp")
TORCH_SIDES = ("peft", "peft-compile", "peft-head")
ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(handlers: dict) -> None:
    """Answer one JSON command per stdin line with one JSON line on stdout."""
    out = sys.stdout
    sys.stdout = sys.stderr  # library chatter must not corrupt the protocol
    for line in sys.stdin:
        cmd = json.loads(line)
        reply = handlers[cmd["do"]](**cmd.get("args", {}))
        out.write(json.dumps(reply) + "\n")
        out.flush()


# --- the mlx side -------------------------------------------------------------------


def mlx_child(data: Path, dump: Path, steps: int) -> None:
    import mlx.core as mx
    import numpy as np

    from punie.blas import blas_in_this_process
    from punie.flywheel.demo_recipe import DEMO_TRAIN
    from punie.train import engine
    from punie.train import loss as L
    from train_profile import _setup  # the demo's model, adapters and batches

    model, cfg, batches = _setup(data, steps)
    path = str(cfg.model)
    arrays = {}
    for k, (b, lengths) in enumerate(batches):
        arrays[f"tokens{k}"] = np.array(b)
        arrays[f"mask{k}"] = L.target_mask(lengths, b.shape[1])
    np.savez(dump, **arrays)
    mcfg = json.loads((Path(path) / "config.json").read_text())
    meta = {
        "model": path,
        "config": mcfg,
        "num_layers": cfg.num_layers,
        "rank": cfg.rank,
        "scale": cfg.scale,
        "learning_rate": DEMO_TRAIN["learning_rate"],
        "blas": blas_in_this_process(),
        "punie_flops": [
            punie_flops(mcfg, cfg.num_layers, b, len(L.loss_positions(lengths, b.shape[1])[0]))
            for b, lengths in batches
        ],
    }
    opt = engine.build_optimizer(cfg)
    steps = {  # what `punie train` runs on CPU, and the same step with mlx's own exp
        "punie": engine.make_step(model, opt, 1, selective=True),
        "punie-mlx-exp": engine.make_step(model, opt, 1, selective=True, fast_ops=False),
    }
    model.train()

    def run(k: int, side: str = "punie") -> dict:
        b, lengths = batches[k]
        step, state = steps[side]
        t0 = time.perf_counter()
        loss, toks, _ = step(b, lengths, None, True)
        mx.eval(state, loss, toks)
        return {"s": time.perf_counter() - t0, "loss": loss.item()}

    serve({"meta": lambda: meta, "step": run, "rss": lambda: {"mb": rss_mb()}, "roof": mlx_roof})


def mlx_roof() -> dict:
    """mlx float32 matmul GFLOP/s on bench/blas.py's first shape (a SmolLM2 MLP
    projection over 512 tokens), best of 10."""
    import mlx.core as mx

    m, k, n = 512, 576, 1536
    a, b = mx.random.normal((m, k)), mx.random.normal((k, n))
    mx.eval(a, b)
    best = float("inf")
    for _ in range(13):
        t0 = time.perf_counter()
        mx.eval(a @ b)
        best = min(best, time.perf_counter() - t0)
    return {"gflops": 2 * m * k * n / best / 1e9}


def torch_roof() -> dict:
    """torch's float32 matmul GFLOP/s on the same shape, for reference."""
    import torch

    m, k, n = 512, 576, 1536
    a, b = torch.randn(m, k), torch.randn(k, n)
    best = float("inf")
    for _ in range(13):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return {"gflops": 2 * m * k * n / best / 1e9}


def punie_flops(mcfg: dict, n_adapted: int, batch, head_slots: int) -> float:
    """Punie's step on one batch: the rows' shared prompt prefix runs once per group
    (and below the adapted layers not at all once its states are cached, which they
    are after the first epoch), the suffixes run every layer, the head runs only at
    the loss slots (padded to a bucket)."""
    import numpy as np

    from punie.train import loss as L

    tokens = np.array(batch)
    rows, width = tokens.shape
    p, groups = L.prefix_plan(batch)
    first_adapted = mcfg["num_hidden_layers"] - n_adapted
    s = width - 1 - p
    suffix_pairs = rows * (s * p + s * (s + 1) // 2)
    parts = [(rows * s, suffix_pairs, 0)]
    if p:
        n_groups = max(groups) + 1
        parts.append((n_groups * p, n_groups * causal_pairs([p]), first_adapted))
    return step_flops(mcfg, parts, head_slots, n_adapted)


# --- the torch side -----------------------------------------------------------------


def torch_child(meta_file: Path, dump: Path) -> None:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    meta = json.loads(meta_file.read_text())
    arrays = np.load(dump)
    n = len([k for k in arrays.files if k.startswith("tokens")])
    batches = [
        (
            torch.from_numpy(arrays[f"tokens{k}"].astype(np.int64)),
            torch.from_numpy(arrays[f"mask{k}"]),
        )
        for k in range(n)
    ]
    base = AutoModelForCausalLM.from_pretrained(meta["model"], dtype=torch.float32)
    n_layers = meta["config"]["num_hidden_layers"]
    lora = LoraConfig(
        r=meta["rank"],
        lora_alpha=meta["scale"] * meta["rank"],  # mlx-lm's scale is PEFT's alpha / r
        lora_dropout=0.0,
        target_modules=[
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ],
        layers_to_transform=list(range(n_layers - meta["num_layers"], n_layers)),
    )
    model = get_peft_model(base, lora)
    model.train()
    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=meta["learning_rate"]
    )

    def plain_loss(m, tokens, mask):
        labels = tokens[:, 1:].masked_fill(~mask, -100)
        logits = m(input_ids=tokens[:, :-1]).logits
        return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)

    def head_loss(tokens, mask):
        hidden = model.base_model.model.model(input_ids=tokens[:, :-1]).last_hidden_state
        picked = hidden[mask]
        logits = model.base_model.model.lm_head(picked)
        return F.cross_entropy(logits, tokens[:, 1:][mask])

    compiled = {}

    def loss_of(side, tokens, mask):
        if side == "peft":
            return plain_loss(model, tokens, mask)
        if side == "peft-head":
            return head_loss(tokens, mask)
        if "m" not in compiled:
            compiled["m"] = torch.compile(model)
        return plain_loss(compiled["m"], tokens, mask)

    def run(side: str, k: int) -> dict:
        tokens, mask = batches[k]
        t0 = time.perf_counter()
        try:
            loss = loss_of(side, tokens, mask)
            loss.backward()
        except Exception as exc:  # torch.compile needs a working C++ toolchain
            opt.zero_grad(set_to_none=True)
            return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
        opt.step()
        opt.zero_grad(set_to_none=True)
        return {"s": time.perf_counter() - t0, "loss": loss.item()}

    versions = {"torch": torch.__version__, "peft": __import__("peft").__version__}
    handlers = {"step": run, "rss": lambda: {"mb": rss_mb()}, "roof": torch_roof}
    serve({**handlers, "versions": lambda: versions})


# --- the parent ---------------------------------------------------------------------


class Child:
    def __init__(self, cmd: list[str], env: dict | None = None):
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )

    def ask(self, do: str, **args) -> dict:
        self.proc.stdin.write(json.dumps({"do": do, "args": args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"a bench child died (exit {self.proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def peer_python(given: Path | None) -> tuple[str | None, str]:
    """The interpreter that has torch and peft, or None and why not."""
    cands = [given] if given else [Path(sys.executable), ROOT / ".venv-peer" / "bin" / "python"]
    for py in cands:
        if py is None or not Path(py).exists():
            continue
        ok = subprocess.run(
            [str(py), "-c", "import torch, peft, transformers"], capture_output=True
        )
        if ok.returncode == 0:
            return str(py), ""
    return None, "torch/peft not importable (build .venv-peer: make bench-peer-venv)"


def measure(args, tmp: Path) -> dict:
    from demo_batches import demo_data
    from punie import blas

    data = args.data or demo_data(tmp / "data", n=600)
    dump, meta_file = tmp / "batches.npz", tmp / "meta.json"
    here = str(Path(__file__).resolve())
    mlx = Child(
        [sys.executable, here, "--mlx-child", str(data), str(dump), str(args.steps)],
        env=blas.child_env(),
    )
    meta = mlx.ask("meta")
    meta_file.write_text(json.dumps(meta))
    sides = list(MLX_SIDES)
    py, why = peer_python(args.peer_python)
    peer = None
    if py:
        peer = Child([py, here, "--torch-child", str(meta_file), str(dump)])
        sides += list(TORCH_SIDES)
    best = {s: [float("inf")] * args.steps for s in sides}
    errors: dict[str, str] = {}
    first_loss: dict[str, float] = {}  # mlx and torch on the same batch: must agree
    # The roofs are re-measured every round and the best kept, like the steps: a
    # roof measured in a busy moment would flatter every side.
    roof = {"mlx": 0.0, "torch": 0.0}
    for r in range(args.rounds + 1):  # round 0 compiles every shape, untimed
        roof["mlx"] = max(roof["mlx"], mlx.ask("roof")["gflops"])
        if peer:
            roof["torch"] = max(roof["torch"], peer.ask("roof")["gflops"])
        for k in range(args.steps):
            for side in sides:
                if side in errors:
                    continue
                ask = mlx.ask if side in MLX_SIDES else peer.ask
                res = ask("step", side=side, k=k)
                if "error" in res:
                    errors[side] = res["error"]
                elif r == 0 and k == 0 and side in ("punie", "peft"):
                    # Each process's first step: its model before any update.
                    first_loss[side] = res["loss"]
                elif r:
                    best[side][k] = min(best[side][k], res["s"])
        print(f"round {r} done", file=sys.stderr, flush=True)
    rss = {"mlx process (both punie sides)": mlx.ask("rss")["mb"]}
    versions = {}
    if peer:
        rss["torch process"] = peer.ask("rss")["mb"]
        versions = peer.ask("versions")
        peer.close()
    mlx.close()
    return {"meta": meta, "best": best, "roof": roof, "first_loss": first_loss, "errors": errors, "rss": rss, "skipped": why,
            "versions": versions, "tokens": _trained_tokens(dump)}  # fmt: skip


def _trained_tokens(dump: Path) -> list[int]:
    import numpy as np

    arrays = np.load(dump)
    return [int(arrays[k].sum()) for k in sorted(arrays.files) if k.startswith("mask")]


def torch_flops(meta: dict, dump: Path, head_only: bool) -> list[float]:
    """The plain step on each batch: every position through every layer (padding
    included); the head at every position, or only at the trained ones."""
    import numpy as np

    arrays = np.load(dump)
    out = []
    for k in range(len([f for f in arrays.files if f.startswith("tokens")])):
        rows, width = arrays[f"tokens{k}"].shape
        t = width - 1
        head = int(arrays[f"mask{k}"].sum()) if head_only else rows * t
        parts = [(rows * t, rows * causal_pairs([t]), 0)]
        out.append(step_flops(meta["config"], parts, head, meta["num_layers"]))
    return out


def report(res: dict, args) -> None:
    meta, best = res["meta"], res["best"]
    roof = res["roof"]["mlx"]
    tokens = sum(res["tokens"]) / len(res["tokens"])
    flops = {
        "punie": meta["punie_flops"],
        "punie-mlx-exp": meta["punie_flops"],
        "peft": res["torch_flops"],
        "peft-compile": res["torch_flops"],
        "peft-head": res["torch_head_flops"],
    }
    print(
        f"demo recipe, {args.steps} real batches x 4 rows, ~{tokens:.0f} trained tokens/step, "
        f"best of {args.rounds} per (batch, side); {res['versions'] or 'no torch'}\n"
        f"matmul roof (float32, 512x576 @ 576x1536, best seen): mlx + {meta['blas']} "
        f"{roof:.0f} GFLOP/s (the shares below), torch {res['roof']['torch']:.0f} GFLOP/s"
    )
    mean = {}
    for side, times in best.items():
        if side in res["errors"]:
            print(f"  {side:13s} failed: {res['errors'][side]}")
            continue
        mean[side] = sum(times) / len(times)
        gf = sum(flops[side]) / len(flops[side]) / 1e9
        print(
            f"  {side:13s} {mean[side]:6.2f} s/step  {tokens / mean[side]:6.0f} tok/s  "
            f"{gf:6.1f} GFLOP/step  {100 * gf / mean[side] / roof:4.0f}% of roof"
        )
    losses = ", ".join(f"{s} {v:.4f}" for s, v in res["first_loss"].items())
    print(f"  loss on batch 0 before any update (same weights, same batch): {losses}")
    for name, mb in res["rss"].items():
        print(f"  peak RSS {name}: {mb:.0f} MB")
    if res["skipped"]:
        print(f"  torch sides skipped: {res['skipped']}")
    torch_sides = [s for s in TORCH_SIDES if s in mean]
    if "punie" in mean and torch_sides:
        fastest = min(torch_sides, key=mean.get)
        ratio = mean[fastest] / mean["punie"]
        print(
            f"punie vs the fastest torch side ({fastest}): x{ratio:.2f} "
            f"(target x1.25: {'met' if ratio >= 1.25 else 'NOT met'})"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=6, help="real batches per side")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--data", type=Path, default=None, help="default: generate the demo data")
    p.add_argument("--peer-python", type=Path, default=None, help="a python with torch + peft")
    p.add_argument("--mlx-child", nargs=3, help=argparse.SUPPRESS)
    p.add_argument("--torch-child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.mlx_child:
        data, dump, steps = args.mlx_child
        return mlx_child(Path(data), Path(dump), int(steps))
    if args.torch_child:
        return torch_child(Path(args.torch_child[0]), Path(args.torch_child[1]))
    with tempfile.TemporaryDirectory() as tmp:
        res = measure(args, Path(tmp))
        res["torch_flops"] = torch_flops(res["meta"], Path(tmp) / "batches.npz", False)
        res["torch_head_flops"] = torch_flops(res["meta"], Path(tmp) / "batches.npz", True)
    report(res, args)


if __name__ == "__main__":
    main()
