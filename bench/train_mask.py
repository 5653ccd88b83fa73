"""One 3-turn agent trace as ONE example with every assistant turn trained
(`train_on="assistant"`) against the same trace expanded into three examples, each
trained on its last turn (`expand_rows` + mlx-lm's `mask_prompt`): the cost of a
forward+backward training step, in one run.

Both sides train the same assistant tokens (the expanded side also the pad after each
example's end, as mlx-lm does). Each side runs with Punie's step as `punie train`
does ("punie": selective head, shared prefixes run once, frozen-prefix reuse) and
without prefix sharing ("plain": what the three rows cost as separate rows). The
sides alternate within each round, every shape is compiled in an untimed round
first, and each side keeps its median over the rounds, in a fast-BLAS child.

Models: the tiny test model, and SmolLM2-135M (LoRA rank 8 on the top 8 layers, the
demo recipe) when `resolve_model("smollm2-135m")` works; otherwise it is skipped.

Usage: .venv/bin/python bench/train_mask.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIDES = ("trace/punie", "expanded/punie", "trace/plain", "expanded/plain")

_FILE = "\n".join(f"def f{i}(x):\n    return x * {i}  # step {i}" for i in range(12))


def trace_row() -> dict:
    from punie.toolspec import AGENT_TOOLS

    def call(i: int, name: str, args: dict) -> dict:
        fn = {"name": name, "arguments": json.dumps(args)}
        return {"id": f"call_{i}", "type": "function", "function": fn}

    return {
        "tools": AGENT_TOOLS,
        "messages": [
            {"role": "user", "content": "Why does f3 in src/app/main.py return 9 for 3?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [call(0, "read_file", {"path": "src/app/main.py"})],
            },
            {"role": "tool", "tool_call_id": "call_0", "content": _FILE},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [call(1, "read_file", {"path": "tests/test_main.py"})],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "assert f3(3) == 9"},
            {
                "role": "assistant",
                "content": "f3 multiplies by 3, so f3(3) is 9, as the test expects.",
            },
        ],
    }


def child(model_path: str, num_layers: int, rounds: int) -> dict:
    import mlx.core as mx
    from mlx_lm.tuner.datasets import ChatDataset
    from mlx_lm.utils import load

    from punie.blas import blas_in_this_process
    from punie.data.traces import expand_rows
    from punie.train import engine
    from punie.train.batches import collate
    from punie.train.config import TrainConfig
    from punie.train.dataset import assistant_spans

    model, tok = load(model_path)
    cfg = TrainConfig(model=model_path, data=".", rank=8, num_layers=num_layers, mask_prompt=True)
    engine.apply_adapters(model, cfg)
    row = trace_row()
    expanded = expand_rows([row])
    ds = ChatDataset(expanded, tok, mask_prompt=True)
    batches = {
        "trace": collate([assistant_spans(tok, row)], cfg.max_seq_length),
        "expanded": collate([ds.process(r) for r in expanded], cfg.max_seq_length),
    }
    opt = engine.build_optimizer(cfg)
    steps = {
        "punie": engine.make_step(model, opt, 1, selective=True),
        "plain": engine.make_step(model, opt, 1, selective=True, share_prefix=False),
    }
    model.train()
    times: dict[str, list[float]] = {s: [] for s in SIDES}
    toks: dict[str, int] = {}
    for r in range(rounds + 1):  # round 0 compiles, untimed
        for side in SIDES:
            data, how = side.split("/")
            step, state = steps[how]
            tic = time.perf_counter()
            loss, ntoks, _ = step(*batches[data], None, True)
            mx.eval(state, loss, ntoks)
            if r:
                times[side].append(time.perf_counter() - tic)
            toks[data] = int(ntoks.item())
    med = {s: sorted(t)[len(t) // 2] for s, t in times.items()}
    rows = {k: [int(n) for n in (b != 0).sum(axis=1).tolist()] for k, (b, _) in batches.items()}
    return {"blas": blas_in_this_process(), "median": med, "trained": toks, "tokens": rows}


def _run(model_path: str, num_layers: int, rounds: int) -> dict:
    from punie import blas

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [sys.executable, __file__, "--child", str(out), "--model-path", model_path]
        cmd += ["--num-layers", str(num_layers), "--rounds", str(rounds)]
        subprocess.run(cmd, env=blas.child_env(), check=True)
        return json.loads(out.read_text())


def _report(name: str, res: dict) -> None:
    m = res["median"]
    print(
        f"{name}: trace {res['tokens']['trace']} tokens, expanded rows {res['tokens']['expanded']}, "
        f"trained tokens trace {res['trained']['trace']} / expanded {res['trained']['expanded']}, "
        f"blas {res['blas']}"
    )
    for how in ("punie", "plain"):
        t, e = m[f"trace/{how}"], m[f"expanded/{how}"]
        print(f"  {how:5s} s/step: one trace {t:.4f}  three expanded {e:.4f}  ratio x{e / t:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--model-path", default=None, help=argparse.SUPPRESS)
    p.add_argument("--num-layers", type=int, default=-1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        res = child(args.model_path, args.num_layers, args.rounds)
        args.child.write_text(json.dumps(res))
        return

    from punie.model import build_tiny_model, resolve_model

    with tempfile.TemporaryDirectory() as tmp:
        tiny = build_tiny_model(Path(tmp) / "tiny")
        _report("tiny", _run(str(tiny), -1, args.rounds))
    try:
        smol = resolve_model("smollm2-135m")
    except Exception as exc:  # the GGUF conversion needs the embedded file and space
        print(f"smollm2-135m: skipped ({type(exc).__name__}: {exc})")
        return
    _report("smollm2-135m (LoRA r8, top 8 layers)", _run(str(smol), 8, args.rounds))


if __name__ == "__main__":
    main()
