"""Recording over a real pipe: `punie serve` driven through scripted sessions (approvals,
rejections, failures, a cancel), and what lands under PUNIE_HOME/traces."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from agent_harness import RecordingClient, ask, running_agent

from punie.data.checks import check_row
from punie.data.schema import parse_row, row_form

# Planted secrets: none of these may appear in any byte under PUNIE_HOME/traces.
ENV_LINE = "PLAIN_SETTING=visible-only-through-dotenv-42"
ENV_FILE = f"DATABASE_PASSWORD=envfile-s3cret-0001\n{ENV_LINE}\n"
CONFIG_KEY = "sk-plantedconfigkey0123456789abcdef"
PROMPT_TOKEN = "ghp_plantedprompttoken0123456789abcdefAB"
OUTPUT_TOKEN = "xoxb-4242424242-plantedslackoutput"
SECRETS = ["envfile-s3cret-0001", ENV_LINE, CONFIG_KEY, PROMPT_TOKEN, OUTPUT_TOKEN]

TURN1 = "\n".join(
    [
        'TOOL read_file {"path": "config.py"}',
        'TOOL read_file {"path": ".env"}',
        'TOOL run_command {"command": "sh show.sh"}',
        'TOOL read_file {"path": "missing.txt"}',
    ]
)
TURN2 = "\n".join(
    [
        'TOOL write_file {"path": "out.txt", "content": "bad"}',
        'TOOL write_file {"path": "out.txt", "content": "good"}',
    ]
)
TURN4 = 'TOOL run_command {"command": "echo never"}'


class ScriptedClient(RecordingClient):
    """Answers permission requests from a list, in order; `wait` never answers."""

    def __init__(self, answers: list[str]):
        super().__init__()
        self.answers = list(answers)
        self.waiting = asyncio.Event()

    async def request_permission(self, session_id, tool_call, options, **kw):
        if self.answers[0] == "wait":
            self.waiting.set()
            await asyncio.sleep(30)
        self.choice = self.answers.pop(0)
        return await super().request_permission(session_id, tool_call, options, **kw)


def _plant(ws: Path) -> None:
    (ws / ".env").write_text(ENV_FILE)
    (ws / "config.py").write_text(f'API_KEY = "{CONFIG_KEY}"\nDEBUG = True\n')
    (ws / "show.sh").write_text("echo 'Authorization header:'\necho \"SLACK_TOKEN=$(cat tok)\"\n")
    (ws / "tok").write_text(OUTPUT_TOKEN)


async def _scripted_session(tmp: Path) -> dict:
    client = ScriptedClient(["allow_once", "reject_once", "allow_once", "wait"])
    async with running_agent(tmp, client) as (conn, sid, ws):
        _plant(ws)
        stops = [(await ask(conn, sid, TURN1)).stop_reason]
        stops.append((await ask(conn, sid, TURN2)).stop_reason)
        stops.append((await ask(conn, sid, f"thanks! my token is {PROMPT_TOKEN}")).stop_reason)
        turn = asyncio.create_task(ask(conn, sid, TURN4))
        await asyncio.wait_for(client.waiting.wait(), 20)
        await conn.cancel(session_id=sid)
        stops.append((await turn).stop_reason)
        stops.append((await ask(conn, sid, "hello again")).stop_reason)
    home = tmp / "home"
    (path,) = (home / "traces").glob("*/*.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return {"sid": sid, "ws": ws, "home": home, "path": path, "records": records, "stops": stops}


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> dict:
    return asyncio.run(_scripted_session(tmp_path_factory.mktemp("traced")))


def _turns(session: dict) -> list[dict]:
    return [r for r in session["records"] if r["type"] == "turn"]


def _calls(session: dict, turn: int) -> list[tuple]:
    return [
        (c["tool"], c["status"], (c["permission"] or {}).get("kind"))
        for c in _turns(session)[turn]["calls"]
    ]


def test_the_session_is_one_file_with_a_turn_record_per_prompt(session):
    assert session["stops"] == ["end_turn", "end_turn", "end_turn", "cancelled", "end_turn"]
    assert session["path"].stem == session["sid"]
    assert [t["ended_by"] for t in _turns(session)] == [
        "answer",
        "answer",
        "answer",
        "cancelled",
        "answer",
    ]


def test_approved_calls_that_ran_are_succeeded_and_a_missing_file_is_failed(session):
    assert _calls(session, 0) == [
        ("read_file", "succeeded", None),
        ("read_file", "succeeded", None),
        ("run_command", "succeeded", "allow_once"),
        ("read_file", "failed", None),
    ]
    failed = _turns(session)[0]["calls"][3]
    assert failed["error"].startswith("error: read_file")


def test_a_rejected_call_keeps_the_option_kind_and_the_approved_retry_follows(session):
    assert _calls(session, 1) == [
        ("write_file", "rejected", "reject_once"),
        ("write_file", "succeeded", "allow_once"),
    ]
    rejected = _turns(session)[1]["calls"][0]
    assert rejected["permission"]["answer"] == "rejected"
    assert "rejected" in rejected["error"]


def test_a_cancelled_prompt_records_its_pending_call_as_cancelled(session):
    cancelled = _turns(session)[3]
    assert cancelled["stop_reason"] == "cancelled"
    assert cancelled["row"] is None  # the attempt was cut off: no chat row
    assert _calls(session, 3) == [("run_command", "cancelled", None)]


def test_every_turn_names_the_model_and_adapter(session):
    models = {(t["model"], t["adapter"]) for t in _turns(session)}
    ((model, adapter),) = models
    assert model.startswith("test-fake:") and model.endswith("fake_model.py")
    assert adapter is None


def test_each_next_prompt_follows_the_turn_it_answers(session):
    records = session["records"]
    follows = [
        (records[i - 1]["turn_id"], r["turn_id"], r["prompt"])
        for i, r in enumerate(records)
        if r["type"] == "next_prompt"
    ]
    ids = [t["turn_id"] for t in _turns(session)]
    assert [(a, b) for a, b, _ in follows] == [(t, t) for t in ids[:4]]
    assert [p for _, _, p in follows][1] == "thanks! my token is [REDACTED:github_token]"
    assert follows[3][2] == "hello again"


def test_no_planted_secret_reaches_any_file_under_traces(session):
    data = b"".join(p.read_bytes() for p in (session["home"] / "traces").rglob("*") if p.is_file())
    assert data  # something was recorded
    leaked = [s for s in SECRETS if s.encode() in data]
    assert leaked == []


def test_the_dotenv_read_is_replaced_by_the_marker_in_the_row(session):
    row = _turns(session)[0]["row"]
    by_id = {m.get("tool_call_id"): m["content"] for m in row["messages"] if m["role"] == "tool"}
    env_call = _turns(session)[0]["calls"][1]
    assert by_id[env_call["model_call_id"]] == "[REDACTED: contents of a .env file]"


def test_turn_rows_are_valid_punie_chat_rows(session):
    rows = [t["row"] for t in _turns(session) if t["row"] is not None]
    assert len(rows) == 4
    for row in rows:
        assert row_form(row) == "chat"
        assert check_row(row, "chat") == []
        parse_row(row)


def test_calls_join_the_turns_tool_calls_in_the_row_by_row_call_id(session):
    turn = _turns(session)[1]  # the model numbers its calls afresh: fake0, fake1 again
    messages = turn["row"]["messages"]
    assert messages[turn["turn_start"]]["content"] == TURN2
    made = [c["id"] for m in messages[turn["turn_start"] :] for c in m.get("tool_calls") or []]
    assert [c["row_call_id"] for c in turn["calls"]] == made
    assert [c["model_call_id"] for c in turn["calls"]] == ["fake0", "fake1"]
    assert len(set(made)) == 2 and "fake0" not in made  # renamed: turn 1 used fake0


async def test_no_record_writes_nothing_under_traces(tmp_path, client):
    async with running_agent(tmp_path, client, extra_args=("--no-record",)) as (conn, sid, _):
        resp = await ask(conn, sid, "hello")
    assert resp.stop_reason == "end_turn"
    assert not (tmp_path / "home" / "traces").exists()


async def test_a_traces_dir_that_cannot_be_written_does_not_fail_the_turn(tmp_path, client):
    home = tmp_path / "home"
    home.mkdir()
    (home / "traces").write_text("a file where the folder should be")
    async with running_agent(tmp_path, client) as (conn, sid, _):
        first = await ask(conn, sid, "hello")
        second = await ask(conn, sid, "and again")
    assert (first.stop_reason, second.stop_reason) == ("end_turn", "end_turn")
    assert client.text().count("echo:") == 2
    assert "traces: could not record" in (home / "logs" / "agent.log").read_text()


async def test_a_loaded_session_appends_the_next_prompt_to_its_earlier_file(tmp_path, client):
    async with running_agent(tmp_path, client) as (conn, sid, _):
        await ask(conn, sid, "first")
    async with running_agent(tmp_path, RecordingClient()) as (conn, _, ws):
        await conn.load_session(cwd=str(ws), session_id=sid, mcp_servers=[])
        await ask(conn, sid, "no, I meant the other one")
    (path,) = (tmp_path / "home" / "traces").glob(f"*/{sid}.jsonl")
    kinds = [(r["type"], r["prompt"]) for r in map(json.loads, path.read_text().splitlines())]
    assert kinds == [
        ("turn", "first"),
        ("next_prompt", "no, I meant the other one"),
        ("turn", "no, I meant the other one"),
    ]


async def test_an_ide_mcp_servers_calls_are_recorded_with_the_server(tmp_path, client):
    from test_acp_mcp import START_S, notes_server

    script = 'TOOL notes_shout {"text": "hi"}\nTOOL notes_fail {"text": "x"}'
    async with running_agent(tmp_path, client) as (conn, _, ws):
        new = await asyncio.wait_for(
            conn.new_session(cwd=str(ws), mcp_servers=[notes_server()]), START_S
        )
        await ask(conn, new.session_id, script, 60)
    (path,) = (tmp_path / "home" / "traces").glob(f"*/{new.session_id}.jsonl")
    (turn,) = [json.loads(line) for line in path.read_text().splitlines()]
    calls = [(c["server"], c["tool"], c["status"], c["permission"]["kind"]) for c in turn["calls"]]
    assert calls == [
        ("notes", "shout", "succeeded", "allow_once"),
        ("notes", "fail", "failed", "allow_once"),
    ]
