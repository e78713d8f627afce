"""IGR's high-quality fine-tune (HQFT) filter (IGR §3.2, Fig. 2): which try-on pairs suit garment restoration.

IGR fine-tunes on a curated 20% of its coarse data, removing pairs whose garment is occluded or truncated
where its key features are, side views, and extreme proportions; mild occlusions stay as hard cases and
extreme proportions are resized and padded. IGR curated by hand; here each criterion is a score measured
from the LIP parse, the OpenPose-18 pose and the in-shop garment mask, with documented thresholds
(`HQFTThresholds`, calibrated on the synthetic generator's labelled cases, see benchmarks/hqft):

- occlusion: share of the garment's expected region (central band of the torso quad from shoulders and
  hips for upper garments, waist to knees for lower, shoulders to knees for dresses) covered by arms,
  hair and other clothes in the parse or by the pose's arm segments (a sleeved arm folded across the
  chest has the garment's own parse label), taken as the worst of three horizontal slabs;
- truncation: garment pixels on the image border (per square root of the garment area), and the key
  keypoints (shoulders, hips) missing;
- side view: shoulder width relative to torso length, and one ear visible while the other is not;
- extreme proportion: the frontal body's height in heads and build estimated from pose ratios
  (`body_proportions`) outside fixed usual ranges, or a body/garment shape ratio (torso width and length,
  garment hem and width, the in-shop garment's aspect) far from the dataset's per-category medians.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import cv2
import numpy as np

from preprocess.filters.hqft_inputs import HQFTInput

# OpenPose-18 indices used here.
NOSE, NECK, R_SHO, R_ELB, R_WRI, L_SHO, L_ELB, L_WRI = 0, 1, 2, 3, 4, 5, 6, 7
R_HIP, R_KNEE, L_HIP, L_KNEE, R_EAR, L_EAR = 8, 9, 11, 12, 16, 17
OPENPOSE_NAME = {R_SHO: "right shoulder", L_SHO: "left shoulder", R_HIP: "right hip", L_HIP: "left hip"}
# LIP-20 label groups.
GARMENT_LABELS = {"upper": (5, 7), "lower": (9, 12), "dresses": (6, 10)}
ARM_LABELS = (14, 15)
OCCLUDER_LABELS = {
    "upper": (2, 3, 11, 14, 15),  # hair, gloves, scarf, arms
    "lower": (2, 3, 5, 6, 7, 11, 14, 15),  # and the tops or coats hanging over the waistband
    "dresses": (2, 3, 11, 14, 15),
}
ARM_WIDTH = (
    0.22  # drawn arm thickness per torso length (an arm is about a fifth as wide as the torso is long)
)
# Body height in heads and relative width from pose ratios (log nose-to-neck, shoulder and hip width per
# torso length): least-squares fit on frontal synthetic figures (seed 3, 400 samples; about 0.1 head and
# 0.06 width error on held-out seed 7). Head size follows the nose-to-neck distance, build the joint spans.
HEADS_FIT = (-5.4207, -11.2295)  # heads = a + b * log(nose_neck / torso)
WIDTH_FIT = (
    -0.0697,
    -1.4979,
    0.5463,
    0.3609,
)  # width = a + b log(nose_neck) + c log(shoulders) + d log(hips)
PROPORTION_FEATURES = ("torso_width", "torso_length", "garment_hem", "garment_width", "shop_aspect")


@dataclass(frozen=True)
class HQFTThresholds:
    """Pass/fail limits of each criterion (scores are described in the module docstring).

    occlusion_fail / occlusion_mild: occlusion score at or above which a pair is dropped / kept as a hard
    case. truncation_fail: border score above which the garment counts as cut by the frame (below it,
    but above zero, the pair is a hard case). side_ratio: shoulder width / torso length below which the
    figure is turned away; side_ratio_with_ear: the looser limit used when exactly one ear is visible.
    proportion_z: robust z-score (|x - median| / (1.4826 MAD)) above which a ratio is extreme.
    body_heads / body_width: usual range of the body's height in head lengths and its relative build
    (1: average) as estimated by `body_proportions`; outside them a figure is extreme.
    keypoint_confidence: keypoints below it count as missing.
    """

    occlusion_fail: float = 0.5
    occlusion_mild: float = 0.09
    truncation_fail: float = 0.1
    side_ratio: float = 0.3
    side_ratio_with_ear: float = 0.55
    proportion_z: float = 5.0
    body_heads: tuple[float, float] = (6.4, 8.5)
    body_width: tuple[float, float] = (0.75, 1.35)
    keypoint_confidence: float = 0.1


@dataclass
class HQFTDecision:
    """The filter's verdict on one pair: kept or not, hard case or not, the scores and readable reasons."""

    sample_id: str
    keep: bool
    hard_case: bool
    scores: dict[str, float]
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "sample_id": self.sample_id,
            "keep": self.keep,
            "hard_case": self.hard_case,
            "scores": {k: round(float(v), 4) for k, v in self.scores.items()},
            "reasons": list(self.reasons),
        }


@dataclass
class _Frame:
    """Torso geometry from the pose: shoulder and hip points (None when unseen) and the torso length."""

    shoulders: tuple[np.ndarray, np.ndarray] | None
    hips: tuple[np.ndarray, np.ndarray] | None
    length: float


def _point(body: np.ndarray, index: int, min_conf: float) -> np.ndarray | None:
    return body[index, :2].astype(np.float64) if body[index, 2] >= min_conf else None


def _torso(body: np.ndarray, min_conf: float) -> _Frame:
    rs, ls, rh, lh = (_point(body, i, min_conf) for i in (R_SHO, L_SHO, R_HIP, L_HIP))
    shoulders = (rs, ls) if rs is not None and ls is not None else None
    hips = (rh, lh) if rh is not None and lh is not None else None
    length = 0.0
    if shoulders and hips:
        length = float(np.linalg.norm((shoulders[0] + shoulders[1]) / 2 - (hips[0] + hips[1]) / 2))
    return _Frame(shoulders, hips, length)


def _band(
    shape: tuple[int, int], top: Sequence[np.ndarray], bottom: Sequence[np.ndarray], lo: float, hi: float
) -> np.ndarray:
    """Pixels of the quad between the `top` and `bottom` point pairs, keeping the lo..hi share across."""
    h, w = shape
    (t0, t1), (b0, b1) = top, bottom
    tl, tr = (t0, t1) if t0[0] <= t1[0] else (t1, t0)
    bl, br = (b0, b1) if b0[0] <= b1[0] else (b1, b0)
    corners = np.array([tl + lo * (tr - tl), tl + hi * (tr - tl), bl + hi * (br - bl), bl + lo * (br - bl)])
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(corners).astype(np.int32), 1)
    return mask.astype(bool)


def _expected_region(inp: HQFTInput, frame: _Frame, lo: float, hi: float) -> np.ndarray | None:
    """Where the garment should be if nothing hid it (category rules in the module docstring)."""
    if frame.shoulders is None or frame.hips is None:
        return None
    body = inp.pose.body
    rs, ls = frame.shoulders
    rh, lh = frame.hips
    knees = []
    for knee, hip, sho in ((R_KNEE, rh, rs), (L_KNEE, lh, ls)):  # an unseen knee: one torso length below
        point = _point(body, knee, 0.1)
        knees.append(point if point is not None else hip + (hip - sho))
    if inp.category == "upper":
        top, bottom = (rs, ls), (rh, lh)
    elif inp.category == "lower":
        neck = (rs + ls) / 2
        lift = 0.33 * ((rh + lh) / 2 - neck)  # natural waist: a third of the torso above the hip joints
        top, bottom = (rh - lift, lh - lift), (knees[0], knees[1])
    else:
        top, bottom = (rs, ls), (knees[0], knees[1])
    region = _band(inp.size, top, bottom, lo, hi)
    rows = np.flatnonzero(np.isin(inp.parse, GARMENT_LABELS[inp.category]).any(axis=1))
    if len(rows):  # a short garment (cropped top, shorts) is only expected down to its hem
        region[rows.max() + 1 :] = False
    return region


def _arm_mask(inp: HQFTInput, frame: _Frame, min_conf: float) -> np.ndarray:
    """The arms drawn from the pose (shoulder-elbow-wrist segments, ARM_WIDTH torso lengths thick): a
    sleeve folded across the garment has the garment's own parse label, but its arm still shows here."""
    mask = np.zeros(inp.size, np.uint8)
    thickness = max(2, int(round(ARM_WIDTH * frame.length)))
    for chain in ((R_SHO, R_ELB, R_WRI), (L_SHO, L_ELB, L_WRI)):
        seen = [p for p in (_point(inp.pose.body, i, min_conf) for i in chain) if p is not None]
        for start, end in pairwise(seen):
            a, b = np.round(start).astype(int), np.round(end).astype(int)
            cv2.line(mask, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 1, thickness)
    return mask.astype(bool)


def occlusion_score(inp: HQFTInput, min_conf: float = 0.1) -> float:
    """Worst of three horizontal slabs: the share of the garment's expected central band covered by
    occluding parse labels (hair, arms, other clothes) or by the pose's arm segments; 0 without a torso."""
    frame = _torso(inp.pose.body, min_conf)
    band = _expected_region(inp, frame, 0.15, 0.85)
    if band is None or not band.any():
        return 0.0
    occluders = np.isin(inp.parse, OCCLUDER_LABELS[inp.category]) | _arm_mask(inp, frame, min_conf)
    covered = occluders & band
    rows = np.flatnonzero(band.any(axis=1))
    return float(max(covered[s].sum() / max(1, band[s].sum()) for s in np.array_split(rows, 3) if len(s)))


def truncation_score(inp: HQFTInput) -> float:
    """Garment pixels on the image border per square root of the garment's area (0: fully inside)."""
    garment = np.isin(inp.parse, GARMENT_LABELS[inp.category])
    area = int(garment.sum())
    if area == 0:
        return 0.0
    border = int(garment[0].sum() + garment[-1].sum() + garment[1:-1, 0].sum() + garment[1:-1, -1].sum())
    return border / float(np.sqrt(area))


def side_view_scores(inp: HQFTInput, min_conf: float = 0.1) -> tuple[float, bool]:
    """(shoulder width / torso length, exactly one ear visible); the ratio is NaN without a torso."""
    body = inp.pose.body
    frame = _torso(body, min_conf)
    one_ear = (body[R_EAR, 2] >= min_conf) != (body[L_EAR, 2] >= min_conf)
    if frame.shoulders is None or frame.length <= 0:
        return float("nan"), bool(one_ear)
    width = float(np.linalg.norm(frame.shoulders[0] - frame.shoulders[1]))
    return width / frame.length, bool(one_ear)


def _run_width(row: np.ndarray, x: float) -> int:
    """Length of the run of True pixels of `row` through column x (0 when x is not on one)."""
    x = int(np.clip(round(x), 0, len(row) - 1))
    if not row[x]:
        return 0
    left = np.flatnonzero(~row[:x])
    right = np.flatnonzero(~row[x:])
    start = left[-1] + 1 if len(left) else 0
    end = x + right[0] if len(right) else len(row)
    return int(end - start)


def proportion_features(inp: HQFTInput, min_conf: float = 0.1) -> dict[str, float]:
    """Shape ratios of the person and garment (NaN where not measurable), compared across a dataset:
    torso_width and garment_width per torso length, torso_length per nose-to-neck distance, garment_hem
    (hem height above or below the hips, per torso length), shop_aspect (in-shop mask height / width)."""
    nan = float("nan")
    out = dict.fromkeys(PROPORTION_FEATURES, nan)
    if inp.garment_mask is not None and inp.garment_mask.any():
        ys, xs = np.nonzero(inp.garment_mask)
        out["shop_aspect"] = float((ys.max() - ys.min() + 1) / (xs.max() - xs.min() + 1))
    body = inp.pose.body
    frame = _torso(body, min_conf)
    if frame.shoulders is None or frame.hips is None or frame.length <= 0:
        return out
    h, w = inp.size
    top, bottom = (frame.shoulders[0] + frame.shoulders[1]) / 2, (frame.hips[0] + frame.hips[1]) / 2
    person = (inp.parse > 0) & ~np.isin(inp.parse, ARM_LABELS)
    widths = []
    for t in (0.3, 0.5, 0.7):
        x, y = top + t * (bottom - top)
        if 0 <= y < h:
            widths.append(_run_width(person[int(y)], x))
    if widths and max(widths) > 0:
        out["torso_width"] = max(widths) / frame.length
    nose, neck = _point(body, NOSE, min_conf), _point(body, NECK, min_conf)
    if nose is not None and neck is not None and np.linalg.norm(nose - neck) > 0:
        out["torso_length"] = frame.length / float(np.linalg.norm(nose - neck))
    garment = np.isin(inp.parse, GARMENT_LABELS[inp.category])
    rows = np.flatnonzero(garment.any(axis=1))
    if len(rows):
        out["garment_hem"] = float((rows.max() - bottom[1]) / frame.length)
        centre = [top[0] if y < bottom[1] else bottom[0] for y in rows]
        out["garment_width"] = (
            max(_run_width(garment[y], x) for y, x in zip(rows, centre, strict=True)) / frame.length
        )
    return out


def body_proportions(inp: HQFTInput, min_conf: float = 0.1) -> tuple[float, float]:
    """(height in head lengths, relative build) of a frontal figure from its pose (HEADS_FIT, WIDTH_FIT);
    NaN when the nose, shoulders or hips are unseen. Only meaningful when the figure faces the camera."""
    body = inp.pose.body
    frame = _torso(body, min_conf)
    nose, neck = _point(body, NOSE, min_conf), _point(body, NECK, min_conf)
    if frame.shoulders is None or frame.hips is None or frame.length <= 0 or nose is None or neck is None:
        return float("nan"), float("nan")
    spans = [
        float(np.linalg.norm(a - b)) / frame.length for a, b in ((nose, neck), frame.shoulders, frame.hips)
    ]
    if min(spans) <= 0:
        return float("nan"), float("nan")
    logs = np.log(spans)
    heads = HEADS_FIT[0] + HEADS_FIT[1] * logs[0]
    width = WIDTH_FIT[0] + float(np.dot(WIDTH_FIT[1:], logs))
    return float(heads), float(width)


@dataclass(frozen=True)
class ProportionReference:
    """Per-category median and scaled MAD of each proportion feature: the dataset's typical range."""

    median: dict[str, dict[str, float]]
    spread: dict[str, dict[str, float]]

    @classmethod
    def fit(cls, items: Iterable[tuple[str, dict[str, float]]]) -> ProportionReference:
        """From (category, proportion_features) of a dataset's samples."""
        by_cat: dict[str, dict[str, list[float]]] = {}
        for category, feats in items:
            for key, value in feats.items():
                if np.isfinite(value):
                    by_cat.setdefault(category, {}).setdefault(key, []).append(float(value))
        median: dict[str, dict[str, float]] = {}
        spread: dict[str, dict[str, float]] = {}
        for category, feats in by_cat.items():
            for key, values in feats.items():
                if len(values) < 5:  # too few to say what is typical
                    continue
                arr = np.asarray(values)
                mid = float(np.median(arr))
                mad = 1.4826 * float(np.median(np.abs(arr - mid)))
                median.setdefault(category, {})[key] = mid
                spread.setdefault(category, {})[key] = max(mad, 0.02 * abs(mid), 1e-6)
        return cls(median, spread)

    def z_scores(self, category: str, feats: dict[str, float]) -> dict[str, float]:
        """|value - median| / spread for each feature the reference knows (NaN features are skipped)."""
        out = {}
        for key, value in feats.items():
            if np.isfinite(value) and key in self.median.get(category, {}):
                out[key] = abs(value - self.median[category][key]) / self.spread[category][key]
        return out


def decide(
    inputs: Sequence[HQFTInput],
    thresholds: HQFTThresholds | None = None,
    reference: ProportionReference | None = None,
) -> list[HQFTDecision]:
    """Score every sample on the four criteria and decide keep / hard case with readable reasons.

    `reference` is the dataset's typical proportions; by default it is fitted on `inputs` themselves.
    """
    th = thresholds or HQFTThresholds()
    feats = [proportion_features(inp, th.keypoint_confidence) for inp in inputs]
    ref = reference or ProportionReference.fit(
        (inp.category, f) for inp, f in zip(inputs, feats, strict=True)
    )
    return [_decide_one(inp, f, th, ref) for inp, f in zip(inputs, feats, strict=True)]


def _decide_one(
    inp: HQFTInput, feats: dict[str, float], th: HQFTThresholds, ref: ProportionReference
) -> HQFTDecision:
    conf = th.keypoint_confidence
    occlusion = occlusion_score(inp, conf)
    truncation = truncation_score(inp)
    ratio, one_ear = side_view_scores(inp, conf)
    z = ref.z_scores(inp.category, feats)
    worst_key = max(z, key=z.get) if z else ""
    proportion = z.get(worst_key, 0.0)
    heads, build = body_proportions(inp, conf)
    missing = [OPENPOSE_NAME[i] for i in _key_joints(inp.category) if inp.pose.body[i, 2] < conf]
    scores = {
        "occlusion": occlusion,
        "truncation": truncation,
        "key_joints_missing": float(len(missing)),
        "shoulder_ratio": ratio,
        "one_ear_visible": float(one_ear),
        "proportion_z": proportion,
        "body_heads": heads,
        "body_width": build,
        **{f"proportion_{k}": v for k, v in feats.items()},
    }
    reasons: list[str] = []
    hard = False
    garment = f"{inp.category} garment"
    if truncation > th.truncation_fail or (truncation > 0 and missing):
        where = f"; {', '.join(missing)} outside the image" if missing else ""
        reasons.append(
            f"truncated: the {garment} runs off the image border (score {truncation:.2f} > {th.truncation_fail}){where}"
        )
    elif truncation > 0:
        hard = True
        reasons.append(f"hard case: the {garment} touches the image border slightly (score {truncation:.2f})")
    if np.isfinite(ratio):
        side = ratio < th.side_ratio or (one_ear and ratio < th.side_ratio_with_ear)
    else:  # no torso to measure (hips cut off): the ears alone tell
        side = one_ear
    if side:
        width = (
            f"shoulder width is {ratio:.2f} of the torso length"
            if np.isfinite(ratio)
            else "torso not measurable"
        )
        ear = ", one ear hidden" if one_ear else ""
        reasons.append(f"side view: {width}{ear}")
    if occlusion >= th.occlusion_fail:
        reasons.append(
            f"occluded: {occlusion:.0%} of the {garment}'s key region is covered by arms, hair or other clothes (limit {th.occlusion_fail:.0%})"
        )
    elif occlusion >= th.occlusion_mild:
        hard = True
        reasons.append(f"hard case: mild occlusion of the {garment} ({occlusion:.0%} covered)")
    body_reason = "" if side else _body_extreme(heads, build, th)
    if body_reason:
        reasons.append(f"extreme proportion: {body_reason}; resize and pad it with pad_to_aspect")
    elif proportion > th.proportion_z:
        reasons.append(
            f"extreme proportion: {worst_key.replace('_', ' ')} is {proportion:.1f} robust SDs from the dataset's "
            f"typical {inp.category} samples (limit {th.proportion_z}); resize and pad it with pad_to_aspect"
        )
    fails = [r for r in reasons if not r.startswith("hard case")]
    keep = not fails
    return HQFTDecision(inp.sample_id, keep, hard and keep, scores, reasons)


def _body_extreme(heads: float, build: float, th: HQFTThresholds) -> str:
    """Why the estimated body proportions are extreme ("" when they are usual or unmeasured)."""
    lo, hi = th.body_heads
    if np.isfinite(heads) and not lo <= heads <= hi:
        return f"the body is about {heads:.1f} heads tall (usual {lo}-{hi})"
    lo, hi = th.body_width
    if np.isfinite(build) and not lo <= build <= hi:
        return f"the build is {build:.2f} of the average width (usual {lo}-{hi})"
    return ""


def _key_joints(category: str) -> tuple[int, ...]:
    """The joints a garment's key features hang on: shoulders for tops and dresses, hips for all."""
    return (R_HIP, L_HIP) if category == "lower" else (R_SHO, L_SHO, R_HIP, L_HIP)


def quality_score(decision: HQFTDecision) -> float:
    """Higher is better: a clean frontal, fully visible garment of usual proportions scores near 1."""
    s = decision.scores
    ratio = s.get("shoulder_ratio", float("nan"))
    frontal = min(1.0, ratio / 0.6) if np.isfinite(ratio) else 0.5
    score = (
        frontal
        - s.get("occlusion", 0.0)
        - min(1.0, s.get("truncation", 0.0))
        - 0.05 * s.get("proportion_z", 0.0)
    )
    return float(score)


def select_hqft(
    decisions: Sequence[HQFTDecision], fraction: float = 0.2, include_hard_cases: bool = True
) -> list[HQFTDecision]:
    """The fine-tune subset: the best `fraction` of all pairs (IGR keeps 20%), drawn from the kept ones
    ranked by `quality_score` (ties by sample id); fewer when not enough pairs pass."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}; IGR keeps 0.2")
    pool = [d for d in decisions if d.keep and (include_hard_cases or not d.hard_case)]
    pool.sort(key=lambda d: (-quality_score(d), d.sample_id))
    return pool[: int(round(fraction * len(decisions)))]


def pad_to_aspect(
    image: np.ndarray,
    aspect: float = 0.75,
    size: tuple[int, int] | None = None,
    fill: int | Sequence[int] = 255,
) -> tuple[np.ndarray, tuple[float, int, int]]:
    """Resize and pad an image to width / height = `aspect` without distorting it (IGR's fix for extreme
    proportions). Returns the image and (scale, x offset, y offset) to map points: x' = scale * x + dx.

    `size` (H, W) fixes the output size (its aspect wins); otherwise the longer side is kept.
    """
    if aspect <= 0:
        raise ValueError(f"aspect must be positive (width / height), got {aspect}")
    h, w = image.shape[:2]
    if size is None:
        size = (h, max(1, round(h * aspect))) if w / h < aspect else (max(1, round(w / aspect)), w)
    out_h, out_w = size
    scale = min(out_w / w, out_h / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    if image.dtype == np.uint8 and image.ndim == 2 and len(np.unique(image)) <= 32:
        interp = cv2.INTER_NEAREST  # label maps and masks keep their values
    resized = cv2.resize(image, (new_w, new_h), interpolation=interp)
    dx, dy = (out_w - new_w) // 2, (out_h - new_h) // 2
    shape = (out_h, out_w) + image.shape[2:]
    canvas = np.empty(shape, image.dtype)
    canvas[...] = fill
    canvas[dy : dy + new_h, dx : dx + new_w] = resized
    return canvas, (float(scale), int(dx), int(dy))
