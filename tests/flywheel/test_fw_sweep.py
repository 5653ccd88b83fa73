"""A sweep over two ranks trains two different runs (checked from their manifests and
adapter tensors), shares data and the base evaluation, and ranks them by task score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie.errors import PunieError
from punie.flywheel.config import EvalSpec, FlywheelConfig
from punie.flywheel.sweep import check_manifest, grid_points, load_sweep, on_dev_draws, run_sweep


def _lora_shapes(adapter: Path) -> dict[str, tuple]:
    import mlx.core as mx

    weights = mx.load(str(adapter / "adapters.safetensors"))
    return {k: tuple(v.shape) for k, v in weights.items() if k.endswith("lora_a")}


def test_sweep_two_ranks_trains_two_different_runs(
    tmp_path: Path, tiny_model: Path, small_suite: Path, tiny_toml
):
    cfg_file = tmp_path / "sweep.toml"
    cfg_file.write_text(
        tiny_toml(tiny_model, small_suite, name="sw")
        + '\n[sweep]\nrank = [2, 6]\nmetric = "small-tools"\n'
    )
    cfg, grid, metric = load_sweep(cfg_file)
    result = run_sweep(cfg, grid, tmp_path / "sweep", metric=metric, progress=False)

    assert len(result.rows) == 2
    runs = {r["point"]["rank"]: Path(r["train_run"]) for r in result.rows}
    manifests = {k: json.loads((v / "manifest.json").read_text()) for k, v in runs.items()}
    assert manifests[2]["config"]["rank"] == 2 and manifests[6]["config"]["rank"] == 6
    assert runs[2] != runs[6]
    shapes2, shapes6 = _lora_shapes(runs[2] / "adapter"), _lora_shapes(runs[6] / "adapter")
    assert shapes2 and all(s[-1] == 2 for s in shapes2.values())
    assert all(s[-1] == 6 for s in shapes6.values())
    # Sorted by task score, best named, table written as text and HTML.
    scores = [r["score"] for r in result.rows]
    assert scores == sorted(scores, reverse=True)
    assert result.best_name == result.rows[0]["name"]
    assert result.best_name in (tmp_path / "sweep" / "sweep.txt").read_text()
    assert "<table>" in (tmp_path / "sweep" / "sweep.html").read_text()
    # The second point reused the first point's base evaluation.
    stages = json.loads((tmp_path / "sweep" / result.rows[1]["name"] / "stages.json").read_text())
    later = [
        json.loads((tmp_path / "sweep" / r["name"] / "stages.json").read_text())
        for r in result.rows
    ]
    assert any(
        {s["name"]: s["status"] for s in st}["evaluate base model"] == "cached" for st in later
    ), stages


def test_manifest_without_the_point_value_is_refused():
    with pytest.raises(PunieError, match="rank=8"):
        check_manifest({"config": {"rank": 8}}, {"rank": 16})


def test_grid_points_cover_the_product():
    pts = grid_points({"rank": [4, 8], "learning_rate": [1e-4, 1e-3]})
    assert len(pts) == 4 and {"rank": 8, "learning_rate": 1e-3} in pts


def test_a_sweep_chooses_on_the_dev_draw_of_each_built_in_suite(small_suite: Path):
    cfg = FlywheelConfig(
        eval=EvalSpec(suites=("tools", "no-tool", "tasks", "python", str(small_suite)))
    )
    cfg, metric = on_dev_draws(cfg, "no-tool")
    # python has no dev draw and a YAML file is the user's own: both as given.
    assert cfg.eval.suites == ("tools-dev", "no-tool-dev", "tasks-dev", "python", str(small_suite))
    assert metric == "no-tool-dev"
