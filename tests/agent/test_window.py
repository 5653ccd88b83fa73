"""Where the context window comes from (punie.agent.window): --context, the model
folder, the server's metadata, else an assumed default that is logged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from punie.agent.context import DEFAULT_WINDOW
from punie.agent.window import (
    OLLAMA_DEFAULT_NUM_CTX,
    find_window,
    from_config,
    from_llama_props,
    from_lmstudio_model,
    from_ollama_show,
)


def write(folder, name: str, data: dict) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(data))


def test_a_model_folder_gives_max_position_embeddings(tiny_model):
    assert from_config(tiny_model).tokens == 2048  # TinyConfig's


def test_a_vision_models_text_config_is_read(tmp_path):
    write(tmp_path, "config.json", {"text_config": {"max_position_embeddings": 32768}})
    assert from_config(tmp_path).tokens == 32768


def test_the_tokenizers_model_max_length_is_used_only_when_real(tmp_path):
    write(tmp_path, "config.json", {})
    write(tmp_path, "tokenizer_config.json", {"model_max_length": 1e30})
    assert from_config(tmp_path) is None
    write(tmp_path, "tokenizer_config.json", {"model_max_length": 8192})
    assert from_config(tmp_path).tokens == 8192


def test_llama_cpp_props_give_n_ctx():
    assert from_llama_props({"default_generation_settings": {"n_ctx": 8192}}).tokens == 8192
    assert from_llama_props({"error": "not found"}) is None


def test_ollama_num_ctx_wins_over_the_models_own_length():
    show = {
        "parameters": "stop <|im_end|>\nnum_ctx 16384",
        "model_info": {"qwen2.context_length": 32768},
    }
    assert from_ollama_show(show).tokens == 16384


def test_ollama_without_num_ctx_gets_ollamas_default_not_the_models_length():
    show = {"parameters": "stop <|im_end|>", "model_info": {"qwen2.context_length": 32768}}
    found = from_ollama_show(show)
    assert found.tokens == OLLAMA_DEFAULT_NUM_CTX and "32768" in found.source


def test_lm_studio_gives_the_loaded_length():
    info = {"loaded_context_length": 4096, "max_context_length": 131072}
    assert from_lmstudio_model(info).tokens == 4096


async def test_context_flag_wins_over_the_folder(tiny_model):
    found = await find_window(1234, tiny_model, None, None)
    assert (found.tokens, found.source, found.assumed) == (1234, "--context", False)


async def test_nothing_known_is_an_assumed_default_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="punie.agent"):
        found = await find_window(None, None, None, None)
    assert found.tokens == DEFAULT_WINDOW and found.assumed
    assert "not known" in caplog.text


@contextlib.asynccontextmanager
async def props_server(props: dict):
    """A loopback HTTP server answering llama.cpp's GET /props, 404 elsewhere (a test
    fake: llama.cpp is not installed here)."""

    async def handle(reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        ok = head.startswith("GET /props ")
        body = json.dumps(props).encode() if ok else b"{}"
        status = "200 OK" if ok else "404 Not Found"
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    finally:
        server.close()


async def test_a_running_server_is_asked_for_its_window():
    async with props_server({"default_generation_settings": {"n_ctx": 6144}}) as url:
        found = await find_window(None, None, url, "some-model")
    assert (found.tokens, found.assumed) == (6144, False)
