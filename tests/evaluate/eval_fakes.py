"""A fake OpenAI endpoint for the runner tests (not a test module)."""

from __future__ import annotations

import asyncio
import contextlib
import json

from punie.serve.endpoints import Endpoint


class RecordingServer:
    """Fake (named so): a loopback OpenAI endpoint that answers after `delay` seconds and
    records each request body and how many requests were in flight when it arrived.
    The real mlx_lm.server on the tiny model prefills too fast for the order of
    arrivals to show."""

    def __init__(self, delay: float = 0.2, content: str = "hi"):
        self.delay = delay
        self.content = content
        self.in_flight = 0
        self.seen: list[int] = []  # requests already in flight at each arrival
        self.bodies: list[dict] = []

    async def handle(self, reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        length = next(
            int(h.split(":")[1])
            for h in head.split("\r\n")
            if h.lower().startswith("content-length:")
        )
        self.bodies.append(json.loads(await reader.readexactly(length)))
        self.seen.append(self.in_flight)
        self.in_flight += 1
        await asyncio.sleep(self.delay)
        self.in_flight -= 1
        reply = {
            "choices": [{"message": {"content": self.content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens_details": {"cached_tokens": 7}},
        }
        body = json.dumps(reply).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def serving(fake: RecordingServer, model_name: str = "m", **endpoint):
    """An Endpoint for `fake`, listening on a free loopback port while the block runs."""
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield Endpoint(f"http://127.0.0.1:{port}/v1", model_name, **endpoint)
