"""The converter against llama.cpp's own writer and the gguf package's dequantizer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from punie.errors import PunieError
from punie.model.gguf_convert import convert_gguf


def _load(out):
    import mlx.core as mx

    return {k: np.array(v) for k, v in mx.load(str(out / "model.safetensors")).items()}


@pytest.mark.parametrize(
    ("arch", "qtype"),
    [
        ("llama", "F32"),
        ("llama", "F16"),
        ("llama", "Q4_0"),
        ("llama", "Q4_1"),
        ("llama", "Q8_0"),
        ("qwen2", "Q4_0"),
        ("qwen2", "F32"),
    ],
)
def test_weights_match_gguf_dequantize(synth_gguf, gguf_tools, tmp_path, arch, qtype):
    synth = synth_gguf(arch, qtype)
    out = convert_gguf(synth.path, tmp_path / "out").out
    ours = _load(out)
    ref = gguf_tools.reference_dequant(synth.path)

    assert set(ours) == set(synth.hf)
    for hf_name, gname in synth.names.items():
        got = ours[hf_name]
        assert got.dtype == np.float32
        # Re-apply llama.cpp's permutation to ours and compare in the file's layout.
        if arch == "llama" and ".q_proj." in hf_name:
            got = gguf_tools.llama_cpp_permute(got, gguf_tools.HEADS)
        elif arch == "llama" and ".k_proj." in hf_name:
            got = gguf_tools.llama_cpp_permute(got, gguf_tools.KV_HEADS)
        np.testing.assert_allclose(got, ref[gname], rtol=1e-6, atol=1e-7, err_msg=hf_name)


def test_f32_file_gives_back_the_original_hf_weights(synth_gguf, tmp_path):
    synth = synth_gguf("llama", "F32")
    ours = _load(convert_gguf(synth.path, tmp_path / "out").out)
    for name, original in synth.hf.items():
        np.testing.assert_array_equal(ours[name], original, err_msg=name)


def test_config_describes_the_model(synth_gguf, gguf_tools, tmp_path):
    synth = synth_gguf("llama", "Q8_0")
    out = convert_gguf(synth.path, tmp_path / "out").out
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model_type"] == "llama"
    assert cfg["rope_theta"] == 100000.0
    assert cfg["tie_word_embeddings"] is True
    assert (cfg["num_attention_heads"], cfg["num_key_value_heads"]) == (
        gguf_tools.HEADS,
        gguf_tools.KV_HEADS,
    )
    assert cfg["rms_norm_eps"] == 1e-5
    assert cfg["punie"]["source_type"] == "Q8_0"
    # <|im_end|> ends a ChatML turn; the file's own eos still stops generation too.
    assert cfg["eos_token_id"] == [
        synth.tokens.index("<|im_end|>"),
        synth.tokens.index("<|endoftext|>"),
    ]


def test_qwen2_keeps_its_untied_head(synth_gguf, tmp_path):
    out = convert_gguf(synth_gguf("qwen2", "F32").path, tmp_path / "out").out
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model_type"] == "qwen2"
    assert cfg["tie_word_embeddings"] is False


def test_tokenizer_uses_the_gguf_vocab_and_merges(synth_gguf, tmp_path):
    from tokenizers import Tokenizer

    synth = synth_gguf("llama", "Q8_0")
    out = convert_gguf(synth.path, tmp_path / "out").out
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    ids = tok.encode("<|im_start|>hello").ids
    assert [synth.tokens[i] for i in ids] == ["<|im_start|>", "hell", "o"]
    assert tok.decode(ids, skip_special_tokens=True) == "hello"


def test_converted_model_loads_and_generates_with_mlx_lm(synth_gguf, tmp_path):
    from mlx_lm import generate, load

    out = convert_gguf(synth_gguf("qwen2", "Q8_0").path, tmp_path / "out").out
    model, tok = load(str(out))
    assert tok.has_tool_calling  # Punie's template is installed
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "hello"}], add_generation_prompt=True, tokenize=False
    )
    assert prompt.endswith("<|im_start|>assistant\n")
    text = generate(model, tok, prompt, max_tokens=3)
    assert isinstance(text, str)


def test_non_gguf_file_is_refused(tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_text("not a model")
    with pytest.raises(PunieError, match="not a GGUF file"):
        convert_gguf(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(PunieError, match="no such file"):
        convert_gguf(tmp_path / "nope.gguf", tmp_path / "out")


def test_unsupported_architecture_is_refused_and_nothing_written(synth_gguf, tmp_path):
    synth = synth_gguf("llama", "F32", arch_name="gemma")
    with pytest.raises(PunieError, match="architecture 'gemma' is not supported"):
        convert_gguf(synth.path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_k_quant_tensors_are_refused(tmp_path):
    import gguf

    path = tmp_path / "k.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    qt = gguf.GGMLQuantizationType.Q4_K
    writer.add_tensor("blk.0.attn_q.weight", np.zeros((4, 144), np.uint8), raw_dtype=qt)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(PunieError, match="Q4_K is not supported"):
        convert_gguf(path, tmp_path / "out")


def test_existing_output_needs_force(synth_gguf, tmp_path):
    synth = synth_gguf("llama", "F32")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(PunieError, match="output exists"):
        convert_gguf(synth.path, out)
    assert (out / "keep.txt").read_text() == "mine"
    convert_gguf(synth.path, out, force=True)
    assert (out / "config.json").exists() and not (out / "keep.txt").exists()


def test_leftovers_of_a_killed_conversion_are_removed(synth_gguf, tmp_path):
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    leftover = tmp_path / f".out.tmp-{int(dead.stdout)}"
    leftover.mkdir()
    (leftover / "model.safetensors").write_bytes(b"half")
    convert_gguf(synth_gguf("llama", "F32").path, tmp_path / "out")
    assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["llama-F32.gguf", "out"]


def test_unwritable_output_is_a_clear_error(synth_gguf, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(PunieError, match="cannot write the model"):
        convert_gguf(synth_gguf("llama", "F32").path, blocker / "out")
