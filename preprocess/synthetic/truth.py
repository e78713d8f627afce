"""Ground truth of a synthetic dataset: `ROOT/synthetic_truth.jsonl`, one JSON object per sample.

Each record is keyed the way a reader sees the sample (layout, split, category, person and garment
paths relative to ROOT, clip id for VVT) and holds the garment landmarks in person-image and in-shop
pixel coordinates as [x, y, v] (v: 2 visible, 1 hidden behind something or facing away, 0 outside the
image; coordinates are kept even when hidden), each landmark's placement (`joint`, `sleeve_end`,
`armhole`, `hem`; see `garments`), and the labels:

- `occluded`: at least OCCLUDED_FRACTION of the garment's main panels is hidden by other pieces (arms,
  hair, its own sleeves folded across it) or at least two landmarks are covered;
- `mildly_occluded`: not occluded, but at least MILD_FRACTION hidden or one landmark covered;
- `truncated`: the garment reaches or crosses the image border;
- `side_view`: the figure is turned SIDE_VIEW_YAW degrees or more from the camera;
- `extreme_proportion`: a very tall/thin, short or wide body (`BodyShape.extreme`) or a garment of
  extreme aspect (`GarmentSpec.extreme`).

VVT records describe a clip; per-frame values sit in `frames`, and a clip label is true when it holds in
at least half of the frames.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

LABELS = ("occluded", "mildly_occluded", "truncated", "side_view", "extreme_proportion")
OCCLUDED_FRACTION = 0.18
MILD_FRACTION = 0.05
SIDE_VIEW_YAW = 45.0
TRUTH_FILE = "synthetic_truth.jsonl"
REGION_DIR = "synthetic_truth/garment_region"


def occlusion_labels(hidden_fraction: float, landmarks_covered: int) -> tuple[bool, bool]:
    """(occluded, mildly_occluded) from the hidden share of the garment and the covered landmarks."""
    occluded = hidden_fraction >= OCCLUDED_FRACTION or landmarks_covered >= 2
    mild = not occluded and (hidden_fraction >= MILD_FRACTION or landmarks_covered >= 1)
    return occluded, mild


def points(array: np.ndarray) -> list[list[float]]:
    """Landmarks as JSON lists [x, y, v] with coordinates rounded to 0.01 px."""
    return [[round(float(x), 2), round(float(y), 2), int(v)] for x, y, v in np.asarray(array)]


def write_truth(root: Path, records: list[dict]) -> Path:
    """Write the records (already in sample order) as JSON lines; returns the file path."""
    path = root / TRUTH_FILE
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for record in records:
            fh.write(json.dumps(record, sort_keys=False, separators=(",", ":")) + "\n")
    return path


def read_truth(root: Path) -> list[dict]:
    """The records of a synthetic dataset's truth file."""
    path = root / TRUTH_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: this is not a synthetic dataset root (run `vton data synth`)"
        )
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
