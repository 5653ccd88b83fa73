"""Tool calls through `punie serve` over a real pipe, as an IDE sees them."""

from __future__ import annotations

import json

from agent_harness import ask, running_agent


async def test_read_goes_through_the_client_fs_and_reports_a_read_tool_call(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "notes.txt").write_text("hello from the workspace\n")
        resp = await ask(conn, sid, 'TOOL read_file {"path": "notes.txt"}')
    assert resp.stop_reason == "end_turn"
    start = client.of("tool_call")[0]
    assert (start.kind, start.title) == ("read", "Read notes.txt")
    assert start.locations[0].path == str(ws / "notes.txt")
    assert client.final_statuses() == ["completed"]
    assert client.fs_calls == [("read", str(ws / "notes.txt"))]
    assert json.loads(client.text().removeprefix("results: ")) == ["hello from the workspace\n"]


async def test_approved_write_asks_first_writes_through_the_client_and_shows_a_diff(
    tmp_path, client
):
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "a.py").write_text("old = 1\n")
        await ask(conn, sid, 'TOOL write_file {"path": "a.py", "content": "new = 2\\n"}')
        assert (ws / "a.py").read_text() == "new = 2\n"
        await ask(conn, sid, 'TOOL write_file {"path": "new/dir/b.py", "content": "b"}')
        assert (ws / "new" / "dir" / "b.py").read_text() == "b"
    (tool_call, options), _ = client.permission_requests
    assert tool_call.kind == "edit"
    assert {o.kind for o in options} == {
        "allow_once",
        "allow_always",
        "reject_once",
        "reject_always",
    }
    assert ("write", str(ws / "a.py")) in client.fs_calls
    final = client.of("tool_call_update")[-3]
    assert final.status == "completed"
    diff = final.content[0]
    assert (diff.type, diff.path, diff.old_text, diff.new_text) == (
        "diff",
        str(ws / "a.py"),
        "old = 1\n",
        "new = 2\n",
    )


async def test_rejected_write_leaves_the_file_untouched_and_tells_the_model(tmp_path):
    from agent_harness import RecordingClient

    client = RecordingClient(choice="reject_once")  # a reject is also outcome "selected"
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "a.py").write_text("keep me\n")
        resp = await ask(conn, sid, 'TOOL write_file {"path": "a.py", "content": "gone"}')
        assert (ws / "a.py").read_text() == "keep me\n"
    assert resp.stop_reason == "end_turn"
    assert client.final_statuses() == ["failed"]
    assert not [c for c in client.fs_calls if c[0] == "write"]
    told = json.loads(client.text().removeprefix("results: "))
    assert "rejected" in told[0]


async def test_allow_always_is_remembered_for_the_session(tmp_path):
    from agent_harness import RecordingClient

    client = RecordingClient(choice="allow_always")
    script = "\n".join(
        f'TOOL write_file {{"path": "f{i}.txt", "content": "{i}"}}' for i in range(3)
    )
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        await ask(conn, sid, script)
        assert [(ws / f"f{i}.txt").read_text() for i in range(3)] == ["0", "1", "2"]
    assert len(client.permission_requests) == 1
    assert client.final_statuses() == ["completed"] * 3


async def test_a_failing_tool_is_reported_failed_and_the_model_sees_the_error(tmp_path):
    from agent_harness import RecordingClient

    client = RecordingClient()
    async with running_agent(tmp_path, client, fs=False) as (conn, sid, ws):
        resp = await ask(conn, sid, 'TOOL read_file {"path": "missing.txt"}')
    assert resp.stop_reason == "end_turn"
    assert client.final_statuses() == ["failed"]
    told = json.loads(client.text().removeprefix("results: "))
    assert told[0].startswith("error:") and "no such file" in told[0]


async def test_without_fs_capability_the_tools_run_locally(tmp_path, client):
    script = "\n".join(
        [
            'TOOL write_file {"path": "pkg/m.py", "content": "x = 1\\n"}',
            'TOOL read_file {"path": "pkg/m.py"}',
            'TOOL list_dir {"path": "pkg"}',
            'TOOL search {"pattern": "x = \\\\d"}',
            'TOOL run_command {"command": "ls pkg"}',
        ]
    )
    async with running_agent(tmp_path, client, fs=False) as (conn, sid, ws):
        await ask(conn, sid, script)
        assert (ws / "pkg" / "m.py").read_text() == "x = 1\n"
    assert client.fs_calls == []  # the client never advertised fs: never called
    assert client.terminal_calls == []  # nor a terminal
    assert client.final_statuses() == ["completed"] * 5
    told = json.loads(client.text().removeprefix("results: "))
    assert told[1] == "x = 1\n"
    assert told[2] == "m.py"
    assert told[3] == "pkg/m.py:1: x = 1"
    assert told[4] == "exit code 0\nm.py\n"
    kinds = [u.kind for u in client.of("tool_call")]
    assert kinds == ["edit", "read", "read", "search", "execute"]


async def test_paths_leaving_the_workspace_are_refused(tmp_path, client):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    script = "\n".join(
        [
            'TOOL read_file {"path": "../outside.txt"}',
            f'TOOL read_file {{"path": "{outside}"}}',
            'TOOL read_file {"path": "link.txt"}',
            'TOOL write_file {"path": "../outside.txt", "content": "pwned"}',
            'TOOL write_file {"path": "linkdir/x.txt", "content": "pwned"}',
            'TOOL list_dir {"path": ".."}',
            'TOOL search {"pattern": "secret"}',
        ]
    )
    for fs in (True, False):
        client.updates.clear()
        async with running_agent(tmp_path, client, fs=fs) as (conn, sid, ws):
            (ws / "link.txt").unlink(missing_ok=True)
            (ws / "link.txt").symlink_to(outside)
            if not (ws / "linkdir").exists():
                (ws / "linkdir").symlink_to(tmp_path)
            await ask(conn, sid, script)
        told = json.loads(client.text().removeprefix("results: "))
        assert all("outside the workspace" in t for t in told[:6]), told
        assert told[6] == "no matches for 'secret'"  # the symlinked file is skipped
        assert client.final_statuses() == ["failed"] * 6 + ["completed"]
        assert outside.read_text() == "secret\n"
        assert not (tmp_path / "x.txt").exists()
        assert client.permission_requests == []  # refused before asking
        assert client.fs_calls == []


async def test_commands_run_in_the_ide_terminal_when_advertised_and_it_is_released(
    tmp_path, client
):
    async with running_agent(tmp_path, client, terminal=True) as (conn, sid, ws):
        await ask(conn, sid, 'TOOL run_command {"command": "echo from-term; exit 3"}')
    assert [c[0] for c in client.terminal_calls] == ["create", "wait", "output", "release"]
    final = client.of("tool_call_update")[-1]
    assert final.status == "failed"  # exit code 3
    assert final.content[0].type == "terminal" and final.content[0].terminal_id == "term0"
    told = json.loads(client.text().removeprefix("results: "))
    assert told == ["exit code 3\nfrom-term\n"]


async def test_a_command_past_its_timeout_is_killed_and_reported(tmp_path, client):
    args = ("--command-timeout", "0.5")
    for terminal in (True, False):
        client.updates.clear()
        async with running_agent(tmp_path, client, terminal=terminal, extra_args=args) as (
            conn,
            sid,
            ws,
        ):
            await ask(conn, sid, 'TOOL run_command {"command": "sleep 20"}')
        assert client.final_statuses() == ["failed"]
        assert json.loads(client.text().removeprefix("results: "))[0].startswith("timed out")
    assert ("kill", "term0") in client.terminal_calls
    assert client.terminal_calls[-1] == ("release", "term0")


async def test_arguments_that_break_the_schema_are_refused_unasked(tmp_path, client):
    # One validator (punie.schema_check) for the agent, the scorer and data validation:
    # a string where the schema says boolean is refused before anyone is asked.
    call = {"path": "a.txt", "old_text": "x", "new_text": "y", "replace_all": "yes"}
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "a.txt").write_text("x\n")
        await ask(conn, sid, f"TOOL edit_file {json.dumps(call)}")
        assert (ws / "a.txt").read_text() == "x\n"
    assert not client.permission_requests
    told = json.loads(client.text().removeprefix("results: "))
    assert told[0].startswith("error: edit_file: invalid arguments:")
    assert "boolean" in told[0]
