"""`punie init`: IDE agent configs written or merged, never destroyed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from punie.cli import app


def init(*args: str):
    return CliRunner().invoke(app, ["init", *args])


def test_jetbrains_config_is_created_with_an_absolute_command_and_the_adapter(tmp_path):
    adapter = tmp_path / "run" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    cfg = tmp_path / "acp.json"
    r = init(
        "--ide",
        "jetbrains",
        "--model",
        "smollm2-135m",
        "--adapter",
        str(adapter),
        "--config-path",
        str(cfg),
    )
    assert r.exit_code == 0, r.output
    entry = json.loads(cfg.read_text())["agent_servers"]["Punie"]
    assert os.path.isabs(entry["command"]) and Path(entry["command"]).exists()
    assert entry["args"][-5:] == ["serve", "--model", "smollm2-135m", "--adapter", str(adapter)]
    assert "type" not in entry


def test_zed_merge_keeps_other_agents_and_settings_and_replaces_our_entry(tmp_path):
    cfg = tmp_path / "settings.json"
    cfg.write_text(
        json.dumps(
            {
                "theme": "One Dark",
                "agent_servers": {
                    "Other": {"type": "custom", "command": "/bin/other"},
                    "Punie": {"type": "custom", "command": "/old/punie"},
                },
            }
        )
    )
    r = init("--ide", "zed", "--model", "ollama:qwen", "--config-path", str(cfg))
    assert r.exit_code == 0, r.output
    data = json.loads(cfg.read_text())
    assert data["theme"] == "One Dark"
    assert data["agent_servers"]["Other"] == {"type": "custom", "command": "/bin/other"}
    ours = data["agent_servers"]["Punie"]
    assert ours["type"] == "custom" and ours["command"] != "/old/punie"
    assert ours["args"][-3:] == ["serve", "--model", "ollama:qwen"]


def test_zed_settings_with_comments_are_backed_up_and_left_alone(tmp_path):
    cfg = tmp_path / "settings.json"
    original = '{\n  // my font\n  "buffer_font_size": 15,\n}\n'
    cfg.write_text(original)
    r = init("--ide", "zed", "--config-path", str(cfg))
    assert r.exit_code == 2
    assert cfg.read_text() == original
    backups = list(tmp_path.glob("settings.json.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == original


def test_invalid_jetbrains_file_is_backed_up_before_a_fresh_one_is_written(tmp_path):
    cfg = tmp_path / "acp.json"
    cfg.write_text("{not json")
    r = init("--ide", "jetbrains", "--config-path", str(cfg))
    assert r.exit_code == 0, r.output
    assert list(json.loads(cfg.read_text())["agent_servers"]) == ["Punie"]
    (backup,) = tmp_path.glob("acp.json.bak-*")
    assert backup.read_text() == "{not json"


def test_print_shows_the_result_and_writes_nothing(tmp_path):
    cfg = tmp_path / "acp.json"
    r = init("--ide", "jetbrains", "--print", "--config-path", str(cfg))
    assert r.exit_code == 0
    assert not cfg.exists()
    assert '"agent_servers"' in r.stdout and '"serve"' in r.stdout


def test_unknown_ide_and_missing_adapter_are_clear_errors(tmp_path):
    cfg = tmp_path / "acp.json"
    assert init("--ide", "vim", "--config-path", str(cfg)).exit_code == 2
    r = init("--ide", "zed", "--adapter", str(tmp_path / "nope"), "--config-path", str(cfg))
    assert r.exit_code == 2 and not cfg.exists()


def test_an_adapter_is_found_under_punie_home_or_as_a_run_folder(tmp_path, monkeypatch):
    from punie.agent.models import resolve_adapter

    monkeypatch.setenv("PUNIE_HOME", str(tmp_path / "home"))
    adapter = tmp_path / "home" / "runs" / "demo" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert resolve_adapter("runs/demo/adapter") == adapter  # as `make demo` prints it
    assert resolve_adapter("demo") == adapter  # a run name
    assert resolve_adapter(adapter.parent) == adapter  # a run folder
