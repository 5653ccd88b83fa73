"""Fixtures for punie.train: a small chat dataset the tiny model's tokenizer handles."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from punie.toolspec import READ_FILE

_FILES = ["README.md", "src/app/main.py", "tests/test_utils.py", "notes.txt", "setup.py"]


def _row(rng: random.Random, i: int) -> dict:
    path = rng.choice(_FILES)
    if rng.random() < 0.5:
        return {
            "tools": [READ_FILE],
            "messages": [
                {
                    "role": "user",
                    "content": f"Read the file {path} ({i}) and tell me what it does.",
                },
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "call_0",
                            "type": "function",
                            "function": {
                                "name": "read_file",
                                "arguments": json.dumps({"path": path}),
                            },
                        }
                    ],
                },
            ],
        }
    return {
        "messages": [
            {"role": "user", "content": f"What is the capital of France? ({i})"},
            {"role": "assistant", "content": "The capital of France is Paris."},
        ]
    }


def write_chat_data(out: Path, n_train: int = 32, n_valid: int = 8, seed: int = 0) -> Path:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    i = 0
    for name, n in (("train", n_train), ("valid", n_valid)):
        with open(out / f"{name}.jsonl", "w") as f:
            for _ in range(n):
                i += 1
                f.write(json.dumps(_row(rng, i)) + "\n")
    return out


@pytest.fixture(scope="session")
def chat_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_chat_data(tmp_path_factory.mktemp("data") / "chat")


def tiny_config(model: Path, data: Path, **overrides):
    """A fast config for the tiny model: short runs, frequent reports."""
    from punie.train.config import TrainConfig

    base = {
        "model": str(model),
        "data": str(data),
        "iters": 4,
        "batch_size": 4,
        "steps_per_report": 1,
        "steps_per_eval": 1000,
        "steps_per_save": 1000,
        "val_batches": 2,
        "learning_rate": 1e-3,
    }
    return TrainConfig.model_validate({**base, **overrides})


@pytest.fixture(scope="session")
def full_run(tiny_model: Path, chat_data: Path, tmp_path_factory: pytest.TempPathFactory):
    """full fine-tuning of the tiny model for 40 steps: the loss moves, and the killed
    and resumed run of test_resume compares against it step by step."""
    from punie.train.runner import train

    cfg = tiny_config(
        tiny_model, chat_data, fine_tune_type="full", iters=40, steps_per_eval=20, steps_per_save=5
    )
    return train(cfg, tmp_path_factory.mktemp("runs") / "full")


@pytest.fixture(scope="session")
def lora16_run(tiny_model: Path, chat_data: Path, tmp_path_factory: pytest.TempPathFactory):
    from punie.train.runner import train

    cfg = tiny_config(tiny_model, chat_data, rank=16, learning_rate=5e-2, iters=6, steps_per_eval=3)
    return train(cfg, tmp_path_factory.mktemp("runs") / "lora16")
