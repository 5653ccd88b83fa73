"""Endpoint specs: parsing is pure; opening a managed one starts a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from punie.errors import PunieError
from punie.serve.endpoints import (
    LM_STUDIO_URL,
    OLLAMA_URL,
    EndpointSpec,
    open_endpoint,
    parse_endpoint,
)


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
