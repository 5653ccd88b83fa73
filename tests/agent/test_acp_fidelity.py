"""Fidelity and safety of what the tools do to the user's machine, over a real pipe:
file modes, symlinks, and the environment a command runs with."""

from __future__ import annotations

import json
import os
import stat

import pytest
from agent_harness import ask, running_agent

SECRET = {"PUNIE_TEST_SECRET": "sk-planted-1234"}


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _told(client) -> list[str]:
    return json.loads(client.text().removeprefix("results: "))


async def test_a_0755_file_stays_0755_after_a_write(tmp_path, client):
    async with running_agent(tmp_path, client, fs=False) as (conn, sid, ws):
        (ws / "run.sh").write_text("echo old\n")
        (ws / "run.sh").chmod(0o755)
        await ask(conn, sid, 'TOOL write_file {"path": "run.sh", "content": "echo new\\n"}')
    assert client.final_statuses() == ["completed"]
    assert (ws / "run.sh").read_text() == "echo new\n"
    assert _mode(ws / "run.sh") == 0o755


async def test_a_new_file_gets_the_umask_mode(tmp_path, client):
    old = os.umask(0o027)  # inherited by the agent process spawned below
    try:
        async with running_agent(tmp_path, client, fs=False) as (conn, sid, ws):
            await ask(conn, sid, 'TOOL write_file {"path": "new.txt", "content": "x"}')
    finally:
        os.umask(old)
    assert (ws / "new.txt").read_text() == "x"
    assert _mode(ws / "new.txt") == 0o640


@pytest.mark.parametrize("fs", [False, True], ids=["local", "ide-fs"])
async def test_a_symlink_inside_the_workspace_is_written_through(tmp_path, client, fs):
    async with running_agent(tmp_path, client, fs=fs) as (conn, sid, ws):
        (ws / "real.txt").write_text("old")
        (ws / "link.txt").symlink_to("real.txt")
        await ask(conn, sid, 'TOOL write_file {"path": "link.txt", "content": "new"}')
    assert client.final_statuses() == ["completed"]
    assert (ws / "link.txt").is_symlink()
    assert (ws / "real.txt").read_text() == "new"
    if fs:  # the IDE is asked to write the link's target, the file it has open
        assert ("write", str(ws / "real.txt")) in client.fs_calls


async def test_a_symlinked_file_pointing_outside_is_refused(tmp_path, client):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    async with running_agent(tmp_path, client, fs=False) as (conn, sid, ws):
        (ws / "link.txt").symlink_to(outside)
        await ask(conn, sid, 'TOOL write_file {"path": "link.txt", "content": "pwned"}')
    assert client.final_statuses() == ["failed"]
    assert "outside the workspace" in _told(client)[0]
    assert outside.read_text() == "keep"
    assert (ws / "link.txt").is_symlink()
    assert client.permission_requests == []


async def test_a_local_command_gets_a_minimal_environment(tmp_path, client):
    async with running_agent(tmp_path, client, fs=False, extra_env=SECRET) as (conn, sid, _):
        await ask(conn, sid, 'TOOL run_command {"command": "env"}')
    out = _told(client)[0]
    names = {line.split("=", 1)[0] for line in out.splitlines()[1:] if "=" in line}
    assert "sk-planted" not in out
    assert (
        {"PATH", "HOME", "PUNIE_AGENT"}
        <= names
        <= {
            "PATH",
            "LANG",
            "HOME",
            "TERM",
            "PUNIE_AGENT",
            "PWD",  # set by the shell itself
            "SHLVL",
            "_",
        }
    )


async def test_an_ide_terminal_command_gets_a_minimal_environment(tmp_path, client, monkeypatch):
    # The stand-in IDE runs the terminal with its own environment, which holds the secret
    # too (as a real IDE's does): only `env -i` in the command keeps it out.
    monkeypatch.setenv(*next(iter(SECRET.items())))
    async with running_agent(tmp_path, client, terminal=True, extra_env=SECRET) as (
        conn,
        sid,
        _,
    ):
        await ask(conn, sid, 'TOOL run_command {"command": "env"}')
    assert client.terminal_calls[0][0] == "create"
    out = _told(client)[0]
    assert out.startswith("exit code 0")
    assert "sk-planted" not in out
    assert "PATH=" in out and "PUNIE_AGENT=1" in out
