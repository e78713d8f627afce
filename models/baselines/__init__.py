"""Baselines that need no training: each writes a prediction folder (`<sample_id>.<ext>`) from a shard set.

- `identity`: the person image as the prediction;
- `paste_garment`: the in-shop garment warped onto the person's garment region by a bounding-box fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models.baselines import identity, paste_garment
from models.baselines.predictions import PredictionRun


@dataclass(frozen=True)
class Baseline:
    """A registered baseline: its model name, version (recorded as the checkpoint) and prediction writer."""

    name: str
    version: str
    predict: Callable[[Path, Path, str | None], PredictionRun]
    description: str


BASELINES: dict[str, Baseline] = {
    b.name: b
    for b in (
        Baseline(identity.NAME, identity.VERSION, identity.identity_predictions, "the person image itself"),
        Baseline(
            paste_garment.NAME,
            paste_garment.VERSION,
            paste_garment.paste_predictions,
            "in-shop garment box-fitted onto the parse's garment region",
        ),
    )
}

__all__ = ["BASELINES", "Baseline", "PredictionRun"]
