"""From an IDE session to training data: `punie serve` driven over a real ACP pipe
through two scripted sessions (approvals, a rejection, failures, a correction, a
cancel, a suite request), then the `punie data harvest` CLI in its own process on
what was recorded: exactly the expected positives and pairs, the time split, each
dropped turn's reason, no planted secret in any output byte, and folders that
`punie train` (sft and dpo) accepts."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from agent_harness import ask, running_agent
from test_acp_traces import PROMPT_TOKEN, SECRETS, TURN2, TURN4, ScriptedClient, _plant

from punie.train.config import TrainConfig
from punie.train.preflight import check_data

READS = "\n".join(
    [
        'TOOL read_file {"path": "config.py"}',
        'TOOL read_file {"path": ".env"}',
        'TOOL run_command {"command": "sh show.sh"}',
    ]
)
THANKS = f"thanks! my token is {PROMPT_TOKEN}"
CORRECTION = 'no, that is wrong\nTOOL read_file {"path": "missing.txt"}'
RECOVER = 'TOOL read_file {"path": "missing.txt"}\nTOOL read_file {"path": "config.py"}'
SUITE = "Could you tell me what is stored in circus?"  # a tools-suite request, verbatim


async def _sessions(tmp: Path) -> Path:
    # Permissions asked, in order: run show.sh, the two writes, the command to cancel.
    client = ScriptedClient(["allow_once", "reject_once", "allow_once", "wait"])
    async with running_agent(tmp, client) as (conn, sid, ws):
        _plant(ws)
        for prompt in (READS, TURN2, THANKS, CORRECTION):
            await ask(conn, sid, prompt)
        turn = asyncio.create_task(ask(conn, sid, TURN4))
        await asyncio.wait_for(client.waiting.wait(), 20)
        await conn.cancel(session_id=sid)
        await turn
        await ask(conn, sid, "hello again")
        newer = (await conn.new_session(cwd=str(ws), mcp_servers=[])).session_id
        for prompt in (RECOVER, "what can you do", SUITE):
            await ask(conn, newer, prompt)
    return ws


@pytest.fixture(scope="module")
def harvested(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("harvest")
    ws = asyncio.run(_sessions(tmp))
    out = tmp / "out"
    env = {**os.environ, "PUNIE_HOME": str(tmp / "home"), "COLUMNS": "200"}
    cmd = [
        sys.executable,
        "-m",
        "punie",
        "data",
        "harvest",
        "--out",
        str(out),
        "--workspace",
        str(ws),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {
        "out": out,
        "stdout": proc.stdout,
        "report": json.loads((out / "harvest.json").read_text()),
    }


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _prompt(row: dict) -> str:
    return [m["content"] for m in row["messages"] if m["role"] == "user"][-1]


def _calls(message: dict) -> list[tuple[str, dict]]:
    return [
        (c["function"]["name"], json.loads(c["function"]["arguments"]))
        for c in message["tool_calls"]
    ]


def test_the_positives_are_the_allowed_uncorrected_turns_older_session_in_train(harvested):
    out = harvested["out"]
    assert [_prompt(r) for r in _rows(out / "train.jsonl")] == [READS, "hello again"]
    assert [_prompt(r) for r in _rows(out / "valid.jsonl")] == ["what can you do"]
    assert not (out / "test.jsonl").exists()  # two sessions: one held out


def test_the_pairs_are_the_rejected_write_and_the_failed_read_each_with_its_retry(harvested):
    train, valid = (_rows(harvested["out"] / "pairs" / f"{s}.jsonl") for s in ("train", "valid"))
    assert [(_calls(p["rejected"]), _calls(p["chosen"])) for p in train] == [
        (
            [("write_file", {"path": "out.txt", "content": "bad"})],
            [("write_file", {"path": "out.txt", "content": "good"})],
        )
    ]
    assert [(_calls(p["rejected"]), _calls(p["chosen"])) for p in valid] == [
        ([("read_file", {"path": "missing.txt"})], [("read_file", {"path": "config.py"})])
    ]
    assert [_prompt(p) for p in train + valid] == [TURN2, RECOVER]


def test_each_turn_is_kept_or_dropped_for_the_expected_reason(harvested):
    got = [
        (o["prompt"], o["kept"], [r["reason"] for r in o["reasons"]])
        for o in harvested["report"]["outcomes"]
    ]
    assert got == [
        (READS, "positive", []),
        (TURN2, "1 pair", ["negative"]),
        ("thanks! my token is [REDACTED:github_token]", "", ["correction"]),
        (CORRECTION, "", ["negative", "unpaired"]),
        (TURN4, "", ["cancelled"]),
        ("hello again", "positive", []),
        (RECOVER, "1 pair", ["negative"]),
        ("what can you do", "positive", []),
        (SUITE, "", ["suite_leak"]),
    ]


def test_the_printed_table_shows_why_a_turn_was_dropped(harvested):
    assert any(
        "suite_leak" in line and "circus" in line for line in harvested["stdout"].splitlines()
    )


def test_no_planted_secret_reaches_any_harvested_byte(harvested):
    data = b"".join(p.read_bytes() for p in harvested["out"].rglob("*") if p.is_file())
    assert b"[REDACTED" in data  # the redacted reads are in the kept rows
    assert [s for s in SECRETS if s.encode() in data] == []


@pytest.mark.parametrize(("method", "folder"), [("sft", ""), ("dpo", "pairs")])
def test_punie_train_accepts_the_harvested_folders(harvested, method, folder):
    cfg = TrainConfig(
        model="smollm2-135m", data=harvested["out"] / folder, method=method, batch_size=1
    )
    assert check_data(cfg)["train"] >= 1
