"""The reduced flywheel end to end on the tiny model: real data generation, real
training child, real mlx_lm.server evaluations, comparison and one HTML report."""

from __future__ import annotations

import json
from pathlib import Path

from punie.flywheel.config import load_config
from punie.flywheel.pipeline import run_flywheel


def test_tiny_flywheel_end_to_end_then_cached(
    tmp_path: Path, tiny_model: Path, small_suite: Path, tiny_toml, monkeypatch
):
    monkeypatch.setenv("PUNIE_HOME", str(tmp_path / "home"))  # nothing cached by other tests
    cfg_file = tmp_path / "fw.toml"
    cfg_file.write_text(tiny_toml(tiny_model, small_suite))
    cfg = load_config(cfg_file)

    res = run_flywheel(cfg, tmp_path / "run", progress=False)

    assert res.complete
    summary = json.loads((tmp_path / "run" / "flywheel.json").read_text())
    assert [s["status"] for s in summary["stages"]] == ["ran"] * 8
    manifest = json.loads((res.train_run / "manifest.json").read_text())
    assert manifest["outcome"] == "completed" and manifest["config"]["rank"] == 4
    cmp = summary["comparisons"]["small-tools"]
    assert cmp["n"] == 3
    html = res.report.read_text()
    for piece in (
        "Verdict",
        "Stage times",
        "Data",
        "Training",
        "small-tools",
        "Failure categories",
    ):
        assert piece in html
    assert "<script" not in html and "http://" not in html.split("<body>")[1].replace(
        "http://www.w3.org", ""
    )

    again = run_flywheel(cfg, tmp_path / "run", progress=False)
    statuses = {s.name: s.status for s in again.log.records}
    assert statuses["data"] == "cached"
    assert statuses["validate + check format"] == "cached"
    assert statuses["evaluate base model"] == "cached"
    assert statuses["train LoRA"] == "cached"
    assert statuses["evaluate adapted model"] == "cached"
    assert again.train_run == res.train_run
    # A cached stage still reports how long it took when it ran.
    first = {r.name: r.seconds for r in res.log.records}
    for r in again.log.records:
        if r.status == "cached":
            assert r.ran_seconds == first[r.name] and "before" in r.detail


def test_generated_data_cache_follows_the_generator_source(monkeypatch):
    # A Punie upgrade that changes the generator must not reuse data cached by the old one.
    from punie.flywheel import pipeline
    from punie.flywheel.demo_recipe import DEMO

    monkeypatch.setattr(pipeline, "_generator_fingerprint", lambda: "old")
    before = pipeline.generated_data_dir(DEMO)
    monkeypatch.setattr(pipeline, "_generator_fingerprint", lambda: "new")
    assert pipeline.generated_data_dir(DEMO) != before


def test_cached_runs_and_evaluations_are_not_reused_under_another_software_stack(tmp_path):
    # A newer Punie or mlx-lm may train or score differently: its results are new ones.
    from punie.evaluate.suite import load_suite
    from punie.flywheel.config import EvalSpec
    from punie.flywheel.evals import eval_key
    from punie.flywheel.pipeline import train_key
    from punie.flywheel.stages import software_stack
    from punie.train.config import TrainConfig

    here = software_stack()
    assert here["punie"] and here["mlx"] and here["mlx-lm"]
    newer = {**here, "mlx-lm": "999.0"}
    cfg = TrainConfig(model="m", data=tmp_path)
    assert train_key(cfg, "m1", "d1") == train_key(cfg, "m1", "d1", here)
    assert train_key(cfg, "m1", "d1", newer) != train_key(cfg, "m1", "d1", here)
    suite, spec = load_suite("no-tool"), EvalSpec(suites=("no-tool",))
    assert eval_key("m1", None, suite, spec) == eval_key("m1", None, suite, spec, here)
    assert eval_key("m1", None, suite, spec, newer) != eval_key("m1", None, suite, spec, here)


def test_software_stack_changes_with_punies_own_source(tmp_path):
    # Punie's version string is fixed: a changed scorer or trainer must still miss the cache.
    from punie.flywheel.stages import software_stack, source_hash

    (tmp_path / "scoring.py").write_text("PASS = 1\n")
    (tmp_path / "notes.txt").write_text("not source\n")
    before = source_hash(tmp_path)
    (tmp_path / "notes.txt").write_text("still not source\n")
    assert source_hash(tmp_path) == before
    (tmp_path / "scoring.py").write_text("PASS = 2\n")
    assert source_hash(tmp_path) != before
    assert software_stack()["punie_source"]
