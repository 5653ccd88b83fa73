"""`punie ask` records its turn as a one-turn session, unless told not to."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from agent_harness import FAKE_MODEL

WRITE = 'TOOL write_file {"path": "out.txt", "content": "hi"}'


def punie_ask(tmp_path, *args: str):
    env = {**os.environ, "PUNIE_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "punie", "ask", *args, "--model", f"test-fake:{FAKE_MODEL}"]
    return subprocess.run(
        [*cmd, "--cwd", str(tmp_path / "ws")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def _records(tmp_path) -> list[dict]:
    files = list((tmp_path / "home" / "traces").glob("*/*.jsonl"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def test_ask_records_its_turn_with_the_calls_outcomes(tmp_path):
    (tmp_path / "ws").mkdir()
    r = punie_ask(tmp_path, WRITE)  # stdin closed: the write is rejected
    assert r.returncode == 0, r.stderr
    (turn,) = _records(tmp_path)
    assert (turn["type"], turn["source"], turn["prompt"]) == ("turn", "ask", WRITE)
    assert turn["workspace"] == str((tmp_path / "ws").resolve())
    (call,) = turn["calls"]
    assert (call["tool"], call["status"], call["permission"]["kind"]) == (
        "write_file",
        "rejected",
        "reject_once",
    )


def test_ask_no_record_writes_nothing(tmp_path):
    (tmp_path / "ws").mkdir()
    r = punie_ask(tmp_path, "hello", "--no-record")
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "home" / "traces").exists()


def test_record_false_in_config_toml_writes_nothing(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "config.toml").write_text("[traces]\nrecord = false\n")
    r = punie_ask(tmp_path, "hello")
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "home" / "traces").exists()


def test_a_bad_config_toml_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "config.toml").write_text("[traces]\nrecord = 'nope'\n")
    r = punie_ask(tmp_path, "hello")
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and "config.toml" in r.stderr
    assert "traces.record" in r.stderr
