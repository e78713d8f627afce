"""Ground truth of a synthetic dataset: `ROOT/synthetic_truth.jsonl`, one JSON object per sample.

Each record is keyed the way a reader sees the sample (layout, split, category, person and garment
paths relative to ROOT, clip id for VVT) and holds the garment landmarks in person-image and in-shop
pixel coordinates as [x, y, v] (v: 2 visible, 1 hidden behind something or facing away, 0 outside the
image; coordinates are kept even when hidden), each landmark's placement (`joint`, `sleeve_end`,
`armhole`, `hem`; see `garments`), and the labels:

- `occluded`: the figure faces the camera (turned less than SIDE_VIEW_YAW) and at least OCCLUDED_SLAB
  of the garment's worst key slab (collar, chest print, hem; waistband, front, hem; neckline, waist,
  hem) is hidden by other pieces: arms and hands, hair, the other garment, its own sleeves folded
  across it;
- `mildly_occluded`: facing, not occluded, but at least MILD_SLAB of a key slab hidden (a hard case);
- `truncated`: the garment reaches or crosses the image border;
- `side_view`: the figure is turned SIDE_VIEW_YAW degrees or more from the camera;
- `extreme_proportion`: facing, and a proportion the render shows is outside its usual range: the
  torso in head heights (TORSO_HEADS: the torso of a figure 6.4 to 8.5 heads tall), the build
  (BUILD), the garment's ease (EASE: oversized), a top's hem relative to the hips (HEM: tunic-long or
  cropped), a skirt's or dress's flare (FLARE).

Every label is measured on the exact render, not taken from what the scenario asked for: an arm meant
to occlude may end up beside the garment, an extreme body may be seen from the side or cut by the frame
(`render_measures` defines the measurements; the records keep them as `key_hidden` and `proportions`,
NaN written as null where the render does not show a quantity). A side view turns the key features away
and hides the body's width, so occlusion and proportions are judged on figures facing the camera only.
The limits sit in gaps of the measured distributions of the generator's seed 3, and the HQFT filter
uses the same ones (`preprocess.filters.hqft.HQFTThresholds`).

VVT records describe a clip; per-frame values sit in `frames`, and a clip label is true when it holds in
at least half of the frames.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from preprocess.synthetic.render_measures import RenderMeasures

LABELS = ("occluded", "mildly_occluded", "truncated", "side_view", "extreme_proportion")
OCCLUDED_SLAB = 0.4  # hidden share of the worst key slab
MILD_SLAB = 0.08
TORSO_HEADS = (1.96, 2.75)  # torso length in head heights
BUILD = (0.75, 1.25)  # shoulder and hip spans against the average figure's
EASE = 0.1  # torso lengths the garment stands off the body on each side
HEM = (-0.3, 0.3)  # a top's hem below (+) or above (-) the hips, torso lengths
FLARE = 0.45  # widening per unit of drop below the hips
SIDE_VIEW_YAW = 45.0
TRUTH_FILE = "synthetic_truth.jsonl"
REGION_DIR = "synthetic_truth/garment_region"


def labels_from_measures(m: RenderMeasures, yaw: float, touches_border: bool) -> dict[str, bool]:
    """The five labels of one rendered person from its measurements (definitions: module docstring)."""
    hidden = m.key_hidden if m.facing else 0.0
    occluded = hidden >= OCCLUDED_SLAB
    mild = not occluded and hidden >= MILD_SLAB
    return {
        "occluded": bool(occluded),
        "mildly_occluded": bool(mild),
        "truncated": bool(touches_border),
        "side_view": bool(abs(yaw) >= SIDE_VIEW_YAW),
        "extreme_proportion": bool(extreme_reason(m)),
    }


def extreme_reason(m: RenderMeasures) -> str:
    """Which measured proportion is extreme ("" when none is, or none is measurable)."""
    ranges = (("torso_heads", TORSO_HEADS), ("build", BUILD), ("hem", HEM))
    for name, (lo, hi) in ranges:
        value = getattr(m, name)
        if not math.isnan(value) and not lo <= value <= hi:
            return name
    for name, limit in (("ease", EASE), ("flare", FLARE)):
        if getattr(m, name) > limit:
            return name
    return ""


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
