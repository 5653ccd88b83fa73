"""`punie init` says that sessions are recorded, and can register `serve --no-record`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from punie.cli import app


def init(tmp_path, *args: str):
    cfg = tmp_path / "acp.json"
    r = CliRunner().invoke(app, ["init", "--ide", "jetbrains", "--config-path", str(cfg), *args])
    return r, cfg


def test_init_says_recording_is_on_local_and_how_to_turn_it_off(tmp_path):
    r, cfg = init(tmp_path)
    assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    assert "records each session locally under PUNIE_HOME/traces" in said
    assert "--no-record" in said and "record = false" in said
    assert "--no-record" not in json.loads(cfg.read_text())["agent_servers"]["Punie"]["args"]


def test_init_no_record_registers_serve_with_no_record(tmp_path):
    r, cfg = init(tmp_path, "--no-record")
    assert r.exit_code == 0, r.output
    assert json.loads(cfg.read_text())["agent_servers"]["Punie"]["args"][-1] == "--no-record"
    assert "will not record" in r.stderr
