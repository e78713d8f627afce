"""VITON-HD-style agnostic person image and parse for the synthetic VITON-HD layout.

VITON-HD's `agnostic-v3.2` greys out where the upper garment and arms are (from the parse) and a pose
drawn region around shoulders, arms, torso and neck, then restores the face and the lower body;
`image-parse-agnostic-v3.2` removes the same labels from the parse. This is the same recipe, written
for the generator (the platform's own rough try-on mask annotator lives elsewhere).
"""

from __future__ import annotations

import cv2
import numpy as np

GREY = (128, 128, 128)
CLOTH_LABELS = (5, 6, 7)  # CIHP upper-clothes, dress, coat
NECK_LABEL = 10
ARM_LABELS = (14, 15)
KEEP_LABELS = (4, 13, 9, 12, 16, 17, 18, 19)  # sunglasses, face, pants, skirt, legs, shoes
MIN_CONFIDENCE = 0.1


def _pt(kp: np.ndarray, k: int) -> tuple[int, int] | None:
    if kp[k, 2] < MIN_CONFIDENCE:
        return None
    return int(round(kp[k, 0])), int(round(kp[k, 1]))


def pose_region(kp: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(torso-and-arms region, arms-only region) drawn from BODY_25 keypoints, uint8 0/1 each."""
    h, w = size
    region = np.zeros((h, w), np.uint8)
    arms = np.zeros((h, w), np.uint8)
    r_sh, l_sh = _pt(kp, 2), _pt(kp, 5)
    if r_sh is None or l_sh is None:
        return region, arms
    r = int(np.hypot(r_sh[0] - l_sh[0], r_sh[1] - l_sh[1]) / 16) + 1
    cv2.line(region, r_sh, l_sh, 1, r * 10)
    for chain in ((2, 3, 4), (5, 6, 7)):
        prev = _pt(kp, chain[0])
        cv2.circle(arms, prev, r * 5, 1, -1)
        for k in chain[1:]:
            cur = _pt(kp, k)
            if cur is None:
                break
            cv2.line(arms, prev, cur, 1, r * 10)
            cv2.circle(arms, cur, r * 5, 1, -1)
            prev = cur
    r_hip, l_hip = _pt(kp, 9), _pt(kp, 12)
    if r_hip is not None and l_hip is not None:  # widen the hips to the shoulder width, as VITON-HD does
        mid = (np.array(r_hip) + np.array(l_hip)) / 2
        span = np.hypot(*np.subtract(r_sh, l_sh)) / max(np.hypot(*np.subtract(r_hip, l_hip)), 1.0)
        r_hip = tuple(int(round(c)) for c in mid + (np.array(r_hip) - mid) * span)
        l_hip = tuple(int(round(c)) for c in mid + (np.array(l_hip) - mid) * span)
        cv2.fillPoly(region, [np.array([r_sh, l_sh, l_hip, r_hip], np.int32)], 1)
        for a, b in ((r_sh, r_hip), (l_sh, l_hip), (r_hip, l_hip)):
            cv2.line(region, a, b, 1, r * 6)
    neck = _pt(kp, 1)
    if neck is not None:
        cv2.rectangle(region, (neck[0] - r * 5, neck[1] - r * 9), (neck[0] + r * 5, neck[1]), 1, -1)
    return region | arms, arms


def vitonhd_agnostic(rgb: np.ndarray, parse: np.ndarray, kp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Agnostic person image (RGB) and agnostic CIHP parse of one person."""
    region, arms = pose_region(kp, parse.shape)
    mask = region.astype(bool) | np.isin(parse, CLOTH_LABELS + (NECK_LABEL,) + ARM_LABELS)
    mask &= ~np.isin(parse, KEEP_LABELS)
    image = rgb.copy()
    image[mask] = GREY
    agnostic_parse = parse.copy()
    agnostic_parse[np.isin(parse, CLOTH_LABELS + (NECK_LABEL,))] = 0
    agnostic_parse[np.isin(parse, ARM_LABELS) & arms.astype(bool)] = 0
    return image, agnostic_parse
