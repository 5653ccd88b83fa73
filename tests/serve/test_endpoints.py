"""Endpoint specs: parsing is pure; opening a managed one starts a real server."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from serve_lora import PROMPT, chat, train_tiny_adapter

from punie.errors import PunieError
from punie.serve.endpoints import (
    LM_STUDIO_URL,
    OLLAMA_URL,
    EndpointSpec,
    open_endpoint,
    parse_endpoint,
)
from punie.serve.server import ManagedServer


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("local", EndpointSpec("openai", LM_STUDIO_URL, None)),
        ("local:qwen2.5-coder", EndpointSpec("openai", LM_STUDIO_URL, "qwen2.5-coder")),
        ("local:http://h:8080/v1", EndpointSpec("openai", "http://h:8080/v1", None)),
        ("local:http://h:8080/v1/", EndpointSpec("openai", "http://h:8080/v1", None)),
        ("local:http://h:8080/v1/org/m", EndpointSpec("openai", "http://h:8080/v1", "org/m")),
        ("local:http://h:8080", EndpointSpec("openai", "http://h:8080/v1", None)),
        ("local:https://x.y/api/v1/m", EndpointSpec("openai", "https://x.y/api/v1", "m")),
        ("ollama:llama3.2", EndpointSpec("openai", OLLAMA_URL, "llama3.2")),
        ("/models/tiny", EndpointSpec("managed", model="/models/tiny")),
        ("smollm2-135m", EndpointSpec("managed", model="smollm2-135m")),
    ],
)
def test_parse_endpoint(spec: str, expected: EndpointSpec):
    assert parse_endpoint(spec) == expected


@pytest.mark.parametrize("spec", ["", "local:", "ollama:", "local:http://"])
def test_parse_endpoint_rejects_incomplete_specs(spec: str):
    with pytest.raises(PunieError):
        parse_endpoint(spec)


async def test_open_managed_endpoint(tiny_model: Path):
    async with open_endpoint(str(tiny_model)) as ep:
        assert ep.model_name == "default_model"
        assert ep.server is not None and ep.server.running
        assert ep.base_url == ep.server.base_url
        assert ep.model_path == tiny_model
    assert not ep.server.running


async def test_adapter_on_a_running_server_is_refused(tmp_path: Path):
    with pytest.raises(PunieError, match="--adapter needs a managed model"):
        async with open_endpoint("local:http://127.0.0.1:9/v1/m", adapter=tmp_path):
            pass


async def test_local_url_on_an_mlx_lm_server_keeps_its_adapter(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Found in review: local:URL requested the id /v1/models lists, which mlx_lm.server
    # answers with the base model, without the --adapter-path the user started it with.
    # (Its listing needs a Hugging Face cache folder: without one it answers no JSON.)
    (tmp_path / "hf").mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    adapter = train_tiny_adapter(tiny_model, tmp_path / "adapter")
    with ManagedServer(tiny_model) as base:
        base_out = chat(base.base_url, base.model_name, PROMPT)
    with ManagedServer(tiny_model, adapter=adapter) as user_server:  # the user's server
        async with open_endpoint(f"local:{user_server.base_url}") as ep:
            got = chat(ep.base_url, ep.model_name, PROMPT)
        with urllib.request.urlopen(f"{user_server.base_url}/models", timeout=30) as resp:
            listed = json.loads(resp.read())["data"][0]["id"]
        assert chat(user_server.base_url, listed, PROMPT) == base_out  # why: no adapter
    assert got != base_out  # the adapter's answer, not the base model's
    assert ep.model_name == "default_model"


class OtherServer(BaseHTTPRequestHandler):
    """Fake (named so): an OpenAI server that is not mlx_lm.server, on Python's
    http.server like mlx_lm.server itself; it answers any model with its own name."""

    posts: list[str] = []

    def _json(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's name
        self._json({"object": "list", "data": [{"id": "listed-model", "object": "model"}]})

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append(self.path)
        message = {"role": "assistant", "content": "x"}
        self._json(
            {
                "model": "listed-model",
                "system_fingerprint": "fp_44709d6fcb",
                "choices": [{"message": message, "finish_reason": "stop"}],
            }
        )

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def other_server(server_version: str):
    handler = type("Handler", (OtherServer,), {"server_version": server_version, "posts": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("server_version", ["BaseHTTP/0.6", "uvicorn"])
async def test_local_url_on_another_server_requests_the_listed_id(server_version: str):
    with other_server(server_version) as (url, handler):
        async with open_endpoint(f"local:{url}") as ep:
            assert ep.model_name == "listed-model"
    # Only a Python http.server is probed (one chat); any other server is sent nothing.
    assert handler.posts == (["/v1/chat/completions"] if server_version.startswith("Base") else [])
