"""Convert a llama or qwen2 GGUF file into an MLX/Hugging Face model folder (float32).

Read with `mx.load(path, return_metadata=True)`: mlx hands Q4_0/Q4_1/Q8_0 tensors
back as its own quantized triples (packed uint32 `weight`, `scales`, `biases`, groups
of 32) and F16/F32 tensors as plain arrays. Everything is dequantized to float32:
on a CPU, float32 matmuls are ~3x faster than float16/bfloat16 and LoRA training
wants full-precision base weights anyway.

llama.cpp permutes the rows of llama's Q and K projections (its rotary embedding
pairs neighbouring dimensions, Hugging Face pairs the two halves); that is undone
here so the weights are the Hugging Face ones mlx-lm expects.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from punie import atomic
from punie.errors import PunieError
from punie.model import gguf_tokenizer
from punie.model.gguf_header import GGML_TYPES, ggml_type_name, gguf_tensor_types, is_gguf
from punie.model.template import install_chat_template

# Bump when the output of a conversion changes, so cached conversions are redone.
CONVERTER_VERSION = 2

SUPPORTED_ARCHS = ("llama", "qwen2")
GROUP_SIZE = 32  # every GGUF block type mlx reads has 32 weights per block

# general.file_type -> name (llama.cpp's LLAMA_FTYPE), for reporting only.
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 32: "BF16"}

_LAYER = {
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
_GLOBAL = {
    "token_embd": "model.embed_tokens",
    "output_norm": "model.norm",
    "output": "lm_head",
}
_BLOCK_RE = re.compile(r"^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$")


@dataclass(frozen=True)
class ConvertResult:
    out: Path
    architecture: str
    source_type: str  # e.g. "Q4_1"
    parameters: int
    tensors: int


def _plain(value):
    """mlx returns numeric metadata as arrays; turn it into Python values."""
    if hasattr(value, "tolist"):
        return value.item() if value.size == 1 and value.ndim == 0 else value.tolist()
    return value


def read_gguf(path: Path):
    """(tensors, plain metadata, ggml type per tensor) of a GGUF file, or a PunieError."""
    import mlx.core as mx

    path = Path(path)
    where = str(path)
    if not path.exists():
        raise PunieError("no such file", where=where, hint="check the path to the .gguf file")
    if not path.is_file():
        raise PunieError("not a file", where=where, hint="give the path of a .gguf file")
    if not is_gguf(path):
        raise PunieError(
            "not a GGUF file (no GGUF magic bytes)", where=where, hint="give a llama.cpp .gguf file"
        )
    try:
        types = gguf_tensor_types(path)
    except (ValueError, KeyError, struct.error) as exc:
        raise PunieError(f"cannot read the GGUF header: {exc}", where=where) from exc
    bad = sorted({t for t in types.values() if t not in GGML_TYPES})
    if bad:
        names = ", ".join(ggml_type_name(t) for t in bad)
        raise PunieError(
            f"tensor type {names} is not supported",
            where=where,
            hint="Punie converts F32, F16, BF16, Q4_0, Q4_1 and Q8_0 GGUF files",
        )
    try:
        tensors, metadata = mx.load(str(path), format="gguf", return_metadata=True)
    except Exception as exc:  # mlx raises plain runtime errors for files it cannot read
        raise PunieError(
            f"cannot read the GGUF file: {exc}",
            where=where,
            hint="Punie reads F32, F16, Q4_0, Q4_1 and Q8_0 tensors; re-quantize the model to one of them",
        ) from exc
    return tensors, {k: _plain(v) for k, v in metadata.items()}, types


def dequantize(tensors: dict, name: str):
    """The float32 value of GGUF tensor `name` (`blk.0.attn_q.weight`)."""
    import mlx.core as mx

    stem = name.rsplit(".", 1)[0]
    w = tensors[name]
    scales = tensors.get(f"{stem}.scales")
    if scales is None or not name.endswith(".weight"):
        return w.astype(mx.float32)
    biases = tensors[f"{stem}.biases"]
    bits = w.shape[-1] * 32 // (scales.shape[-1] * GROUP_SIZE)
    # Scales/biases are float16 in the file; compute in float32 so d*q + m is exact.
    return mx.dequantize(
        w,
        scales.astype(mx.float32),
        biases.astype(mx.float32),
        group_size=GROUP_SIZE,
        bits=bits,
    )


def unpermute(w, n_head: int):
    """Undo llama.cpp's rotary row interleaving of a Q/K weight (or bias).

    llama.cpp's converter views each head's rows as (2, half) and transposes them to
    (half, 2); this views them as (half, 2) and transposes back.
    """
    rows = w.shape[0]
    rest = tuple(w.shape[1:])
    return w.reshape(n_head, rows // n_head // 2, 2, *rest).swapaxes(1, 2).reshape(w.shape)


def hf_name(gguf_name: str) -> str | None:
    """The Hugging Face parameter name of a GGUF tensor name, None if it has none."""
    m = _BLOCK_RE.match(gguf_name)
    if m:
        layer, part, kind = m.groups()
        target = _LAYER.get(part)
        return f"model.layers.{layer}.{target}.{kind}" if target else None
    stem, _, kind = gguf_name.rpartition(".")
    target = _GLOBAL.get(stem)
    return f"{target}.{kind}" if target and kind in ("weight", "bias") else None


def _need(md: dict, key: str, where: str):
    if key not in md:
        raise PunieError(
            f"metadata key {key!r} is missing", where=where, hint="the file looks broken"
        )
    return md[key]


def model_config(md: dict, tensor_names: set[str], vocab_size: int, where: str) -> dict:
    """config.json for mlx-lm/transformers from the GGUF's `<arch>.*` metadata."""
    arch = md["general.architecture"]
    hidden = int(_need(md, f"{arch}.embedding_length", where))
    n_head = int(_need(md, f"{arch}.attention.head_count", where))
    n_kv = int(md.get(f"{arch}.attention.head_count_kv") or n_head)
    eps = float(md.get(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6))
    scaling = md.get(f"{arch}.rope.scaling.type")
    rope_scaling = None
    if scaling == "linear":
        rope_scaling = {"type": "linear", "factor": float(md[f"{arch}.rope.scaling.factor"])}
    elif scaling not in (None, "none"):
        raise PunieError(
            f"rope scaling {scaling!r} is not supported", where=where, hint="use a model without it"
        )
    config = {
        "model_type": arch,
        "architectures": ["LlamaForCausalLM" if arch == "llama" else "Qwen2ForCausalLM"],
        "hidden_size": hidden,
        "intermediate_size": int(_need(md, f"{arch}.feed_forward_length", where)),
        "num_hidden_layers": int(_need(md, f"{arch}.block_count", where)),
        "num_attention_heads": n_head,
        "num_key_value_heads": n_kv,
        # float32 metadata: 9.999999747e-06 is meant as 1e-05.
        "rms_norm_eps": float(f"{eps:.6g}"),
        # Written explicitly: mlx-lm's llama falls back to 10000 when it is absent,
        # and SmolLM2 uses 100000.
        "rope_theta": float(md.get(f"{arch}.rope.freq_base", 10000.0)),
        "rope_scaling": rope_scaling,
        "max_position_embeddings": int(md.get(f"{arch}.context_length", 4096)),
        "vocab_size": vocab_size,
        "tie_word_embeddings": "output.weight" not in tensor_names,
        "torch_dtype": "float32",
    }
    if arch == "llama":
        key_len = md.get(f"{arch}.attention.key_length")
        config["head_dim"] = int(key_len) if key_len else hidden // n_head
        config["attention_bias"] = "blk.0.attn_q.bias" in tensor_names
        config["mlp_bias"] = False
    else:
        config["use_sliding_window"] = False
    return config


def convert_weights(tensors: dict, md: dict, where: str) -> dict:
    """float32 Hugging Face-named weights from the GGUF tensors."""
    arch = md["general.architecture"]
    n_head = int(md[f"{arch}.attention.head_count"])
    n_kv = int(md.get(f"{arch}.attention.head_count_kv") or n_head)
    out = {}
    for name in sorted(tensors):
        if name.endswith((".scales", ".biases")):
            continue  # parts of a quantized weight, read with it
        target = hf_name(name)
        if target is None:
            if name == "rope_freqs.weight":
                raise PunieError(
                    "Llama 3.1-style rope scaling (rope_freqs) is not supported",
                    where=where,
                    hint="use a model without it",
                )
            raise PunieError(
                f"unexpected tensor {name!r}",
                where=where,
                hint=f"Punie converts plain {' and '.join(SUPPORTED_ARCHS)} models",
            )
        w = dequantize(tensors, name)
        if arch == "llama" and ".attn_q." in name:
            w = unpermute(w, n_head)
        elif arch == "llama" and ".attn_k." in name:
            w = unpermute(w, n_kv)
        out[target] = w
    return out


def _main_type(types: dict[str, int]) -> str:
    """The most common type of the 2-D weights, for files without general.file_type."""
    weights = [t for name, t in types.items() if "norm" not in name and name.endswith(".weight")]
    if not weights:
        return "unknown"
    return GGML_TYPES.get(max(set(weights), key=weights.count), "unknown")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_abandoned(out: Path) -> None:
    """Delete temp folders of conversions into `out` whose process died (killed mid-way)."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(?:tmp|old)-(\d+)$")
    for sibling in out.parent.iterdir():
        m = pattern.match(sibling.name)
        if m and sibling.is_dir() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(sibling, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move the finished `tmp` folder to `out`, replacing an existing `out` last."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        tmp.rename(out)
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    else:
        tmp.rename(out)


def convert_gguf(gguf: Path, out: Path, *, force: bool = False, extra: dict | None = None):
    """Convert `gguf` into the model folder `out`; nothing appears at `out` on failure."""
    gguf, out = Path(gguf), Path(out)
    where = str(gguf)
    if out.exists() and not force and (not out.is_dir() or any(out.iterdir())):
        raise PunieError(
            "output exists", where=str(out), hint="pick a new folder or pass --force to replace it"
        )
    tensors, md, types = read_gguf(gguf)
    arch = md.get("general.architecture")
    if arch not in SUPPORTED_ARCHS:
        raise PunieError(
            f"architecture {arch!r} is not supported",
            where=where,
            hint=f"Punie converts {' and '.join(SUPPORTED_ARCHS)} GGUF models",
        )
    vocab = gguf_tokenizer.vocab_from_metadata(md, where)
    names = set(tensors)
    weights = convert_weights(tensors, md, where)
    del tensors
    vocab_size = int(weights["model.embed_tokens.weight"].shape[0])
    config = model_config(md, names, vocab_size, where)

    # ChatML models end a turn with <|im_end|>; Punie's template relies on it.
    im_end = "<|im_end|>" if "<|im_end|>" in vocab.tokens else None
    eos = im_end or vocab.token(vocab.eos_id) or ""
    eos_ids = [
        i
        for i in dict.fromkeys([vocab.tokens.index(eos) if eos else None, vocab.eos_id])
        if i is not None
    ]
    source_type = FILE_TYPES.get(md.get("general.file_type")) or _main_type(types)
    config.update(
        bos_token_id=vocab.bos_id,
        eos_token_id=eos_ids[0] if len(eos_ids) == 1 else eos_ids,
        punie={
            "kind": "converted",
            "converter_version": CONVERTER_VERSION,
            "source": gguf.name,
            "source_type": source_type,
            "pre_tokenizer": vocab.pre,
            "name": md.get("general.name"),
            **(extra or {}),
        },
    )

    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(out)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        _write_model(tmp, out, weights, vocab, eos, eos_ids, config, md, gguf.name, source_type)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PunieError(
            f"cannot write the model: {exc.strerror or exc}",
            where=str(out),
            hint="free disk space or choose a writable folder (PUNIE_HOME moves Punie's cache)",
        ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    n_params = sum(int(v.size) for v in weights.values())
    return ConvertResult(out, arch, source_type, n_params, len(weights))


def _write_model(
    tmp: Path, out: Path, weights, vocab, eos, eos_ids, config, md, source: str, source_type: str
) -> None:
    """Write every file of the model into `tmp`, then move it to `out`."""
    import mlx.core as mx

    mx.eval(weights)
    mx.save_safetensors(str(tmp / "model.safetensors"), weights, metadata={"format": "mlx"})
    tok = gguf_tokenizer.build_tokenizer(vocab)
    atomic.write_text(tmp / "tokenizer.json", tok.to_str())
    for fname, obj in gguf_tokenizer.tokenizer_files(
        vocab, eos, config["max_position_embeddings"]
    ).items():
        atomic.write_json(tmp / fname, obj)
    atomic.write_json(
        tmp / "generation_config.json", {"eos_token_id": eos_ids, "bos_token_id": vocab.bos_id}
    )
    atomic.write_json(tmp / "config.json", config)
    install_chat_template(tmp)
    atomic.write_text(
        tmp / "README.md",
        f"Converted by `punie model convert` from {source} ({source_type}, "
        f"{md.get('general.name') or config['model_type']}) to float32. "
        f"License: {md.get('general.license') or 'see the source model'}.\n",
    )
    # atomic.* writes 0600 temp files; a model folder is ordinary shared data.
    mode = 0o666 & ~_umask()
    for f in tmp.iterdir():
        f.chmod(mode)
    _replace_dir(tmp, out)
