"""punie.train: LoRA/DoRA/full fine-tuning with mlx-lm in a supervised child process.

Public API (imported lazily so `punie --help` stays fast):
`TrainConfig`, `make_config`, `train`, `resume`, `TrainResult`, `TrainFailed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from punie.train.config import TrainConfig, make_config
    from punie.train.runner import TrainFailed, TrainResult, resume, train

_EXPORTS = {
    "TrainConfig": "punie.train.config",
    "make_config": "punie.train.config",
    "train": "punie.train.runner",
    "resume": "punie.train.runner",
    "TrainResult": "punie.train.runner",
    "TrainFailed": "punie.train.runner",
}

__all__ = ["TrainConfig", "TrainFailed", "TrainResult", "make_config", "resume", "train"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
