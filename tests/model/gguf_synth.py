"""Small synthetic GGUF files written with the `gguf` package (llama.cpp's own writer).

The weights are made as Hugging Face arrays first and written the way llama.cpp's
converter writes them (including its Q/K row permutation for llama), so a test can
check Punie's converter against both the HF originals and gguf's own dequantizer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HIDDEN = 64
HEADS = 4
KV_HEADS = 2
HEAD_DIM = HIDDEN // HEADS
INTER = 128
LAYERS = 2
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MERGES = ["h e", "l l", "he ll"]


def llama_cpp_permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's `LlamaModel.permute` (convert_hf_to_gguf.py), copied as the reference."""
    return (
        w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
        .swapaxes(1, 2)
        .reshape(w.shape)
    )


def byte_level_alphabet() -> list[str]:
    from tokenizers.pre_tokenizers import ByteLevel

    return sorted(ByteLevel.alphabet())


@dataclass
class SynthGGUF:
    path: Path
    arch: str
    qtype: str
    hf: dict[str, np.ndarray] = field(default_factory=dict)  # HF name -> original float32
    names: dict[str, str] = field(default_factory=dict)  # HF name -> GGUF tensor name
    tokens: list[str] = field(default_factory=list)


def _hf_weights(arch: str, vocab: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    def mat(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) * 0.1).astype(np.float32)

    w = {"model.embed_tokens.weight": mat(vocab, HIDDEN), "model.norm.weight": mat(1, HIDDEN)[0]}
    if arch == "qwen2":  # untied head, to cover output.weight
        w["lm_head.weight"] = mat(vocab, HIDDEN)
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = 1 + mat(1, HIDDEN)[0]
        w[p + "post_attention_layernorm.weight"] = 1 + mat(1, HIDDEN)[0]
        w[p + "self_attn.q_proj.weight"] = mat(HEADS * HEAD_DIM, HIDDEN)
        w[p + "self_attn.k_proj.weight"] = mat(KV_HEADS * HEAD_DIM, HIDDEN)
        w[p + "self_attn.v_proj.weight"] = mat(KV_HEADS * HEAD_DIM, HIDDEN)
        w[p + "self_attn.o_proj.weight"] = mat(HIDDEN, HEADS * HEAD_DIM)
        w[p + "mlp.gate_proj.weight"] = mat(INTER, HIDDEN)
        w[p + "mlp.up_proj.weight"] = mat(INTER, HIDDEN)
        w[p + "mlp.down_proj.weight"] = mat(HIDDEN, INTER)
        if arch == "qwen2":
            for proj, n in (("q", HEADS), ("k", KV_HEADS), ("v", KV_HEADS)):
                w[p + f"self_attn.{proj}_proj.bias"] = mat(1, n * HEAD_DIM)[0]
    return w


_GGUF_PART = {
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def gguf_name(hf: str) -> str:
    glob = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    if hf in glob:
        return glob[hf]
    _, _, layer, rest = hf.split(".", 3)
    stem, kind = rest.rsplit(".", 1)
    return f"blk.{layer}.{_GGUF_PART[stem]}.{kind}"


FILE_TYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7}


def write_synth_gguf(
    path: Path,
    arch: str = "llama",
    qtype: str = "Q8_0",
    seed: int = 0,
    arch_name: str | None = None,
) -> SynthGGUF:
    import gguf
    from gguf.quants import quantize

    rng = np.random.default_rng(seed)
    tokens = byte_level_alphabet() + ["he", "ll", "hell"] + SPECIALS
    types = [1] * (len(tokens) - len(SPECIALS)) + [3] * len(SPECIALS)
    hf = _hf_weights(arch, len(tokens), rng)
    out = SynthGGUF(path=path, arch=arch, qtype=qtype, tokens=tokens)

    writer = gguf.GGUFWriter(str(path), arch_name or arch)
    writer.add_name(f"synthetic {arch}")
    writer.add_block_count(LAYERS)
    writer.add_context_length(512)
    writer.add_embedding_length(HIDDEN)
    writer.add_feed_forward_length(INTER)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(100000.0)
    writer.add_file_type(FILE_TYPES[qtype])
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2" if arch == "qwen2" else "smollm")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(MERGES)
    writer.add_bos_token_id(tokens.index("<|im_start|>"))
    writer.add_eos_token_id(tokens.index("<|endoftext|>"))
    writer.add_add_bos_token(False)

    for name, value in hf.items():
        data = value
        if arch == "llama" and ".q_proj." in name:
            data = llama_cpp_permute(value, HEADS)
        elif arch == "llama" and ".k_proj." in name:
            data = llama_cpp_permute(value, KV_HEADS)
        gname = gguf_name(name)
        out.hf[name] = value
        out.names[name] = gname
        if data.ndim == 1 or qtype == "F32":
            writer.add_tensor(gname, data.astype(np.float32))
        elif qtype == "F16":
            writer.add_tensor(gname, data.astype(np.float16))
        else:
            qt = gguf.GGMLQuantizationType[qtype]
            writer.add_tensor(gname, quantize(data, qt), raw_dtype=qt)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def reference_dequant(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a GGUF file, dequantized by the gguf package (GGUF names)."""
    import gguf
    from gguf.quants import dequantize

    reader = gguf.GGUFReader(str(path))
    return {t.name: dequantize(t.data, t.tensor_type).astype(np.float32) for t in reader.tensors}
