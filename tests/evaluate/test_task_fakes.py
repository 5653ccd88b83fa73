"""Scripted pydantic-ai models for the task-runner tests (not a test module)."""

from __future__ import annotations

import json

from pydantic_ai.messages import ModelRequest, ModelResponse, UserPromptPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from punie.evaluate.tasks import TaskSuite


def _since_prompt(messages) -> tuple[str, int]:
    """(the last user prompt, model responses after it)."""
    prompt, n = "", 0
    for m in messages:
        if isinstance(m, ModelRequest) and any(isinstance(p, UserPromptPart) for p in m.parts):
            prompt = next(p.content for p in m.parts if isinstance(p, UserPromptPart))
            n = 0
        elif isinstance(m, ModelResponse):
            n += 1
    return prompt, n


def scripted(scripts: dict[str, list] | list) -> FunctionModel:
    """Each step: ("name", {args}) for a tool call, or a str for the answer. With a dict,
    the script is picked by the prompt; the last step repeats once the script runs out."""

    async def stream(messages, info: AgentInfo):
        prompt, n = _since_prompt(messages)
        steps = scripts[prompt] if isinstance(scripts, dict) else scripts
        step = steps[min(n, len(steps) - 1)]
        if isinstance(step, str):
            yield step
        else:
            name, args = step
            raw = args if isinstance(args, str) else json.dumps(args)
            yield {0: DeltaToolCall(name=name, json_args=raw, tool_call_id=f"c{n}")}

    return FunctionModel(stream_function=stream, model_name="scripted")


def suite_of(*cases: dict, **extra) -> TaskSuite:
    return TaskSuite(name="t", cases=list(cases), **extra)
