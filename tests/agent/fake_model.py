"""TEST FAKE: a deterministic pydantic-ai FunctionModel that `punie serve --model
test-fake:THIS_FILE` puts behind the real agent (the real model can't be scripted).

The user's prompt is the script, one command per line:
    TOOL name {"json": "args"}   call a tool; lines run one after another
    BADJSON                      call read_file with unparseable arguments, every time
    REPEAT name {"json": "args"} call that tool with those arguments, every time
    SLOW                         stream 100 chunks, 50 ms apart (to cancel mid-turn)
    TRICKLE                      stream 5 chunks, 100 ms apart (a model slower than the agent)
    HISTORY                      answer with the earlier user prompts of this session
    NOISE                        print to stdout (Python and fd 1) on every model call
    anything else                echoed back in several chunks
After the last TOOL line the answer is `results: ` + the JSON list of what the tools
returned to the model, so a test sees exactly what the model was told.
"""

from __future__ import annotations

import asyncio
import json
import os

from pydantic_ai.messages import ModelRequest, ToolReturnPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel


def _user_prompts(messages) -> list[str]:
    return [
        p.content
        for m in messages
        if isinstance(m, ModelRequest)
        for p in m.parts
        if isinstance(p, UserPromptPart) and isinstance(p.content, str)
    ]


def _returns_since_last_prompt(messages) -> list[str]:
    out: list[str] = []
    for m in messages:
        if not isinstance(m, ModelRequest):
            continue
        for p in m.parts:
            if isinstance(p, UserPromptPart):
                out = []
            elif isinstance(p, ToolReturnPart):
                out.append(str(p.content))
    return out


async def fake_stream(messages, info: AgentInfo):
    prompts = _user_prompts(messages)
    prompt = prompts[-1] if prompts else ""
    lines = [ln.strip() for ln in prompt.splitlines() if ln.strip()]
    if "NOISE" in lines:
        print("stray print on stdout")
        os.write(1, b"stray bytes on fd 1\n")
    tool_lines = [ln for ln in lines if ln.startswith("TOOL ")]
    if tool_lines:
        done = _returns_since_last_prompt(messages)
        if len(done) < len(tool_lines):
            _, name, args = tool_lines[len(done)].split(" ", 2)
            yield {0: DeltaToolCall(name=name, json_args=args, tool_call_id=f"fake{len(done)}")}
            return
        yield "results: "
        yield json.dumps(done)
        return
    if lines and lines[0].startswith("REPEAT "):
        _, name, args = lines[0].split(" ", 2)
        n = len(_returns_since_last_prompt(messages))
        yield {0: DeltaToolCall(name=name, json_args=args, tool_call_id=f"rep{n}")}
        return
    if lines and lines[0] == "BADJSON":
        yield {0: DeltaToolCall(name="read_file", json_args='{"path": ', tool_call_id="bad")}
        return
    if lines and lines[0] == "SLOW":
        for i in range(100):
            yield f"tick{i} "
            await asyncio.sleep(0.05)
        return
    if lines and lines[0] == "TRICKLE":
        for i in range(5):
            yield f"drop{i} "
            await asyncio.sleep(0.1)
        return
    if lines and lines[0] == "HISTORY":
        yield "earlier: "
        yield json.dumps(prompts[:-1])
        return
    for word in f"echo: {prompt}".split(" "):
        yield word + " "


def build_model() -> FunctionModel:
    return FunctionModel(stream_function=fake_stream, model_name="punie-test-fake")
