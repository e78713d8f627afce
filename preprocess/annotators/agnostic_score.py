"""Scores of a rough try-on mask against exact ground truth, and the synthetic inputs to compute them on.

`score_agnostic` measures what Auto-ARM (seed 000) says a rough mask gets wrong: it must cover the garment
to replace (coverage, want high) and should not spill onto face and hands (want low), which the try-on
model would then repaint and distort. `synthetic_inputs` reads one sample of a synthetic Dress Code
dataset (`preprocess.synthetic`, all three categories) back from its files, in the canonical encodings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from preprocess.annotators.base import Pose
from preprocess.annotators.label_maps import to_lip
from preprocess.synthetic.keypoints import DRESSCODE_SPACE

FACE_LIP = 13
HANDS_DP = (3, 4)
HEAD_DP = (23, 24)
DRESSCODE_FOLDERS = {"upper_body": "upper", "lower_body": "lower", "dresses": "dresses"}


def _share(mask: np.ndarray, region: np.ndarray) -> float:
    n = int(region.sum())
    return float((mask & region).sum() / n) if n else float("nan")


def score_agnostic(
    mask: np.ndarray, garment_region: np.ndarray, parse: np.ndarray, densepose: np.ndarray | None = None
) -> dict[str, float]:
    """Coverage of the garment region and spill onto face and hands of a mask (all arrays (H, W)).

    `parse` is LIP-20: face pixels are Face (13), narrowed to DensePose's head parts when `densepose`
    ((H, W, 3) I, U, V or (H, W) I) is given, so a parse that folds the neck into Face does not count
    neck pixels as face. Hand pixels are DensePose's hand parts; without DensePose `hand_spill` is NaN.
    Shares are NaN when the region they divide by is empty.
    """
    mask = np.asarray(mask) > 0
    region = np.asarray(garment_region) > 0
    if mask.shape != region.shape or mask.shape != parse.shape:
        raise ValueError(
            f"mask {mask.shape}, garment region {region.shape} and parse {parse.shape} must share one size"
        )
    face = parse == FACE_LIP
    hands = np.zeros_like(mask)
    if densepose is not None:
        parts = densepose[..., 0] if densepose.ndim == 3 else densepose
        face &= np.isin(parts, HEAD_DP)
        hands = np.isin(parts, HANDS_DP)
    return {
        "coverage": _share(mask, region),
        "face_spill": _share(mask, face),
        "hand_spill": _share(mask, hands) if densepose is not None else float("nan"),
        "area": float(mask.mean()),
        "outside_garment": float((mask & ~region).sum() / max(int(mask.sum()), 1)),
    }


def synthetic_inputs(root: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Canonical inputs of one synthetic Dress Code sample (a `read_truth` record): LIP parse, ATR parse,
    Pose, DensePose (H, W, 3) and the exact garment region, read from the written files."""
    root = Path(root)
    person = Path(record["person"])  # <folder>/images/<name>_0.jpg
    folder, name = person.parts[0], person.stem.rsplit("_", 1)[0]
    if folder not in DRESSCODE_FOLDERS:
        raise ValueError(
            f"{person}: not a Dress Code sample (expected one of {', '.join(DRESSCODE_FOLDERS)})"
        )
    base = root / folder

    def read(rel: str) -> np.ndarray:
        pixels = cv2.imread(str(base / rel), cv2.IMREAD_UNCHANGED)
        if pixels is None:
            raise FileNotFoundError(f"{base / rel} missing or unreadable: regenerate the synthetic dataset")
        return pixels

    atr = read(f"label_maps/{name}_4.png")
    parts = read(f"dense/{name}_5.png")
    uv = np.load(base / "dense" / f"{name}_5_uv.npz")["uv"]
    densepose = np.dstack([parts, *(np.round(c * 255).astype(np.uint8) for c in uv)])
    h, w = atr.shape
    points = json.loads((base / "keypoints" / f"{name}_2.json").read_text())["keypoints"]
    body = np.zeros((18, 3), np.float32)
    for x, y, score, index in points:
        if score > 0 and x >= 0 and y >= 0:
            body[int(index)] = (x * w / DRESSCODE_SPACE[0], y * h / DRESSCODE_SPACE[1], score)
    region = cv2.imread(str(root / record["garment_region"]), cv2.IMREAD_GRAYSCALE) > 127
    return {
        "category": DRESSCODE_FOLDERS[folder],
        "parse": to_lip(atr, "atr", name=str(base / f"label_maps/{name}_4.png")),
        "parse_atr": atr,
        "pose": Pose(body=body, source="coco18"),
        "densepose": densepose,
        "garment_region": region,
    }
