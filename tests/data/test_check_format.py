"""check-format renders with the model's template and parses with mlx-lm's tool parser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from punie.data.check_format import check_format, split_tool_text
from punie.data.generate import generate
from punie.data.validate import validate_path
from punie.model.template import CHAT_TEMPLATE


@pytest.fixture(scope="module")
def tools_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "tools"
    generate("tools", out, n=120, seed=3)
    return out


@pytest.fixture(scope="module")
def quoting_model(tiny_model, tmp_path_factory) -> Path:
    """A copy of the tiny model whose template prints `arguments` through tojson, which
    quotes the OpenAI arguments string (the Qwen-style mistake this check exists for)."""
    broken = CHAT_TEMPLATE.replace(
        "{{- render_args(tool_call.arguments) -}}", "{{- tool_call.arguments | tojson -}}"
    )
    assert broken != CHAT_TEMPLATE
    out = tmp_path_factory.mktemp("models") / "tiny-quoting"
    shutil.copytree(tiny_model, out)
    (out / "chat_template.jinja").write_text(broken)
    cfg = json.loads((out / "tokenizer_config.json").read_text())
    cfg["chat_template"] = broken
    (out / "tokenizer_config.json").write_text(json.dumps(cfg))
    return out


def test_generated_tools_pass_validate_and_check_format_on_tiny_model(tools_dataset, tiny_model):
    report = validate_path(tools_dataset, model=tiny_model, max_seq_length=1024)
    assert report.ok, report.errors[:3]
    assert not report.warnings, report.warnings[:3]
    fmt = check_format(tools_dataset, tiny_model)
    assert fmt.ok, fmt.issues[:3]
    assert fmt.parser == "mlx_lm.tool_parsers.json_tools"
    assert fmt.calls > 100


def test_a_template_that_quotes_arguments_is_caught(tools_dataset, quoting_model):
    fmt = check_format(tools_dataset / "valid.jsonl", quoting_model)
    assert not fmt.ok
    assert all("prints `arguments` as a quoted JSON string" in i.message for i in fmt.issues)
    assert fmt.issues[0].line >= 1 and fmt.calls == 0


def test_split_tool_text_follows_the_server_state_logic():
    calls, content, open_ = split_tool_text("hi <a>1</a> and <a>2</a>!", "<a>", "</a>")
    assert (calls, content, open_) == (["1", "2"], "hi  and !", False)
    assert split_tool_text("x <a>{", "<a>", "</a>") == (["{"], "x ", True)


@pytest.mark.slow
def test_generated_tools_pass_validate_and_check_format_on_smollm2(tools_dataset, smollm2):
    report = validate_path(tools_dataset, model=smollm2, max_seq_length=416)  # the demo's cap
    assert report.ok, report.errors[:3]
    fmt = check_format(tools_dataset, smollm2)
    assert fmt.ok, fmt.issues[:3]
    assert fmt.parser == "mlx_lm.tool_parsers.json_tools"


def test_a_template_that_renders_earlier_turns_differently_is_caught(tiny_model, tmp_path):
    # Some templates rewrite earlier assistant turns (Qwen3 strips their reasoning): a
    # trace trained as one example would then be masked at the wrong tokens.
    broken = CHAT_TEMPLATE.replace(
        "{%- if message.content -%}{{- message.content -}}{%- endif -%}",
        "{%- if message.content and loop.last -%}{{- message.content -}}{%- endif -%}",
    )
    assert broken != CHAT_TEMPLATE
    model = tmp_path / "tiny-rewriting"
    shutil.copytree(tiny_model, model)
    (model / "chat_template.jinja").write_text(broken)
    cfg = json.loads((model / "tokenizer_config.json").read_text())
    cfg["chat_template"] = broken
    (model / "tokenizer_config.json").write_text(json.dumps(cfg))
    row = {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "bye"},
            {"role": "assistant", "content": "Goodbye."},
        ]
    }
    data = tmp_path / "trace.jsonl"
    data.write_text(json.dumps(row) + "\n")
    fmt = check_format(data, model)
    assert [i.message for i in fmt.issues] == [
        "messages[1]: the rendered turn is not a prefix of the rendered row"
    ]
    assert check_format(data, tiny_model).ok
