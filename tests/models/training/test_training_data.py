"""Shard streams for training: split roles from meta.json, rank/worker shares that partition the samples even
with a single shard, deterministic epochs, one validation pass, and a clear error for a starving reader."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from tiny_family import FAMILY, TinyCopyConfig
from tiny_shards import build_tiny_shards

import models.training.data as data_module
from models.training.data import ShardExamples, example_loader, held_out, plan_data, reader_share


@pytest.mark.parametrize("n_shards", [1, 2, 3, 5, 8])
@pytest.mark.parametrize(("world", "workers"), [(1, 1), (2, 1), (2, 2), (3, 2), (1, 3)])
def test_reader_shares_partition_every_sample(n_shards, world, workers):
    shards = [[f"s{s}-{i}" for i in range(7)] for s in range(n_shards)]
    seen = []
    for rank, worker in itertools.product(range(world), range(workers)):
        share = reader_share(n_shards, rank, world, worker, workers)
        stream = [sample for s in share.shards for sample in shards[s]]
        mine = [x for i, x in enumerate(stream) if i % share.modulus == share.residue]
        assert mine, f"rank {rank} worker {worker} starves"
        seen += mine
    assert sorted(seen) == sorted(x for shard in shards for x in shard)  # each sample exactly once


def test_plan_reads_roles_from_the_index(tmp_path):
    with_val = build_tiny_shards(tmp_path / "a", {"train": 10, "val": 3, "test": 4}, per_shard=6)
    plan = plan_data([with_val], val_fraction=0.5)
    assert (plan.train_samples, plan.val_samples, plan.has_val_split) == (10, 3, True)
    assert plan.steps_per_epoch(world_size=2, batch_size=2, grad_accum_steps=1) == 3  # ceil(10 / 4)
    # shards sorted by key: test-000..003 + train-000,001 | train-002..007 | train-008,009 + val-*
    assert [u.rsplit("/", 1)[1] for u in plan.train_urls] == [f"shard-{i:06d}.tar" for i in range(3)]
    assert [u.rsplit("/", 1)[1] for u in plan.val_urls] == ["shard-000002.tar"]

    no_val = build_tiny_shards(tmp_path / "b", {"train": 40, "test": 2}, per_shard=50)
    plan = plan_data([no_val], val_fraction=0.25)
    expected_val = sum(held_out(f"train-{i:03d}", 0.25) for i in range(40))
    assert 0 < expected_val < 40
    assert (plan.train_samples, plan.val_samples, plan.has_val_split) == (
        40 - expected_val,
        expected_val,
        False,
    )
    both = plan_data([with_val, no_val], val_fraction=0.25)  # one folder with a val split: no hash hold-out
    assert (both.train_samples, both.val_samples) == (50, 3)


def test_plan_without_training_samples_says_what_to_build(tmp_path):
    only_test = build_tiny_shards(tmp_path / "t", {"test": 3}, per_shard=4)
    with pytest.raises(ValueError, match="no training samples"):
        plan_data([only_test], 0.1)
    with pytest.raises(FileNotFoundError, match="build the shards first"):
        plan_data([tmp_path / "missing"], 0.1)


def _first_pass(plan, config, rank, world, worker, workers, monkeypatch, epoch=1):
    monkeypatch.setattr(
        data_module, "get_worker_info", lambda: SimpleNamespace(id=worker, num_workers=workers)
    )
    stream = ShardExamples(
        plan, FAMILY, config, role="train", rank=rank, world_size=world, epoch=epoch, repeat=True
    )
    share = plan.train_samples // (world * workers)
    return [example["key"] for example in itertools.islice(stream, share)]


def test_one_shard_feeds_two_ranks_and_their_loader_workers(tmp_path, monkeypatch):
    folder = build_tiny_shards(tmp_path / "one", {"train": 16, "val": 2}, per_shard=100)
    plan = plan_data([folder], 0.1)
    assert len(plan.train_urls) == 1
    config = TinyCopyConfig.preset("tiny")
    keys = [_first_pass(plan, config, r, 2, w, 2, monkeypatch) for r in range(2) for w in range(2)]
    assert all(len(k) == 4 for k in keys)
    assert sorted(sum(keys, [])) == [f"train-{i:03d}" for i in range(16)]  # disjoint, nothing left out


def test_epochs_are_reproducible_and_differ_from_each_other(tmp_path, monkeypatch):
    folder = build_tiny_shards(tmp_path / "d", {"train": 24}, per_shard=5)
    plan = plan_data([folder], 0.0)
    config = TinyCopyConfig.preset("tiny", val_fraction=0.0)
    first = _first_pass(plan, config, 0, 1, 0, 1, monkeypatch, epoch=3)
    assert first == _first_pass(plan, config, 0, 1, 0, 1, monkeypatch, epoch=3)
    assert first != _first_pass(plan, config, 0, 1, 0, 1, monkeypatch, epoch=4)
    assert sorted(first) == [f"train-{i:03d}" for i in range(24)]


def test_validation_loader_reads_every_val_sample_once(tmp_path):
    folder = build_tiny_shards(tmp_path / "v", {"train": 4, "val": 7}, per_shard=3)
    plan = plan_data([folder], 0.1)
    config = TinyCopyConfig.preset("tiny")
    batches = list(example_loader(plan, FAMILY, config, role="val"))
    assert sorted(k for batch in batches for k in batch["key"]) == [f"val-{i:03d}" for i in range(7)]
    assert batches[0]["x"].shape == (4, 4, 8, 8) and not batches[0]["x"].requires_grad


def test_a_reader_whose_samples_are_all_skipped_fails_with_its_rank_named(tmp_path):
    folder = build_tiny_shards(tmp_path / "s", {"train": 4}, per_shard=4)
    plan = plan_data([folder], 0.0)

    class SkipAll:
        def example(self, sample, config, *, train):
            return None

    stream = ShardExamples(
        plan,
        SkipAll(),
        TinyCopyConfig.preset("tiny"),
        role="train",
        rank=1,
        world_size=2,
        epoch=1,
        repeat=True,
    )
    with pytest.raises(RuntimeError, match="rank 1, loader worker 0: no usable train example"):
        next(iter(stream))
