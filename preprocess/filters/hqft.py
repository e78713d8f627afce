"""IGR's high-quality fine-tune (HQFT) filter (IGR §3.2, Fig. 2): which try-on pairs suit garment restoration.

IGR fine-tunes on a curated 20% of its coarse data, removing pairs whose garment is occluded or truncated
where its key features are, and side views; mild occlusions stay as hard cases and pairs of extreme
proportions are resized and padded. IGR curated by hand; here each criterion is a score measured from
the LIP parse and the OpenPose-18 pose (`preprocess.filters.hqft_measures`), compared with documented
limits (`HQFTThresholds`, calibrated on the synthetic generator's seed 3, checked on seed 7 by
benchmarks/hqft and tests/preprocess/filters):

- truncated (dropped): garment pixels on the image border, or the shoulders / hips it hangs on outside it;
- side view (dropped): shoulder width per torso length below a limit set by the visible ears (a side
  view hides the far ear, a narrow frontal figure shows both), or per upper arm when the hips are cut off;
- occluded (dropped) and mildly occluded (kept, hard case): hidden share of the garment's worst key slab
  (collar, chest print, hem; waistband, front, hem; neckline, waist, hem) at or above `occlusion_fail`,
  or between `occlusion_mild` and it. Judged on figures facing the camera: a side view turns the key
  features away, which is its own criterion;
- extreme proportion (kept, to be resized and padded with `padding_boxes`): a frontal figure's torso
  length in head heights or build outside their usual ranges, or a garment that is oversized (ease),
  tunic-long or cropped (hem), or widely flared (flare).

Every decision carries its scores and one readable reason per criterion it meets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from preprocess.filters.hqft_inputs import HQFTInput
from preprocess.filters.hqft_measures import (
    GARMENT_LABELS,
    L_HIP,
    L_SHO,
    R_HIP,
    R_SHO,
    body_proportions,
    garment_proportions,
    key_slabs_hidden,
    side_view_scores,
    torso_frame,
    truncation_score,
)

__all__ = [
    "GARMENT_LABELS",
    "HQFTDecision",
    "HQFTThresholds",
    "PaddingBox",
    "apply_padding",
    "decide",
    "pad_to_aspect",
    "padding_box",
    "padding_boxes",
    "quality_score",
    "select_hqft",
]

OPENPOSE_NAME = {R_SHO: "right shoulder", L_SHO: "left shoulder", R_HIP: "right hip", L_HIP: "left hip"}


@dataclass(frozen=True)
class HQFTThresholds:
    """Limits of each criterion (the scores are described in `preprocess.filters.hqft_measures`).

    occlusion_fail / occlusion_mild: hidden share of the worst key slab at or above which a pair is
    dropped / kept as a hard case. truncation_fail: border score above which the garment counts as cut
    by the frame (below it, but above zero, the pair is a hard case). side_ratio: shoulder width / torso
    length below which the figure is turned away when no ear is visible (or the frame cuts the head);
    side_ratio_with_ear: the looser
    limit when exactly one ear is (a side view hides the far ear); side_ratio_both_ears: the stricter one
    when both are (a narrow frontal figure is no side view); side_arm_ratio: shoulder width / upper arm
    length below which a figure whose hips are outside the image is turned away. torso_heads / build: usual ranges of the torso length in head heights (the torso
    of a figure 6.4 to 8.5 heads tall) and of the build (1: average). ease: garment standing out from the
    body by more than this (torso lengths per side) is oversized; hem: usual range of a top's hem relative
    to the hips (torso lengths); flare: a skirt widening faster than this per unit of drop is extreme.
    keypoint_confidence: keypoints below it count as missing. The generator labels its cases with the
    same limits (`preprocess.synthetic.truth`).
    """

    occlusion_fail: float = 0.4
    occlusion_mild: float = 0.08
    truncation_fail: float = 0.1
    side_ratio: float = 0.3
    side_ratio_with_ear: float = 0.55
    side_ratio_both_ears: float = 0.15
    side_arm_ratio: float = 0.35
    torso_heads: tuple[float, float] = (1.96, 2.75)
    build: tuple[float, float] = (0.75, 1.25)
    ease: float = 0.1
    hem: tuple[float, float] = (-0.3, 0.3)
    flare: float = 0.45
    keypoint_confidence: float = 0.1


@dataclass
class HQFTDecision:
    """The filter's verdict on one pair: kept or not, hard case or not, whether it must be resized and
    padded (extreme proportions), the scores and readable reasons."""

    sample_id: str
    keep: bool
    hard_case: bool
    scores: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    resize_pad: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "sample_id": self.sample_id,
            "keep": self.keep,
            "hard_case": self.hard_case,
            "resize_pad": self.resize_pad,
            "scores": {k: round(float(v), 4) for k, v in self.scores.items()},
            "reasons": list(self.reasons),
        }


def decide(inputs: Sequence[HQFTInput], thresholds: HQFTThresholds | None = None) -> list[HQFTDecision]:
    """Score every pair on the criteria and decide keep / hard case / resize-and-pad, with reasons."""
    th = thresholds or HQFTThresholds()
    return [_decide_one(inp, th) for inp in inputs]


def _decide_one(inp: HQFTInput, th: HQFTThresholds) -> HQFTDecision:
    conf = th.keypoint_confidence
    frame = torso_frame(inp.pose.body, conf)
    truncation = truncation_score(inp)
    ratio, arm_ratio, ears = side_view_scores(inp, frame, conf)
    missing = [OPENPOSE_NAME[i] for i in _key_joints(inp.category) if inp.pose.body[i, 2] < conf]
    garment = f"{inp.category} garment"
    reasons: list[str] = []
    hard = False
    if truncation > th.truncation_fail or (truncation > 0 and missing):
        where = f"; {', '.join(missing)} outside the image" if missing else ""
        reasons.append(
            f"truncated: the {garment} runs off the image border (score {truncation:.2f} > "
            f"{th.truncation_fail}){where}"
        )
    elif truncation > 0:
        hard = True
        reasons.append(f"hard case: the {garment} touches the image border slightly (score {truncation:.2f})")
    if math.isfinite(ratio):
        limit = {1: th.side_ratio_with_ear, 2: th.side_ratio_both_ears}.get(ears, th.side_ratio)
        side = ratio < limit
    else:  # hips outside the image: the ears, or the shoulders against the upper arm
        side = ears == 1 or (math.isfinite(arm_ratio) and arm_ratio < th.side_arm_ratio)
    if side:
        width = (
            f"shoulder width is {ratio:.2f} of the torso length"
            if math.isfinite(ratio)
            else f"shoulder width is {arm_ratio:.2f} of the upper arm"
            if math.isfinite(arm_ratio)
            else "torso not measurable"
        )
        reasons.append(f"side view: {width}{', one ear hidden' if ears == 1 else ''}")
    slabs = {} if side else key_slabs_hidden(inp, frame, conf)
    worst = max(slabs, key=slabs.get) if slabs else ""
    occlusion = slabs.get(worst, 0.0)
    if occlusion >= th.occlusion_fail:
        reasons.append(
            f"occluded: {occlusion:.0%} of the {garment}'s {worst} is covered by arms, hair or other "
            f"clothes (limit {th.occlusion_fail:.0%})"
        )
    elif occlusion >= th.occlusion_mild:
        hard = True
        reasons.append(f"hard case: mild occlusion of the {garment}'s {worst} ({occlusion:.0%} covered)")
    nan = math.nan
    heads, build = (nan, nan) if side else body_proportions(inp, frame, conf)
    shape = dict.fromkeys(("ease", "hem", "flare"), nan) if side else garment_proportions(inp, frame)
    keep = not any(r.startswith(("truncated", "side view", "occluded")) for r in reasons)
    extreme = _extreme(heads, build, shape, th)
    if extreme:
        fix = "kept, to be resized and padded" if keep else "would be resized and padded if kept"
        reasons.append(f"extreme proportion: {extreme}; {fix}")
    scores = {
        "occlusion": occlusion,
        **{f"occlusion_{k}": v for k, v in slabs.items()},
        "truncation": truncation,
        "key_joints_missing": float(len(missing)),
        "shoulder_ratio": ratio,
        "shoulder_arm_ratio": arm_ratio,
        "ears_visible": math.nan if ears is None else float(ears),
        "torso_heads": heads,
        "build": build,
        **shape,
    }
    return HQFTDecision(inp.sample_id, keep, hard and keep, scores, reasons, bool(extreme) and keep)


def _extreme(heads: float, build: float, shape: dict[str, float], th: HQFTThresholds) -> str:
    """Why the proportions are extreme ("" when usual or not measurable)."""
    lo, hi = th.torso_heads
    if math.isfinite(heads) and not lo <= heads <= hi:
        return f"the torso is {heads:.2f} head heights long (usual {lo}-{hi})"
    lo, hi = th.build
    if math.isfinite(build) and not lo <= build <= hi:
        return f"the build is {build:.2f} of the average (usual {lo}-{hi})"
    if shape["ease"] > th.ease:
        return f"the garment stands {shape['ease']:.2f} torso lengths off the body (limit {th.ease})"
    lo, hi = th.hem
    if math.isfinite(shape["hem"]) and not lo <= shape["hem"] <= hi:
        return f"the hem is {shape['hem']:+.2f} torso lengths from the hips (usual {lo:+}-{hi:+})"
    if shape["flare"] > th.flare:
        return f"the skirt flares {shape['flare']:.2f} per unit of drop (limit {th.flare})"
    return ""


def _key_joints(category: str) -> tuple[int, ...]:
    """The joints a garment's key features hang on: shoulders for tops and dresses, hips for all."""
    return (R_HIP, L_HIP) if category == "lower" else (R_SHO, L_SHO, R_HIP, L_HIP)


def quality_score(decision: HQFTDecision) -> float:
    """Higher is better: a clean frontal, fully visible garment of usual proportions scores near 1."""
    s = decision.scores
    ratio = s.get("shoulder_ratio", math.nan)
    frontal = min(1.0, ratio / 0.6) if math.isfinite(ratio) else 0.5
    score = frontal - s.get("occlusion", 0.0) - min(1.0, s.get("truncation", 0.0))
    return float(score - 0.25 * decision.resize_pad)


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


@dataclass(frozen=True)
class PaddingBox:
    """How a kept pair of extreme proportions is resized and padded (IGR §3.2): crop (x0, y0, x1, y1) of
    the content, then `pad_to_aspect` onto a canvas of `size` (H, W): scaled by `scale` and pasted at
    `offset` (dx, dy), so a point maps as x' = scale * (x - x0) + dx, y' = scale * (y - y0) + dy."""

    crop: tuple[int, int, int, int]
    scale: float
    offset: tuple[int, int]
    size: tuple[int, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "crop": list(self.crop),
            "scale": self.scale,
            "offset": list(self.offset),
            "size": list(self.size),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PaddingBox:
        x0, y0, x1, y1 = (int(v) for v in obj["crop"])
        dx, dy = (int(v) for v in obj["offset"])
        h, w = (int(v) for v in obj["size"])
        return cls((x0, y0, x1, y1), float(obj["scale"]), (dx, dy), (h, w))


def padding_box(
    content: np.ndarray, size: tuple[int, int] | None = None, margin: float = 0.05
) -> PaddingBox | None:
    """The box that re-frames the nonzero pixels of `content` (a person's parse, a garment mask) in a
    canvas of `size` (H, W; default the image's own) at its aspect, without distortion: their bounding
    box grown by `margin` of its size on every side (within the image), resized to fit and centred; the
    rest of the canvas is padding. None when `content` is empty."""
    ys, xs = np.nonzero(content)
    if not len(ys):
        return None
    h, w = content.shape[:2]
    out_h, out_w = size or (h, w)
    bw, bh = int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)
    mx, my = int(math.ceil(margin * bw)), int(math.ceil(margin * bh))
    x0, y0 = max(0, int(xs.min()) - mx), max(0, int(ys.min()) - my)
    x1, y1 = min(w, int(xs.max()) + 1 + mx), min(h, int(ys.max()) + 1 + my)
    scale = min(out_w / (x1 - x0), out_h / (y1 - y0))
    new_w, new_h = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
    return PaddingBox(
        (x0, y0, x1, y1), float(scale), ((out_w - new_w) // 2, (out_h - new_h) // 2), (out_h, out_w)
    )


def apply_padding(image: np.ndarray, box: PaddingBox, fill: int | Sequence[int] = 255) -> np.ndarray:
    """Resize and pad `image` (the person or garment image, or a label map of the same size: fill 0) as
    `box` says: crop, then `pad_to_aspect` onto the box's canvas."""
    x0, y0, x1, y1 = box.crop
    h, w = box.size
    out, _ = pad_to_aspect(image[y0:y1, x0:x1], aspect=w / h, size=box.size, fill=fill)
    return out


def padding_boxes(inp: HQFTInput, margin: float = 0.05) -> dict[str, PaddingBox]:
    """The resize-and-pad boxes of a pair: "person" re-frames the person (nonzero parse) in the person
    image's own size, "garment" the in-shop garment (its mask) in the garment image's size, when shown."""
    boxes = {"person": padding_box(inp.parse > 0, margin=margin)}
    if inp.garment_mask is not None:
        boxes["garment"] = padding_box(inp.garment_mask > 0, margin=margin)
    return {name: box for name, box in boxes.items() if box is not None}
