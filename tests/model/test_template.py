"""Punie's chat template, rendered by the real tokenizer (transformers' jinja) of the tiny model."""

from __future__ import annotations

import json
import re

import pytest

from punie.model.template import CHAT_TEMPLATE, TOOL_CALL_END, TOOL_CALL_START
from punie.toolspec import AGENT_TOOLS

ARGS = {"path": "src/app.py", "content": 'print("hi")\n'}


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    from mlx_lm.tokenizer_utils import load

    return load(tiny_model)


def _conversation(arguments) -> list[dict]:
    return [
        {"role": "system", "content": "You are Punie."},
        {"role": "user", "content": "Write the file."},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "write_file", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        {"role": "assistant", "content": "Done."},
    ]


def _render(tokenizer, messages, **kw) -> str:
    return tokenizer.apply_chat_template(messages, tools=AGENT_TOOLS, tokenize=False, **kw)


def test_string_and_dict_arguments_render_identically(tokenizer):
    # The OpenAI string form as json.dumps writes it (what Punie's data files hold).
    as_string = _render(tokenizer, _conversation(json.dumps(ARGS)))
    as_dict = _render(tokenizer, _conversation(ARGS))
    assert as_string == as_dict
    assert TOOL_CALL_START in as_dict


def test_json_tools_parser_reads_the_rendered_call_back(tokenizer):
    from mlx_lm.tool_parsers import json_tools

    text = _render(tokenizer, _conversation(json.dumps(ARGS)))
    assistant = text.split("<|im_start|>assistant\n", 1)[1]  # past the system turn's example
    body = re.search(
        re.escape(TOOL_CALL_START) + "(.*?)" + re.escape(TOOL_CALL_END), assistant, re.S
    ).group(1)
    assert json_tools.parse_tool_call(body) == {"name": "write_file", "arguments": ARGS}


def test_tools_are_listed_in_the_system_turn(tokenizer):
    text = _render(tokenizer, _conversation(ARGS), add_generation_prompt=True)
    system = text.split("<|im_end|>")[0]
    assert system.startswith("<|im_start|>system\nTools:\n")
    assert system.endswith("or answer directly.\nYou are Punie.")
    for tool in AGENT_TOOLS:
        assert f"- {tool['function']['name']}(" in system
    assert "write_file(path: string, content: string)" in system
    assert "search(pattern: string, path?: string)" in system  # optional marked
    assert text.endswith("<|im_start|>assistant\n")


def test_mlx_lm_picks_the_json_tools_parser(tokenizer):
    assert tokenizer.has_tool_calling
    assert (tokenizer.tool_call_start, tokenizer.tool_call_end) == (TOOL_CALL_START, TOOL_CALL_END)
    assert tokenizer.chat_template == CHAT_TEMPLATE


def test_rows_with_and_without_a_system_prompt_share_the_whole_tool_listing(tokenizer):
    # Tools come before the system prompt so every prompt starts with the same ~150
    # tokens: training runs that prefix once per batch, the server can reuse its cache.
    bare = _conversation(ARGS)[1:]
    assert bare[0]["role"] == "user"
    with_system = _render(tokenizer, _conversation(ARGS))
    without = _render(tokenizer, bare)
    listing_end = with_system.index("or answer directly.") + len("or answer directly.")
    assert without[:listing_end] == with_system[:listing_end]
