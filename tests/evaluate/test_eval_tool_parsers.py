"""Scoring through the model's own tool parser: the one mlx_lm.server picks for the
model's tokenizer and chat template, with mlx-lm's real parsers (issue 16, item 1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from eval_fakes import serving

from punie.evaluate.runner import EvalSettings, decoder, run_suite
from punie.evaluate.scoring import Answer, score
from punie.evaluate.suite import Case, parse_suite
from punie.toolcalls import ServerParser

USER = [{"role": "user", "content": "Read src/app.py"}]
READ = {"name": "read_file", "arguments": {"path": ["src/app.py"]}}

# The shapes of the real templates, reduced: what mlx-lm keys its choice on is there.
QWEN3_CODER_TEMPLATE = """{%- for m in messages %}<|im_start|>{{ m.role }}
{{ m.content }}{%- for tc in m.tool_calls or [] %}
<tool_call>
<function={{ tc.function.name }}>
{%- for k, v in tc.function.arguments.items() %}
<parameter={{ k }}>
{{ v }}
</parameter>
{%- endfor %}
</function>
</tool_call>{%- endfor %}<|im_end|>
{% endfor %}{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}"""

MISTRAL_TEMPLATE = """{%- for m in messages %}[INST]{{ m.content }}[/INST]
{%- for tc in m.tool_calls or [] %}[TOOL_CALLS]{{ tc.function.name }}[ARGS]{{ tc.function.arguments | tojson }}
{%- endfor %}{% endfor %}"""

QWEN3_CODER_CALL = (
    "<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/app.py\n</parameter>\n"
    "</function>\n</tool_call>"
)
MISTRAL_CALL = '[TOOL_CALLS]read_file[ARGS]{"path": "src/app.py"}'


def with_template(tiny_model: Path, dest: Path, template: str) -> Path:
    """The tiny model's tokenizer under another chat template (no weights: the
    tokenizer and its template are all the server's choice of parser reads)."""
    dest.mkdir()
    for name in ("config.json", "tokenizer.json", "special_tokens_map.json"):
        shutil.copy(tiny_model / name, dest / name)
    cfg = json.loads((tiny_model / "tokenizer_config.json").read_text())
    cfg["chat_template"] = template
    (dest / "tokenizer_config.json").write_text(json.dumps(cfg))
    (dest / "chat_template.jinja").write_text(template)
    return dest


@pytest.fixture(scope="module")
def models(tiny_model: Path, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("templates")
    return {
        "qwen3_coder": with_template(tiny_model, root / "qwen3coder", QWEN3_CODER_TEMPLATE),
        "mistral": with_template(tiny_model, root / "mistral", MISTRAL_TEMPLATE),
        "json_tools": tiny_model,  # Punie's own template
    }


def tool_case() -> Case:
    return Case(id="c", category="t", messages=USER, tools="agent", expected_calls=[READ])


def test_the_parser_is_the_one_mlx_lm_server_loads_for_the_model(models):
    from mlx_lm.utils import load_tokenizer

    for fmt, path in models.items():
        parser = ServerParser.for_model(path)
        assert parser.format == fmt
        assert parser.tokenizer.tool_parser is load_tokenizer(path).tool_parser
        assert parser.eos_texts == ("<|im_end|>",)


@pytest.mark.parametrize("fmt,call", [("qwen3_coder", QWEN3_CODER_CALL), ("mistral", MISTRAL_CALL)])
def test_a_call_in_the_models_own_format_passes(models, fmt, call):
    # Today's hard-coded <tool_call>{json} regex scored the Qwen3-Coder call a
    # format_error and the Mistral one no_call: every call of such a model failed.
    parser = ServerParser.for_model(models[fmt])
    answer = Answer(raw_text=call + "<|im_end|>", finish_reason="tool_calls", parser=parser)
    s = score(tool_case(), answer)
    assert s.passed, s.detail
    assert s.calls == [{"name": "read_file", "arguments": {"path": "src/app.py"}}]


def test_a_call_in_another_format_than_the_models_is_not_a_call(models):
    # mlx_lm.server on a Mistral model leaves <tool_call> markup in the text.
    parser = ServerParser.for_model(models["mistral"])
    raw = '<tool_call>{"name": "read_file", "arguments": {"path": "src/app.py"}}</tool_call>'
    assert score(tool_case(), Answer(raw_text=raw, parser=parser)).failure == "no_call"


def test_json_string_arguments_are_format_error_through_the_real_parser(models):
    parser = ServerParser.for_model(models["json_tools"])
    args = json.dumps({"path": "src/app.py"})
    raw = json.dumps({"name": "read_file", "arguments": args})
    s = score(tool_case(), Answer(raw_text=f"<tool_call>{raw}</tool_call>", parser=parser))
    assert s.failure == "format_error" and "double-encoded" in s.detail


def test_mistral_json_string_arguments_pass_as_its_parser_decodes_them(models):
    # The same call shape is fine where the server's parser decodes it (mlx-lm's mistral).
    parser = ServerParser.for_model(models["mistral"])
    call = {"name": "read_file", "arguments": json.dumps({"path": "src/app.py"})}
    raw = f"[TOOL_CALLS]{json.dumps([call])}"
    assert score(tool_case(), Answer(raw_text=raw, parser=parser)).passed


def test_a_call_cut_off_by_max_tokens_is_dropped_so_format_error(models):
    parser = ServerParser.for_model(models["qwen3_coder"])
    cut = QWEN3_CODER_CALL[:40]
    s = score(tool_case(), Answer(raw_text=cut, finish_reason="length", parser=parser))
    assert s.failure == "format_error" and "drops" in s.detail


def test_a_call_the_server_fails_on_is_format_error(models):
    # json_tools reads it, then the server's formatter looks for "arguments" (KeyError).
    parser = ServerParser.for_model(models["json_tools"])
    raw = '<tool_call>{"name": "read_file", "parameters": {"path": "src/app.py"}}</tool_call>'
    s = score(tool_case(), Answer(raw_text=raw, parser=parser))
    assert s.failure == "format_error" and "KeyError" in s.detail


def test_a_call_whose_end_marker_never_came_is_delivered_at_a_stop(models):
    # The server parses the tool text it holds when generation stops inside a call.
    parser = ServerParser.for_model(models["json_tools"])
    raw = '<tool_call>{"name": "read_file", "arguments": {"path": "src/app.py"}}<|im_end|>'
    assert score(tool_case(), Answer(raw_text=raw, finish_reason="stop", parser=parser)).passed


class TokenServer:
    """Fake (named so): an OpenAI endpoint that answers as mlx_lm.server does with
    logprobs, for a generation whose calls it did not deliver: the text's token ids."""

    def __init__(self, ids: list[int]):
        self.ids = ids

    async def handle(self, reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        length = next(
            int(h.split(":")[1]) for h in head.split("\r\n") if h.lower().startswith("content-")
        )
        await reader.readexactly(length)
        choice = {
            "message": {"role": "assistant", "content": ""},
            "finish_reason": "stop",
            "logprobs": {"content": [{"id": i, "logprob": 0.0} for i in self.ids]},
        }
        body = json.dumps({"choices": [choice]}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()


SUITE = """
name: parsers
max_tokens: 64
cases:
  - id: read
    category: read_file
    messages: [{role: user, content: "Read src/app.py"}]
    tools: agent
    expected_calls: [{name: read_file, arguments: {path: [src/app.py]}}]
"""


@pytest.mark.parametrize("fmt,call", [("qwen3_coder", QWEN3_CODER_CALL), ("mistral", MISTRAL_CALL)])
async def test_the_runner_scores_raw_text_with_the_models_parser(models, tmp_path, fmt, call):
    # End to end through the runner: today's code scores both a format_error / no_call.
    from tokenizers import Tokenizer

    path = models[fmt]
    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    ids = tok.encode(call + "<|im_end|>", add_special_tokens=False).ids
    async with serving(TokenServer(ids), model_path=path) as ep:
        suite = parse_suite(SUITE, "parsers.yaml")
        result = await run_suite(ep, suite, tmp_path, settings=EvalSettings(), progress=False)
        (case,) = result.cases
        assert case.raw_text == call + "<|im_end|>"
        assert case.passed, case.detail
        assert decoder(ep).parser.format == fmt


def test_split_does_not_depend_on_how_the_text_arrives(models):
    # The server feeds its state machine one token's text at a time; the scorer feeds
    # the whole generation: the state machine holds partial markers back either way.
    from mlx_lm.generate import TextStateMachine

    parser = ServerParser.for_model(models["qwen3_coder"])
    text = "Let me look.\n" + QWEN3_CODER_CALL + "\nDone."
    state = parser._machine.make_state("normal")
    pieces = []
    for ch in text:
        state, segments = TextStateMachine.split(state, ch)
        pieces += segments
    tool = "".join(t for s, t in pieces if s == "tool")
    tool_texts, content = parser.split(text)
    assert tool_texts == [tool] and content == "Let me look.\n\nDone."
