"""`punie fuse RUN|ADAPTER --out DIR`: merge an adapter into its base, a standalone model.

The merge itself is mlx-lm's (`load(adapter_path=)`, each adapted layer's `fuse()`,
`dequantize_model`, `save`) and runs in a child process with the fast BLAS; the
folder appears at DIR only when complete.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from punie import blas
from punie.errors import PunieError


def find_adapter(source: str | Path, last: bool = False) -> tuple[Path, str | None]:
    """(adapter folder, base model spec) for a run folder/name or an adapter folder."""
    p = Path(source).expanduser()
    if (p / "adapter_config.json").is_file() and (p / "adapters.safetensors").is_file():
        adapter = p
    else:
        from punie.train.rundir import RunPaths, find_run

        run = RunPaths(find_run(source))
        adapter = run.adapter if last or not run.adapter_best.exists() else run.adapter_best
        if not (adapter / "adapters.safetensors").is_file():
            raise PunieError(
                "run has no adapter yet", where=str(run.root), hint="train or resume it first"
            )
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    return adapter, cfg.get("model")


def fuse(
    source: str | Path,
    out: str | Path,
    *,
    model: str | None = None,
    dequantize: bool = False,
    last: bool = False,
) -> Path:
    from punie.train.preflight import resolve_model_path

    adapter, spec = find_adapter(source, last=last)
    spec = model or spec
    if not spec:
        raise PunieError(
            "adapter does not name its base model", where=str(adapter), hint="pass --model"
        )
    model_path = resolve_model_path(spec)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise PunieError(
            "output folder exists and is not empty", where=str(out), hint="pick a new --out"
        )
    tmp = out.with_name(f".tmp-{out.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [sys.executable, "-m", "punie.train.fuse", str(model_path), str(adapter), str(tmp)]
    if dequantize:
        cmd.append("--dequantize")
    r = subprocess.run(cmd, env=blas.child_env(), capture_output=True, text=True)
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
        raise PunieError(f"fuse failed: {tail[0]}", where=str(adapter))
    if out.exists():
        out.rmdir()
    os.replace(tmp, out)
    return out


def _child(model_path: str, adapter: str, out: str, dequantize: bool) -> None:
    from mlx.utils import tree_unflatten
    from mlx_lm.utils import dequantize_model, load, save

    model, tokenizer, config = load(model_path, adapter_path=adapter, return_config=True)
    fused = [
        (n, m.fuse(dequantize=dequantize)) for n, m in model.named_modules() if hasattr(m, "fuse")
    ]
    if fused:
        model.update_modules(tree_unflatten(fused))
    if dequantize:
        model = dequantize_model(model)
        config.pop("quantization", None)
        config.pop("quantization_config", None)
    save(Path(out), model_path, model, tokenizer, config, donate_model=False)
    # mlx-lm's save copies *.py and tokenizer files; keep Punie's chat template too.
    for extra in ("chat_template.jinja",):
        src = Path(model_path) / extra
        if src.is_file() and not (Path(out) / extra).exists():
            shutil.copy2(src, Path(out) / extra)


if __name__ == "__main__":
    args = sys.argv[1:]
    _child(args[0], args[1], args[2], "--dequantize" in args[3:])
