"""Batch order is a pure function of (seed, position): resumable without replay."""

from __future__ import annotations

from punie.train.batches import batch_at, batch_plan, val_batches


def test_each_epoch_visits_every_batch_once_in_a_seeded_order():
    plan = batch_plan(list(range(40)), batch_size=4)
    epoch0 = [tuple(batch_at(plan, 7, k)) for k in range(10)]
    epoch1 = [tuple(batch_at(plan, 7, k)) for k in range(10, 20)]
    assert sorted(epoch0) == sorted(map(tuple, plan)) == sorted(epoch1)
    assert epoch0 != epoch1  # reshuffled per epoch
    assert [tuple(batch_at(plan, 7, k)) for k in range(10)] == epoch0  # same seed, same order
    assert [tuple(batch_at(plan, 8, k)) for k in range(10)] != epoch0


def test_ranks_take_disjoint_halves_of_each_batch():
    lengths = [5, 1, 4, 2, 3, 8, 7, 6]
    r0 = batch_plan(lengths, 4, rank=0, world=2)
    r1 = batch_plan(lengths, 4, rank=1, world=2)
    for a, b in zip(r0, r1, strict=True):
        assert len(a) == len(b) == 2 and not set(a) & set(b)
    assert sorted(i for batch in r0 + r1 for i in batch) == list(range(8))


def test_validation_batches_are_the_same_every_time():
    plan = batch_plan(list(range(40)), batch_size=4)
    assert val_batches(plan, 0, 3) == val_batches(plan, 0, 3)
    assert len(val_batches(plan, 0, -1)) == 10
