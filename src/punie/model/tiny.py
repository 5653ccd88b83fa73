"""A deterministic tiny Qwen2 model for fast tests: loads, generates and trains in seconds.

Random weights (seeded), a byte-level BPE tokenizer trained here on a built-in
corpus, and Punie's chat template. The same seed gives byte-identical files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from punie import atomic
from punie.errors import PunieError
from punie.model.template import TOOL_CALL_END, TOOL_CALL_START, install_chat_template

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_CORPUS_LINES = [
    "You are a helpful coding assistant. Answer briefly and call a tool when one helps.",
    "Read the file src/app/main.py and tell me what it does.",
    "Write a new file tests/test_utils.py with a pytest test for parse_config.",
    "List the directory src/punie and show me what is inside.",
    "Search the workspace for TODO comments in the python files.",
    "Run the command pytest -q and report which tests fail.",
    "What is the capital of France? The capital of France is Paris.",
    "Explain what a Python decorator is and when to use functools.wraps.",
    "def add(a: int, b: int) -> int:\n    return a + b\n",
    "class Config:\n    def __init__(self, path):\n        self.path = path\n",
    "import os\nimport json\nfrom pathlib import Path\n",
    "for item in items:\n    if item is None:\n        continue\n    print(item)\n",
    "try:\n    value = int(text)\nexcept ValueError as exc:\n    raise SystemExit(2) from exc\n",
    '{"name": "read_file", "arguments": {"path": "README.md"}}',
    '{"name": "write_file", "arguments": {"path": "notes.txt", "content": "hello"}}',
    '{"name": "list_dir", "arguments": {"path": "."}}',
    '{"name": "search", "arguments": {"pattern": "TODO", "glob": "*.py"}}',
    '{"name": "run_command", "arguments": {"command": "pytest -q"}}',
    "Tools:\n- read_file(path: string) Read a text file in the workspace.",
    f"{TOOL_CALL_START}{{}}{TOOL_CALL_END}",
    "The tests passed. The file contains a function that parses the configuration.",
    "Error: file not found. Check the path and try again.",
    "0 1 2 3 4 5 6 7 8 9 10 100 1000 true false null",
]


@dataclass(frozen=True)
class TinyConfig:
    seed: int = 0
    vocab_size: int = 768
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    intermediate_size: int = 176
    max_position_embeddings: int = 2048


def _build_tokenizer(vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS_LINES * 4, trainer=trainer)
    return tok


def _model_config(cfg: TinyConfig, vocab_size: int, eos_id: int) -> dict:
    return {
        "model_type": "qwen2",
        "architectures": ["Qwen2ForCausalLM"],
        "vocab_size": vocab_size,
        "hidden_size": cfg.hidden_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "intermediate_size": cfg.intermediate_size,
        "max_position_embeddings": cfg.max_position_embeddings,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "eos_token_id": eos_id,
        "bos_token_id": None,
        "punie": {"kind": "tiny", "tiny_config": None},
    }


def build_tiny_model(out: Path, cfg: TinyConfig = TinyConfig()) -> Path:
    """Write the tiny model folder to `out` (replaced whole if it was a tiny model)."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models import qwen2

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "config.json").exists():
        raise PunieError(
            f"{out} exists and is not a model folder", hint="choose an empty or new path"
        )
    out.mkdir(parents=True, exist_ok=True)

    tok = _build_tokenizer(cfg.vocab_size)
    vocab_size = tok.get_vocab_size()
    eos_id = tok.token_to_id("<|im_end|>")
    config = _model_config(cfg, vocab_size, eos_id)
    config["punie"]["tiny_config"] = asdict(cfg)

    mx.random.seed(cfg.seed)
    args = qwen2.ModelArgs.from_dict(config)
    model = qwen2.Model(args)
    weights = dict(tree_flatten(model.parameters()))
    # Small init keeps the untrained logits near uniform instead of saturated.
    weights = {
        k: (v * 0.5 if k.endswith("weight") and v.ndim == 2 else v).astype(mx.float32)
        for k, v in weights.items()
    }
    mx.eval(weights)

    with atomic.atomic_path(out / "model.safetensors") as tmp:
        mx.save_safetensors(str(tmp.with_suffix(".safetensors")), weights)
        tmp.with_suffix(".safetensors").replace(tmp)
    atomic.write_text(out / "tokenizer.json", tok.to_str())
    atomic.write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "bos_token": None,
            "unk_token": None,
            "model_max_length": cfg.max_position_embeddings,
            "clean_up_tokenization_spaces": False,
            "added_tokens_decoder": {
                str(tok.token_to_id(t)): {"content": t, "special": True} for t in SPECIAL_TOKENS
            },
        },
    )
    atomic.write_json(
        out / "special_tokens_map.json", {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}
    )
    atomic.write_json(out / "generation_config.json", {"eos_token_id": eos_id})
    atomic.write_json(out / "config.json", config)
    install_chat_template(out)
    (out / "README.md").write_text(
        "Tiny random Qwen2 model built by `punie model tiny` for fast tests. Not a useful model.\n"
    )
    return out
