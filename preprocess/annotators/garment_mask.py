"""Rule-based garment mask from an in-shop garment photo on a plain background (ARCHITECTURE §4).

The background colour is modelled from a band along the image border (median, then a plane fitted to
the inliers so a soft falloff or vignette is followed); every pixel's Lab distance to that model, with
darkening down-weighted so soft shadows stay background, is thresholded (Otsu on the distance map,
clamped between a noise floor measured on the border and a cap that keeps pale garments); strong edges
are added so a white garment's outline closes; then morphology scaled to the image size, the largest
connected component (plus secondary parts at least SECONDARY_FRACTION of it, e.g. a detached sleeve) and
hole filling. Work happens at WORK_SIDE pixels on the long side and the mask is scaled back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from preprocess.annotators.base import AnnotationError, AnnotationInput
from preprocess.images import BadImageError, decode_image

WORK_SIDE = 512  # long side of the working resolution
BORDER_FRACTION = 0.02  # width of the border band that models the background
SHADOW_WEIGHT = 0.35  # weight of darkening (negative delta L) in the distance: soft shadows stay background
THRESHOLD_CAP = 14.0  # Lab units: the strong threshold (Otsu) is never above this, so pale parts stay in
WEAK_THRESHOLD = 2.0  # Lab units above the border's noise: the weak threshold that closes pale outlines
EDGE_THRESHOLD = 12.0  # Lab-L gradient magnitude that counts as a garment outline
SECONDARY_FRACTION = 0.15  # keep further components at least this share of the largest one
MIN_COVERAGE = 0.01  # below this share of the image no garment was found


def _background_model(lab: np.ndarray, band: int) -> np.ndarray:
    """Per-pixel background colour: a plane per Lab channel fitted to the border band's inliers."""
    h, w, _ = lab.shape
    ring = np.zeros((h, w), bool)
    ring[:band], ring[-band:], ring[:, :band], ring[:, -band:] = True, True, True, True
    ys, xs = np.nonzero(ring)
    values = lab[ys, xs]
    median = np.median(values, axis=0)
    spread = np.linalg.norm(values - median, axis=1)
    mad = float(np.median(np.abs(spread - np.median(spread)))) + 1e-3
    inliers = spread <= np.median(spread) + 4 * 1.4826 * mad + 2.0
    if inliers.sum() < 0.3 * len(values):  # garment covers most of the border: a flat median is safest
        return np.broadcast_to(median, lab.shape).astype(np.float32)
    design = np.stack([np.ones(int(inliers.sum())), xs[inliers] / w, ys[inliers] / h], axis=1)
    coef, *_ = np.linalg.lstsq(design, values[inliers], rcond=None)
    grid_y, grid_x = np.mgrid[0:h, 0:w].astype(np.float32)
    model = coef[0] + grid_x[..., None] / w * coef[1] + grid_y[..., None] / h * coef[2]
    return model.astype(np.float32)


def _distance(lab: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Lab distance to the background with darkening down-weighted (shadows are darker, not coloured)."""
    delta = lab - background
    d_l = np.where(delta[..., 0] < 0, SHADOW_WEIGHT * delta[..., 0], delta[..., 0])
    return np.sqrt(d_l**2 + delta[..., 1] ** 2 + delta[..., 2] ** 2)


def _thresholds(distance: np.ndarray, band: int) -> tuple[float, float]:
    """(strong, weak) distance thresholds: Otsu clamped to [floor, THRESHOLD_CAP], and the noise floor.

    The floor sits above the border band's noise (90th percentile, scaled), so a noisy background stays out.
    """
    border = np.concatenate([distance[:band].ravel(), distance[-band:].ravel()])
    border = np.concatenate([border, distance[:, :band].ravel(), distance[:, -band:].ravel()])
    floor = float(np.percentile(border, 90)) * 1.5 + WEAK_THRESHOLD
    scaled = np.clip(distance * (255.0 / 100.0), 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(max(floor, min(otsu * 100.0 / 255.0, THRESHOLD_CAP))), floor


def _clean(foreground: np.ndarray, band: int, side: int) -> np.ndarray:
    """Foreground pixels to a mask: border band cleared, small closing, holes filled, specks opened away."""
    mask = foreground.astype(np.uint8) * 255
    edge = band // 2 + 1
    mask[:edge], mask[-edge:], mask[:, :edge], mask[:, -edge:] = 0, 0, 0, 0
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _disc(max(1, round(0.002 * side))))
    mask = _fill_holes(mask)
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, _disc(max(1, round(0.004 * side))))


def _disc(radius: int) -> np.ndarray:
    size = 2 * max(1, radius) + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill every background region not connected to the image border."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = mask
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 255)
    holes = flood[1:-1, 1:-1] == 0
    return np.where(holes | (mask > 0), 255, 0).astype(np.uint8)


def _main_components(mask: np.ndarray) -> np.ndarray:
    """The largest connected component plus the large secondary ones."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.nonzero(areas >= SECONDARY_FRACTION * areas.max())[0]
    return np.where(np.isin(labels, keep), 255, 0).astype(np.uint8)


def garment_mask(rgb: np.ndarray, name: str = "garment image") -> np.ndarray:
    """(H, W) uint8 {0, 255} mask of the garment in an (H, W, 3) uint8 RGB in-shop photo.

    Raises AnnotationError naming `name` when nothing stands out from the background.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise AnnotationError(f"{name}: expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    small = rgb if scale == 1.0 else cv2.resize(rgb, (round(w * scale), round(h * scale)), cv2.INTER_AREA)
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lab = cv2.GaussianBlur(lab, (3, 3), 0)
    sh, sw = small.shape[:2]
    side = min(sh, sw)
    band = max(2, round(BORDER_FRACTION * side))
    distance = _distance(lab, _background_model(lab, band))
    strong, weak = _thresholds(distance, band)
    grad = cv2.magnitude(cv2.Sobel(lab[..., 0], cv2.CV_32F, 1, 0), cv2.Sobel(lab[..., 0], cv2.CV_32F, 0, 1))
    low = _clean((distance > weak) | (grad / 8.0 > EDGE_THRESHOLD), band, side)
    high = _clean(distance > strong, band, side)
    # the low threshold closes pale outlines, the strong one draws the boundary: the low mask loses its
    # one-pixel fringe of anti-aliasing and JPEG ringing before the two are merged
    mask = np.maximum(high, cv2.erode(low, _disc(1)))
    mask = _fill_holes(_main_components(mask))
    if mask.mean() / 255.0 < MIN_COVERAGE:
        raise AnnotationError(
            f"{name}: no garment stands out from the background (mask covers < {MIN_COVERAGE:.0%}); "
            "the garment mask needs an in-shop photo of the garment on a plain background"
        )
    if scale != 1.0:
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
        mask = np.where(mask >= 128, 255, 0).astype(np.uint8)
    return mask


def read_cloth_mask(path: Path) -> np.ndarray:
    """A VITON-HD `cloth-mask` JPEG or Dress Code mask PNG (grey or RGB) as (H, W) uint8 {0, 255}, cut at 128."""
    try:
        grey = decode_image(Path(path), role="garment mask").mean(axis=2)
        return np.where(grey >= 128, 255, 0).astype(np.uint8)
    except BadImageError as err:
        raise AnnotationError(f"{path}: cannot read the garment mask ({err.reason})") from err


def mask_iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two masks (non-zero = inside); 1.0 when both are empty."""
    if pred.shape != truth.shape:
        raise ValueError(f"mask shapes differ: {pred.shape} vs {truth.shape}")
    a, b = pred > 0, truth > 0
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


class GarmentMaskAnnotator:
    """Annotator "garment_mask": the rule-based mask of each sample's in-shop garment image."""

    name = "garment_mask"
    version = "1"
    outputs = ("garment_mask",)
    needs = ("garment",)

    def __call__(self, batch: list[AnnotationInput]) -> list[dict[str, Any]]:
        results = []
        for item in batch:
            if item.garment is None:
                raise AnnotationError(
                    f"{item.sample_id}: no decoded garment image; the garment mask needs the sample's "
                    "garment_path (in-shop photo)",
                    item.sample_id,
                )
            label = f"{item.sample_id} ({item.row.get('garment_path', 'garment')})"
            try:
                results.append({"garment_mask": garment_mask(item.garment, label)})
            except AnnotationError as err:
                raise AnnotationError(err.reason, item.sample_id) from err
        return results
