"""Import from sharegpt, openai, glaive and alpaca files; bad rows reported by line."""

from __future__ import annotations

import json
import subprocess
import sys

from punie.data.files import read_rows
from punie.data.importers import import_file
from punie.data.validate import validate_path

READ_SPEC = {
    "name": "read_file",
    "description": "Read a file",
    "parameters": {
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    },
}


def _jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_sharegpt_with_function_calls(tmp_path):
    row = {
        "conversations": [
            {"from": "human", "value": "show a.py"},
            {
                "from": "function_call",
                "value": json.dumps({"name": "read_file", "arguments": {"path": "a.py"}}),
            },
            {"from": "observation", "value": "x = 1"},
            {"from": "gpt", "value": "It sets x."},
        ],
        "tools": json.dumps([READ_SPEC]),
    }
    rows, issues = import_file(_jsonl(tmp_path / "s.jsonl", [row]), "sharegpt")
    assert not issues
    (r,) = rows
    call = r["messages"][1]["tool_calls"][0]
    assert call["function"] == {"name": "read_file", "arguments": '{"path": "a.py"}'}
    assert r["messages"][2]["tool_call_id"] == call["id"]
    assert r["tools"][0]["function"]["name"] == "read_file"


def test_openai_arguments_dicts_become_canonical_strings(tmp_path):
    row = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "show a.py"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {"name": "read_file", "arguments": {"path": "ä.py"}},
                    }
                ],
            },
        ],
        "tools": [{"type": "function", "function": READ_SPEC}],
    }
    rows, issues = import_file(_jsonl(tmp_path / "o.jsonl", [row]), "openai")
    assert not issues
    assert rows[0]["messages"][0]["content"] == "show a.py"
    assert rows[0]["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"path": "ä.py"}'


def test_glaive_single_quoted_arguments(tmp_path):
    row = {
        "system": "SYSTEM: You are a helpful assistant with access to the following functions. Use them if required -\n"
        + json.dumps(READ_SPEC, indent=4),
        "chat": 'USER: show a.py\n\n\nASSISTANT: <functioncall> {"name": "read_file", "arguments": \'{"path": "a.py"}\'} <|endoftext|>\n\n\n'
        'FUNCTION RESPONSE: {"text": "x = 1"}\n\n\nASSISTANT: It sets x. <|endoftext|>\n',
    }
    rows, issues = import_file(_jsonl(tmp_path / "g.jsonl", [row]), "glaive")
    assert not issues, issues
    msgs = rows[0]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "tool", "assistant"]
    assert msgs[2]["tool_calls"][0]["function"]["arguments"] == '{"path": "a.py"}'


def test_alpaca_json_list(tmp_path):
    f = tmp_path / "a.json"
    f.write_text(json.dumps([{"instruction": "Add numbers", "input": "1, 2", "output": "3"}]))
    rows, issues = import_file(f, "alpaca")
    assert not issues
    assert rows[0]["messages"][0]["content"] == "Add numbers\n\n1, 2"


def test_bad_rows_are_reported_by_line_and_nothing_is_written(tmp_path):
    src = _jsonl(
        tmp_path / "in.jsonl",
        [
            {"instruction": "ok", "output": "fine"},
            {"instruction": "no output"},
            {"instruction": "empty answer", "output": ""},
        ],
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "punie",
            "data",
            "import",
            str(src),
            "--format",
            "alpaca",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"{src}:2: cannot read as alpaca" in proc.stdout
    assert f"{src}:3: " in proc.stdout
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_import_writes_a_valid_split_dataset(tmp_path):
    src = _jsonl(
        tmp_path / "in.jsonl",
        [{"instruction": f"task {i}", "output": f"answer {i}"} for i in range(10)],
    )
    out = tmp_path / "ds"
    proc = subprocess.run(
        [sys.executable, "-m", "punie", "data", "import", str(src), "-f", "alpaca", "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert validate_path(out).ok
    assert sum(len(read_rows(out / f"{s}.jsonl")) for s in ("train", "valid", "test")) == 10
