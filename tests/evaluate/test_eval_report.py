"""Reports: every model output escaped, self-contained (no scripts, no network)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from punie.evaluate.report import read_loss_curves, render_report, write_html_report
from punie.evaluate.results import CaseResult, SuiteResult, load_result

EVIL = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def result_with(content: str, **kw) -> SuiteResult:
    cases = [
        CaseResult(
            id="a",
            category="read_file",
            kind="tool",
            passed=True,
            prompt="read README.md",
            calls=[{"name": "read_file", "arguments": {"path": "README.md"}}],
        ),
        CaseResult(
            id="b",
            category="python",
            kind="keywords",
            passed=False,
            failure="missing_keyword",
            detail="missing keyword 'x'",
            prompt=EVIL,
            content=content,
            raw_text=content + "<|im_end|>",
            calls=[{"name": "run_command", "arguments": {"command": EVIL}}],
        ),
    ]
    return SuiteResult(suite="s", suite_fingerprint="f", model="m", cases=cases, **kw)


def test_model_output_with_script_is_escaped(tmp_path: Path):
    html = write_html_report(result_with(EVIL), tmp_path / "r.html").read_text()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert "<img" not in html


def test_report_is_self_contained():
    html = render_report(result_with("fine"))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html
    assert "<svg" in html and "<style>" in html


def test_report_shows_summary_and_failures():
    html = render_report(result_with("fine"))
    assert "50.0%" in html and "missing_keyword" in html and "1/2" in html


def test_incomplete_result_says_so():
    html = render_report(result_with("x", complete=False, n_suite=5))
    assert "3 case(s) of the suite were not run" in html


def test_loss_curves_from_metrics_jsonl(tmp_path: Path):
    rows = [
        {"event": "start", "step": 0},
        {"event": "train", "step": 10, "train_loss": 2.0},
        {"event": "val", "step": 10, "val_loss": 2.5},
        {"event": "train", "step": 20, "train_loss": 1.5},
        "garbage",
    ]
    (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    curves = read_loss_curves(tmp_path)
    assert curves == {"train": [(10.0, 2.0), (20.0, 1.5)], "val": [(10.0, 2.5)]}
    html = render_report(result_with("x"), run_dir=tmp_path)
    assert "Training loss" in html and "<polyline" in html


def test_results_json_round_trips(tmp_path: Path):
    r = result_with("x")
    (tmp_path / "results.json").write_text(json.dumps(r.to_json()))
    back = load_result(tmp_path)
    assert back.cases == r.cases and back.summary() == r.summary()
