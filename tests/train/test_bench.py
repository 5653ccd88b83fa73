"""`punie bench train`: verdict thresholds, and a real timed step of the tiny model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from punie.cli import app
from punie.train.bench import verdict


@pytest.mark.parametrize(
    ("s_iter", "label"),
    [(0.5, "excellent"), (4.99, "excellent"), (5.0, "acceptable"), (29.9, "acceptable"),
     (30.0, "slow"), (59.0, "slow"), (60.0, "too slow"), (215.0, "too slow")],
)  # fmt: skip
def test_verdict_thresholds(s_iter, label):
    got, advice = verdict(s_iter)
    assert got == label and advice


def test_bench_train_measures_the_training_process(tiny_model):
    r = CliRunner().invoke(
        app, ["bench", "train", str(tiny_model), "--seq-len", "64", "--steps", "2", "--json"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["seconds_per_iter"] > 0 and len(res["step_times"]) == 2
    assert res["tokens_per_second"] == pytest.approx(4 * 64 / res["seconds_per_iter"])
    # Measured in the child: the worker loaded the fast BLAS and holds the model.
    assert res["blas"] in ("mkl", "openblas", "accelerate", "stock")
    assert res["peak_rss_gb"] > 0.05 and res["verdict"] == "excellent"
