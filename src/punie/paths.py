"""Where Punie keeps models, runs and caches: PUNIE_HOME, default ~/.cache/punie."""

from __future__ import annotations

import os
from pathlib import Path


def punie_home() -> Path:
    env = os.environ.get("PUNIE_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "punie"


def models_dir() -> Path:
    return punie_home() / "models"


def runs_dir() -> Path:
    return punie_home() / "runs"


def evals_dir() -> Path:
    return punie_home() / "evals"


def logs_dir() -> Path:
    return punie_home() / "logs"
