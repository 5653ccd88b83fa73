"""The context budget: no request to the model is larger than its context window.

Local servers do not refuse an over-long prompt, they cut it silently (Ollama keeps
the end of a prompt past `num_ctx`): the tool definitions, which come first, are what
goes, and the model then seems unable to call tools. So before every model request
`ContextFit` counts what would be sent (instructions, tool definitions, messages, and
a reserve for the reply) and, when it would not fit:

1. clips any tool result above a share of the window, with a marker saying how much
   was cut (kept in the history, so a huge result is paid for once);
2. drops the oldest whole turns, then the oldest steps of the current turn, never
   separating a tool call from its result and keeping the current prompt;
3. clips the remaining tool results harder;
4. and if even that cannot fit, ends the turn with `ContextFull` instead of sending.

It says so in the conversation whenever it cut, and after every model response it
sends ACP `usage_update` with the tokens now in context (not a running total).

Counts come from the model's tokenizer when Punie has the model folder, else from an
estimate (`ESTIMATE_CHARS_PER_TOKEN`); a chat template's markers are an allowance per
message (`MESSAGE_OVERHEAD`), not rendered. Counts are cached per message part, so a
long history is not tokenized again on every request.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from acp import update_agent_message_text
from acp.schema import UsageUpdate
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.wrapper import WrapperModel

log = logging.getLogger("punie.agent")

# Measured with SmolLM2's tokenizer: 3.6 chars a token on Punie's source, 3.1 on its
# docs and tests, 2.6 on numbered log lines. 3.0 errs on the safe side for most text.
ESTIMATE_CHARS_PER_TOKEN = 3.0
DEFAULT_WINDOW = 4096  # when nothing says: Ollama's and LM Studio's usual default
DEFAULT_RESERVE = 1024  # tokens kept for the reply when --max-tokens is not given
RESULT_SHARE = 0.25  # of the window, the most one tool result may take
MESSAGE_OVERHEAD = 8  # a chat template's role markers around one message
REQUEST_OVERHEAD = 16  # the generation prompt, BOS and the like
TOOLS_OVERHEAD = 128  # a template's wording around the tool list
MIN_RESULT = 64  # a result is never clipped below this many tokens
_CACHE_LIMIT = 8192  # cached part counts before the cache starts afresh


class ContextFull(Exception):
    """Even the current prompt, with the fewest results it needs, does not fit."""


class TokenCounter:
    """Counts tokens of texts: with a tokenizer's `encode`, or estimated from length."""

    def __init__(self, encode: Callable[[str], int] | None = None, name: str = "estimate"):
        self._encode = encode
        self.name = name
        self._parts: dict[int, tuple[Any, int]] = {}  # id(part) -> (part, tokens)
        self._tools: dict[tuple, int] = {}

    @property
    def exact(self) -> bool:
        return self._encode is not None

    def text(self, text: str) -> int:
        if not text:
            return 0
        if self._encode is None:
            return math.ceil(len(text) / ESTIMATE_CHARS_PER_TOKEN)
        return self._encode(text)

    def part(self, part: Any) -> int:
        # Keyed by identity, holding the part so its id cannot be reused while cached;
        # parts are not edited in place once in a history (ContextFit replaces them).
        hit = self._parts.get(id(part))
        if hit is not None and hit[0] is part:
            return hit[1]
        if len(self._parts) >= _CACHE_LIMIT:
            self._parts.clear()
        n = self.text(part_text(part))
        self._parts[id(part)] = (part, n)
        return n

    def message(self, message: Any) -> int:
        return MESSAGE_OVERHEAD + sum(self.part(p) for p in message.parts)

    def tools(self, tool_defs: list) -> int:
        """The tool definitions as the OpenAI API sends them (a template that renders
        them more compactly costs less: this errs on the safe side)."""
        if not tool_defs:
            return 0
        key = tuple((t.name, t.description) for t in tool_defs)
        n = self._tools.get(key)
        if n is None:
            payload = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters_json_schema,
                    },
                }
                for t in tool_defs
            ]
            n = self._tools[key] = TOOLS_OVERHEAD + self.text(json.dumps(payload))
        return n


def tokenizer_counter(folder: Path) -> TokenCounter | None:
    """A counter with the model folder's own tokenizer (tokenizer.json), or None."""
    path = Path(folder) / "tokenizer.json"
    if not path.is_file():
        return None
    try:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # a tokenizer this library cannot read: estimate instead
        log.warning("cannot load %s (%s): token counts are estimates", path, exc)
        return None
    return TokenCounter(lambda s: len(tok.encode(s, add_special_tokens=False)), str(path))


def part_text(part: Any) -> str:
    """The text of one message part as it reaches the model."""
    if isinstance(part, ToolReturnPart):
        return part.model_response_str()
    if isinstance(part, RetryPromptPart):
        return part.model_response()
    if isinstance(part, ToolCallPart):
        return part.tool_name + part.args_as_json_str()
    content = getattr(part, "content", "")
    if isinstance(content, str):
        return content
    if isinstance(content, list | tuple):  # a user prompt of several items: their texts
        return "\n".join(c for c in content if isinstance(c, str))
    return str(content or "")


@dataclass(frozen=True)
class ContextBudget:
    window: int  # tokens the model takes per request, prompt and reply together
    counter: TokenCounter
    source: str = "assumed"  # where `window` came from, for logs and /model
    assumed: bool = False  # True when nothing said: a default, not the model's own
    result_share: float = RESULT_SHARE

    def reserve(self, max_tokens: int | None) -> int:
        """Tokens kept free for the reply."""
        if max_tokens:
            return max_tokens
        return min(DEFAULT_RESERVE, self.window // 4)

    @property
    def result_limit(self) -> int:
        return max(MIN_RESULT, int(self.window * self.result_share))


@dataclass(frozen=True)
class Fit:
    messages: list
    used: int  # tokens of the request as it will be sent (reply reserve excluded)
    room: int  # tokens the request may take: the window less the reply reserve
    clipped: tuple[int, ...] = ()  # tokens cut from each clipped result
    dropped_turns: int = 0
    dropped_steps: int = 0  # tool-call steps of the current turn dropped

    @property
    def changed(self) -> bool:
        return bool(self.clipped or self.dropped_turns or self.dropped_steps)


def fit_messages(messages: list, fixed: int, room: int, budget: ContextBudget) -> Fit:
    """`messages` cut to fit `room` tokens alongside `fixed` (instructions and tools).
    Raises ContextFull when nothing Punie may cut makes it fit."""
    counter = budget.counter
    messages, clipped = clip_results(messages, budget.result_limit, counter)
    used = fixed + sum(counter.message(m) for m in messages)
    turns = steps = 0
    if used > room:
        messages, turns, steps = drop_oldest(messages, used - room, counter)
        used = fixed + sum(counter.message(m) for m in messages)
    limit = budget.result_limit
    while used > room and limit > MIN_RESULT:
        limit = max(MIN_RESULT, limit // 2)
        messages, more = clip_results(messages, limit, counter)
        clipped += more
        used = fixed + sum(counter.message(m) for m in messages)
    if used > room:
        raise ContextFull(
            f"the request needs {used} tokens with everything cut that can be "
            f"(the window is {budget.window}, {budget.window - room} kept for the reply)"
        )
    return Fit(messages, used, room, clipped, turns, steps)


def clip_results(messages: list, limit: int, counter: TokenCounter) -> tuple[list, tuple]:
    """Every tool result above `limit` tokens clipped to it; (messages, tokens cut each)."""
    out, cuts = [], []
    for m in messages:
        if isinstance(m, ModelRequest) and any(
            isinstance(p, ToolReturnPart) and counter.part(p) > limit for p in m.parts
        ):
            parts = []
            for p in m.parts:
                if isinstance(p, ToolReturnPart) and counter.part(p) > limit:
                    text, cut = clip_text(p.model_response_str(), limit, counter)
                    p = replace(p, content=text)
                    cuts.append(cut)
                parts.append(p)
            m = replace(m, parts=parts)
        out.append(m)
    return out, tuple(cuts)


def clip_text(text: str, limit: int, counter: TokenCounter) -> tuple[str, int]:
    """`text` cut to at most `limit` tokens: its head and tail around a marker (a
    command's error is at its end). Returns (text, tokens cut)."""
    total = counter.text(text)
    if total <= limit:
        return text, 0
    keep = max(0, int(len(text) * (limit - 24) / total))  # 24: the marker's own tokens
    while True:
        head, tail = text[: keep * 2 // 3], text[len(text) - keep // 3 :] if keep >= 3 else ""
        cut = max(0, total - counter.text(head) - counter.text(tail))
        out = f"{head}\n[punie: cut {cut} tokens of this result]\n{tail}"
        if keep == 0 or counter.text(out) <= limit:
            return out, cut
        keep = int(keep * 0.85)


def turn_starts(messages: list) -> list[int]:
    """Indices of the requests that carry a user prompt: where a turn begins."""
    return [
        i
        for i, m in enumerate(messages)
        if isinstance(m, ModelRequest) and any(isinstance(p, UserPromptPart) for p in m.parts)
    ]


def _units(messages: list) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Spans that can go whole: (older turns, steps of the current turn but its last).
    A step is a response and the request after it (its calls' results), so a call
    never loses its result; the prompt and the latest step always stay."""
    starts = turn_starts(messages)
    if not starts:
        return [], []
    bounds = [0, *starts[1:], len(messages)] if starts[0] > 0 else [*starts, len(messages)]
    turns = list(zip(bounds[:-2], bounds[1:-1], strict=True))
    cur, end = bounds[-2], len(messages)
    steps: list[tuple[int, int]] = []
    kinds = [type(m) for m in messages[cur + 1 : end]]
    alternating = all(
        k is (ModelResponse if i % 2 == 0 else ModelRequest) for i, k in enumerate(kinds)
    )
    if alternating and len(kinds) % 2 == 0:
        steps = [(i, i + 2) for i in range(cur + 1, end - 2, 2)]
    return turns, steps


def drop_oldest(messages: list, excess: int, counter: TokenCounter) -> tuple[list, int, int]:
    """Drop the oldest whole units until `excess` tokens are gone (or none is left to
    drop). Returns (messages, turns dropped, steps dropped). System prompt parts of the
    first message move to the new first message."""
    turns, steps = _units(messages)
    gone: set[int] = set()
    n_turns = n_steps = 0
    for kind, (a, b) in [("turn", u) for u in turns] + [("step", u) for u in steps]:
        if excess <= 0:
            break
        excess -= sum(counter.message(messages[i]) for i in range(a, b))
        gone.update(range(a, b))
        n_turns, n_steps = n_turns + (kind == "turn"), n_steps + (kind == "step")
    if not gone:
        return list(messages), 0, 0
    kept = [m for i, m in enumerate(messages) if i not in gone]
    system = [p for p in messages[0].parts if isinstance(p, SystemPromptPart)] if 0 in gone else []
    if system and kept and isinstance(kept[0], ModelRequest):
        kept[0] = replace(kept[0], parts=[*system, *kept[0].parts])
    return kept, n_turns, n_steps


def cut_note(fit: Fit, budget: ContextBudget) -> str:
    """What the user is told when a request was cut to fit."""
    what = []
    if fit.clipped:
        what.append(f"cut {len(fit.clipped)} long tool result(s) by {sum(fit.clipped)} tokens")
    if fit.dropped_turns:
        what.append(f"dropped the {fit.dropped_turns} oldest turn(s)")
    if fit.dropped_steps:
        what.append(f"dropped {fit.dropped_steps} earlier tool step(s) of this turn")
    return (
        f"[punie: to fit the {budget.window}-token context window ({budget.source}), "
        f"{', '.join(what)}; the model no longer sees what was cut]\n"
    )


class BudgetedModel(WrapperModel):
    """A model that carries its context budget, so every caller of `run_turn` that got
    the model from `ModelHandle` gets the budget with it."""

    def __init__(self, wrapped: Any, budget: ContextBudget):
        super().__init__(wrapped)
        self.budget = budget

    @property
    def context_window(self) -> int | None:
        return self.budget.window


def budget_of(model: Any) -> ContextBudget | None:
    while model is not None:
        if isinstance(model, BudgetedModel):
            return model.budget
        model = getattr(model, "wrapped", None) if isinstance(model, WrapperModel) else None
    return None


class ContextFit(AbstractCapability[Any]):
    """Fits each request to the model's budget (see the module docstring); a model
    without one (not from ModelHandle) is sent as is."""

    async def before_model_request(self, ctx, request_context):
        budget = budget_of(request_context.model)
        if budget is None:
            return request_context
        max_tokens = (request_context.model_settings or {}).get("max_tokens")
        room = budget.window - budget.reserve(max_tokens)
        fit = fit_messages(request_context.messages, _fixed(budget, request_context), room, budget)
        if fit.changed:
            log.info("context: %s", cut_note(fit, budget).strip())
            request_context.messages = list(fit.messages)
            ctx.messages[:] = fit.messages  # the cut is kept: paid for once, not per request
            await _send(ctx, update_agent_message_text(cut_note(fit, budget)))
        return request_context

    async def after_model_request(self, ctx, *, request_context, response):
        budget = budget_of(request_context.model)
        if budget is None:
            return response
        # The server's count of the prompt when it gives one; ours otherwise (cached
        # per part, so recounting the request is cheap).
        counter = budget.counter
        used = response.usage.input_tokens or _fixed(budget, request_context) + sum(
            counter.message(m) for m in request_context.messages
        )
        used += response.usage.output_tokens or counter.message(response)
        await _send(ctx, UsageUpdate(session_update="usage_update", used=used, size=budget.window))
        return response


def _fixed(budget: ContextBudget, request_context: Any) -> int:
    """Tokens of a request besides its messages: instructions and tool definitions."""
    params = request_context.model_request_parameters
    fixed = REQUEST_OVERHEAD + budget.counter.tools(params.function_tools)
    return fixed + sum(budget.counter.text(p.content) for p in params.instruction_parts or ())


async def _send(ctx: Any, update: Any) -> None:
    frontend = getattr(ctx.deps, "frontend", None)
    if frontend is not None:
        await frontend.send(update)
