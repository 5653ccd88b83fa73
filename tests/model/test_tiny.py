"""The tiny random Qwen2 model that the fast tests of every stage use."""

from __future__ import annotations

import pytest

from punie.errors import PunieError
from punie.model.tiny import TinyConfig, build_tiny_model


def _files(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_same_seed_gives_identical_files(tiny_model, tmp_path):
    again = build_tiny_model(tmp_path / "again")
    assert _files(again) == _files(tiny_model)


def test_other_seed_gives_other_weights(tiny_model, tmp_path):
    other = build_tiny_model(tmp_path / "other", TinyConfig(seed=1))
    assert _files(other)["model.safetensors"] != _files(tiny_model)["model.safetensors"]
    assert _files(other)["tokenizer.json"] == _files(tiny_model)["tokenizer.json"]


def test_loads_and_generates_with_tool_calling(tiny_model):
    from mlx_lm import generate, load

    model, tok = load(str(tiny_model))
    assert tok.has_tool_calling
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "Read README.md"}], add_generation_prompt=True, tokenize=False
    )
    a = generate(model, tok, prompt, max_tokens=8)
    b = generate(model, tok, prompt, max_tokens=8)
    assert a == b and len(tok.encode(a)) > 0  # greedy: same text twice


def test_refuses_to_overwrite_a_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(PunieError, match="not a model folder"):
        build_tiny_model(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
