"""Paste-the-warped-garment baseline: the in-shop garment stretched onto the person's garment region.

No learning: the bounding box of the in-shop garment mask is mapped onto the bounding box of the person's
garment region (from the human parse: LIP Upper-clothes and Coat for upper, Pants and Skirt for lower,
Dress and Jumpsuits for dresses) by an axis-aligned affine transform (a scale per axis and a shift, no
rotation or shear). The garment image (weighted by its mask, so no background colour bleeds in at the
edges) and its mask are warped bilinearly with it, and the warped garment replaces the person's pixels
where the person's garment region and the warped mask (coverage at least one half) overlap. Every pixel
outside the person's garment region is the person's own, so the baseline shows what a try-on model gains
over copying the garment's texture into place without deformation, occlusion or shading.

A sample with no garment region in its parse, or an empty garment mask, keeps the person image unchanged
(counted in `fallbacks`), so every sample still gets a prediction.
"""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from models.baselines.predictions import PredictionRun, SkipSample, write_predictions
from preprocess.filters.hqft import GARMENT_LABELS
from preprocess.shards.codec import MEMBERS, decode_sample

NAME = "paste_garment"
VERSION = "1"
_NEEDED = ("person", "garment", "parse", "garment_mask")


def bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the set pixels, end-exclusive; None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def box_affine(src: tuple[int, int, int, int], dst: tuple[int, int, int, int]) -> np.ndarray:
    """The 2×3 matrix taking box `src` onto box `dst` (pixel edges onto pixel edges, one scale per axis)."""
    sx = (dst[2] - dst[0]) / (src[2] - src[0])
    sy = (dst[3] - dst[1]) / (src[3] - src[1])
    # cv2 maps pixel centres; the edge-to-edge fit x' + .5 = sx (x + .5 - x0) + X0 gives this shift
    tx = dst[0] - sx * src[0] + 0.5 * (sx - 1)
    ty = dst[1] - sy * src[1] + 0.5 * (sy - 1)
    return np.array([[sx, 0.0, tx], [0.0, sy, ty]], dtype=np.float64)


def garment_region(parse: np.ndarray, category: str) -> np.ndarray:
    """The person's pixels of the garment the category replaces (bool, H×W), from a LIP-20 parse."""
    if category not in GARMENT_LABELS:
        raise ValueError(f"unknown category {category!r}; expected one of {', '.join(GARMENT_LABELS)}")
    return np.isin(parse, GARMENT_LABELS[category])


def paste_garment(
    person: np.ndarray, parse: np.ndarray, category: str, garment: np.ndarray, garment_mask: np.ndarray
) -> tuple[np.ndarray, bool]:
    """(prediction, pasted): the person with the warped garment inside its garment region; `pasted` is False
    when there was no region or no garment mask and the person came back unchanged."""
    region = garment_region(parse, category)
    target, source = bbox(region), bbox(np.asarray(garment_mask) > 127)
    if target is None or source is None:
        return person.copy(), False
    matrix = box_affine(source, target)
    h, w = region.shape
    # Warp the mask-weighted garment and the mask, then divide: edge pixels take only garment colours,
    # never the in-shop background's.
    weight = (np.asarray(garment_mask) > 127).astype(np.float32)
    colour = cv2.warpAffine(
        garment.astype(np.float32) * weight[..., None], matrix, (w, h), flags=cv2.INTER_LINEAR
    )
    coverage = cv2.warpAffine(weight, matrix, (w, h), flags=cv2.INTER_LINEAR)
    inside = region & (coverage >= 0.5)
    out = person.copy()
    out[inside] = np.clip(np.rint(colour[inside] / coverage[inside, None]), 0, 255).astype(np.uint8)
    return out, bool(inside.any())


def png_bytes(image: np.ndarray) -> bytes:
    """Lossless RGB PNG of an H×W×3 uint8 image."""
    buffer = BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def paste_predictions(shard_dir: Path, out: Path, split: str | None = "test") -> PredictionRun:
    """Write the paste baseline's prediction folder (`<sample_id>.png`); `notes["fallbacks"]` counts samples
    that kept the person image because the parse had no garment region or the garment mask was empty."""
    notes = {"fallbacks": 0}

    def predict(members: Mapping[str, bytes], meta: Mapping[str, Any]) -> tuple[bytes, str]:
        wanted = {MEMBERS[f]: members[MEMBERS[f]] for f in _NEEDED if MEMBERS[f] in members}
        lacking = [f for f in _NEEDED if MEMBERS[f] not in wanted]
        if lacking:
            raise SkipSample(f"no {', '.join(lacking)} in the shards: annotate the dataset first")
        sample = decode_sample(wanted)
        image, pasted = paste_garment(
            sample["person"],
            sample["parse"],
            str(meta.get("category") or "upper"),
            sample["garment"],
            sample["garment_mask"],
        )
        notes["fallbacks"] += not pasted
        return png_bytes(image), ".png"

    return write_predictions(shard_dir, out, predict, split=split, notes=notes)
