"""Validation finds every problem in one pass and names its file:line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from punie.data.schema import tool_call
from punie.data.validate import validate_path
from punie.toolspec import AGENT_TOOLS


def _good(request: str = "Show me README.md", path: str = "README.md") -> dict:
    call = tool_call("call_1", "read_file", {"path": path})
    return {
        "messages": [
            {"role": "user", "content": request},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "# Punie"},
            {"role": "assistant", "content": "It is the project readme."},
        ],
        "tools": AGENT_TOOLS,
    }


def _write(path: Path, rows: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _bad(mutate) -> dict:
    row = _good()
    mutate(row)
    return row


def _args(row, value):
    row["messages"][1]["tool_calls"][0]["function"]["arguments"] = value


BAD_ROWS = {
    "unknown role": (lambda r: r["messages"][0].update(role="human"), "role 'human' is unknown"),
    "empty user": (lambda r: r["messages"][0].update(content="  "), "(user) content is empty"),
    "undeclared tool": (
        lambda r: r["messages"][1]["tool_calls"][0]["function"].update(name="delete_all"),
        "undeclared tool 'delete_all'",
    ),
    "args not json": (lambda r: _args(r, "{path: x}"), "arguments is not valid JSON"),
    "args as dict": (lambda r: _args(r, {"path": "x"}), "arguments is an object"),
    "missing required": (lambda r: _args(r, "{}"), "'path' is a required property"),
    "wrong type": (lambda r: _args(r, '{"path": 3}'), "arguments.path: 3 is not of type 'string'"),
    "unknown arg": (lambda r: _args(r, '{"path": "a", "glob": "*"}'), "('glob' was unexpected)"),
    "unknown call id": (
        lambda r: r["messages"][2].update(tool_call_id="call_9"),
        "'call_9' matches no earlier call",
    ),
    "ends with user": (
        lambda r: r["messages"].append({"role": "user", "content": "thanks"}),
        "last message is not an assistant turn",
    ),
    "system not first": (
        lambda r: r["messages"].insert(1, {"role": "system", "content": "be brief"}),
        "system message is not first",
    ),
    "no tools declared": (lambda r: r.pop("tools"), "declares no tools"),
    "empty assistant": (lambda r: r["messages"][3].update(content=""), "assistant turn is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_each_bad_row_is_reported_with_its_line(tmp_path, case):
    mutate, expected = BAD_ROWS[case]
    f = _write(tmp_path / "train.jsonl", [_good(), _bad(mutate)])
    report = validate_path(f)
    assert [str(e) for e in report.errors if expected in str(e)], report.errors
    assert {e.line for e in report.errors} == {2}
    assert all(str(e).startswith(f"{f}:2: ") and str(e).endswith(")") for e in report.errors)


def test_all_errors_are_found_in_one_pass(tmp_path):
    rows = ["{not json", "", _bad(lambda r: _args(r, "{}")), _good(), b"\xff\xfe".decode("latin-1")]
    f = _write(tmp_path / "train.jsonl", rows)
    f.write_bytes(f.read_bytes().replace("ÿþ".encode(), b"\xff\xfe"))
    lines = sorted(e.line for e in validate_path(f).errors)
    assert lines == [1, 2, 3, 5]


def test_good_rows_pass(tmp_path):
    f = _write(tmp_path / "train.jsonl", [_good(), _good("Open setup.cfg", "setup.cfg")])
    report = validate_path(f)
    assert report.ok and not report.warnings


def test_mixed_forms_in_one_file_are_an_error(tmp_path):
    f = _write(tmp_path / "train.jsonl", [_good(), {"prompt": "a", "completion": "b"}])
    assert "completion row in a chat file" in str(validate_path(f).errors[0])


def test_duplicates_and_leakage_are_warnings(tmp_path):
    near = _good("show me readme.md!", "README.md")
    _write(tmp_path / "train.jsonl", [_good(), _good(), near, _good("Open a.txt", "a.txt")])
    _write(tmp_path / "valid.jsonl", [_good("Open a.txt", "a.txt")])
    report = validate_path(tmp_path)
    assert report.ok
    text = [str(w) for w in report.warnings]
    assert any("train.jsonl:2: exact duplicate of line 1" in t for t in text)
    assert any("train.jsonl:3: near duplicate of line 1" in t for t in text)
    assert any("valid.jsonl:1: same request as" in t and "leakage" in t for t in text)


def test_token_length_uses_the_models_template(tmp_path, tiny_model):
    f = _write(tmp_path / "train.jsonl", [_good(), _good("x " * 600, "a.py")])
    report = validate_path(f, model=tiny_model, max_seq_length=400)
    assert [e.line for e in report.errors] == [2]
    assert "over --max-seq-length 400" in str(report.errors[0])
    assert report.max_tokens and report.max_tokens > 400


def test_cli_prints_every_error_and_exits_2_without_traceback(tmp_path):
    f = _write(tmp_path / "train.jsonl", ["{oops", _bad(lambda r: _args(r, "{}"))])
    proc = subprocess.run(
        [sys.executable, "-m", "punie", "data", "validate", str(f)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert f"{f}:1: invalid JSON" in proc.stdout and f"{f}:2: " in proc.stdout
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")


def test_rows_sharing_one_tools_list_are_parsed_and_checked_like_any_other(tmp_path):
    bad_tools = [{"type": "function", "function": {"parameters": {}}}]
    rows = [
        _good(),
        _good("Open b.md", "b.md"),
        _bad(lambda r: r.update(tools=bad_tools)),
        _bad(lambda r: r.update(tools=bad_tools)),
    ]
    rows[1]["messages"][0]["tools"] = AGENT_TOOLS  # a nested "tools" key must stay put
    f = _write(tmp_path / "train.jsonl", rows)
    from punie.data.files import read_rows

    assert read_rows(_write(tmp_path / "good.jsonl", rows[:2] * 2)) == rows[:2] * 2
    errors = validate_path(f).errors
    assert {e.line for e in errors if "has no function name" in e.message} == {3, 4}


def test_nothing_is_written_when_input_is_invalid(tmp_path):
    f = _write(tmp_path / "train.jsonl", [_good(), "{broken"])
    out = tmp_path / "split"
    proc = subprocess.run(
        [sys.executable, "-m", "punie", "data", "split", str(f), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {f}:2: invalid JSON")
    assert not out.exists()


def test_an_empty_split_is_an_error(tmp_path):
    _write(tmp_path / "train.jsonl", [_good()])
    (tmp_path / "valid.jsonl").write_text("")
    (err,) = validate_path(tmp_path).errors
    assert str(err).startswith(f"{tmp_path / 'valid.jsonl'}: the file holds no examples")


GOTO = {
    "type": "function",
    "function": {
        "name": "goto",
        "parameters": {
            "type": "object",
            "properties": {"line": {"type": "integer"}, "zoom": {"type": "number"}},
            "required": ["line"],
        },
    },
}


def _goto_row(arguments: dict) -> dict:
    call = tool_call("call_1", "goto", arguments)
    return {
        "messages": [
            {"role": "user", "content": "go to line 3"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
            {"role": "assistant", "content": "Done."},
        ],
        "tools": [GOTO],
    }


@pytest.mark.parametrize(
    "arguments,error",
    [
        ({"line": 3.0}, "goto arguments.line: 3.0 is not of type 'integer'"),
        ({"line": True}, "goto arguments.line: True is not of type 'integer'"),
        ({"line": 3, "zoom": 2}, None),  # an int is a number
    ],
)
def test_integer_arguments_are_integer_literals_and_an_int_is_a_number(tmp_path, arguments, error):
    report = validate_path(_write(tmp_path / "train.jsonl", [_goto_row(arguments)]))
    assert [e.message.split(": ", 1)[1] for e in report.errors] == ([error] if error else [])


def test_a_tool_with_an_invalid_schema_is_reported_once(tmp_path):
    row = _goto_row({"line": 3})
    row["tools"] = [{**GOTO, "function": {**GOTO["function"], "parameters": {"type": "int"}}}]
    (err,) = validate_path(_write(tmp_path / "train.jsonl", [row])).errors
    assert "tool 'goto' parameters is not a valid JSON schema" in err.message
