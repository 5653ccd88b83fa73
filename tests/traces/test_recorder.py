"""The recorder: where records go, their order, the size cap, and failures swallowed."""

from __future__ import annotations

import json
import logging

from punie.traces import recorder as recmod
from punie.traces.record import TurnInfo
from punie.traces.recorder import Recorder, trace_file

SID = "a" * 32


def _turn(turn_id: str, sid: str = SID, workspace: str = "/tmp/ws") -> TurnInfo:
    return TurnInfo(
        session_id=sid,
        turn_id=turn_id,
        source="serve",
        workspace=workspace,
        model="local",
        adapter=None,
        prompt=f"prompt of {turn_id}",
        started_at="2026-01-01T00:00:00+00:00",
        time="2026-01-01T00:00:01+00:00",
        duration_s=1.0,
        ended_by="answer",
        stop_reason="end_turn",
    )


def _lines(root, sid: str = SID) -> list[tuple[str, str]]:
    path = trace_file(root, "/tmp/ws", sid)
    return [(r["type"], r["turn_id"]) for r in map(json.loads, path.read_text().splitlines())]


async def test_turns_and_next_prompts_are_appended_in_order_to_the_sessions_file(tmp_path):
    rec = Recorder(tmp_path / "traces")
    rec.turn(_turn("t1"))
    rec.next_prompt(SID, "/tmp/ws", "thanks", None)
    rec.turn(_turn("t2"))
    await rec.aclose()
    assert _lines(tmp_path / "traces") == [("turn", "t1"), ("next_prompt", "t1"), ("turn", "t2")]


async def test_a_first_prompt_has_no_turn_to_follow_and_writes_nothing(tmp_path):
    rec = Recorder(tmp_path / "traces")
    rec.next_prompt(SID, "/tmp/ws", "hello", None)
    await rec.aclose()
    assert not (tmp_path / "traces").exists()


async def test_a_later_process_finds_the_turn_that_awaits_its_next_prompt(tmp_path):
    first = Recorder(tmp_path / "traces")
    first.turn(_turn("t1"))
    await first.aclose()
    second = Recorder(tmp_path / "traces")
    second.next_prompt(SID, "/tmp/ws", "and then?", None)
    second.next_prompt(SID, "/tmp/ws", "a slash command right after", "help")
    await second.aclose()
    assert _lines(tmp_path / "traces") == [("turn", "t1"), ("next_prompt", "t1")]


async def test_past_the_cap_recording_stops_with_one_log_line_and_keeps_the_files(tmp_path, caplog):
    rec = Recorder(tmp_path / "traces", max_bytes=1500)
    with caplog.at_level(logging.WARNING, "punie.traces"):
        for i in range(6):
            rec.turn(_turn(f"t{i}"))
        await rec.aclose()
    kept = _lines(tmp_path / "traces")
    assert 0 < len(kept) < 6 and kept[0] == ("turn", "t0")
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "recording stopped" in caplog.records[0].message


async def test_recording_resumes_once_space_was_freed(tmp_path, monkeypatch):
    monkeypatch.setattr(recmod, "RECOUNT_S", 0.0)
    rec = Recorder(tmp_path / "traces", max_bytes=1500)
    other = "b" * 32
    for i in range(4):
        rec.turn(_turn(f"t{i}"))
    rec._pool.submit(lambda: trace_file(rec.root, "/tmp/ws", SID).unlink()).result()
    rec.turn(_turn("after", sid=other))
    await rec.aclose()
    assert _lines(tmp_path / "traces", other) == [("turn", "after")]


async def test_a_disabled_recorder_creates_nothing(tmp_path):
    rec = Recorder(tmp_path / "traces", enabled=False)
    rec.turn(_turn("t1"))
    rec.next_prompt(SID, "/tmp/ws", "x", None)
    await rec.aclose()
    assert not (tmp_path / "traces").exists()


async def test_a_root_that_cannot_be_written_is_logged_not_raised(tmp_path, caplog):
    (tmp_path / "traces").write_text("a file, not a folder")
    rec = Recorder(tmp_path / "traces")
    with caplog.at_level(logging.WARNING, "punie.traces"):
        rec.turn(_turn("t1"))
        await rec.aclose()
    assert any("could not record" in r.message for r in caplog.records)


def test_no_record_turns_the_configured_recorder_off(tmp_path, monkeypatch):
    monkeypatch.setenv("PUNIE_HOME", str(tmp_path))
    assert Recorder.from_config(no_record=False, source="serve").enabled
    assert not Recorder.from_config(no_record=True, source="serve").enabled


def test_the_configured_cap_reaches_the_recorder(tmp_path, monkeypatch):
    monkeypatch.setenv("PUNIE_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text("[traces]\nmax_mb = 0.5\n")
    assert Recorder.from_config(no_record=False, source="ask").max_bytes == 512 * 1024
