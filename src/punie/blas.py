"""Fast CPU math for mlx on Linux.

The `mlx[cpu]` wheel links a bundled reference BLAS; a float32 matmul runs ~25x
faster when MKL (the PyPI `mkl` package, a Punie dependency on x86-64) or a system
OpenBLAS is preloaded, because mlx calls `cblas_sgemm` through the dynamic linker.
A library cannot be swapped into a running process, so Punie starts its heavy
mlx work (training, serving, benchmarks) as child processes with `child_env()`.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

# Children of a Punie process that already runs on the fast BLAS inherit it; this
# variable tells them so (and lets a user opt out with PUNIE_BLAS=stock).
ENV_FLAG = "PUNIE_BLAS"


@dataclass(frozen=True)
class BlasChoice:
    name: str  # "mkl", "openblas", "stock" or "accelerate"
    library: Path | None  # what gets preloaded; None for stock/accelerate

    def describe(self) -> str:
        return f"{self.name} ({self.library})" if self.library else self.name


def _candidates() -> list[tuple[str, Path]]:
    prefixes = dict.fromkeys([Path(sys.prefix), Path(sys.base_prefix)])
    found: list[tuple[str, Path]] = []
    for prefix in prefixes:
        for name in ("libmkl_rt.so.3", "libmkl_rt.so.2", "libmkl_rt.so"):
            lib = prefix / "lib" / name
            if lib.exists():
                found.append(("mkl", lib))
    for so in ("openblas", "openblas64_"):
        hit = ctypes.util.find_library(so)
        if hit:
            for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64"):
                p = Path(d) / hit
                if p.exists():
                    found.append(("openblas", p))
    return found


def fast_blas() -> BlasChoice:
    """The BLAS Punie's heavy children will use on this machine."""
    if sys.platform == "darwin":
        return BlasChoice("accelerate", None)
    if os.environ.get(ENV_FLAG) == "stock":
        return BlasChoice("stock", None)
    cands = _candidates()
    return BlasChoice(*cands[0]) if cands else BlasChoice("stock", None)


def child_env(
    base: dict[str, str] | None = None, *, blas: BlasChoice | None = None
) -> dict[str, str]:
    """Environment for a child process doing heavy mlx work, with the fast BLAS preloaded."""
    env = dict(os.environ if base is None else base)
    choice = blas or fast_blas()
    if choice.library is not None:
        preload = [p for p in env.get("LD_PRELOAD", "").split(":") if p]
        if str(choice.library) not in preload:
            preload.insert(0, str(choice.library))
        env["LD_PRELOAD"] = ":".join(preload)
    env[ENV_FLAG] = choice.name
    return env


def stock_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment that runs mlx on the wheel's own BLAS (benchmarks compare against it)."""
    env = dict(os.environ if base is None else base)
    preload = [
        p
        for p in env.get("LD_PRELOAD", "").split(":")
        if p and "mkl" not in p and "openblas" not in p
    ]
    if preload:
        env["LD_PRELOAD"] = ":".join(preload)
    else:
        env.pop("LD_PRELOAD", None)
    env[ENV_FLAG] = "stock"
    return env


def blas_in_this_process() -> str:
    """Which BLAS this process actually loaded (read from the dynamic linker's map)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "accelerate" if sys.platform == "darwin" else "unknown"
    if "libmkl_rt" in maps or "libmkl_core" in maps:
        return "mkl"
    if "libopenblas" in maps:
        return "openblas"
    return "stock"
