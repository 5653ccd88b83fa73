"""Checkpoint selection by task score on the valid split, and `punie runs list/show`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from punie.cli import app
from punie.flywheel.checkpoints import valid_suite
from punie.flywheel.config import load_config
from punie.flywheel.pipeline import run_flywheel


def test_valid_suite_expects_each_rows_first_assistant_turn(tmp_path: Path):
    from punie.data.generate import generate

    generate("tools", tmp_path, 40, 3)
    suite = valid_suite(tmp_path)
    rows = [json.loads(x) for x in (tmp_path / "valid.jsonl").read_text().splitlines()]
    assert len(suite.cases) == len(rows)
    for case, row in zip(suite.cases, rows, strict=True):
        turn = next(m for m in row["messages"] if m["role"] == "assistant")
        names = [c["function"]["name"] for c in turn.get("tool_calls") or []]
        assert [c.name for c in case.expected_calls] == names
        assert case.no_call == (not names)


def test_selection_keeps_the_best_scoring_checkpoint_then_runs_show_it(
    tmp_path: Path, tiny_model: Path, small_suite: Path, tiny_toml, monkeypatch
):
    cfg_file = tmp_path / "fw.toml"
    cfg_file.write_text(
        "select_checkpoint = true\n" + tiny_toml(tiny_model, small_suite, name="sel")
    )
    cfg = load_config(cfg_file)
    home = Path(__import__("os").environ["PUNIE_HOME"])
    res = run_flywheel(cfg, home / "flywheel" / "sel", progress=False)

    sel = json.loads((res.train_run / "selection.json").read_text())
    labels = [c["label"] for c in sel["candidates"]]
    assert labels == ["step 2", "step 4", "final"]
    best = max(c["accuracy"] for c in sel["candidates"])
    assert sel["best"]["accuracy"] == best
    assert (res.train_run / "adapter-selected" / "adapters.safetensors").is_file()
    summary = json.loads((res.run_dir / "flywheel.json").read_text())
    assert summary["adapter"].endswith("adapter-selected")

    runner = CliRunner()
    out = runner.invoke(app, ["runs", "list"], env={"COLUMNS": "300"})
    assert out.exit_code == 0, out.output
    assert "sel" in out.output and res.train_run.name in out.output
    shown = runner.invoke(app, ["runs", "show", "sel"], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert "small-tools" in shown.output and "rank" in shown.output
    missing = runner.invoke(app, ["runs", "show", "nope"])
    assert missing.exit_code == 2 and "no run named" in missing.output
