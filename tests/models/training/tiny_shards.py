"""Tiny shard folders for the training tests, written with the project's codec, shard writer and index."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from preprocess.shards.codec import encode_sample
from preprocess.shards.index import write_shard_folder

SIZE = 8


def sample_members(sample_id: str, split: str, rng: np.random.Generator) -> dict[str, bytes]:
    person = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    top, left = rng.integers(0, SIZE // 2, 2)
    mask[top : top + SIZE // 2, left : left + SIZE // 2] = 255
    meta = {"split": split, "height": SIZE, "width": SIZE, "category": "upper", "kind": "image"}
    return encode_sample(sample_id, {"person": person, "agnostic_mask": mask}, meta)


def build_tiny_shards(folder: Path, splits: dict[str, int], *, per_shard: int, seed: int = 0) -> Path:
    """`splits` maps a split name to its sample count; ids are `<split>-NNN`; returns the folder."""
    rng = np.random.default_rng(seed)
    samples = {
        f"{split}-{i:03d}": sample_members(f"{split}-{i:03d}", split, rng)
        for split, count in splits.items()
        for i in range(count)
    }
    return write_shard_folder(
        folder, samples, per_shard=per_shard, summary={"dataset_version": f"tiny-{seed}"}
    )
