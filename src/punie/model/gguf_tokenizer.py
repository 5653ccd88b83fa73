"""Build a Hugging Face `tokenizer.json` from a GGUF file's `tokenizer.ggml.*` metadata.

A GGUF carries the vocabulary, the merges, the token types and the name of the
pre-tokenizer (`tokenizer.ggml.pre`), but not the pre-tokenizer itself: that lives
in llama.cpp's code. The split rules below mirror llama.cpp's table for the
byte-level BPE families Punie converts (SmolLM/StarCoder, Qwen2, Llama 3, GPT-2).
"""

from __future__ import annotations

from dataclasses import dataclass

from punie.errors import PunieError

# llama.cpp token types (`tokenizer.ggml.token_type`).
CONTROL = 3
USER_DEFINED = 4

_QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# `tokenizer.ggml.pre` -> how text is split before BPE. "digits" is GPT-2's regex
# after splitting every digit alone (SmolLM2's and StarCoder's tokenizer.json).
_PRE_KIND = {
    "smollm": "digits",
    "starcoder": "digits",
    "refact": "digits",
    "qwen2": "qwen2",
    "deepseek-r1-qwen": "qwen2",
    "llama-bpe": "llama3",
    "llama3": "llama3",
    "llama-v3": "llama3",
    "smaug-bpe": "llama3",
    "gpt2": "gpt2",
    "gpt-2": "gpt2",
    "default": "gpt2",
}


@dataclass(frozen=True)
class GGUFVocab:
    """The tokenizer fields of a GGUF file, as plain Python values."""

    model: str  # tokenizer.ggml.model: "gpt2" is byte-level BPE
    pre: str | None
    tokens: list[str]
    merges: list[str]
    token_types: list[int]
    bos_id: int | None
    eos_id: int | None
    unk_id: int | None
    pad_id: int | None
    add_bos: bool

    def token(self, idx: int | None) -> str | None:
        return self.tokens[idx] if idx is not None and 0 <= idx < len(self.tokens) else None


def vocab_from_metadata(md: dict, where: str) -> GGUFVocab:
    """Pick the tokenizer fields out of already-plain GGUF metadata."""
    model = md.get("tokenizer.ggml.model")
    tokens = md.get("tokenizer.ggml.tokens")
    if not model or not tokens:
        raise PunieError(
            "the GGUF file has no tokenizer (tokenizer.ggml.tokens missing)",
            where=where,
            hint="convert a GGUF file that embeds its tokenizer",
        )
    if model != "gpt2":
        raise PunieError(
            f"tokenizer type {model!r} is not supported",
            where=where,
            hint="Punie converts byte-level BPE (tokenizer.ggml.model = gpt2) models such as "
            "SmolLM2, Qwen2 and Llama 3",
        )
    types = md.get("tokenizer.ggml.token_type") or [1] * len(tokens)
    return GGUFVocab(
        model=model,
        pre=md.get("tokenizer.ggml.pre"),
        tokens=list(tokens),
        merges=list(md.get("tokenizer.ggml.merges") or []),
        token_types=[int(t) for t in types],
        bos_id=md.get("tokenizer.ggml.bos_token_id"),
        eos_id=md.get("tokenizer.ggml.eos_token_id"),
        unk_id=md.get("tokenizer.ggml.unknown_token_id"),
        pad_id=md.get("tokenizer.ggml.padding_token_id"),
        add_bos=bool(md.get("tokenizer.ggml.add_bos_token", False)),
    )


def pre_tokenizer_kind(pre: str | None) -> str:
    return _PRE_KIND.get(pre or "default", "gpt2")


def build_tokenizer(vocab: GGUFVocab):
    """A `tokenizers.Tokenizer` equivalent to llama.cpp's view of this vocabulary."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, processors
    from tokenizers import pre_tokenizers as pt

    kind = pre_tokenizer_kind(vocab.pre)
    ids = {tok: i for i, tok in enumerate(vocab.tokens)}
    merges = [tuple(m.split(" ", 1)) for m in vocab.merges]
    # Llama 3's tokenizer.json looks whole words up before merging; the others merge.
    bpe = models.BPE(
        vocab=ids,
        merges=merges,
        fuse_unk=False,
        byte_fallback=False,
        ignore_merges=(kind == "llama3"),
    )
    tok = Tokenizer(bpe)
    if kind == "digits":
        tok.pre_tokenizer = pt.Sequence(
            [pt.Digits(individual_digits=True), pt.ByteLevel(add_prefix_space=False)]
        )
    elif kind in ("qwen2", "llama3"):
        regex = _QWEN2_SPLIT if kind == "qwen2" else _LLAMA3_SPLIT
        tok.pre_tokenizer = pt.Sequence(
            [
                pt.Split(Regex(regex), behavior="isolated", invert=False),
                pt.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    else:
        tok.pre_tokenizer = pt.ByteLevel(add_prefix_space=False)
    if kind == "qwen2":
        tok.normalizer = normalizers.NFC()
    tok.decoder = decoders.ByteLevel()

    bos = vocab.token(vocab.bos_id)
    if vocab.add_bos and bos is not None:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, vocab.bos_id)]
        )
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)

    # Control tokens (<|im_start|>, ...) must stay whole and be skipped on decode;
    # user-defined ones stay whole but are ordinary text.
    special = [
        AddedToken(t, special=True, normalized=False)
        for t, ty in zip(vocab.tokens, vocab.token_types, strict=False)
        if ty == CONTROL
    ]
    user = [
        AddedToken(t, special=False, normalized=False)
        for t, ty in zip(vocab.tokens, vocab.token_types, strict=False)
        if ty == USER_DEFINED
    ]
    if special:
        tok.add_special_tokens(special)
    if user:
        tok.add_tokens(user)
    return tok


def tokenizer_files(vocab: GGUFVocab, eos: str, max_length: int) -> dict[str, object]:
    """tokenizer_config.json and special_tokens_map.json contents for this vocabulary."""
    added = {
        str(i): {
            "content": t,
            "special": ty == CONTROL,
            "normalized": False,
            "lstrip": False,
            "rstrip": False,
            "single_word": False,
        }
        for i, (t, ty) in enumerate(zip(vocab.tokens, vocab.token_types, strict=False))
        if ty in (CONTROL, USER_DEFINED)
    }
    special = {
        "bos_token": vocab.token(vocab.bos_id),
        "eos_token": eos,
        "unk_token": vocab.token(vocab.unk_id),
        "pad_token": vocab.token(vocab.pad_id) or vocab.token(vocab.eos_id),
    }
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **special,
        "add_bos_token": vocab.add_bos,
        "add_eos_token": False,
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": False,
        "added_tokens_decoder": added,
    }
    return {
        "tokenizer_config.json": config,
        "special_tokens_map.json": {k: v for k, v in special.items() if v is not None},
    }
