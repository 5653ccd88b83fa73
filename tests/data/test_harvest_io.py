"""punie.data.harvest_io and `punie data harvest` on real trace files: reading (a cut-off
last line, malformed records as file:line, exit 2), --since, --workspace, --existing,
and the output folder (splits, pairs, report; replaced whole, never half-written)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_harvest import READ, WRITE_BAD, WRITE_OK, turn
from typer.testing import CliRunner

from punie.cli import app
from punie.data import harvest_io as io
from punie.errors import PunieError
from punie.traces.recorder import workspace_key


def write_session(root: Path, ws: Path, turns, extra: str = "") -> Path:
    path = root / workspace_key(ws) / f"{turns[0].session_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for t in turns:
        lines.append(json.dumps({**t.record, "workspace": str(ws)}))
        if t.next_prompt:
            lines.append(json.dumps(t.next_prompt))
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


@pytest.fixture
def traces(tmp_path) -> Path:
    """Two workspaces: an old session (a positive, a pair) and a newer one (a positive)."""
    root = tmp_path / "traces"
    at = "2026-01-01T00:00:00+00:00"
    write_session(
        root,
        tmp_path / "ws1",
        [
            turn("show a.py", [READ], sid="a" * 32, at=at, next_prompt="write a.py"),
            turn("write a.py", [WRITE_BAD, WRITE_OK], sid="a" * 32, at=at),
        ],
    )
    write_session(
        root,
        tmp_path / "ws2",
        [turn("show b.py", [READ], sid="b" * 32, at="2026-02-01T00:00:00+00:00")],
    )
    return root


def harvest_cli(*args):
    return CliRunner().invoke(app, ["data", "harvest", *map(str, args)], env={"COLUMNS": "200"})


def test_a_turn_and_its_next_prompt_are_read_together(traces):
    (path,) = traces.glob("ws1-*/*.jsonl")
    turns, skipped = io.read_session(path)
    assert [t.next_prompt and t.next_prompt["prompt"] for t in turns] == ["write a.py", None]
    assert turns[0].where == f"{path}:1" and skipped == 0


def test_a_last_line_cut_off_by_a_crash_is_skipped_and_counted(tmp_path):
    path = write_session(
        tmp_path, tmp_path / "ws", [turn("show a.py", [READ])], extra='{"type": "tu'
    )
    turns, skipped = io.read_session(path)
    assert (len(turns), skipped) == (1, 1)


def test_a_bad_line_before_the_last_is_an_error_naming_file_and_line(tmp_path):
    path = write_session(tmp_path, tmp_path / "ws", [turn("a", [READ]), turn("b", [READ])])
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "{oops", lines[1]]) + "\n")
    with pytest.raises(PunieError, match=f"{path}:2: not valid JSON"):
        io.read_session(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 2}, "record format 2"),
        ({"type": "note"}, "unknown record type"),
        ({"started_at": "yesterday"}, "not an ISO 8601 time"),
        ({"calls": "none"}, "`calls` is not a list"),
        ({"turn_start": 99}, "`turn_start` is not an index"),
        ({"prompt": None}, "no string `prompt`"),
    ],
)
def test_a_malformed_record_is_an_error_naming_file_and_line(tmp_path, change, message):
    t = turn("show a.py", [READ])
    path = write_session(tmp_path, tmp_path / "ws", [t])
    path.write_text(json.dumps({**t.record, **change}) + "\n" + json.dumps(t.record) + "\n")
    with pytest.raises(PunieError, match=f"{path}:1: .*{message}"):
        io.read_session(path)


def test_the_cli_exits_2_on_a_malformed_trace_and_writes_nothing(traces, tmp_path):
    (path,) = traces.glob("ws2-*/*.jsonl")
    path.write_text('{"type": "turn", "format": 1}\n' + path.read_text())
    result = harvest_cli("--traces", traces, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert f"{path}:1: turn record has no string `session_id`" in result.output
    assert not (tmp_path / "out").exists()


def test_since_keeps_turns_started_then_or_later(traces):
    turns, info = io.load_turns(traces, since=datetime(2026, 1, 15, tzinfo=UTC))
    assert [t.record["prompt"] for t in turns] == ["show b.py"] and info["before_since"] == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T10:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2d", datetime(2026, 3, 8, tzinfo=UTC)),
    ],
)
def test_since_takes_a_date_a_time_or_an_age(text, expected):
    assert io.parse_since(text, now=datetime(2026, 3, 10, tzinfo=UTC)) == expected


def test_a_since_that_is_neither_is_exit_2(traces, tmp_path):
    result = harvest_cli("--traces", traces, "--out", tmp_path / "out", "--since", "last tuesday")
    assert result.exit_code == 2 and "--since: not a date or an age" in result.output


def test_workspace_keeps_only_that_workspaces_sessions(traces, tmp_path):
    turns, _ = io.load_turns(traces, workspace=tmp_path / "ws2")
    assert [t.record["prompt"] for t in turns] == ["show b.py"]


def test_the_harvest_folder_holds_splits_pairs_and_the_report(traces, tmp_path):
    out = tmp_path / "out"
    result = harvest_cli("--traces", traces, "--out", out)
    assert result.exit_code == 0, result.output
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["harvest.json", "pairs/train.jsonl", "train.jsonl", "valid.jsonl"]
    report = json.loads((out / "harvest.json").read_text())
    assert (report["positives"], report["pairs"]) == ({"train": 1, "valid": 1}, {"train": 1})
    assert [o["kept"] for o in report["outcomes"]] == ["positive", "1 pair", "positive"]
    assert report["reasons"]["negative"]["turns"] == 1


def test_the_table_names_each_dropped_turns_reason(traces, tmp_path):
    result = harvest_cli("--traces", traces, "--out", tmp_path / "out")
    row = next(line for line in result.output.splitlines() if "write a.py" in line)
    assert "1 pair" in row and "negative: write_file rejected" in row


def test_existing_data_is_not_repeated(traces, tmp_path):
    first = tmp_path / "first"
    assert harvest_cli("--traces", traces, "--out", first).exit_code == 0
    again = tmp_path / "again"
    result = harvest_cli(
        "--traces", traces, "--out", again, "--existing", first, "--existing", first / "pairs"
    )
    assert result.exit_code == 0, result.output
    report = json.loads((again / "harvest.json").read_text())
    assert (report["positives"], report["pairs"]) == ({}, {})
    assert report["reasons"]["duplicate"]["turns"] == 3


def test_a_rerun_replaces_the_earlier_harvest_whole(traces, tmp_path):
    out = tmp_path / "out"
    assert harvest_cli("--traces", traces, "--out", out).exit_code == 0
    assert (
        harvest_cli("--traces", traces, "--out", out, "--workspace", tmp_path / "ws2").exit_code
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["harvest.json", "train.jsonl"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_an_out_folder_that_is_not_a_harvest_is_refused(traces, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = harvest_cli("--traces", traces, "--out", out)
    assert result.exit_code == 2 and "holds no harvest.json" in result.output
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_the_length_check_uses_the_models_template(smollm2):
    too_long, _ = io.model_checks(str(smollm2), 20)
    assert "tokens > 20" in too_long(turn("show a.py", [READ]).record["row"])


def test_the_format_check_passes_a_harvested_row_with_the_models_template(smollm2):
    _, bad_format = io.model_checks(str(smollm2), 2048)
    assert bad_format(turn("show a.py", [READ]).record["row"]) is None
