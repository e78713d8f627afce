"""Identity try-on: the prediction is the person image itself, unchanged.

The floor every try-on model must beat on unpaired data and the ceiling of paired full-reference metrics
(in the paired setting the person already wears the target garment, so SSIM is 1 and MSE 0). It needs no
training and no weights, which makes it the demo's end-to-end check of the evaluation path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from models.baselines.predictions import PredictionRun, SkipSample, write_predictions
from preprocess.shards.codec import MEMBERS

NAME = "identity_tryon"
VERSION = "1"
PERSON = MEMBERS["person"]


def predict_identity(members: Mapping[str, bytes], meta: Mapping[str, Any]) -> tuple[bytes, str]:
    """The sample's `person.jpg` bytes as they are (no re-encoding, so the prediction equals the ground truth)."""
    if PERSON not in members:
        raise SkipSample(f"no {PERSON} in the shards")
    return members[PERSON], ".jpg"


def identity_predictions(shard_dir: Path, out: Path, split: str | None = "test") -> PredictionRun:
    """Write the identity baseline's prediction folder for a shard set (`<sample_id>.jpg`)."""
    return write_predictions(shard_dir, out, predict_identity, split=split)
