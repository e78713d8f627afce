"""Tiny Auto-ARM shard samples and folders: a person parse with a garment box, a rough mask that overshoots
it (the garment box grown by a margin, plus the arms), an in-shop garment mask, the pose and its skeleton.

The refinement to learn is clear and small: shrink the rough mask back to the garment box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from preprocess.annotators.base import Pose
from preprocess.annotators.label_maps import LIP_LABELS
from preprocess.annotators.skeleton import render_skeleton
from preprocess.shards.codec import encode_sample
from preprocess.shards.index import write_shard_folder

GARMENT_LABEL = {"upper": "Upper-clothes", "lower": "Pants", "dresses": "Dress"}


def person_pose(height: int, width: int, rng: np.random.Generator) -> Pose:
    """An upright OpenPose-18 body filling the frame, jittered a little."""
    cx = width / 2 + rng.uniform(-2, 2)
    xs = np.array([0, 0, -1, -1.3, -1.4, 1, 1.3, 1.4, -0.6, -0.6, -0.6, 0.6, 0.6, 0.6, -0.2, 0.2, -0.4, 0.4])
    ys = np.array(
        [0.1, 0.2, 0.2, 0.35, 0.5, 0.2, 0.35, 0.5, 0.55, 0.75, 0.95, 0.55, 0.75, 0.95, 0.08, 0.08, 0.1, 0.1]
    )
    body = np.stack([cx + xs * width / 4, ys * (height - 1), np.full(18, 0.9)], axis=1).astype(np.float32)
    return Pose(body=body, source="synthetic")


def sample_members(
    sample_id: str,
    *,
    split: str = "train",
    category: str = "upper",
    pair_mode: str = "paired",
    size: tuple[int, int] = (64, 48),
    seed: int = 0,
) -> dict[str, bytes]:
    """The shard members of one image sample of the given person size (H, W)."""
    rng = np.random.default_rng(seed)
    height, width = size
    parse = np.zeros(size, np.uint8)
    top = int(0.2 * height) if category != "lower" else int(0.55 * height)
    bottom = int(0.55 * height) if category == "upper" else int(0.95 * height)
    left, right = int(width * 0.3) + int(rng.integers(-2, 3)), int(width * 0.7) + int(rng.integers(-2, 3))
    parse[: int(0.18 * height), left:right] = LIP_LABELS.index("Face")
    parse[int(0.2 * height) : int(0.5 * height), max(0, left - 6) : left] = LIP_LABELS.index("Right-arm")
    parse[int(0.2 * height) : int(0.5 * height), right : right + 6] = LIP_LABELS.index("Left-arm")
    parse[top:bottom, left:right] = LIP_LABELS.index(GARMENT_LABEL[category])
    region = parse == LIP_LABELS.index(GARMENT_LABEL[category])
    margin = 4
    rough = np.zeros(size, np.uint8)
    rough[max(0, top - margin) : bottom + margin, max(0, left - margin) : right + margin] = 255
    rough[np.isin(parse, (14, 15))] = 255
    garment_size = (40, 32)
    garment_mask = np.zeros(garment_size, np.uint8)
    garment_mask[6:34, 6:26] = 255
    pose = person_pose(height, width, rng)
    meta = {
        "split": split,
        "kind": "image",
        "category": category,
        "pair_mode": pair_mode,
        "height": height,
        "width": width,
        "garment_height": garment_size[0],
        "garment_width": garment_size[1],
        "dataset": "tiny_autoarm",
    }
    fields = {
        "parse": parse,
        "agnostic_mask": rough,
        "garment_mask": garment_mask,
        "pose": pose,
        "skeleton": render_skeleton(pose, height, width),
    }
    assert region.any()
    return encode_sample(sample_id, fields, meta)


def build_shard_folder(folder: Path, samples: dict[str, dict[str, bytes]], *, per_shard: int = 8) -> Path:
    """Write `samples` ({id: members}) as shards with the index and shards.json the readers and driver use."""
    return write_shard_folder(
        folder, samples, per_shard=per_shard, summary={"dataset_version": "tiny-autoarm"}
    )


def training_samples(count: int, *, split: str = "train", seed: int = 0) -> dict[str, dict[str, bytes]]:
    """`count` paired samples over the three categories, ids `<split>-NNN`."""
    categories = ("upper", "lower", "dresses")
    return {
        f"{split}-{i:03d}": sample_members(
            f"{split}-{i:03d}", split=split, category=categories[i % 3], seed=seed + i
        )
        for i in range(count)
    }
