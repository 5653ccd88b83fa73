"""Real mlx-lm training of the tiny model in a worker process: the config reaches the
model, events carry the right steps, adapters load in mlx-lm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import tiny_config
from punie.errors import PunieError
from punie.train.rundir import read_events
from punie.train.runner import train


def _tensors(adapter: Path) -> dict:
    import mlx.core as mx

    return mx.load(str(adapter / "adapters.safetensors"))


@pytest.fixture(scope="module")
def lora4_run(tiny_model, chat_data, tmp_path_factory):
    cfg = tiny_config(
        tiny_model,
        chat_data,
        rank=4,
        alpha=8,
        num_layers=1,
        keys=["self_attn.q_proj", "mlp.down_proj"],
        iters=2,
    )
    return train(cfg, tmp_path_factory.mktemp("runs") / "lora4")


def test_rank_sets_adapter_tensor_shapes(lora4_run, lora16_run):
    for run, rank in ((lora4_run, 4), (lora16_run, 16)):
        t = _tensors(run.adapter_path)
        q_a = next(v for k, v in t.items() if k.endswith("self_attn.q_proj.lora_a"))
        q_b = next(v for k, v in t.items() if k.endswith("self_attn.q_proj.lora_b"))
        assert q_a.shape == (64, rank)  # hidden 64 -> rank
        assert q_b.shape == (rank, 64)
        cfg = json.loads((run.adapter_path / "adapter_config.json").read_text())
        assert cfg["lora_parameters"]["rank"] == rank


def test_num_layers_and_keys_reach_the_model(lora4_run, lora16_run):
    names = {k.rsplit(".lora_", 1)[0] for k in _tensors(lora4_run.adapter_path)}
    # The tiny model has 2 layers: num_layers=1 adapts only the top one.
    assert names == {"model.layers.1.self_attn.q_proj", "model.layers.1.mlp.down_proj"}
    all_names = {k.rsplit(".lora_", 1)[0] for k in _tensors(lora16_run.adapter_path)}
    assert {n.split(".")[2] for n in all_names} == {"0", "1"}
    assert len(all_names) == 2 * 7  # every projection of both layers
    cfg = json.loads((lora4_run.adapter_path / "adapter_config.json").read_text())
    assert cfg["num_layers"] == 1 and cfg["lora_parameters"]["scale"] == 2.0


def test_a_key_matching_nothing_is_a_config_error(tiny_model, chat_data, tmp_path):
    cfg = tiny_config(tiny_model, chat_data, keys=["self_attn.qq_proj"], iters=1)
    with pytest.raises(PunieError, match="'self_attn.qq_proj' matches no linear module"):
        train(cfg, tmp_path / "run")


def test_full_fine_tuning_lowers_val_loss_and_reports_steps(full_run):
    events = read_events(full_run.metrics_path)
    vals = [e for e in events if e["event"] == "val"]
    assert [v["step"] for v in vals] == [0, 20, 40]
    assert vals[-1]["val_loss"] < vals[0]["val_loss"] - 1.0
    trains = [e for e in events if e["event"] == "train"]
    assert [t["step"] for t in trains] == list(range(1, 41))
    for key in ("learning_rate", "tokens_per_second", "peak_memory_gb"):
        assert trains[-1][key] > 0
    assert full_run.outcome == "completed" and full_run.best_step == 40


def test_manifest_records_config_data_model_and_versions(full_run):
    m = json.loads((full_run.run_dir / "manifest.json").read_text())
    assert m["outcome"] == "completed" and m["steps"] == 40
    assert m["config"]["fine_tune_type"] == "full"
    assert len(m["data"]["sha256"]) == 64 and len(m["model"]["sha256"]) == 64
    assert m["versions"]["mlx-lm"] and m["started"] <= m["ended"]
    assert (full_run.run_dir / "train.log").stat().st_size > 0


def test_adapter_loads_in_mlx_lm_and_changes_the_output(tiny_model, lora16_run):
    import mlx.core as mx
    from mlx_lm import load

    base, tok = load(str(tiny_model))
    tuned, _ = load(str(tiny_model), adapter_path=str(lora16_run.adapter_path))
    ids = mx.array([tok.encode("Read the file README.md")])
    assert not mx.allclose(base(ids), tuned(ids), atol=1e-4).item()


def test_early_stopping_keeps_the_best_adapter(tiny_model, chat_data, tmp_path):
    # A learning rate this small cannot improve val loss by min_delta: stop after 2 evals.
    cfg = tiny_config(
        tiny_model,
        chat_data,
        learning_rate=1e-12,
        iters=50,
        steps_per_eval=1,
        early_stopping_patience=2,
        early_stopping_min_delta=0.01,
    )
    r = train(cfg, tmp_path / "run")
    assert (r.outcome, r.steps, r.best_step) == ("early_stopped", 2, 0)
    info = json.loads((r.best_adapter_path / "punie_adapter.json").read_text())
    assert info["step"] == 0
