"""Shared by the training benches: run a bench's measuring half in a fast-BLAS child
on the demo's data (generated into a temp folder unless given) and read its result."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def demo_data(out: Path, n: int = 600) -> Path:
    """The demo's training data (`punie data generate tools --seed 0`) in `out`."""
    subprocess.run(
        [str(Path(sys.executable).parent / "punie"), "data", "generate", "tools"]
        + ["--n", str(n), "--seed", "0", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def run_child(script: str, data: Path | None, args: list[str], n: int = 600) -> dict:
    """`python SCRIPT --child OUT --data DATA *args` under `punie.blas.child_env()`;
    returns the JSON the child wrote to OUT."""
    from punie import blas

    with tempfile.TemporaryDirectory() as tmp:
        if data is None:
            data = demo_data(Path(tmp) / "data", n)
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, script, "--child", str(out), "--data", str(data), *args]
        subprocess.run(cmd, env=blas.child_env(), check=True)
        return json.loads(out.read_text())
