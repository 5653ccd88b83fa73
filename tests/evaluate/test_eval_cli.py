"""`punie eval` and `punie compare` as a user runs them: real processes, the tiny model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SUITE = """name: cli
max_tokens: 4
cases:
  - id: chat
    category: no_tool
    messages: [{role: user, content: "Hello"}]
    tools: agent
    no_call: true
  - id: read
    category: read_file
    messages: [{role: user, content: "Read README.md"}]
    tools: agent
    expected_calls: [{name: read_file, arguments: {path: [README.md]}}]
"""


def punie(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "punie", *args], capture_output=True, text=True, timeout=180
    )


def test_eval_then_compare(tiny_model: Path, tmp_path: Path):
    suite = tmp_path / "cli.yaml"
    suite.write_text(SUITE)
    for name in ("a", "b"):
        proc = punie(
            "eval", "--model", str(tiny_model), "--suite", str(suite), "--out", str(tmp_path / name)
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == [
            str(tmp_path / name / "results.json"),
            str(tmp_path / name / "report.html"),
        ]
    proc = punie(
        "compare",
        str(tmp_path / "a" / "results.json"),
        str(tmp_path / "b"),
        "--out",
        str(tmp_path / "cmp"),
    )
    assert proc.returncode == 0, proc.stderr
    cmp = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    # The same model twice at temperature 0: nothing flips.
    assert cmp["delta_points"] == 0 and cmp["fixed"] == [] and cmp["broken"] == []
    assert (tmp_path / "cmp" / "comparison.html").read_text().startswith("<!doctype html>")


def test_eval_with_missing_model_is_one_line_exit_2(tmp_path: Path):
    suite = tmp_path / "cli.yaml"
    suite.write_text(SUITE)
    proc = punie(
        "eval",
        "--model",
        str(tmp_path / "no-model"),
        "--suite",
        str(suite),
        "--out",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")


def test_compare_of_a_non_result_is_one_line_exit_2(tmp_path: Path):
    bad = tmp_path / "results.json"
    bad.write_text('{"hello": 1}')
    proc = punie("compare", str(bad), str(bad))
    assert proc.returncode == 2 and "not an evaluation result" in proc.stderr


def test_resume_with_other_settings_is_one_line_exit_2_and_fresh_starts_over(
    tiny_model: Path, tmp_path: Path
):
    suite = tmp_path / "cli.yaml"
    suite.write_text(SUITE)
    args = ["eval", "--model", str(tiny_model), "--suite", str(suite), "--out", str(tmp_path / "o")]
    assert punie(*args, "--max-tokens", "2").returncode == 0
    proc = punie(*args, "--max-tokens", "3", "--temperature", "0.7")
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")
    assert "settings.max_tokens 2 -> 3" in proc.stderr and "--fresh" in proc.stderr
    proc = punie(*args, "--max-tokens", "3", "--temperature", "0.7", "--fresh")
    assert proc.returncode == 0, proc.stderr
    saved = json.loads((tmp_path / "o" / "results.json").read_text())
    assert saved["settings"]["max_tokens"] == 3 and saved["settings"]["temperature"] == 0.7


def test_compare_of_two_versions_of_one_suite_is_one_line_exit_2(tmp_path: Path):
    case = {"id": "c", "category": "x", "kind": "tool", "passed": True}
    for name, fingerprint in (("a", "f1"), ("b", "f2")):
        result = {"suite": "tools", "suite_fingerprint": fingerprint, "model": "m"}
        (tmp_path / f"{name}.json").write_text(json.dumps({**result, "cases": [case]}))
    proc = punie("compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "different suites" in proc.stderr and "f1" in proc.stderr and "f2" in proc.stderr
