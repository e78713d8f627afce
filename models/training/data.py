"""Training and validation examples streamed from shard folders, split per rank and per DataLoader worker.

The stream is a webdataset pipeline (shard list -> tar samples -> split selection -> rank/worker share ->
shuffle buffer -> the family's `example`), read by a `torch.utils.data.DataLoader` that batches with the
family's `collate`. Which split a sample belongs to is read from its `meta.json` (`split`); when the shard
folders hold no "val" split, a stable hash of the sample id holds `val_fraction` of "train" out.

Splitting: with at least as many shards as readers (ranks x loader workers) each reader reads its own
shards; with fewer, readers that share shards take every n-th sample of the same ordered stream, so a
single shard still feeds two ranks. No rank starves and none runs ahead: every rank runs the same number of
optimizer steps per epoch (from the shard index, `index.parquet`) and its stream repeats itself, reshuffled,
when it runs short. Each epoch's order is a function of (seed, epoch, rank, worker), so a run resumed at an
epoch boundary sees the very batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import webdataset as wds
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from models.training.seeding import derive_seed, seed_everything
from preprocess.shards.index import read_index
from preprocess.shards.reader import shard_urls

TRAIN = "train"
VAL = "val"
SHUFFLE_BUFFER = 256  # samples (still-encoded bytes) held for shuffling per reader


def held_out(sample_id: str, fraction: float) -> bool:
    """True for the stable `fraction` of sample ids used for validation when a dataset has no val split."""
    digest = hashlib.sha256(sample_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def sample_role(sample_id: str, split: str | None, *, has_val_split: bool, val_fraction: float) -> str | None:
    """ "train", "val" or None (not used: test samples, or other splits) for one sample."""
    split = split or TRAIN
    if has_val_split:
        return split if split in (TRAIN, VAL) else None
    if split != TRAIN:
        return None
    return VAL if held_out(sample_id, val_fraction) else TRAIN


@dataclass(frozen=True)
class DataPlan:
    """What the shard folders hold for training: the shard URLs per role and the sample counts."""

    train_urls: tuple[str, ...]
    val_urls: tuple[str, ...]
    train_samples: int
    val_samples: int
    has_val_split: bool
    val_fraction: float

    def steps_per_epoch(self, world_size: int, batch_size: int, grad_accum_steps: int) -> int:
        """Optimizer steps every rank runs per epoch: the train samples once over all ranks, rounded up."""
        per_step = world_size * batch_size * grad_accum_steps
        return max(1, math.ceil(self.train_samples / per_step))

    def role_of(self, sample_id: str, split: str | None) -> str | None:
        return sample_role(sample_id, split, has_val_split=self.has_val_split, val_fraction=self.val_fraction)


def plan_data(shard_dirs: Sequence[Path], val_fraction: float) -> DataPlan:
    """Count train and validation samples from each folder's `index.parquet` and list the shards holding them."""
    if not shard_dirs:
        raise ValueError("no shard folders given: build the dataset's shards first (vton data build)")
    indexes = []
    for folder in shard_dirs:
        rows = read_index(Path(folder)).select(["sample_id", "shard", "split"]).to_pylist()
        indexes.append((Path(folder), rows))
    has_val = any(row["split"] == VAL for _, rows in indexes for row in rows)
    train_urls: list[str] = []
    val_urls: list[str] = []
    counts = {TRAIN: 0, VAL: 0}
    for folder, rows in indexes:
        urls = {Path(url).name: url for url in shard_urls(folder)}
        roles: dict[str, set[str]] = {}
        for row in rows:
            role = sample_role(
                row["sample_id"], row["split"], has_val_split=has_val, val_fraction=val_fraction
            )
            if role is not None and row["shard"] in urls:
                counts[role] += 1
                roles.setdefault(row["shard"], set()).add(role)
        train_urls += [urls[name] for name in sorted(urls) if TRAIN in roles.get(name, ())]
        val_urls += [urls[name] for name in sorted(urls) if VAL in roles.get(name, ())]
    if counts[TRAIN] == 0:
        raise ValueError(
            f"no training samples in {', '.join(str(f) for f in shard_dirs)}: the shards hold no split "
            "'train' samples (see each folder's index.parquet); build a dataset with a train split"
        )
    return DataPlan(tuple(train_urls), tuple(val_urls), counts[TRAIN], counts[VAL], has_val, val_fraction)


@dataclass(frozen=True)
class ReaderShare:
    """One reader's share: positions in the epoch's shard order, then every `modulus`-th sample from `residue`."""

    shards: tuple[int, ...]
    modulus: int
    residue: int


def reader_share(n_shards: int, rank: int, world_size: int, worker: int, workers: int) -> ReaderShare:
    """Split shards between ranks, then between a rank's loader workers; where there are fewer shards than
    readers at a level, the readers of that level take interleaved samples of the same shards instead."""
    if n_shards >= world_size:
        rank_shards = list(range(rank, n_shards, world_size))
        if len(rank_shards) >= workers:
            return ReaderShare(tuple(rank_shards[worker::workers]), 1, 0)
        return ReaderShare(tuple(rank_shards), workers, worker)
    # every rank reads every shard: rank r keeps samples r, r + W, ...; its worker w every `workers`-th of those
    return ReaderShare(tuple(range(n_shards)), world_size * workers, rank + world_size * worker)


class ShardExamples(IterableDataset):
    """The examples of one role ("train" or "val") for one rank, as a webdataset pipeline per pass.

    `repeat=True` (training) cycles forever, each pass with a new shuffle; the DataLoader consumer takes as
    many batches as an epoch has steps. `repeat=False` (validation) reads the role's samples once, in order.
    """

    def __init__(
        self,
        plan: DataPlan,
        family: Any,
        config: Any,
        *,
        role: str,
        rank: int,
        world_size: int,
        epoch: int,
        repeat: bool,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.family = family
        self.config = config
        self.role = role
        self.urls = plan.train_urls if role == TRAIN else plan.val_urls
        self.rank = rank
        self.world_size = world_size
        self.epoch = epoch
        self.repeat = repeat

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        cycle = 0
        while True:
            seed_everything(derive_seed(self.config.seed, "data", self.epoch, cycle, self.rank, worker))
            produced = 0
            for example in self._one_pass(cycle, worker, workers):
                produced += 1
                yield example
            if not self.repeat:
                return
            if produced == 0:
                raise RuntimeError(
                    f"rank {self.rank}, loader worker {worker}: no usable {self.role} example in its share of "
                    f"{len(self.urls)} shard(s) (the family skipped every sample); use fewer training workers "
                    "or data_workers, or check that the shards hold samples this family trains on"
                )
            cycle += 1

    def _one_pass(self, cycle: int, worker: int, workers: int) -> Iterator[dict[str, Any]]:
        order = list(self.urls)
        if self.repeat:  # the same permutation in every reader, so the shares stay disjoint
            random.Random(derive_seed(self.config.seed, "shards", self.epoch, cycle)).shuffle(order)
        share = reader_share(len(order), self.rank, self.world_size, worker, workers)
        stages: list[Any] = [
            wds.SimpleShardList([order[i] for i in share.shards]),
            wds.tarfile_to_samples(),
            wds.select(self._in_role),
            _every_nth(share.modulus, share.residue),
        ]
        if self.repeat:
            rng = random.Random(derive_seed(self.config.seed, "buffer", self.epoch, cycle, self.rank, worker))
            stages.append(wds.shuffle(SHUFFLE_BUFFER, initial=SHUFFLE_BUFFER, rng=rng))
        stages.append(wds.map(self._example))
        stages.append(wds.select(lambda example: example is not None))
        return iter(wds.DataPipeline(*stages))

    def _in_role(self, sample: dict[str, Any]) -> bool:
        meta = json.loads(sample["meta.json"]) if "meta.json" in sample else {}
        return self.plan.role_of(sample["__key__"], meta.get("split")) == self.role

    def _example(self, sample: dict[str, Any]) -> dict[str, Any] | None:
        return self.family.example(sample, self.config, train=self.role == TRAIN)


def _every_nth(modulus: int, residue: int) -> Any:
    """A pipeline stage keeping samples residue, residue + modulus, ... of its input."""

    def stage(samples: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for ordinal, sample in enumerate(samples):
            if ordinal % modulus == residue:
                yield sample

    return stage


def example_loader(
    plan: DataPlan,
    family: Any,
    config: Any,
    *,
    role: str,
    rank: int = 0,
    world_size: int = 1,
    epoch: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """Batches of `role` for one rank: endless for "train" (take `steps_per_epoch` x accumulation batches),
    one pass over every validation sample for "val"."""
    repeat = role == TRAIN
    stream = ShardExamples(
        plan, family, config, role=role, rank=rank, world_size=world_size, epoch=epoch, repeat=repeat
    )
    workers = config.data_workers if repeat else min(config.data_workers, max(1, len(plan.val_urls)))
    return DataLoader(
        stream,
        batch_size=config.batch_size,
        collate_fn=family.collate,
        num_workers=workers,
        pin_memory=pin_memory,
    )
