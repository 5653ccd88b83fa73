"""edit_file (and write_file's diff) through `punie serve` over a real pipe, as an IDE
sees them: the SDK's client, the TEST FAKE model scripted by the prompt."""

from __future__ import annotations

import json

from agent_harness import RecordingClient, ask, running_agent


def _edit(path: str, old: str, new: str, **extra) -> str:
    return "TOOL edit_file " + json.dumps({"path": path, "old_text": old, "new_text": new, **extra})


def _told(client: RecordingClient) -> list[str]:
    return json.loads(client.text().removeprefix("results: "))


def _diff(content) -> tuple:
    (d,) = content
    return d.type, d.path, d.old_text, d.new_text


async def test_an_edit_carries_its_diff_in_the_tool_call_and_the_permission_request(
    tmp_path, client
):
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "app.ini").write_text("level = info\nport = 80\n")
        await ask(conn, sid, _edit("app.ini", "level = info", "level = debug"))
        assert (ws / "app.ini").read_text() == "level = debug\nport = 80\n"
    want = ("diff", str(ws / "app.ini"), "level = info\nport = 80\n", "level = debug\nport = 80\n")
    start = client.of("tool_call")[0]
    assert (start.kind, start.title) == ("edit", "Edit app.ini")
    assert _diff(start.content) == want
    ((asked, _),) = client.permission_requests
    assert _diff(asked.content) == want
    assert _diff(client.of("tool_call_update")[-1].content) == want
    assert _told(client) == ["edited app.ini at line 1"]


async def test_a_write_carries_its_diff_in_the_tool_call_and_the_permission_request(
    tmp_path, client
):
    script = "\n".join(
        [
            'TOOL write_file {"path": "a.py", "content": "new = 2\\n"}',
            'TOOL write_file {"path": "b.py", "content": "b = 1\\n"}',
        ]
    )
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "a.py").write_text("old = 1\n")
        await ask(conn, sid, script)
    replaced = ("diff", str(ws / "a.py"), "old = 1\n", "new = 2\n")
    created = ("diff", str(ws / "b.py"), None, "b = 1\n")  # a new file has no old text
    assert [_diff(s.content) for s in client.of("tool_call")] == [replaced, created]
    assert [_diff(t.content) for t, _ in client.permission_requests] == [replaced, created]


async def test_a_missed_edit_names_the_closest_region_and_changes_nothing(tmp_path, client):
    body = "[server]\nhost = alpha.local\nport = 8000\nworkers = 2\n"
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "svc.cfg").write_text(body)
        await ask(conn, sid, _edit("svc.cfg", "port=8000\nworkers=2", "port = 9000\nworkers = 4"))
        assert (ws / "svc.cfg").read_text() == body
    (told,) = _told(client)
    assert told.startswith("error: old_text not found in svc.cfg")
    assert "the closest text is at lines 3-4:\nport = 8000\nworkers = 2\n" in told
    assert "write_file" not in told  # one miss is not yet a reason to rewrite the file
    assert client.final_statuses() == ["failed"]
    assert client.permission_requests == []  # nothing to approve


async def test_repeated_misses_on_one_file_suggest_write_file(tmp_path, client):
    script = "\n".join(
        [_edit("svc.cfg", "port=8000", "port = 9000"), _edit("svc.cfg", "port: 8000", "port: 1")]
    )
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "svc.cfg").write_text("port = 8000\n")
        await ask(conn, sid, script)
    first, second = _told(client)
    assert "write_file" not in first
    assert second.endswith(
        "2 edits of svc.cfg have failed: read_file it, then write_file the whole new content "
        "instead."
    )


async def test_a_match_that_is_not_unique_is_refused_with_its_count_and_lines(tmp_path, client):
    body = "x = 1\ny = 2\nx = 1\n"
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "m.py").write_text(body)
        await ask(conn, sid, _edit("m.py", "x = 1", "x = 3"))
        assert (ws / "m.py").read_text() == body
    (told,) = _told(client)
    assert told.startswith("error: old_text occurs 2 times in m.py (lines 1, 3)")
    assert "replace_all" in told
    assert client.permission_requests == []


async def test_replace_all_replaces_every_occurrence(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "m.py").write_text("x = 1\ny = 2\nx = 1\n")
        await ask(conn, sid, _edit("m.py", "x = 1", "x = 3", replace_all=True))
        assert (ws / "m.py").read_text() == "x = 3\ny = 2\nx = 3\n"
    assert _told(client) == ["edited m.py: 2 replacements, at lines 1, 3"]


async def test_an_edited_0755_file_stays_0755(tmp_path, client):
    async with running_agent(tmp_path, client, fs=False) as (conn, sid, ws):
        script = ws / "run.sh"
        script.write_text("#!/bin/sh\necho old\n")
        script.chmod(0o755)
        await ask(conn, sid, _edit("run.sh", "echo old", "echo new"))
        assert script.read_text() == "#!/bin/sh\necho new\n"
        assert script.stat().st_mode & 0o777 == 0o755
    assert client.fs_calls == []  # no fs capability: the edit was local (atomic)


async def test_an_edit_reads_and_writes_through_the_ide_fs_when_advertised(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "notes.txt").write_text("ship on friday\n")
        await ask(conn, sid, _edit("notes.txt", "friday", "monday"))
        assert (ws / "notes.txt").read_text() == "ship on monday\n"
    target = str(ws / "notes.txt")
    assert ("read", target) in client.fs_calls
    assert client.fs_calls[-1] == ("write", target)


async def test_a_rejected_edit_leaves_the_file_untouched(tmp_path):
    client = RecordingClient(choice="reject_once")  # a reject is also outcome "selected"
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        (ws / "a.py").write_text("keep = 1\n")
        await ask(conn, sid, _edit("a.py", "keep", "gone"))
        assert (ws / "a.py").read_text() == "keep = 1\n"
    assert client.final_statuses() == ["failed"]
    assert "rejected" in _told(client)[0]


async def test_an_edit_outside_the_workspace_is_refused_unasked(tmp_path, client):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    async with running_agent(tmp_path, client) as (conn, sid, ws):
        await ask(conn, sid, _edit("../outside.txt", "secret", "pwned"))
    assert "outside the workspace" in _told(client)[0]
    assert outside.read_text() == "secret\n"
    assert client.permission_requests == [] and client.fs_calls == []
