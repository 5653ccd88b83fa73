"""Two local ranks under mlx.launch (ring backend, CPU): same averaged loss on both,
one adapter written by rank 0."""

from __future__ import annotations

from conftest import tiny_config
from punie.train.rundir import read_events
from punie.train.runner import train


def test_two_ranks_see_the_same_loss_and_write_one_adapter(tiny_model, chat_data, tmp_path):
    cfg = tiny_config(tiny_model, chat_data, fine_tune_type="full", iters=3, steps_per_eval=3)
    r = train(cfg, tmp_path / "run", nproc=2)
    assert r.outcome == "completed" and r.steps == 3

    rank0 = read_events(r.run_dir / "metrics.jsonl")
    rank1 = read_events(r.run_dir / "metrics.rank1.jsonl")
    assert {e["world_size"] for e in rank0 + rank1 if e["event"] == "start"} == {2}
    loss0 = [(e["step"], e["train_loss"]) for e in rank0 if e["event"] == "train"]
    loss1 = [(e["step"], e["train_loss"]) for e in rank1 if e["event"] == "train"]
    assert [s for s, _ in loss0] == [1, 2, 3]
    assert loss0 == loss1  # all-reduced: bit-identical on both ranks
    val0 = [e["val_loss"] for e in rank0 if e["event"] == "val"]
    assert val0 == [e["val_loss"] for e in rank1 if e["event"] == "val"]

    # Only rank 0 writes: one adapter, one set of checkpoints, no rank-1 checkpoint events.
    assert (r.adapter_path / "adapters.safetensors").is_file()
    assert not any(e["event"] == "checkpoint" for e in rank1)
    assert [p.name for p in (r.run_dir / "checkpoints").iterdir()] == ["0000003"]
