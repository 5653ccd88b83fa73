"""A small suite for the tiny model: two tool cases and one no-tool case."""

from __future__ import annotations

from pathlib import Path

import pytest

SMALL_SUITE = """\
name: small-tools
max_tokens: 16
cases:
- id: read-1
  category: read_file
  messages: [{role: user, content: "Read the file src/app/main.py"}]
  tools: agent
  expected_calls: [{name: read_file, arguments: {path: src/app/main.py}}]
- id: list-1
  category: list_dir
  messages: [{role: user, content: "List the directory src"}]
  tools: agent
  expected_calls: [{name: list_dir, arguments: {path: src}}]
- id: chat-1
  category: no_tool
  messages: [{role: user, content: "What is a Python decorator?"}]
  tools: agent
  no_call: true
"""


@pytest.fixture()
def small_suite(tmp_path: Path) -> Path:
    p = tmp_path / "small.yaml"
    p.write_text(SMALL_SUITE)
    return p


@pytest.fixture()
def tiny_toml():
    """Builds a flywheel TOML for the tiny model (a function: tests vary the rank)."""
    return tiny_flywheel_toml


def tiny_flywheel_toml(model: Path, suite: Path, *, rank: int = 4, name: str = "tiny") -> str:
    # Full fine-tuning on the tiny model: a LoRA on random weights learns almost nothing.
    return f"""\
name = "{name}"
model = "{model}"

[data]
generate = "tools"
n = 40
seed = 1
check_format = true

[train]
fine_tune_type = "lora"
rank = {rank}
num_layers = 2
learning_rate = 1e-3
iters = 4
batch_size = 2
max_seq_length = 512
mask_prompt = true
steps_per_report = 2
steps_per_eval = 2
steps_per_save = 2
val_batches = 1

[eval]
suites = ["{suite}"]
max_tokens = 16
decode_concurrency = 2
concurrency = 2
"""
