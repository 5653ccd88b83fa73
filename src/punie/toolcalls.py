"""Tool calls in generated text, read with mlx-lm's own parsers. One module for both
readers: the scorer (what mlx_lm.server would deliver for a raw generation) and the
agent (a call a server left in a reply's text).

`ServerParser` does what mlx_lm.server does with a generation: mlx-lm's text state
machine (`make_text_state_machine`) cuts the tool-call markup out of the text, the
tokenizer's tool parser (chosen by mlx-lm from the chat template or
`tool_parser_type`, exactly as the server loads it) reads each call, and the server's
own `ToolCallFormatter` encodes it. A call the parser cannot read (ValueError) the
server drops with a log line; any other exception fails the request; arguments the
parser leaves as a string the server passes on double-encoded (a JSON string where an
object belongs), which no client can use. All three are `errors` here.

mlx-lm is imported on first use only (it brings mlx and transformers: ~2 s).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# Punie's own chat template (punie.model.template) renders calls as json_tools reads them.
DEFAULT_FORMAT = "json_tools"
# The formats the agent recovers from a reply's text, tried in this order (a Qwen3-Coder
# call also starts with <tool_call>, and json_tools cannot read it, nor it json_tools').
RECOVERED_FORMATS = ("qwen3_coder", "json_tools", "mistral")
# The marker that opens each (a test checks them against mlx-lm's modules): a text
# with none of them is read without importing mlx-lm.
START_MARKERS = {
    "json_tools": "<tool_call>",
    "qwen3_coder": "<tool_call>",
    "mistral": "[TOOL_CALLS]",
}
FENCED_RE = re.compile(r"```(?:json)?[ \t]*\n(.*?)\n?```", re.DOTALL)


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


@dataclass(frozen=True)
class Delivered:
    """What a server would hand a client for one generation."""

    calls: list[ToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one per call dropped or unusable
    content: str = ""  # the text outside the tool-call markup
    format: str | None = None  # the parser's name (an mlx_lm.tool_parsers module)

    @property
    def attempted(self) -> bool:
        return bool(self.calls or self.errors)


def _snippet(text: str) -> str:
    return repr(text.strip()[:80])


class ServerParser:
    """How mlx_lm.server reads the generations of one tokenizer (an mlx-lm
    TokenizerWrapper, or what `for_format` builds for one parser)."""

    def __init__(self, tokenizer: Any, eos_texts: Iterable[str] = ()):
        from mlx_lm.generate import make_text_state_machine

        self.tokenizer = tokenizer
        parser = tokenizer.tool_parser
        self.format = parser.__module__.rsplit(".", 1)[-1] if parser is not None else None
        self.eos_texts = tuple(t for t in eos_texts if t)
        self._machine = make_text_state_machine(tokenizer)
        self._initial = tokenizer.response_initial_state or "normal"

    @classmethod
    @functools.cache
    def for_format(cls, name: str) -> ServerParser:
        """One parser mlx-lm ships (a module of mlx_lm.tool_parsers), as the server runs
        it for a tokenizer with no thinking markers."""
        import importlib

        mod = importlib.import_module(f"mlx_lm.tool_parsers.{name}")
        tok = SimpleNamespace(
            tool_parser=mod.parse_tool_call,
            tool_call_start=mod.tool_call_start,
            tool_call_end=mod.tool_call_end,
            has_tool_calling=True,
            has_thinking=False,
            structural_markers=None,
            response_transitions={},
            response_initial_state=None,
        )
        return cls(tok)

    @classmethod
    def for_model(cls, model_path: str | Path) -> ServerParser:
        """The parser mlx_lm.server picks for the model in this folder: its tokenizer
        loaded as the server loads it (mlx_lm.utils.load_tokenizer)."""
        return _for_model(str(Path(model_path).resolve()))

    def split(self, text: str, finish_reason: str | None = "stop") -> tuple[list[str], str]:
        """(the text of each call, the content): the server's loop over its text state
        machine, fed the whole generation. On a stop the server never feeds the stop
        token (it is in `text`, decoded from the token ids) and drops what it holds
        back; on `length` it flushes that into the current state."""
        from mlx_lm.generate import TextStateMachine

        if finish_reason != "length":
            for eos in self.eos_texts:
                if text.endswith(eos):
                    text = text[: -len(eos)]
                    break
        state = self._machine.make_state(self._initial)
        state, segments = TextStateMachine.split(state, text)
        if finish_reason == "length":
            state, flushed, current = TextStateMachine.flush(state)
            segments.append((current, flushed))
        prev, tool_text, tool_texts, content = self._initial, "", [], []
        for current, chunk in segments:
            if current == "tool":
                tool_text += chunk
            elif current == "normal":
                if prev == "tool":
                    tool_texts.append(tool_text)
                    tool_text = ""
                content.append(chunk)
            prev = current
        if prev == "tool" and tool_text:
            tool_texts.append(tool_text)
        return tool_texts, "".join(content)

    def deliver(
        self, text: str, finish_reason: str | None = "stop", tools: list[dict] | None = None
    ) -> Delivered:
        """The calls and content mlx_lm.server would return for this generation;
        `tools` are the request's (OpenAI-shaped; Qwen3-Coder's parser types by them)."""
        if self.format is None:  # no tool calling: the server keeps everything as text
            return Delivered(content=text)
        tool_texts, content = self.split(text, finish_reason)
        calls: list[ToolCall] = []
        errors: list[str] = []
        for tool_text in tool_texts:
            more, why = self._deliver_one(tool_text, tools)
            calls += more
            errors += why
        return Delivered(calls, errors, content, self.format)

    def _deliver_one(self, tool_text: str, tools) -> tuple[list[ToolCall], list[str]]:
        from mlx_lm.server import ToolCallFormatter

        parse = self.tokenizer.tool_parser
        try:
            # Asked once on its own, so a call the server would drop is known without
            # ToolCallFormatter's warning through the root logger.
            parse(tool_text, tools)
        except ValueError as exc:  # json.JSONDecodeError included, as the server catches
            return [], [
                f"mlx_lm.server drops this call ({self.format}: {exc}): {_snippet(tool_text)}"
            ]
        try:
            delivered = ToolCallFormatter(parse, tools)([tool_text])
        except Exception as exc:  # the server's request fails on it
            why = f"{type(exc).__name__}: {exc}"
            return [], [f"mlx_lm.server fails on this call ({why}): {_snippet(tool_text)}"]
        return read_tool_calls(delivered)


def read_tool_calls(entries: list[dict]) -> tuple[list[ToolCall], list[str]]:
    """OpenAI `tool_calls` entries as a client reads them: arguments a JSON string,
    decoded once, must give an object (one decoded twice was double-encoded)."""
    calls: list[ToolCall] = []
    errors: list[str] = []
    for entry in entries:
        fn = entry.get("function", entry) if isinstance(entry, dict) else {}
        name = fn.get("name")
        args = fn.get("arguments", {})
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError as exc:
                errors.append(f"{name}: arguments are not JSON ({exc}): {args:.80}")
                continue
        if not isinstance(name, str) or not name:
            errors.append(f"a call without a name: {fn!r:.80}")
        elif isinstance(args, str):
            errors.append(f"{name}: arguments delivered double-encoded (a JSON string): {args:.80}")
        elif not isinstance(args, dict):
            errors.append(f"{name}: arguments are not an object: {args!r:.80}")
        else:
            calls.append(ToolCall(name, args))
    return calls, errors


@functools.lru_cache(maxsize=8)
def _for_model(path: str) -> ServerParser:
    from mlx_lm.utils import load_config, load_tokenizer

    eos_ids = load_config(Path(path)).get("eos_token_id")
    # mlx_lm.server passes trust_remote_code (off by default) as the tokenizer config.
    tok = load_tokenizer(Path(path), {"trust_remote_code": False}, eos_token_ids=eos_ids)
    eos_texts = [tok.decode([i]) for i in sorted(tok.eos_token_ids)]
    return ServerParser(tok, eos_texts)


@dataclass(frozen=True)
class RawDecoder:
    """Token ids -> the raw generation, with the parser the server uses for that model."""

    decode: Callable[[list[int]], str]
    parser: ServerParser

    def __call__(self, ids: list[int]) -> str:
        return self.decode(ids)


def raw_decoder(model_path: str | Path) -> RawDecoder | None:
    """A RawDecoder for a model folder with a tokenizer.json, else None."""
    tok_file = Path(model_path) / "tokenizer.json"
    if not tok_file.is_file():
        return None
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tok_file))
    decode = functools.partial(tok.decode, skip_special_tokens=False)
    return RawDecoder(decode, ServerParser.for_model(model_path))


# -- the agent: calls a server left in a reply's text ----------------------------------


def tool_names(tools: list[dict]) -> set[str]:
    return {t["function"]["name"] for t in tools if "function" in t}


def recover(content: str, tools: list[dict]) -> Delivered | None:
    """The calls in a reply's text, in the first known format that yields a call to an
    offered tool (`tools`, OpenAI-shaped): mlx-lm's `<tool_call>` JSON (Qwen/Hermes),
    Qwen3-Coder XML and Mistral `[TOOL_CALLS]` parsers, then a bare or fenced JSON
    object (or list) of {"name", "arguments"}. Only calls naming an offered tool are
    kept; the others are named in `errors`. None when there is no such call."""
    offered = tool_names(tools)
    if not offered:
        return None
    candidates: list[Delivered] = []
    if any(START_MARKERS[f] in content for f in RECOVERED_FORMATS):
        candidates += [
            ServerParser.for_format(f).deliver(content, "stop", tools) for f in RECOVERED_FORMATS
        ]
    candidates += _json_candidates(content)
    for found in candidates:
        kept = [c for c in found.calls if c.name in offered]
        if kept:
            unoffered = [
                f"{c.name} is not an offered tool" for c in found.calls if c.name not in offered
            ]
            return Delivered(kept, unoffered + found.errors, found.content, found.format)
    return None


def _json_candidates(content: str) -> list[Delivered]:
    """A fenced ```json block, or the whole reply, that is a call object (or a list)."""
    out: list[Delivered] = []
    for m in FENCED_RE.finditer(content):
        calls = _calls_from_json(m.group(1))
        if calls:
            rest = (content[: m.start()] + content[m.end() :]).strip()
            out.append(Delivered(calls, [], rest, "fenced_json"))
    if content.strip()[:1] in ("{", "["):
        calls = _calls_from_json(content)
        if calls:
            out.append(Delivered(calls, [], "", "bare_json"))
    return out


def _calls_from_json(text: str) -> list[ToolCall]:
    """{"name": ..., "arguments" (or Llama's "parameters"): {...}} objects; anything
    else is no call. Not an mlx-lm format: a plain JSON decode, without importing mlx-lm."""
    try:
        obj = json.loads(text)
    except ValueError:
        return []
    calls: list[ToolCall] = []
    for item in obj if isinstance(obj, list) else [obj]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return []
        args = item.get("arguments", item.get("parameters"))
        if not isinstance(args, dict):
            return []
        calls.append(ToolCall(item["name"], args))
    return calls
