"""How large the model's context window is, from the best source there is:

1. `--context N` (the user knows best: a server started with a smaller context);
2. the model folder's config.json (`max_position_embeddings`), or its tokenizer's
   `model_max_length` when that is a real number; Punie has the folder when it
   manages the server (mlx_lm.server says nothing about its window);
3. the server's own metadata: llama.cpp `GET /props` (`n_ctx`), Ollama
   `POST /api/show` (`num_ctx`, else Ollama's default), LM Studio
   `GET /api/v0/models/NAME` (`loaded_context_length`);
4. else `context.DEFAULT_WINDOW`, logged as an assumption.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("punie.agent")

OLLAMA_DEFAULT_NUM_CTX = 4096  # what Ollama gives a model whose Modelfile sets none
PROBE_TIMEOUT = 3.0  # seconds per metadata request: a server that does not answer has none
_SANE_MAX = 10_000_000  # tokenizers say 1e30 for "no limit"


@dataclass(frozen=True)
class Window:
    tokens: int
    source: str  # said in logs, /model and the cut notes
    assumed: bool = False  # a default, not something the model or server said


def from_config(folder: Path) -> Window | None:
    """The window a model folder declares, or None."""
    folder = Path(folder)
    config = _read_json(folder / "config.json")
    for cfg in (config, config.get("text_config") or {}):
        n = cfg.get("max_position_embeddings")
        if isinstance(n, int) and 0 < n < _SANE_MAX:
            return Window(n, f"{folder.name}/config.json max_position_embeddings")
    n = _read_json(folder / "tokenizer_config.json").get("model_max_length")
    if isinstance(n, int | float) and 0 < n < _SANE_MAX:
        return Window(int(n), f"{folder.name}/tokenizer_config.json model_max_length")
    return None


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def from_llama_props(props: dict) -> Window | None:
    """llama.cpp's /props: `default_generation_settings.n_ctx` (per slot)."""
    settings = props.get("default_generation_settings") or {}
    n = settings.get("n_ctx", props.get("n_ctx"))
    return Window(n, "llama.cpp /props n_ctx") if isinstance(n, int) and n > 0 else None


def from_ollama_show(show: dict) -> Window | None:
    """Ollama's /api/show: the Modelfile's `num_ctx`, else Ollama's default (which its
    OpenAI API uses whatever the model could take), capped by the model's own length."""
    for line in str(show.get("parameters") or "").splitlines():
        key, _, value = line.strip().partition(" ")
        if key == "num_ctx" and value.strip().isdigit():
            return Window(int(value.strip()), "Ollama num_ctx")
    info = show.get("model_info") or {}
    if not isinstance(info, dict) or not info:
        return None
    lengths = [v for k, v in info.items() if k.endswith(".context_length") and isinstance(v, int)]
    n = min([OLLAMA_DEFAULT_NUM_CTX, *lengths])
    return Window(n, f"Ollama's default num_ctx (the model takes {max(lengths, default=n)})")


def from_lmstudio_model(info: dict) -> Window | None:
    """LM Studio's /api/v0/models/NAME: the loaded length, else the model's maximum."""
    for key in ("loaded_context_length", "max_context_length"):
        n = info.get(key)
        if isinstance(n, int) and n > 0:
            return Window(n, f"LM Studio {key}")
    return None


async def from_server(base_url: str, model_name: str) -> Window | None:
    """Ask a running server for its window, the ways the servers above answer."""
    import httpx

    root = base_url.removesuffix("/").removesuffix("/v1")
    probes = (
        ("GET", f"{root}/props", None, from_llama_props),
        ("POST", f"{root}/api/show", {"model": model_name}, from_ollama_show),
        ("GET", f"{root}/api/v0/models/{model_name}", None, from_lmstudio_model),
    )
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as client:
        for method, url, body, read in probes:
            try:
                resp = await client.request(method, url, json=body)
                data = resp.json() if resp.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                continue
            found = read(data) if isinstance(data, dict) else None
            if found is not None:
                return found
    return None


async def find_window(
    context: int | None, folder: Path | None, base_url: str | None, model_name: str | None
) -> Window:
    """The window from the first source that knows it (see the module docstring)."""
    from punie.agent.context import DEFAULT_WINDOW

    if context is not None:
        return Window(context, "--context")
    found = from_config(folder) if folder is not None else None
    if found is None and base_url and model_name:
        found = await from_server(base_url, model_name)
    if found is not None:
        return found
    log.warning(
        "the model's context window is not known: assuming %d tokens (pass --context N)",
        DEFAULT_WINDOW,
    )
    return Window(DEFAULT_WINDOW, "assumed, pass --context", assumed=True)
