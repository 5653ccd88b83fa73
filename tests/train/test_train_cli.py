"""`punie train` refuses bad input with one line and exit 2, before any model loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from punie.cli import app


def _run(args: list[str]):
    return CliRunner().invoke(app, args)


@pytest.fixture
def bad_data(tmp_path: Path, chat_data: Path) -> Path:
    d = tmp_path / "bad"
    d.mkdir()
    (d / "train.jsonl").write_text((chat_data / "train.jsonl").read_text() + '{"messages": 3}\n')
    (d / "valid.jsonl").write_text((chat_data / "valid.jsonl").read_text())
    return d


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "rnak=8"], "rnak: unknown setting"),
        (["--rank", "0"], "rank: Input should be greater than 0"),
        (["--num-layers", "9"], "num_layers 9 but the model has 2 layers"),
        (["--batch-size", "64"], "fewer than batch_size 64"),
    ],
)
def test_bad_config_exits_2_without_starting(tiny_model, chat_data, tmp_path, extra, message):
    run_dir = tmp_path / "run"
    r = _run(
        ["train", "--model", str(tiny_model), "--data", str(chat_data), "--run-dir", str(run_dir)]
        + extra
    )
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output
    assert not run_dir.exists()  # no run folder: no worker started, no model loaded


def test_missing_data_exits_2(tiny_model, tmp_path):
    r = _run(["train", "--model", str(tiny_model), "--data", str(tmp_path / "nope")])
    assert r.exit_code == 2
    assert "data folder not found" in r.output


def test_data_failing_validation_exits_2(tiny_model, bad_data, tmp_path):
    run_dir = tmp_path / "run"
    r = _run(
        ["train", "--model", str(tiny_model), "--data", str(bad_data), "--run-dir", str(run_dir)]
    )
    assert r.exit_code == 2, r.output
    assert "data fails validation" in r.output and "train.jsonl:33" in r.output
    assert not run_dir.exists()


def test_unknown_key_in_config_file_exits_2(tiny_model, chat_data, tmp_path):
    f = tmp_path / "c.toml"
    f.write_text(f'model = "{tiny_model}"\ndata = "{chat_data}"\nlearning_rat = 0.1\n')
    r = _run(["train", str(f)])
    assert r.exit_code == 2
    assert "learning_rat: unknown setting" in r.output


def test_dry_run_prints_effective_config_as_json(tiny_model, chat_data, tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(f"model: {tiny_model}\ndata: {chat_data}\nrank: 4\nalpha: 16\n")
    r = _run(["train", str(f), "--rank", "8", "--json", "--dry-run"])
    assert r.exit_code == 0, r.output
    first = json.loads(r.output.splitlines()[0])
    assert first["event"] == "config"
    # Flag rank 8 overrides the file; the file's alpha 16 becomes scale 16/8.
    assert (first["config"]["rank"], first["config"]["scale"]) == (8, 2.0)
