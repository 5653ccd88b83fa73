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
