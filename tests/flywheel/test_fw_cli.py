"""`punie flywheel run` on the user's own dataset folder (a path relative to the
config file), through the CLI: exit 0, report path printed, run folder complete."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from punie.cli import app


def test_flywheel_run_on_own_data(
    tmp_path: Path, tiny_model: Path, small_suite: Path, tiny_toml, monkeypatch
):
    from punie.data.generate import generate

    monkeypatch.setenv("PUNIE_HOME", str(tmp_path / "home"))
    generate("tools", tmp_path / "cfg" / "mydata", 30, 5)
    text = tiny_toml(tiny_model, small_suite, name="own").replace(
        'generate = "tools"\nn = 40\nseed = 1\n', 'path = "mydata"\n'
    )
    assert 'path = "mydata"' in text
    (tmp_path / "cfg" / "fw.toml").write_text(text)

    out = CliRunner().invoke(
        app, ["flywheel", "run", str(tmp_path / "cfg" / "fw.toml")], env={"COLUMNS": "200"}
    )

    assert out.exit_code == 0, out.output
    run = tmp_path / "home" / "flywheel" / "own"
    assert f"report: {run / 'report.html'}" in out.output
    summary = json.loads((run / "flywheel.json").read_text())
    assert summary["complete"] and summary["data"]["path"] == str(tmp_path / "cfg" / "mydata")
    assert "Stage times" in out.output
