"""The learning-rate schedule the config asks for: warm-up, then decay."""

from __future__ import annotations

import pytest

from punie.train.config import TrainConfig


def test_warmup_then_cosine_decay_to_min():
    import mlx.core as mx

    from punie.train.engine import build_schedule

    cfg = TrainConfig(
        model="m", data="d", learning_rate=1e-3, lr_schedule="cosine", warmup_steps=4,
        min_learning_rate=1e-5, iters=104,
    )  # fmt: skip
    lr = build_schedule(cfg)
    at = [lr(mx.array(s)).item() for s in (0, 2, 4, 54, 103)]  # 103 = last update
    assert at[0] == pytest.approx(0.0)
    assert at[1] == pytest.approx(5e-4, rel=1e-3)
    assert at[2] == pytest.approx(1e-3, rel=1e-3)
    assert 1e-5 < at[3] < 1e-3
    assert at[4] == pytest.approx(1e-5, rel=1e-2)


def test_constant_without_warmup_is_the_plain_rate():
    from punie.train.engine import build_schedule

    assert build_schedule(TrainConfig(model="m", data="d", learning_rate=3e-4)) == 3e-4
