"""HR-VITON / VITON-HD agnostic rules for the rough try-on mask: LIP parsing + OpenPose-18 body pose.

Source for upper garments: sangyun884/HR-VITON, `cp_dataset.py` (`CPDataset.get_agnostic`, the grey
region of the agnostic person image) and `get_parse_agnostic.py` (`get_im_parse_agnostic`, the labels
removed from the parse); VITON-HD's `datasets.py` (`get_img_agnostic`) is the same recipe with a fixed r.
The mask is the union of what the two erase. With r = int(shoulder width / 16) + 1:

- hips are moved along the hip line to the shoulder width around their midpoint;
- torso: 3r x 6r ellipses at the hips, shoulder-hip lines 6r wide, the hip line 12r wide and the
  shoulder-shoulder-hip-hip polygon;
- neck: the rectangle 5r either side of the neck point, 9r above it;
- arms: the shoulder line 12r wide, 5r x 6r ellipses at the shoulders, shoulder-elbow-wrist lines 10r wide
  with 5r discs at elbows and wrists;
- arm pixels (parse) outside each arm's tube (5r x 6r at the shoulder, 10r lines, 5r disc at the elbow,
  4r at the wrist) are given back, so a hand beyond the wrist disc keeps its pixels;
- the upper-garment labels (upper clothes, dress, coat, and label 10) are added, as get_parse_agnostic
  removes them from the parse;
- head (sunglasses, face) and lower body (pants, skirt, legs, shoes) are given back. The canonical LIP
  parse labels the neck Face (`label_maps` maps CIHP's Torso-skin there), so the neck skin is given back
  too, where VITON-HD's CIHP parse would have masked it.

Lower garments and dresses are not in HR-VITON; they follow the same spirit (documented here, this
platform's extension): lower draws the hip line 12r wide, 3r x 6r ellipses at the hips, the hip-knee
polygon, hip-knee-ankle lines 10r wide with 5r discs at the knees and 4r at the ankles, adds the
lower-garment labels (pants, skirt, dress, jumpsuit: CatVTON's lower list), gives back leg pixels outside
the leg tubes, and gives back head, hair, upper garments, arms, gloves and shoes. Dresses are the union
of the upper and the lower drawings and labels, giving back head, shoes and the limbs outside their tubes.

Missing joints (confidence below MIN_CONFIDENCE, OpenPose's (0, 0, 0)) are skipped as HR-VITON skips
(0, 0) points, except those the geometry needs: a missing shoulder is mirrored through the neck; a
missing hip is the other hip shifted by the shoulder vector, or both hips are placed TORSO_RATIO shoulder
widths below the shoulders (upper-body crops often end above the hips). Without shoulders (upper,
dresses) or hips (lower) there is no mask to draw and a ValueError says so.
"""

from __future__ import annotations

import cv2
import numpy as np

CATEGORIES = ("upper", "lower", "dresses")
MIN_CONFIDENCE = 0.1
TORSO_RATIO = 1.3  # shoulder-to-hip distance over shoulder width, for hips outside the image

# OpenPose-18 indices.
NECK, R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST = 1, 2, 3, 4, 5, 6, 7
R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE = 8, 9, 10, 11, 12, 13

# LIP-20 label groups.
HEAD = (4, 13)  # sunglasses, face
HAIR = (1, 2)  # hat, hair
LOWER_BODY = (9, 12, 16, 17, 18, 19)  # pants, skirt, legs, shoes
SHOES = (18, 19)
UPPER_CLOTH = (5, 6, 7, 10)  # upper clothes, dress, coat, and 10 (CIHP's neck skin, LIP's jumpsuit)
LOWER_CLOTH = (9, 12, 6, 10)  # pants, skirt, dress, jumpsuit
DRESS_CLOTH = (5, 6, 7, 9, 10, 12)
KEEP_FOR_LOWER = HEAD + HAIR + (3, 5, 7, 14, 15) + SHOES  # + gloves, upper clothes, coat, arms
ARMS = ((14, (L_SHOULDER, L_ELBOW, L_WRIST)), (15, (R_SHOULDER, R_ELBOW, R_WRIST)))  # LIP label, joints
LEGS = ((16, (L_HIP, L_KNEE, L_ANKLE)), (17, (R_HIP, R_KNEE, R_ANKLE)))

Point = np.ndarray  # (2,) float x, y


def _xy(p: Point) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def _line(canvas: np.ndarray, a: Point | None, b: Point | None, width: int) -> None:
    """A `width`-wide segment with flat ends, as PIL's `ImageDraw.line` draws it in the reference code.

    (`cv2.line` rounds the ends, which would reach width/2 past each joint: past the wrist, that masks
    the hand the reference gives back.)"""
    if a is None or b is None:
        return
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    length = float(np.hypot(*(b - a)))
    if length < 1e-6:
        return
    half = max(1, int(width)) / 2 * np.array([-(b - a)[1], (b - a)[0]]) / length
    corners = np.array([a + half, b + half, b - half, a - half])
    cv2.fillPoly(canvas, [np.round(corners).astype(np.int32)], 1)


def _ellipse(canvas: np.ndarray, c: Point | None, ax: int, ay: int) -> None:
    if c is not None:
        cv2.ellipse(canvas, _xy(c), (max(1, int(ax)), max(1, int(ay))), 0, 0, 360, 1, -1)


def _polygon(canvas: np.ndarray, points: list[Point | None]) -> None:
    if all(p is not None for p in points):
        cv2.fillPoly(canvas, [np.array([_xy(p) for p in points], np.int32)], 1)


def _joints(body: np.ndarray) -> list[Point | None]:
    body = np.asarray(body, dtype=np.float64).reshape(18, 3)
    return [p[:2].copy() if p[2] >= MIN_CONFIDENCE else None for p in body]


def _down(a: Point, b: Point) -> Point:
    """Unit vector perpendicular to a-b, pointing down the image."""
    d = b - a
    n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-6)
    return n if n[1] >= 0 else -n


def _complete(j: list[Point | None], category: str) -> list[Point | None]:
    """Fill the shoulders and hips the drawing needs (see the module docstring) or raise ValueError."""
    j = list(j)
    for a, b in ((R_SHOULDER, L_SHOULDER), (L_SHOULDER, R_SHOULDER)):
        if j[a] is None and j[b] is not None and j[NECK] is not None:
            j[a] = 2 * j[NECK] - j[b]
    have_shoulders = j[R_SHOULDER] is not None and j[L_SHOULDER] is not None
    if category != "lower" and not have_shoulders:
        raise ValueError(
            "no shoulders in the pose (need both, or one and the neck) for the HR-VITON agnostic; "
            "use the catvton strategy for this sample"
        )
    if have_shoulders:
        for a, b, sa, sb in ((R_HIP, L_HIP, R_SHOULDER, L_SHOULDER), (L_HIP, R_HIP, L_SHOULDER, R_SHOULDER)):
            if j[a] is None and j[b] is not None:
                j[a] = j[b] + (j[sa] - j[sb])
        if j[R_HIP] is None and j[L_HIP] is None and category != "lower":
            width = float(np.hypot(*(j[L_SHOULDER] - j[R_SHOULDER])))
            drop = _down(j[R_SHOULDER], j[L_SHOULDER]) * TORSO_RATIO * width
            j[R_HIP], j[L_HIP] = j[R_SHOULDER] + drop, j[L_SHOULDER] + drop
    if category != "upper" and (j[R_HIP] is None or j[L_HIP] is None):
        raise ValueError(
            f"no hips in the pose for a {category} HR-VITON agnostic; use the catvton strategy for this sample"
        )
    return j


def _radius(j: list[Point | None]) -> tuple[int, float]:
    """HR-VITON's r = int(length_a / 16) + 1 from the shoulder width (hip width when no shoulders)."""
    if j[R_SHOULDER] is not None and j[L_SHOULDER] is not None:
        length = float(np.hypot(*(j[L_SHOULDER] - j[R_SHOULDER])))
    else:
        length = float(np.hypot(*(j[L_HIP] - j[R_HIP])))
    return int(length / 16) + 1, length


def _limb_tube(
    shape: tuple[int, int], j: list[Point | None], chain: tuple[int, int, int], r: int
) -> np.ndarray:
    """The tube around one limb inside which its pixels stay masked (HR-VITON's black mask_arm)."""
    tube = np.zeros(shape, np.uint8)
    root, middle, end = (j[k] for k in chain)
    _ellipse(tube, root, r * 5, r * 6)
    _line(tube, root, middle, r * 10)
    _ellipse(tube, middle, r * 5, r * 5)
    _line(tube, middle, end, r * 10)
    _ellipse(tube, end if end is not None else middle, r * 4, r * 4)
    return tube.astype(bool)


def _upper_drawing(shape: tuple[int, int], j: list[Point | None], r: int, length_a: float) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    r_sh, l_sh = j[R_SHOULDER], j[L_SHOULDER]
    r_hip, l_hip = j[R_HIP], j[L_HIP]
    mid = (r_hip + l_hip) / 2
    length_b = max(float(np.hypot(*(l_hip - r_hip))), 1e-6)
    r_hip, l_hip = mid + (r_hip - mid) / length_b * length_a, mid + (l_hip - mid) / length_b * length_a
    for hip in (r_hip, l_hip):
        _ellipse(canvas, hip, r * 3, r * 6)
    _line(canvas, r_sh, r_hip, r * 6)
    _line(canvas, l_sh, l_hip, r * 6)
    _line(canvas, r_hip, l_hip, r * 12)
    _polygon(canvas, [r_sh, l_sh, l_hip, r_hip])
    if j[NECK] is not None:
        x, y = _xy(j[NECK])
        cv2.rectangle(canvas, (x - r * 5, y - r * 9), (x + r * 5, y), 1, -1)
    _line(canvas, r_sh, l_sh, r * 12)
    for shoulder in (r_sh, l_sh):
        _ellipse(canvas, shoulder, r * 5, r * 6)
    for a, b in ((R_SHOULDER, R_ELBOW), (R_ELBOW, R_WRIST), (L_SHOULDER, L_ELBOW), (L_ELBOW, L_WRIST)):
        if j[a] is not None and j[b] is not None:
            _line(canvas, j[a], j[b], r * 10)
            _ellipse(canvas, j[b], r * 5, r * 5)
    return canvas.astype(bool)


def _lower_drawing(shape: tuple[int, int], j: list[Point | None], r: int) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    r_hip, l_hip = j[R_HIP], j[L_HIP]
    _line(canvas, r_hip, l_hip, r * 12)
    for hip in (r_hip, l_hip):
        _ellipse(canvas, hip, r * 3, r * 6)
    _polygon(canvas, [r_hip, l_hip, j[L_KNEE], j[R_KNEE]])
    for hip, knee, ankle in ((R_HIP, R_KNEE, R_ANKLE), (L_HIP, L_KNEE, L_ANKLE)):
        if j[knee] is None:
            continue
        _line(canvas, j[hip], j[knee], r * 10)
        _ellipse(canvas, j[knee], r * 5, r * 5)
        if j[ankle] is not None:
            _line(canvas, j[knee], j[ankle], r * 10)
            _ellipse(canvas, j[ankle], r * 4, r * 4)
    return canvas.astype(bool)


def _limbs_outside(parse: np.ndarray, j: list[Point | None], limbs: tuple, r: int) -> np.ndarray:
    """Limb pixels (by parse label) outside their own tube: HR-VITON gives these back."""
    out = np.zeros(parse.shape, bool)
    for label, chain in limbs:
        if j[chain[0]] is None:
            out |= parse == label
        else:
            out |= (parse == label) & ~_limb_tube(parse.shape, j, chain, r)
    return out


def hrviton_mask(parse_lip: np.ndarray, body: np.ndarray, category: str) -> np.ndarray:
    """Rough try-on mask (H, W) uint8 {0, 255} by the HR-VITON agnostic rules (extended to lower, dresses).

    `parse_lip`: (H, W) LIP-20 labels; `body`: (18, 3) OpenPose-18 x, y, confidence in image pixels.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}: choose one of {', '.join(CATEGORIES)}")
    j = _complete(_joints(body), category)
    r, length_a = _radius(j)
    shape = parse_lip.shape
    if category == "upper":
        mask = _upper_drawing(shape, j, r, length_a) | np.isin(parse_lip, UPPER_CLOTH)
        keep = np.isin(parse_lip, HEAD + LOWER_BODY) | _limbs_outside(parse_lip, j, ARMS, r)
    elif category == "lower":
        mask = _lower_drawing(shape, j, r) | np.isin(parse_lip, LOWER_CLOTH)
        keep = np.isin(parse_lip, KEEP_FOR_LOWER) | _limbs_outside(parse_lip, j, LEGS, r)
    else:
        mask = (
            _upper_drawing(shape, j, r, length_a)
            | _lower_drawing(shape, j, r)
            | np.isin(parse_lip, DRESS_CLOTH)
        )
        keep = np.isin(parse_lip, HEAD + SHOES) | _limbs_outside(parse_lip, j, ARMS + LEGS, r)
    return (mask & ~keep).astype(np.uint8) * np.uint8(255)
