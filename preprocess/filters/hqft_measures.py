"""The HQFT filter's measurements of one pair, from the LIP parse, the OpenPose-18 pose and nothing else.

Each measurement estimates, from what a dataset ships, the quantity the synthetic generator's labels are
defined on (`preprocess.synthetic.render_measures`), so the filter can be checked against them:

- `key_slabs_hidden`: the garment's key features sit on the central band of the torso (the middle half
  between the shoulder joints, the torso axis extended down the legs). The garment's extent on that
  band is cut into three slabs: collar / neckline (waistband), chest print (front; waist of a dress)
  and hem. A slab's hidden share counts the pixels that the parse gives to arms, hair or other clothes,
  plus the garment's own sleeves where the pose's arms cross it (a sleeve has the garment's label).
- `body_proportions`: torso length in head heights (the head height from the nose-to-neck distance)
  and the build (geometric mean of the shoulder and hip joint spans in head heights, 1 = average).
- `garment_proportions`: ease (how far the garment stands out from the body at the waist, hips for
  lower garments, per torso length), hem (a top's hem below (+) or above (-) the hips, per torso length)
  and flare (a skirt's or dress's widening per unit of drop from the hips to its hem).
- `truncation_score` and `side_view_scores`: garment pixels on the image border; shoulder span per
  torso length (per upper arm length when the hips are outside the image) and the visible ears (a side
  view hides the far ear).

The constants marked "seed 3" were fitted on the generator's calibration seed (benchmarks/hqft).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import cv2
import numpy as np

from preprocess.filters.hqft_inputs import HQFTInput

# OpenPose-18 indices used here.
NOSE, NECK, R_SHO, R_ELB, R_WRI, L_SHO, L_ELB, L_WRI = 0, 1, 2, 3, 4, 5, 6, 7
R_HIP, R_KNEE, L_HIP, L_KNEE, R_EAR, L_EAR = 8, 9, 11, 12, 16, 17
# LIP-20 label groups.
GARMENT_LABELS = {"upper": (5, 7), "lower": (9, 12), "dresses": (6, 10)}
SKIRT_LABELS = (6, 10, 12)  # dress, jumpsuit, skirt: garments that flare instead of splitting into legs
ARM_LABELS = (14, 15)
OCCLUDER_LABELS = {
    "upper": (2, 3, 11, 14, 15),  # hair, gloves, scarf, arms
    "lower": (2, 3, 5, 6, 7, 11, 14, 15),  # and the tops or coats hanging over the waistband
    "dresses": (2, 3, 11, 14, 15),
}
KEY_SLABS = {
    "upper": ("collar", "chest", "hem"),
    "lower": ("waistband", "front", "hem"),
    "dresses": ("neckline", "waist", "hem"),
}
KEY_BAND = (0.25, 0.75)  # across the torso, 0 and 1 on the shoulder joints
MIN_SLAB_PIXELS = 12
HEM_ROW_SHARE = 0.3
HEAD_LABELS = (1, 2, 4, 13)  # hat, hair, sunglasses, face
FACE_LABEL = 13
SLEEVE_WIDTH = 0.15  # a sleeve's thickness per torso length (seed 3)
# Where the garment's front starts on the band, in torso lengths below the shoulders (seed 3): tops and
# dresses at the shoulder line, lower garments at the waistband. The visible start is clipped to the
# range, so a sleeve raised past the head or hair over the collar does not move it.
TOP_RANGE = {"upper": (-0.07, -0.04), "dresses": (-0.07, -0.04), "lower": (0.7, 0.82)}
# A torso seen without its hips or shoulders (the frame cuts them off) is completed from these (seed 3).
TORSO_PER_SHOULDERS = 1.54  # torso length per shoulder span (medians of frontal figures)
SHOULDERS_PER_HIPS = 1.9  # shoulder span per hip span
# Head height: the nose-to-neck distance along the torso, per torso length, is NOSE_NECK[0] / T +
# NOSE_NECK[1] for a torso T head heights long (seed 3, frontal figures).
NOSE_NECK = (0.3968, 0.1464)
AVERAGE_SPANS = (1.56, 0.8)  # shoulder and hip joint spans of the average figure, head heights
# Half the body's width down the torso (levels in torso lengths below the shoulders): CHEST_HALF times the
# half shoulder span at the chest, WAIST_HALF[0] times it plus WAIST_HALF[1] times the half hip span at
# the natural waist, HIP_HALF times the half hip span at the hips (seed 3, frontal figures).
CHEST_ALONG, WAIST_ALONG = 0.23, 0.656
CHEST_HALF = 0.949
WAIST_HALF = (0.3965, 0.6526)
HIP_HALF = 1.98
# Ease is the median over these levels (tops and dresses; lower garments at the hips), so one arm lying
# across the garment or hanging against it moves one level only; sleeves are masked this wide there.
EASE_ROWS = (0.45, 0.55, 0.656, 0.75, 0.85, 0.95)
EASE_SLEEVE_WIDTH = 0.25


@dataclass(frozen=True)
class TorsoFrame:
    """The torso from the pose, in pixels: shoulder midpoint, unit vector down the body, torso length
    (shoulder midpoint to hip midpoint) and half the shoulder span; `complete` when no joint was guessed."""

    top: np.ndarray
    down: np.ndarray
    length: float
    half_span: float
    complete: bool

    def coordinates(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """(across, along) of every pixel: across 0 and 1 on the shoulder lines, along 0 at the shoulders
        and 1 at the hips."""
        h, w = shape
        rx = np.arange(w, dtype=np.float64)[None, :] - self.top[0]
        ry = np.arange(h, dtype=np.float64)[:, None] - self.top[1]
        (dx, dy), scale = self.down, 2 * self.half_span
        across = 0.5 + (rx * (-dy / scale) + ry * (dx / scale))
        along = rx * (dx / self.length) + ry * (dy / self.length)
        return across, along

    def point(self, along: float) -> np.ndarray:
        """The pixel on the torso axis `along` torso lengths below the shoulders."""
        return self.top + along * self.length * self.down


def keypoint(body: np.ndarray, index: int, min_conf: float) -> np.ndarray | None:
    """(x, y) of an OpenPose-18 joint, None when below `min_conf` (unseen)."""
    return body[index, :2].astype(np.float64) if body[index, 2] >= min_conf else None


def _down(right: np.ndarray) -> np.ndarray:
    """Unit vector down the body from a unit vector toward the person's left (the image right for a
    figure facing the camera)."""
    return np.array([-right[1], right[0]]) if right[0] >= 0 else np.array([right[1], -right[0]])


def torso_frame(body: np.ndarray, min_conf: float = 0.1) -> TorsoFrame | None:
    """The torso from the shoulders and hips. A missing joint is completed from its partner on the
    other side (one shoulder and both hips: the other shoulder lies a shoulder span away along the hip
    line) or from the other pair's span; None with neither both shoulders nor both hips."""
    rs, ls, rh, lh = (keypoint(body, i, min_conf) for i in (R_SHO, L_SHO, R_HIP, L_HIP))
    if rs is not None and ls is not None and rh is not None and lh is not None:
        top = (rs + ls) / 2
        axis = (rh + lh) / 2 - top
        length, span = float(np.linalg.norm(axis)), float(np.linalg.norm(ls - rs))
        return TorsoFrame(top, axis / length, length, span / 2, True) if length > 0 and span > 0 else None
    if rh is not None and lh is not None:
        hip_span = float(np.linalg.norm(lh - rh))
        if hip_span <= 0:
            return None
        right = (lh - rh) / hip_span
        span = SHOULDERS_PER_HIPS * hip_span
        for shoulder, sign in ((rs, 1.0), (ls, -1.0)):
            if shoulder is not None:
                top = shoulder + sign * right * span / 2
                axis = (rh + lh) / 2 - top
                length = float(np.linalg.norm(axis))
                if length > 0:
                    return TorsoFrame(top, axis / length, length, span / 2, False)
        down = _down(right)
        length = TORSO_PER_SHOULDERS * span
        return TorsoFrame((rh + lh) / 2 - down * length, down, length, span / 2, False)
    if rs is not None and ls is not None:
        span = float(np.linalg.norm(ls - rs))
        if span <= 0:
            return None
        right = (ls - rs) / span
        top = (rs + ls) / 2
        for hip, sign in ((rh, 1.0), (lh, -1.0)):
            if hip is not None:
                axis = hip + sign * right * span / SHOULDERS_PER_HIPS / 2 - top
                length = float(np.linalg.norm(axis))
                if length > 0:
                    return TorsoFrame(top, axis / length, length, span / 2, False)
        return TorsoFrame(top, _down(right), TORSO_PER_SHOULDERS * span, span / 2, False)
    return None


def sleeve_mask(
    inp: HQFTInput, frame: TorsoFrame, min_conf: float = 0.1, width: float = SLEEVE_WIDTH
) -> np.ndarray:
    """The garment's own sleeves where the pose's arms run over the garment's label: each quarter of an
    arm segment whose centre line lies mostly on garment pixels, drawn `width` torso lengths thick (a
    bare arm has its own label and needs no drawing)."""
    h, w = inp.size
    garment = np.isin(inp.parse, GARMENT_LABELS[inp.category])
    mask = np.zeros((h, w), np.uint8)
    thickness = max(2, int(round(width * frame.length)))
    steps = np.linspace(0.0, 1.0, 7)[:, None]
    for chain in ((R_SHO, R_ELB, R_WRI), (L_SHO, L_ELB, L_WRI)):
        seen = [p for p in (keypoint(inp.pose.body, i, min_conf) for i in chain) if p is not None]
        for start, end in pairwise(seen):
            for t in (0.0, 0.25, 0.5, 0.75):
                a, b = start + t * (end - start), start + (t + 0.25) * (end - start)
                pts = np.round(a + steps * (b - a)).astype(int)
                inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
                if not inside.any() or garment[pts[inside, 1], pts[inside, 0]].mean() < 0.5:
                    continue
                (ax, ay), (bx, by) = np.round(a).astype(int), np.round(b).astype(int)
                cv2.line(mask, (int(ax), int(ay)), (int(bx), int(by)), 1, thickness)
    return mask.astype(bool)


def _hem_along(along: np.ndarray, length: float) -> float:
    """Where the garment's front ends down the band: the last pixel row (across the axis) still holding
    at least HEM_ROW_SHARE of the median row's garment pixels, so a strip of sleeve the pose did not
    mask, hanging below the hem, does not stretch the slabs."""
    rows = np.round(along * length).astype(np.int64)
    first = int(rows.min())
    counts = np.bincount(rows - first)
    full = np.flatnonzero(counts >= HEM_ROW_SHARE * np.median(counts[counts > 0]))
    return float((full[-1] + first) / length)


def key_slabs_hidden(inp: HQFTInput, frame: TorsoFrame | None, min_conf: float = 0.1) -> dict[str, float]:
    """Hidden share of each key slab of the garment (module docstring); empty when not measurable."""
    if frame is None:
        return {}
    across, along = frame.coordinates(inp.size)
    band = (across >= KEY_BAND[0]) & (across <= KEY_BAND[1])
    garment = np.isin(inp.parse, GARMENT_LABELS[inp.category]) & band
    foreign = np.isin(inp.parse, OCCLUDER_LABELS[inp.category]) & band
    sleeves = sleeve_mask(inp, frame, min_conf) & garment
    panel = garment & ~sleeves
    if not panel.any():
        return {}
    start = float(np.clip(along[panel].min(), *TOP_RANGE[inp.category]))
    end = _hem_along(along[panel], frame.length)
    region = (garment | foreign) & (along >= start) & (along <= end)
    covered = (foreign | sleeves) & region
    edges = np.linspace(start, end, 4)
    out = {}
    for k, name in enumerate(KEY_SLABS[inp.category]):
        upper = along < edges[k + 1] if k < 2 else along <= edges[k + 1]
        slab = region & (along >= edges[k]) & upper
        pixels = int(slab.sum())
        if pixels >= MIN_SLAB_PIXELS:
            out[name] = float((covered & slab).sum() / pixels)
    return out


def truncation_score(inp: HQFTInput) -> float:
    """Garment pixels on the image border per square root of the garment's area (0: fully inside)."""
    garment = np.isin(inp.parse, GARMENT_LABELS[inp.category])
    area = int(garment.sum())
    if area == 0:
        return 0.0
    border = int(garment[0].sum() + garment[-1].sum() + garment[1:-1, 0].sum() + garment[1:-1, -1].sum())
    return border / float(np.sqrt(area))


def visible_ears(inp: HQFTInput, min_conf: float = 0.1) -> int | None:
    """How many ears the pose shows (0, 1, 2); None when one is missing but the head (face, hair or hat
    in the parse) touches the left or right border of the image, or the face the top border: then the
    frame, not the view, may hide it."""
    count = int(sum(inp.pose.body[i, 2] >= min_conf for i in (R_EAR, L_EAR)))
    if count == 1:
        head = np.isin(inp.parse, HEAD_LABELS)
        if head[:, 0].any() or head[:, -1].any() or (inp.parse[0] == FACE_LABEL).any():
            return None
    return count


def side_view_scores(
    inp: HQFTInput, frame: TorsoFrame | None, min_conf: float = 0.1
) -> tuple[float, float, int | None]:
    """(shoulder span / torso length, shoulder span / upper arm length, `visible_ears`): the first is
    NaN without a complete torso, the second without the shoulders and an elbow."""
    body = inp.pose.body
    ratio = 2 * frame.half_span / frame.length if frame is not None and frame.complete else math.nan
    arm_ratio = math.nan
    rs, ls = keypoint(body, R_SHO, min_conf), keypoint(body, L_SHO, min_conf)
    if rs is not None and ls is not None:
        arms = [
            float(np.linalg.norm(elbow - shoulder))
            for shoulder, index in ((rs, R_ELB), (ls, L_ELB))
            if (elbow := keypoint(body, index, min_conf)) is not None
        ]
        if arms and max(arms) > 0:
            arm_ratio = float(np.linalg.norm(ls - rs)) / max(arms)
    return ratio, arm_ratio, visible_ears(inp, min_conf)


def head_height(inp: HQFTInput, frame: TorsoFrame | None, min_conf: float = 0.1) -> float:
    """Head height in pixels from the nose-to-neck distance along the torso (NOSE_NECK); NaN when the
    torso is incomplete or the nose or neck unseen."""
    nose, neck = keypoint(inp.pose.body, NOSE, min_conf), keypoint(inp.pose.body, NECK, min_conf)
    if frame is None or not frame.complete or nose is None or neck is None:
        return math.nan
    ratio = float((neck - nose) @ frame.down) / frame.length
    if ratio <= NOSE_NECK[1]:
        return math.nan
    return frame.length * (ratio - NOSE_NECK[1]) / NOSE_NECK[0]


def body_proportions(inp: HQFTInput, frame: TorsoFrame | None, min_conf: float = 0.1) -> tuple[float, float]:
    """(torso length in head heights, build relative to the average figure); NaN when not measurable."""
    head = head_height(inp, frame, min_conf)
    if not math.isfinite(head) or frame is None:
        return math.nan, math.nan
    body = inp.pose.body
    hip_span = float(np.linalg.norm(body[L_HIP, :2] - body[R_HIP, :2]))
    spans = (2 * frame.half_span / head, hip_span / head)
    return frame.length / head, math.sqrt(spans[0] * spans[1] / (AVERAGE_SPANS[0] * AVERAGE_SPANS[1]))


def _extent(panel: np.ndarray, bridge: np.ndarray, point: np.ndarray) -> float:
    """Width (px) of the garment across the row through `point`: from the outermost `panel` pixels of
    the run of `bridge` pixels (garment, arms, sleeves) through it, so an arm lying across the garment
    does not cut it short and one hanging beside it does not widen it; NaN when the point is off the
    run or the run touches a side of the image (cut by the frame)."""
    h, w = panel.shape
    row, col = int(round(point[1])), int(round(point[0]))
    if not (0 <= row < h and 0 <= col < w) or not bridge[row, col]:
        return math.nan
    line = bridge[row]
    left = np.flatnonzero(~line[:col])
    right = np.flatnonzero(~line[col:])
    start = int(left[-1]) + 1 if len(left) else 0
    end = col + int(right[0]) if len(right) else w
    if start == 0 or end == w:
        return math.nan
    inside = np.flatnonzero(panel[row, start:end])
    return float(inside[-1] - inside[0] + 1) if len(inside) else math.nan


def garment_proportions(inp: HQFTInput, frame: TorsoFrame | None) -> dict[str, float]:
    """Ease, hem and flare of the garment (module docstring); NaN where the pose or parse cannot show
    them (the torso incomplete, the garment cut by the top or bottom of the frame)."""
    out = {"ease": math.nan, "hem": math.nan, "flare": math.nan}
    garment = np.isin(inp.parse, GARMENT_LABELS[inp.category])
    rows = np.flatnonzero(garment.any(axis=1))
    if frame is None or not frame.complete or not len(rows) or rows[0] == 0 or rows[-1] == inp.size[0] - 1:
        return out
    across, along = frame.coordinates(inp.size)
    band = garment & (across >= KEY_BAND[0]) & (across <= KEY_BAND[1])
    if not band.any():
        return out
    hem = float(along[band].max())
    body = inp.pose.body
    hip_half = float(np.linalg.norm(body[L_HIP, :2] - body[R_HIP, :2])) / 2
    # The body's half width down the torso: chest and hips follow the joints, the waist is fitted.
    profile = (
        (CHEST_ALONG, CHEST_HALF * frame.half_span),
        (WAIST_ALONG, WAIST_HALF[0] * frame.half_span + WAIST_HALF[1] * hip_half),
        (1.0, HIP_HALF * hip_half),
    )
    sleeves = sleeve_mask(
        inp, frame, width=EASE_SLEEVE_WIDTH
    )  # wide: a sleeve beside the garment is no garment
    panel, bridge = garment & ~sleeves, garment | np.isin(inp.parse, ARM_LABELS) | sleeves
    eases = []
    for level in (1.0,) if inp.category == "lower" else EASE_ROWS:
        if level <= hem - 0.05:
            half = float(np.interp(level, [p[0] for p in profile], [p[1] for p in profile]))
            width = _extent(panel, bridge, frame.point(level))
            if math.isfinite(width):
                eases.append((width / 2 - half) / frame.length)
    if eases:
        out["ease"] = float(np.median(eases))
    if inp.category == "upper":
        out["hem"] = hem - 1.0
    elif np.isin(inp.parse[band], SKIRT_LABELS).mean() > 0.5:
        low = hem - 0.04
        if low - 1.0 > 0.2:
            bridge = garment | np.isin(inp.parse, ARM_LABELS)
            widths = _extent(garment, bridge, frame.point(low)), _extent(garment, bridge, frame.point(1.0))
            out["flare"] = (widths[0] - widths[1]) / 2 / ((low - 1.0) * frame.length)
    return out
