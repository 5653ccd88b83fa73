"""Workspace confinement and local command limits, in-process (pure-ish, fast)."""

from __future__ import annotations

import pytest

from punie.agent.commands import run_local
from punie.agent.workspace import ToolError, Workspace, search_local


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("value = 1\n")
    (tmp_path / "secret.txt").write_text("secret\n")
    (root / "out_link").symlink_to(tmp_path)
    (root / "in_link").symlink_to(root / "src")
    return Workspace.at(root)


@pytest.mark.parametrize(
    "path", ["..", "../secret.txt", "src/../../secret.txt", "out_link/secret.txt", "/etc/passwd"]
)
def test_paths_that_leave_the_workspace_are_refused(ws, path):
    with pytest.raises(ToolError, match="outside the workspace"):
        ws.resolve(path)


@pytest.mark.parametrize("path", ["src/a.py", "src/../src/a.py", "in_link/a.py", "new/file.txt"])
def test_paths_inside_are_allowed_even_when_absolute(ws, path):
    p = ws.resolve(path)
    assert ws.root in p.parents
    assert ws.resolve(str(p)) == p


def test_search_falls_back_to_plain_text_for_an_invalid_regex(ws):
    (ws.root / "src" / "b.py").write_text("call(x\n")
    assert search_local(ws, "call(") == "src/b.py:1: call(x"


async def test_command_output_is_capped_and_the_command_still_finishes(ws):
    r = await run_local(ws, "yes | head -c 100000; echo done >&2", output_limit=1000)
    assert r.exit_code == 0 and r.truncated and len(r.output) == 1000


def _code(ws, rel: str, text: str) -> None:
    (ws.root / rel).parent.mkdir(parents=True, exist_ok=True)
    (ws.root / rel).write_text(text)


def test_a_search_without_matching_lines_names_the_matching_paths(ws):
    _code(ws, "notes/todo.txt", "buy milk\n")
    assert search_local(ws, "NOTES") == (
        "no matches for 'NOTES'; paths that match: notes/, notes/todo.txt"
    )


def test_a_search_matching_nothing_says_so(ws):
    assert search_local(ws, "zebra") == "no matches for 'zebra'"


def test_path_matches_never_name_a_link_leading_outside(ws):
    # out_link points outside the workspace, in_link inside it.
    assert search_local(ws, "link") == "no matches for 'link'; paths that match: in_link/"
