"""The model behind the agent, opened on the first prompt (never at import or initialize).

`--model` takes the same specs as evaluation (see `punie.serve.endpoints`); a model
folder or name starts a managed mlx_lm.server (with `--adapter`) that stops when the
agent exits. `test-fake:FILE.py` is a TEST FAKE: it loads FILE and calls its
`build_model()` to put a deterministic pydantic-ai model (e.g. `FunctionModel`)
behind the real agent, so tests can drive `punie serve` over a real pipe.

The opened model carries its context budget (`punie.agent.context`): the window from
`punie.agent.window` and a token counter, the model folder's tokenizer when Punie has
the folder (a managed server, or a folder given as the model), an estimate otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import logging
from pathlib import Path
from typing import Any

from punie.errors import PunieError

TEST_FAKE_PREFIX = "test-fake:"
API_KEY = "punie-local"  # OpenAI clients insist on a key; local servers ignore it
log = logging.getLogger("punie.agent")


def resolve_adapter(spec: str | Path) -> Path:
    """An adapter folder from what a user types: a path, a path under PUNIE_HOME
    (`runs/<demo>/adapter`), a run name, or a run folder (its `adapter/` is used)."""
    from punie import paths

    raw = Path(spec).expanduser()
    tried = [raw, paths.punie_home() / raw, paths.runs_dir() / raw]
    for cand in tried:
        for folder in (cand, cand / "adapter"):
            if (folder / "adapter_config.json").is_file():
                return folder.resolve()
    raise PunieError(
        f"{spec}: no adapter (adapter_config.json) in {', '.join(str(t) for t in tried)}",
        where="--adapter",
        hint="pass a training run's adapter/ folder",
    )


def load_test_fake(path: str) -> Any:
    """Build the pydantic-ai model a test-fake script describes."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise PunieError(f"{path}: no such test-fake model script", where="--model")
    spec = importlib.util.spec_from_file_location(f"punie_test_fake_{p.stem}", p)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    build = getattr(module, "build_model", None)
    if build is None:
        raise PunieError(f"{path}: defines no build_model()", where="--model")
    return build()


def openai_model(base_url: str, model_name: str) -> Any:
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = OpenAIProvider(base_url=base_url, api_key=API_KEY)
    return _chat_model_class()(model_name, provider=provider)


TOOL_DEFS_KEPT = 8  # tool sets whose OpenAI form a model keeps (a task may offer fewer tools)


@functools.cache
def _chat_model_class() -> type:
    """pydantic-ai's `OpenAIChatModel`, keeping the tool definitions it prepares.

    On every request pydantic-ai rewrites each tool's JSON schema into the form the
    OpenAI API takes (`customize_request_parameters`: a walk of every schema), although
    the agent offers the same tools each time: about a third of a millisecond a request
    for Punie's six. The result depends only on the definitions and the model's
    profile, so the last few tool sets' results are kept and reused when the
    definitions are equal; what is sent does not change."""
    from dataclasses import replace

    from pydantic_ai.models.openai import OpenAIChatModel

    class ChatModel(OpenAIChatModel):
        def customize_request_parameters(self, params: Any) -> Any:
            kept: list[tuple[list, list]] = self.__dict__.setdefault("_punie_tool_defs", [])
            tools = params.function_tools
            for i, (given, prepared) in enumerate(kept):
                if given == tools:
                    if i:  # most recently used first
                        kept.insert(0, kept.pop(i))
                    rest = super().customize_request_parameters(replace(params, function_tools=[]))
                    return replace(rest, function_tools=list(prepared))
            out = super().customize_request_parameters(params)
            kept.insert(0, (list(tools), list(out.function_tools)))
            del kept[TOOL_DEFS_KEPT:]
            return out

    return ChatModel


class ModelHandle:
    """Opens the model once, on first use, and closes what it started on `aclose()`."""

    def __init__(self, spec: str, adapter: Path | None = None, context: int | None = None):
        self.spec = spec
        self.adapter = adapter
        self.context = context  # --context: the window, when the user says
        self.budget: Any = None  # the opened model's ContextBudget
        self._model: Any = None
        self._opening: asyncio.Task | None = None
        self._stack = contextlib.AsyncExitStack()

    @property
    def context_window(self) -> int | None:
        """The window in tokens when something says (not an assumed default)."""
        if self.budget is not None and not self.budget.assumed:
            return self.budget.window
        return self.context

    def check(self) -> None:
        """Cheap validation at startup (no server started, no weights loaded)."""
        if self.spec.startswith(TEST_FAKE_PREFIX):
            if self.adapter is not None:
                raise PunieError("--adapter does not apply to a test-fake model", where="--adapter")
            return
        from punie.serve.endpoints import parse_endpoint

        parsed = parse_endpoint(self.spec)
        if self.adapter is not None:
            if not parsed.managed:
                raise PunieError(
                    "--adapter needs a model folder or name, not a running server",
                    where="--adapter",
                    hint="load the adapter in that server, or pass --model PATH",
                )
            self.adapter = resolve_adapter(self.adapter)

    async def get(self) -> Any:
        if self._model is not None:
            return self._model
        if self._opening is None:
            self._opening = asyncio.create_task(self._open())
        try:
            # Shielded: a prompt cancelled while the server starts must not abandon a
            # half-started server (the next prompt waits for the same start).
            self._model = await asyncio.shield(self._opening)
        except asyncio.CancelledError:
            raise
        except BaseException:
            self._opening = None  # a failed start may be retried by the next prompt
            raise
        return self._model

    async def _open(self) -> Any:
        from punie.agent.context import BudgetedModel

        model, folder, base_url, name = await self._open_model()
        self.budget = await self._find_budget(folder, base_url, name)
        return BudgetedModel(model, self.budget)

    async def _open_model(self) -> tuple[Any, Path | None, str | None, str | None]:
        """(pydantic-ai model, its folder if known, server URL, served name)."""
        if self.spec.startswith(TEST_FAKE_PREFIX):
            return load_test_fake(self.spec[len(TEST_FAKE_PREFIX) :]), None, None, None
        from punie import paths
        from punie.serve.endpoints import open_endpoint

        log.info("opening model %s (adapter %s)", self.spec, self.adapter)
        endpoint = await self._stack.enter_async_context(
            open_endpoint(
                self.spec,
                Path(self.adapter) if self.adapter else None,
                log_path=paths.logs_dir() / "agent-mlx-server.log",
            )
        )
        log.info("model ready at %s as %s", endpoint.base_url, endpoint.model_name)
        model = openai_model(endpoint.base_url, endpoint.model_name)
        return model, endpoint.model_path, endpoint.base_url, endpoint.model_name

    async def _find_budget(self, folder: Path | None, base_url: str | None, name: str | None):
        from punie.agent.context import ContextBudget, TokenCounter, tokenizer_counter
        from punie.agent.window import find_window

        # A server Punie manages is asked nothing: its folder says more than it would.
        window = await find_window(self.context, folder, None if folder else base_url, name)
        counter = (tokenizer_counter(folder) if folder else None) or TokenCounter()
        log.info(
            "context window %d tokens (%s); counting with %s",
            window.tokens,
            window.source,
            counter.name if counter.exact else "an estimate (chars / 3)",
        )
        return ContextBudget(window.tokens, counter, window.source, window.assumed)

    async def aclose(self) -> None:
        if self._opening is not None and not self._opening.done():
            with contextlib.suppress(BaseException):
                await self._opening
        await self._stack.aclose()
        self._model = None
