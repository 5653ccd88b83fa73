"""Suite YAML: validation with file:line errors; the built-ins load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from punie.errors import PunieError
from punie.evaluate.suite import builtin_suites, load_suite, parse_suite
from punie.toolspec import TOOL_NAMES

GOOD = """name: s
cases:
  - id: a
    category: c
    messages: [{role: user, content: hi}]
    tools: agent
    expected_calls: [{name: read_file, arguments: {path: README.md}}]
"""


def test_scalar_acceptable_value_becomes_a_list():
    s = parse_suite(GOOD)
    assert s.cases[0].expected_calls[0].arguments == {"path": ["README.md"]}
    assert s.cases[0].kind == "tool"


@pytest.mark.parametrize(
    ("text", "line", "msg"),
    [
        (GOOD.replace("read_file", "nosuch"), 3, "not among the tools offered"),
        (GOOD.replace("role: user", "role: robot"), 5, "role"),
        (
            GOOD
            + "  - id: a\n    category: c\n    messages: [{role: user, content: x}]\n    no_call: true\n",
            1,
            "duplicate case id",
        ),
        (
            GOOD.replace(
                "    expected_calls: [{name: read_file, arguments: {path: README.md}}]\n", ""
            ),
            3,
            "needs expected_calls",
        ),
        ("name: s\ncases:\n  - id: [\n", 4, "not valid YAML"),
        (GOOD.replace("category: c", "category: c\n    colour: red"), 3, "colour"),
    ],
)
def test_bad_suite_names_file_and_line(text: str, line: int, msg: str):
    with pytest.raises(PunieError, match=msg) as info:
        parse_suite(text, "x.yaml")
    assert info.value.where == f"x.yaml:{line}"


def test_unknown_suite_name_lists_builtins():
    with pytest.raises(PunieError, match="tools"):
        load_suite("no-such-suite")


@pytest.mark.parametrize(("tools", "no_tool"), [("tools", "no-tool"), ("tools-dev", "no-tool-dev")])
def test_builtins_load_and_cover_the_agent_tools(tools, no_tool):
    assert set(builtin_suites()) >= {tools, no_tool, "python"}
    suite = load_suite(tools)
    assert 35 <= len(suite.cases) <= 45
    called = {c.name for case in suite.cases for c in case.expected_calls}
    assert called == set(TOOL_NAMES)
    assert all(c.no_call for c in load_suite(no_tool).cases)
    assert all(c.keywords for c in load_suite("python").cases)


def test_cli_bad_suite_is_one_line_exit_2(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("read_file", "nosuch"))
    proc = subprocess.run(
        [sys.executable, "-m", "punie", "eval", "--model", "local", "--suite", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad}:3: cases.0: Value error, expected call 'nosuch' is not among the tools offered (see docs/evaluate.md for the suite format)"
    ]


HEADER = GOOD.replace("name: s\n", "name: s\ncompare: {read_file.path: path}\n")


def test_the_headers_kinds_reach_each_call():
    (call,) = parse_suite(HEADER).cases[0].expected_calls
    assert call.compare == {"path": "path"}


def test_a_calls_own_kind_overrides_the_header():
    text = HEADER.replace(
        "arguments: {path: README.md}}", "arguments: {path: README.md}, compare: {path: free}}"
    )
    (call,) = parse_suite(text).cases[0].expected_calls
    assert call.compare == {"path": "free"}


@pytest.mark.parametrize(
    ("header", "msg"),
    [
        ("{read_file.paht: path}", "not an argument of an offered tool"),
        ("{read_file: path}", "is not tool.argument"),
        ("{read_file.path: fuzzy}", "'exact', 'path', 'free' or 'any'"),
    ],
)
def test_a_bad_header_kind_is_an_error(header, msg):
    with pytest.raises(PunieError, match=msg):
        parse_suite(GOOD.replace("name: s\n", f"name: s\ncompare: {header}\n"), "x.yaml")


def test_a_tool_whose_schema_is_not_json_schema_is_an_error():
    text = GOOD.replace(
        "tools: agent",
        "tools: [{type: function, function: {name: read_file, parameters: {type: obj}}}]",
    )
    with pytest.raises(PunieError, match="tool 'read_file' parameters"):
        parse_suite(text, "x.yaml")


@pytest.mark.parametrize("name", ["tools", "tools-dev"])
def test_the_tools_suite_declares_how_each_argument_compares(name):
    # Paths as paths, commands, patterns and an edit's texts exactly, a written file's
    # content not at all.
    compare = load_suite(name).compare
    assert compare["run_command.command"] == compare["search.pattern"] == "exact"
    assert compare["edit_file.old_text"] == compare["edit_file.new_text"] == "exact"
    assert compare["read_file.path"] == compare["edit_file.path"] == "path"
    assert compare["write_file.content"] == "any"
