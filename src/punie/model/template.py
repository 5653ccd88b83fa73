"""Punie's tools-capable ChatML chat template.

Qwen-style tool calls (`<tool_call>{"name": ..., "arguments": {...}}</tool_call>`)
so that mlx_lm.server's `json_tools` parser recognises them (it is picked when the
template contains `<tool_call>` and `tool_call.name`). Tools are listed in the
system turn as one compact signature line each instead of their full JSON schema:
on a 2-core CPU every prompt token costs, and a 135M model reads a signature as
well as a schema. The listing comes before the system prompt, so prompts with
different system prompts (or none) still share those ~150 tokens: training runs a
shared prefix once per batch (punie.train.loss), and a server can reuse its cache.

Arguments render as a JSON object whether the message holds them as a dict (what
mlx_lm.server passes) or as the OpenAI JSON string (what training data holds):
printing the string through `tojson` would quote it and teach calls no parser reads.
"""

from __future__ import annotations

import json
from pathlib import Path

from punie import atomic

TOOL_CALL_START = "<tool_call>"
TOOL_CALL_END = "</tool_call>"

CHAT_TEMPLATE = (
    "{%- macro render_args(args) -%}"
    "{%- if args is string -%}{{- args -}}{%- else -%}{{- args | tojson -}}{%- endif -%}"
    "{%- endmacro -%}"
    "{%- set ns = namespace(start=0) -%}"
    "{%- if messages and messages[0].role == 'system' -%}{%- set ns.start = 1 -%}{%- endif -%}"
    "{%- if tools -%}"
    "{{- '<|im_start|>system\\nTools:\\n' -}}"
    "{%- for tool in tools -%}"
    "{%- set f = tool.function if tool.function is defined else tool -%}"
    "{%- set params = f.parameters if f.parameters is defined else {} -%}"
    "{%- set req = params.required if params.required is defined else [] -%}"
    "{{- '- ' + f.name + '(' -}}"
    "{%- for pname, pspec in (params.properties if params.properties is defined else {}).items() -%}"
    "{{- pname -}}{%- if pname not in req -%}{{- '?' -}}{%- endif -%}"
    "{{- ': ' + (pspec.type if pspec.type is defined else 'any') -}}"
    "{%- if not loop.last -%}{{- ', ' -}}{%- endif -%}"
    "{%- endfor -%}"
    "{{- ')' -}}"
    "{%- if f.description is defined and f.description -%}{{- ' ' + f.description -}}{%- endif -%}"
    "{{- '\\n' -}}"
    "{%- endfor -%}"
    '{{- \'Call a tool as <tool_call>{"name": ..., "arguments": {...}}</tool_call>\''
    " + ' or answer directly.' -}}"
    "{%- if ns.start == 1 -%}{{- '\\n' + messages[0].content -}}{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- elif ns.start == 1 -%}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- for message in messages[ns.start:] -%}"
    "{%- if message.role == 'assistant' -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- if message.content -%}{{- message.content -}}{%- endif -%}"
    "{%- if message.tool_calls is defined and message.tool_calls -%}"
    "{%- for tool_call in message.tool_calls -%}"
    "{%- if tool_call.function is defined -%}{%- set tool_call = tool_call.function -%}{%- endif -%}"
    '{{- \'<tool_call>{"name": "\' + tool_call.name + \'", "arguments": \' -}}'
    "{{- render_args(tool_call.arguments) -}}"
    "{{- '}</tool_call>' -}}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{{- '<|im_end|>\\n' -}}"
    "{%- elif message.role == 'tool' -%}"
    "{{- '<|im_start|>tool\\n' + message.content + '<|im_end|>\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)


def install_chat_template(model_dir: Path) -> None:
    """Make Punie's template the model's own, in both places transformers reads it."""
    model_dir = Path(model_dir)
    atomic.write_text(model_dir / "chat_template.jinja", CHAT_TEMPLATE)
    cfg_path = model_dir / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    cfg["chat_template"] = CHAT_TEMPLATE
    atomic.write_json(cfg_path, cfg)
