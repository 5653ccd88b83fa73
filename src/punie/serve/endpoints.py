"""Endpoint specs: which OpenAI-compatible server a command talks to.

local                         LM Studio's default, http://localhost:1234/v1
local:NAME                    LM Studio, model NAME
local:http://host:port/v1     any OpenAI-compatible server: an mlx_lm.server is
                              asked for `default_model` (the model it was started
                              with, and its --adapter-path), any other for the first
                              model /v1/models lists
local:http://host:port/v1/M   the same, model M
ollama:NAME                   Ollama's OpenAI API, http://localhost:11434/v1
anything else                 a model folder or name: Punie starts a managed
                              mlx_lm.server for it (with --adapter if given)
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from punie.errors import PunieError
from punie.serve.server import MODEL_NAME, ManagedServer, one_token_chat

LM_STUDIO_URL = "http://localhost:1234/v1"
OLLAMA_URL = "http://localhost:11434/v1"
# mlx_lm.server's system_fingerprint: "{mlx-lm version}-{mlx version}-{platform}-{gpu}".
MLX_LM_FINGERPRINT = re.compile(r"^\d+\.\d+\.\d+[^-]*-\d+\.\d+\.\d+")
PROBE_TIMEOUT = 120.0  # the one-token probe waits while the server loads its model


@dataclass(frozen=True)
class EndpointSpec:
    kind: str  # "openai" (an already running server) or "managed"
    base_url: str | None = None  # for "openai"
    model_name: str | None = None  # for "openai"; None: ask /v1/models
    model: str | None = None  # for "managed": a folder or a name for resolve_model

    @property
    def managed(self) -> bool:
        return self.kind == "managed"


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model_name: str
    server: ManagedServer | None = None
    # The model folder when Punie knows it: lets the evaluator decode raw token ids.
    model_path: Path | None = None

    @property
    def decode_concurrency(self) -> int | None:
        return self.server.decode_concurrency if self.server else None


def _split_url(rest: str) -> tuple[str, str | None]:
    """`http://h:p/v1/MODEL` -> (`http://h:p/v1`, MODEL); a trailing /v1 is no model."""
    rest = rest.rstrip("/")
    scheme, sep, after = rest.partition("://")
    if not sep or not after:
        raise PunieError(
            f"bad endpoint URL {rest!r}", where="endpoint", hint="use http://host:port/v1[/MODEL]"
        )
    parts = after.split("/")
    if "v1" not in parts[1:]:
        # No /v1 segment: the URL is the server root; OpenAI's API lives under /v1.
        return f"{scheme}://{after}/v1", None
    idx = parts.index("v1", 1)
    base = f"{scheme}://" + "/".join(parts[: idx + 1])
    model = "/".join(parts[idx + 1 :]) or None
    return base, model


def parse_endpoint(spec: str) -> EndpointSpec:
    """Parse a `--model` value; see the module docstring for the forms."""
    spec = (spec or "").strip()
    if not spec:
        raise PunieError(
            "empty model spec", where="endpoint", hint="e.g. local, ollama:NAME, or a model folder"
        )
    if spec == "local":
        return EndpointSpec("openai", LM_STUDIO_URL, None)
    if spec.startswith("local:"):
        rest = spec[len("local:") :]
        if rest.startswith(("http://", "https://")):
            base, model = _split_url(rest)
            return EndpointSpec("openai", base, model)
        if not rest:
            raise PunieError(
                "local: needs a model name or URL", where="endpoint", hint="local:NAME"
            )
        return EndpointSpec("openai", LM_STUDIO_URL, rest)
    if spec.startswith("ollama:"):
        name = spec[len("ollama:") :]
        if not name:
            raise PunieError(
                "ollama: needs a model name", where="endpoint", hint="ollama:qwen2.5-coder"
            )
        return EndpointSpec("openai", OLLAMA_URL, name)
    if spec.startswith(("http://", "https://")):
        base, model = _split_url(spec)
        return EndpointSpec("openai", base, model)
    return EndpointSpec("managed", model=spec)


def resolve_model_path(spec: str) -> Path:
    """A model folder for `spec`; names go through punie.model.resolve_model."""
    p = Path(spec).expanduser()
    if (p / "config.json").is_file():
        return p
    try:
        from punie.model import resolve_model
    except ImportError:
        resolve_model = None
    if resolve_model is None:
        raise PunieError(
            f"model {spec!r} is not a model folder",
            where="endpoint",
            hint="pass a folder holding config.json",
        )
    return Path(resolve_model(spec))


async def served_model(base_url: str) -> str:
    """The model to request from a running server.

    mlx_lm.server answers a request naming the id /v1/models lists by loading that
    model again WITHOUT the --adapter-path it was started with; `default_model` is the
    model it was started with, adapter included. It is recognised before its listing
    is read, since that listing is empty without a Hugging Face cache folder. Any
    other server gets the first id it lists."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            resp = await client.get(f"{base_url}/models")
            resp.raise_for_status()
    except httpx.HTTPError as exc:
        raise _cannot_list(base_url, exc) from exc
    if await is_mlx_lm_server(base_url, resp.headers.get("server", "")):
        return MODEL_NAME
    try:
        data = resp.json().get("data") or []
    except ValueError as exc:
        raise _cannot_list(base_url, exc) from exc
    if not data:
        raise PunieError(
            f"{base_url} lists no models", where="endpoint", hint="load a model in the server"
        )
    return str(data[0]["id"])


def _cannot_list(base_url: str, exc: Exception) -> PunieError:
    return PunieError(
        f"cannot list models at {base_url} ({type(exc).__name__}: {exc})",
        where="endpoint",
        hint="is the server running? or name the model: local:NAME",
    )


async def is_mlx_lm_server(base_url: str, server_header: str) -> bool:
    """mlx_lm.server runs on Python's http.server (`Server: BaseHTTP/...`) and signs
    each completion with a `system_fingerprint` of its mlx-lm and mlx versions; only a
    server that says so in its reply to a one-token chat for `default_model` is one.
    Other servers are sent nothing: their Server header is not Python's."""
    if not server_header.startswith("BaseHTTP/"):
        return False
    try:
        reply = await asyncio.to_thread(one_token_chat, base_url, PROBE_TIMEOUT)
    except (OSError, ValueError):
        return False
    fingerprint = str(reply.get("system_fingerprint") or "")
    return reply.get("model") == MODEL_NAME and bool(MLX_LM_FINGERPRINT.match(fingerprint))


@contextlib.asynccontextmanager
async def open_endpoint(
    spec: str | EndpointSpec,
    adapter: Path | None = None,
    *,
    decode_concurrency: int = 8,
    startup_timeout: float | None = None,
    log_path: Path | None = None,
) -> AsyncIterator[Endpoint]:
    """Yield a ready Endpoint; a managed server is started here and stopped on exit."""
    parsed = parse_endpoint(spec) if isinstance(spec, str) else spec
    if not parsed.managed:
        if adapter is not None:
            raise PunieError(
                "--adapter needs a managed model (a folder or name), not a running server",
                where="endpoint",
                hint="load the adapter in that server instead",
            )
        name = parsed.model_name or await served_model(parsed.base_url)
        yield Endpoint(parsed.base_url, name)
        return
    model_path = resolve_model_path(parsed.model)
    kwargs = {"decode_concurrency": decode_concurrency, "log_path": log_path}
    if startup_timeout is not None:
        kwargs["startup_timeout"] = startup_timeout
    server = ManagedServer(model_path, adapter=adapter, **kwargs)
    async with server:
        yield Endpoint(server.base_url, server.model_name, server, model_path)
