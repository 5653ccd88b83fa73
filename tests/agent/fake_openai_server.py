"""FakeOpenAIServer: a loopback stand-in for mlx_lm.server's streamed chat completions,
emitting tool calls in exactly its wire shape (index, uuid id, JSON-string arguments,
finish_reason "tool_calls"), so a test can check the OpenAI path end to end without
a model that has learned to call tools."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid


def _chunk(delta: dict, finish: str | None = None) -> bytes:
    obj = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "model": "default_model",
        "created": 0,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(obj)}\n\n".encode()


class FakeOpenAIServer:
    """First request: one tool call `tool(args)`. Next (with the tool result): text
    `saw: RESULT`. Records every chat request's body; any other path is a 404."""

    def __init__(self, tool: str, args: dict):
        self.tool, self.args = tool, args
        self.requests: list[dict] = []
        self.port = 0

    def _reply(self, body: dict) -> bytes:
        results = [m for m in body["messages"] if m["role"] == "tool"]
        if not results:
            call = {
                "index": 0,
                "id": str(uuid.uuid4()),
                "type": "function",
                "function": {"name": self.tool, "arguments": json.dumps(self.args)},
            }
            return _chunk({"role": "assistant", "tool_calls": [call]}, "tool_calls")
        return _chunk({"content": "saw: "}) + _chunk({"content": results[-1]["content"]}, "stop")

    def _respond(self, body: dict) -> tuple[bytes, bytes]:
        """(content type, body) of the reply to one request; subclasses answer otherwise."""
        return b"text/event-stream", self._reply(body) + b"data: [DONE]\n\n"

    async def _handle(self, reader, writer) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = next(
                    (
                        int(h.split(":")[1])
                        for h in head.split("\r\n")
                        if h.lower().startswith("content-length:")
                    ),
                    0,
                )
                body = json.loads(await reader.readexactly(length)) if length else {}
                if head.split(" ", 2)[1].endswith("/chat/completions"):
                    self.requests.append(body)
                    status, (kind, payload) = b"200 OK", self._respond(body)
                else:  # what a server without that endpoint says (an agent's probes)
                    status, kind, payload = b"404 Not Found", b"text/plain", b"not found"
                writer.write(
                    b"HTTP/1.1 "
                    + status
                    + b"\r\nContent-Type: "
                    + kind
                    + b"\r\n"
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        writer.close()

    async def __aenter__(self) -> FakeOpenAIServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def spec(self) -> str:
        return f"local:{self.base_url}/default_model"
