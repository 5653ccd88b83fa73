"""What a model folder is, read offline from its files (no weights are loaded)."""

from __future__ import annotations

import json
import struct
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from punie.errors import PunieError
from punie.model.store import read_config

_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U32": 4}
_DTYPE_NAMES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "U32": "uint32"}

# The training shape the memory estimate assumes (mlx-lm's usual LoRA settings).
EST_BATCH = 4
EST_SEQ = 512
EST_RANK = 8


@dataclass(frozen=True)
class ModelInfo:
    path: str
    architecture: str
    parameters: int
    dtype: str
    quantization: str | None
    size_bytes: int
    files: list[tuple[str, int]] = field(default_factory=list)
    chat_template: bool = False
    tool_call_format: str | None = None
    lora_memory_bytes: int = 0
    lora_memory_assumes: str = ""
    kind: str | None = None  # "tiny", "converted" (Punie-made), None otherwise

    def to_json(self) -> dict:
        d = asdict(self)
        d["files"] = [{"name": n, "bytes": b} for n, b in self.files]
        return d


def _safetensors_header(path: Path) -> dict:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header


def weight_stats(model_dir: Path, config: dict) -> tuple[int, str, int]:
    """(parameter count, main dtype, bytes of weights in memory) from safetensors headers."""
    bits = (config.get("quantization") or {}).get("bits")
    params = 0
    nbytes = 0
    by_dtype: Counter[str] = Counter()
    for f in sorted(model_dir.glob("*.safetensors")):
        header = _safetensors_header(f)
        quantized = {k.rsplit(".", 1)[0] for k in header if k.endswith(".scales")}
        for name, meta in header.items():
            n = 1
            for d in meta["shape"]:
                n *= d
            nbytes += n * _DTYPE_BYTES.get(meta["dtype"], 4)
            stem = name.rsplit(".", 1)[0]
            if stem in quantized and name.endswith((".scales", ".biases")):
                continue  # quantization bookkeeping, not parameters
            if stem in quantized and bits and meta["dtype"] == "U32":
                n = n * 32 // bits
            params += n
            by_dtype[meta["dtype"]] += n
    main = by_dtype.most_common(1)[0][0] if by_dtype else "unknown"
    return params, _DTYPE_NAMES.get(main, main.lower()), nbytes


def read_chat_template(model_dir: Path) -> str | None:
    jinja = model_dir / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text()
    for fname in ("tokenizer_config.json", "chat_template.json"):
        try:
            tpl = json.loads((model_dir / fname).read_text()).get("chat_template")
        except (OSError, ValueError):
            continue
        if isinstance(tpl, list):  # named templates: the default one
            tpl = next((t.get("template") for t in tpl if t.get("name") == "default"), None)
        if isinstance(tpl, str) and tpl:
            return tpl
    return None


def tool_call_format(model_dir: Path) -> str | None:
    """The mlx-lm tool parser mlx_lm.server picks for this model (`json_tools` for
    Punie's template): its tokenizer loaded as the server loads it, so this answer and
    the scorer's parser are one and the same (punie.toolcalls)."""
    from punie.toolcalls import ServerParser

    try:
        return ServerParser.for_model(model_dir).format
    except Exception:  # no tokenizer files, or one mlx-lm cannot load: nothing to pick
        return None


def lora_memory(config: dict, weight_bytes: int) -> int:
    """A rough peak-memory estimate for LoRA training (see EST_* for the shape).

    Base weights as stored, LoRA weights with their gradients and two Adam moments,
    the activations kept for the backward pass (no gradient checkpointing) and the
    logits with their gradient.
    """
    h = int(config.get("hidden_size") or 0)
    inter = int(config.get("intermediate_size") or 4 * h)
    layers = int(config.get("num_hidden_layers") or 0)
    vocab = int(config.get("vocab_size") or 0)
    n_head = int(config.get("num_attention_heads") or 1)
    n_kv = int(config.get("num_key_value_heads") or n_head)
    head_dim = int(config.get("head_dim") or (h // n_head if n_head else 0))
    kv = n_kv * head_dim
    # q, k, v, o, gate, up, down: rank * (in + out) each.
    lora_params = layers * EST_RANK * ((h + n_head * head_dim) * 2 + (h + kv) * 2 + (h + inter) * 3)
    tokens = EST_BATCH * EST_SEQ
    per_token_layer = (12 * h + 4 * inter) * 4 + n_head * EST_SEQ * 4
    activations = tokens * layers * per_token_layer
    logits = tokens * vocab * 4 * 2
    return weight_bytes + lora_params * 4 * 4 + activations + logits


def model_info(model_dir: Path) -> ModelInfo:
    model_dir = Path(model_dir)
    config = read_config(model_dir)
    if not config:
        raise PunieError(
            "no readable config.json", where=str(model_dir), hint="is this a model folder?"
        )
    params, dtype, weight_bytes = weight_stats(model_dir, config)
    files = sorted(
        (f.name, f.stat().st_size) for f in model_dir.iterdir() if f.is_file()
    )  # stat follows the HF cache's symlinks to the blobs
    quant = config.get("quantization")
    punie = config.get("punie") or {}
    if quant:
        quantization = f"mlx {quant.get('bits')}-bit, group {quant.get('group_size')}"
    elif punie.get("source_type"):
        quantization = f"none (dequantized from GGUF {punie['source_type']})"
    else:
        quantization = None
    template = read_chat_template(model_dir)
    return ModelInfo(
        path=str(model_dir),
        architecture=str(config.get("model_type", "unknown")),
        parameters=params,
        dtype=dtype,
        quantization=quantization,
        size_bytes=sum(size for _, size in files),
        files=files,
        chat_template=template is not None,
        tool_call_format=tool_call_format(model_dir),
        lora_memory_bytes=lora_memory(config, weight_bytes),
        lora_memory_assumes=f"batch {EST_BATCH} x {EST_SEQ} tokens, LoRA rank {EST_RANK} "
        "on every linear layer, Adam",
        kind=punie.get("kind"),
    )


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def human_count(n: int) -> str:
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return str(n)
