"""Garment landmarks (DPIDM §3.3): per-category point sets aligned with human joints, two estimators, PCK.

Sets (person's left/right, so on a front-view in-shop photo "left" is on the image's right), identical in
names and order to the synthetic generator's truth (`preprocess.synthetic.garments`):

- upper (9): neck, left/right shoulder, left/right elbow, left/right wrist, left/right hip. A sleeve that
  ends before the elbow or wrist puts those points at its end; a sleeveless top at the armhole; a top
  ending above the hips puts the hips at its hem.
- lower (8): waist_left, waist_centre, waist_right, left/right knee, left/right ankle, crotch; shorts and
  skirts put knees and ankles at the hem where they end first.
- dresses (9): neck, left/right shoulder, left/right elbow (sleeve end or armhole), waist_left/right,
  hem_left/right.

`geometric_landmarks` reads them off the garment mask's shape with no training (neck from the neckline
dip, shoulders from the top contour, sleeve ends from the sleeve regions' far extremes, hips and hems
from the body's bottom corners); the heatmap network lives in `garment_landmark_net`. `pck` scores
either: a point is correct when within `threshold` x the garment bounding-box diagonal of the truth.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from preprocess.annotators.base import AnnotationError, AnnotationInput, GarmentLandmarks
from preprocess.synthetic.garments import LANDMARK_NAMES

LANDMARK_SETS: dict[str, tuple[str, ...]] = dict(LANDMARK_NAMES)
SLEEVE_MIN_SHARE = 0.015  # a side region below this share of the mask is no sleeve (sleeveless top)
LOW_CONFIDENCE = 0.5  # confidence of a point placed by a fallback rule (sleeve end, hem, armhole)


def bbox_diagonal(mask: np.ndarray) -> float:
    """Diagonal (pixels) of the bounding box of a mask's non-zero pixels: the PCK normaliser."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        raise ValueError("empty garment mask: no bounding box to normalise by")
    return float(np.hypot(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1))


def pck(
    pred: np.ndarray, truth: np.ndarray, threshold: float = 0.05, diagonals: np.ndarray | None = None
) -> float:
    """Percentage of correct keypoints: share of truth points (visibility > 0) whose prediction lies within
    `threshold` x the sample's garment bounding-box diagonal.

    pred (N, K, >=2) and truth (N, K, 3) in pixels; `diagonals` (N,) is the garment mask's bounding-box
    diagonal (`bbox_diagonal`); without it the diagonal of the truth points' own bounding box is used.
    """
    pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
    if pred.ndim == 2:
        pred, truth = pred[None], truth[None]
    if pred.shape[:2] != truth.shape[:2] or truth.shape[2] < 3:
        raise ValueError(f"pred {pred.shape} and truth {truth.shape} must be (N, K, 2+) and (N, K, 3)")
    if diagonals is None:
        span = truth[..., :2].max(axis=1) - truth[..., :2].min(axis=1)
        diagonals = np.hypot(span[:, 0], span[:, 1])
    diagonals = np.asarray(diagonals, np.float64).reshape(-1, 1)
    counted = truth[..., 2] > 0
    if not counted.any():
        raise ValueError("no visible truth landmarks to score")
    error = np.hypot(*(pred[..., :2] - truth[..., :2]).transpose(2, 0, 1))
    return float(((error <= threshold * diagonals) & counted).sum() / counted.sum())


class _Shape:
    """Row-wise description of a garment mask: bounding box, centre column and each row's central run."""

    def __init__(self, mask: np.ndarray) -> None:
        fg = mask > 0
        ones = fg.view(np.uint8)
        self.count = cv2.countNonZero(ones)
        if self.count < 20:
            raise ValueError("garment mask is empty or too small for landmarks")
        self.fg = fg
        x, y, width, height = cv2.boundingRect(ones)
        self.x0, self.x1, self.y0, self.y1 = x, x + width - 1, y, y + height - 1
        self.h, self.w = float(height), float(width)
        # The mean column of the garment's pixels, from exact integer sums (pixels per column), as the mean of
        # their coordinates would give it.
        per_column = cv2.reduce(ones[y : y + height, x : x + width], 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S)
        column_sum = int(per_column.ravel().astype(np.int64) @ np.arange(x, x + width, dtype=np.int64))
        self.xc = column_sum / self.count
        self.diag = float(np.hypot(self.h, self.w))

    def pixels(self, rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
        """(x, y) float64 of the garment pixels in rows [r0, r1) and columns [c0, c1) (clipped to the
        image), in row-major order."""
        r0, r1 = max(0, rows[0]), min(self.fg.shape[0], rows[1])
        c0, c1 = max(0, cols[0]), min(self.fg.shape[1], cols[1])
        if r0 >= r1 or c0 >= c1:
            return np.zeros((0, 2), np.float64)
        found = cv2.findNonZero(np.ascontiguousarray(self.fg[r0:r1, c0:c1]).view(np.uint8))
        if found is None:
            return np.zeros((0, 2), np.float64)
        return found.reshape(-1, 2).astype(np.float64) + (c0, r0)

    def run(self, y: float) -> tuple[float, float] | None:
        """(left, right) columns of the run in row y containing (or nearest) the centre column."""
        row = self.fg[int(np.clip(round(y), 0, self.fg.shape[0] - 1))]
        cols = np.nonzero(row)[0]
        if len(cols) == 0:
            return None
        breaks = np.nonzero(np.diff(cols) > 1)[0]
        starts = np.concatenate([[cols[0]], cols[breaks + 1]])
        ends = np.concatenate([cols[breaks], [cols[-1]]])
        centre = round(self.xc)
        inside = np.nonzero((starts <= centre) & (ends >= centre))[0]
        k = inside[0] if len(inside) else int(np.argmin(np.minimum(abs(starts - centre), abs(ends - centre))))
        return float(starts[k]), float(ends[k])

    def top(self, x: float) -> float:
        """First garment row in column x (the top contour)."""
        col = self.fg[:, int(np.clip(round(x), 0, self.fg.shape[1] - 1))]
        rows = np.nonzero(col)[0]
        return float(rows[0]) if len(rows) else float(self.y0)

    def bottom(self, x: float) -> float:
        col = self.fg[:, int(np.clip(round(x), 0, self.fg.shape[1] - 1))]
        rows = np.nonzero(col)[0]
        return float(rows[-1]) if len(rows) else float(self.y1)

    def body_edges(self, lo: float, hi: float) -> tuple[float, float]:
        """Median (left, right) of the central run over rows between fractions lo..hi of the height."""
        runs = [self.run(self.y0 + f * self.h) for f in np.linspace(lo, hi, 9)]
        runs = [r for r in runs if r is not None]
        return float(np.median([r[0] for r in runs])), float(np.median([r[1] for r in runs]))


def _sleeves(shape: _Shape, left: float, right: float) -> dict[int, np.ndarray]:
    """Pixels (x, y) outside the body columns on each side (+1: image right = person's left), upper half:
    rows y <= y0 + 0.85 h, columns x > right + margin or x < left - margin (as whole pixel ranges)."""
    margin = 0.03 * shape.w
    rows = (0, math.floor(shape.y0 + 0.85 * shape.h) + 1)
    return {
        1: shape.pixels(rows, (math.floor(right + margin) + 1, shape.fg.shape[1])),
        -1: shape.pixels(rows, (0, math.ceil(left - margin))),
    }


def _upper_points(shape: _Shape, hem: float) -> tuple[np.ndarray, np.ndarray]:
    """neck, shoulders, elbows, wrists and hips of a top or a dress bodice; returns (points, confidence)."""
    left, right = shape.body_edges(0.45, 0.8 if hem > 0.9 else 0.6)
    half = (right - left) / 2
    xc = (left + right) / 2
    neck = (xc, shape.top(xc) + 0.035 * shape.h)
    sleeves = _sleeves(shape, left, right)
    area = shape.count
    points: dict[str, tuple[float, float]] = {"neck": neck}
    conf: dict[str, float] = {"neck": 1.0, "left_shoulder": 1.0, "right_shoulder": 1.0}
    for side, name in ((1, "left"), (-1, "right")):
        region = sleeves[side]
        if len(region) < SLEEVE_MIN_SHARE * area:  # sleeveless: strap top and armhole bottom
            sx = xc + side * 0.55 * half
            points[f"{name}_shoulder"] = (sx, shape.top(sx) + 0.2 * half)
            pit_y = shape.top(sx) + 0.9 * half
            points[f"{name}_elbow"] = points[f"{name}_wrist"] = (xc + side * 0.72 * half, pit_y)
            conf[f"{name}_elbow"] = conf[f"{name}_wrist"] = LOW_CONFIDENCE
            continue
        sx = xc + side * 0.86 * half
        shoulder = np.array([sx, shape.top(sx) + 0.2 * half])
        points[f"{name}_shoulder"] = tuple(shoulder)
        far = np.hypot(*(region - shoulder).T)
        cuff = region[far >= far.max() - 0.05 * shape.diag].mean(axis=0)
        cuff[0] += side * 0.02 * shape.diag  # the far band leans inwards on a hanging sleeve: recentre it
        axis = cuff - shoulder
        length = float(np.hypot(*axis))
        wrist = cuff - axis / max(length, 1e-6) * 0.015 * shape.diag
        upper_arm = 0.95 * half
        if length > 1.6 * upper_arm:  # long or three-quarter sleeve: the elbow is one upper arm down it
            elbow = shoulder + axis / length * upper_arm
            conf[f"{name}_elbow"], conf[f"{name}_wrist"] = 1.0, 1.0 if length > 2.3 * upper_arm else 0.5
        else:
            elbow = wrist
            conf[f"{name}_elbow"] = conf[f"{name}_wrist"] = LOW_CONFIDENCE
        points[f"{name}_elbow"], points[f"{name}_wrist"] = tuple(elbow), tuple(wrist)
    hip_y = shape.y1 - 0.06 * shape.h
    run = shape.run(hip_y) or (left, right)
    for side, name, edge in ((1, "left", run[1]), (-1, "right", run[0])):
        points[f"{name}_hip"] = (edge - side * 0.5 * (run[1] - run[0]) / 2, hip_y)
        conf[f"{name}_hip"] = 1.0
    names = LANDMARK_SETS["upper"]
    return np.array([points[n] for n in names]), np.array([conf[n] for n in names])


def _lower_points(shape: _Shape) -> tuple[np.ndarray, np.ndarray]:
    xc = shape.xc
    top = shape.top(xc)
    waist_y = top + 0.05 * shape.h
    run = shape.run(waist_y) or (shape.x0, shape.x1)
    inset = 0.12 * (run[1] - run[0])
    points = {
        "waist_left": (run[1] - inset, waist_y),
        "waist_centre": (xc, waist_y),
        "waist_right": (run[0] + inset, waist_y),
    }
    conf = dict.fromkeys(LANDMARK_SETS["lower"], 1.0)
    gap_top = shape.bottom(xc)
    legs = gap_top < shape.y1 - 0.05 * shape.h  # a gap between legs at the bottom centre: pants or shorts
    if legs:
        points["crotch"] = (xc, gap_top - 0.09 * shape.h)
        for side, name in ((1, "left"), (-1, "right")):
            ys, xs = np.nonzero(shape.fg[round(gap_top) + 1 :])
            xs_side = xs[(xs - xc) * side > 0]
            ys_side = ys[(xs - xc) * side > 0] + round(gap_top) + 1
            bottom = ys_side.max()
            cuff_x = xs_side[ys_side >= bottom - 0.02 * shape.h].mean()
            ankle = np.array([cuff_x, bottom - 0.03 * shape.h])
            leg_len = ankle[1] - top
            long = leg_len > 1.5 * (shape.w / 2)
            hip = np.array([xc + side * 0.25 * shape.w, top])
            knee = hip + (ankle - hip) * 0.6 if long else ankle
            points[f"{name}_ankle"], points[f"{name}_knee"] = tuple(ankle), tuple(knee)
            conf[f"{name}_knee"] = 1.0 if long else LOW_CONFIDENCE
            conf[f"{name}_ankle"] = 1.0 if long else LOW_CONFIDENCE
    else:  # skirt: hem corners; knees at the knee level if the hem is long enough, else at the hem
        hem_y = shape.y1 - 0.04 * shape.h
        run_h = shape.run(hem_y) or (shape.x0, shape.x1)
        width_h = run_h[1] - run_h[0]
        for side, name, edge in ((1, "left", run_h[1]), (-1, "right", run_h[0])):
            points[f"{name}_ankle"] = (edge - side * 0.1 * width_h, hem_y)
            points[f"{name}_knee"] = (xc + side * 0.22 * (run[1] - run[0]), min(hem_y, top + 0.55 * shape.h))
            conf[f"{name}_ankle"] = LOW_CONFIDENCE
        points["crotch"] = (xc, min(hem_y, top + 0.3 * shape.h))
    names = LANDMARK_SETS["lower"]
    return np.array([points[n] for n in names]), np.array([conf[n] for n in names])


def _dress_points(shape: _Shape) -> tuple[np.ndarray, np.ndarray]:
    upper, upper_conf = _upper_points(shape, hem=0.3)
    idx = {n: i for i, n in enumerate(LANDMARK_SETS["upper"])}
    widths = []
    for f in np.linspace(0.3, 0.6, 15):
        run = shape.run(shape.y0 + f * shape.h)
        widths.append((run[1] - run[0]) if run else np.inf)
    waist_y = shape.y0 + shape.h * np.linspace(0.3, 0.6, 15)[int(np.argmin(widths))]
    run = shape.run(waist_y) or (shape.x0, shape.x1)
    inset = 0.15 * (run[1] - run[0])
    hem_y = shape.y1 - 0.04 * shape.h
    run_h = shape.run(hem_y) or (shape.x0, shape.x1)
    inset_h = 0.1 * (run_h[1] - run_h[0])
    points = {n: tuple(upper[idx[n]]) for n in ("neck", "left_shoulder", "right_shoulder")}
    points.update({n: tuple(upper[idx[n]]) for n in ("left_elbow", "right_elbow")})
    points.update(
        waist_left=(run[1] - inset, waist_y),
        waist_right=(run[0] + inset, waist_y),
        hem_left=(run_h[1] - inset_h, hem_y),
        hem_right=(run_h[0] + inset_h, hem_y),
    )
    conf = {n: 1.0 for n in LANDMARK_SETS["dresses"]}
    conf.update(left_elbow=upper_conf[idx["left_elbow"]], right_elbow=upper_conf[idx["right_elbow"]])
    names = LANDMARK_SETS["dresses"]
    return np.array([points[n] for n in names]), np.array([conf[n] for n in names])


def geometric_landmarks(mask: np.ndarray, category: str) -> GarmentLandmarks:
    """Landmarks of `category` read off an in-shop garment mask ((H, W), non-zero = garment), no training."""
    if category not in LANDMARK_SETS:
        raise ValueError(f"unknown garment category {category!r}; choose one of {sorted(LANDMARK_SETS)}")
    shape = _Shape(mask)
    if category == "upper":
        xy, conf = _upper_points(shape, hem=1.0)
    elif category == "lower":
        xy, conf = _lower_points(shape)
    else:
        xy, conf = _dress_points(shape)
    h, w = mask.shape
    xy = np.clip(xy, 0, [w - 1, h - 1])
    points = np.concatenate([xy, conf[:, None]], axis=1).astype(np.float32)
    return GarmentLandmarks(category, LANDMARK_SETS[category], points, method="geometric")


class GeometricLandmarkAnnotator:
    """Annotator "garment_landmarks" (geometric backend): landmarks from the garment mask's contour."""

    name = "garment_landmarks"
    version = "geometric-1"
    outputs = ("garment_landmarks",)
    needs = ("garment_mask",)

    def __call__(self, batch: list[AnnotationInput]) -> list[dict[str, Any]]:
        results = []
        for item in batch:
            mask = item.outputs.get("garment_mask")
            category = item.row.get("category")
            if mask is None:
                raise AnnotationError(
                    f"{item.sample_id}: garment landmarks need the garment_mask annotation; run the "
                    "garment_mask annotator first",
                    item.sample_id,
                )
            try:
                results.append({"garment_landmarks": geometric_landmarks(mask, str(category))})
            except ValueError as err:
                raise AnnotationError(f"{item.sample_id}: {err}", item.sample_id) from err
        return results
