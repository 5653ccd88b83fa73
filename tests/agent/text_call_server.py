"""TextCallServer: a loopback OpenAI-compatible server (a test fake) that answers each
prompt with the next of its texts, a tool call written in the TEXT (`content`, no
`tool_calls`) as local servers often do, streamed in small chunks or as one
completion, whichever the request asks. After a tool result it answers `saw: RESULT`."""

from __future__ import annotations

import json

from fake_openai_server import FakeOpenAIServer, _chunk

CALL = {"name": "read_file", "arguments": {"path": "notes.txt"}}
SHAPES = {
    "hermes_json": f"<tool_call>\n{json.dumps(CALL)}\n</tool_call>",
    "qwen3_coder_xml": (
        "<tool_call>\n<function=read_file>\n<parameter=path>\nnotes.txt\n</parameter>\n"
        "</function>\n</tool_call>"
    ),
    "mistral": '[TOOL_CALLS]read_file[ARGS]{"path": "notes.txt"}',
    "bare_json": json.dumps(CALL),
    "fenced_json": f"I will read it.\n```json\n{json.dumps(CALL, indent=2)}\n```",
}


def _completion(content: str) -> bytes:
    msg = {"role": "assistant", "content": content}
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": "default_model",
            "created": 0,
            "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()


def _stream(content: str, piece: int = 5) -> bytes:
    # Small pieces, so the markers arrive split across chunks.
    out = _chunk({"role": "assistant", "content": ""})
    for i in range(0, len(content), piece):
        out += _chunk({"content": content[i : i + piece]})
    return out + _chunk({}, "stop") + b"data: [DONE]\n\n"


class TextCallServer(FakeOpenAIServer):
    def __init__(self, *texts: str):
        super().__init__("", {})
        self.texts = list(texts)

    def _content(self, body: dict) -> str:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return f"saw: {last['content']}"
        return self.texts.pop(0)

    def _respond(self, body: dict) -> tuple[bytes, bytes]:
        content = self._content(body)
        if body.get("stream"):
            return b"text/event-stream", _stream(content)
        return b"application/json", _completion(content)
