"""Keypoint files in the encodings the datasets ship, and the rendered pose skeleton image.

- VITON-HD: OpenPose 1.3 JSON with BODY_25 `pose_keypoints_2d` (75 floats).
- VVT: pre-1.2 OpenPose JSON with an 18-joint `pose_keypoints` list (54 floats).
- Dress Code: `{"keypoints": [[x, y, score, id] x 18]}` in 384x512 (W x H) space, missing as [-1, -1, 0, id].
Joints that are not seen (outside the image, or facing away) are written as OpenPose writes them:
(0, 0, 0), and -1 coordinates in the Dress Code file.
"""

from __future__ import annotations

import cv2
import numpy as np

from preprocess.annotators.pose_formats import BODY25_TO_OPENPOSE18, DRESSCODE_SPACE
from preprocess.annotators.skeleton import OPENPOSE18_LIMBS, OPENPOSE_COLOURS

BODY25_LIMBS = (
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11), (8, 12), (12, 13),
    (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (14, 19), (19, 20), (14, 21), (11, 22),
    (22, 23), (11, 24),
)  # fmt: skip
MIN_CONFIDENCE = 0.1  # OpenPose's render threshold; unseen joints carry 0


def coco18(body25: np.ndarray) -> np.ndarray:
    """COCO-18 (OpenPose-18) keypoints (18, 3) taken from BODY_25 ones (25, 3)."""
    return np.asarray(body25)[list(BODY25_TO_OPENPOSE18)]


def _flat(points: np.ndarray) -> list[float]:
    return [round(float(v), 3) for v in np.asarray(points).reshape(-1)]


def openpose_body25_json(body25: np.ndarray) -> dict:
    """VITON-HD's `*_keypoints.json` (OpenPose 1.3, one person)."""
    return {
        "version": 1.3,
        "people": [
            {
                "person_id": [-1],
                "pose_keypoints_2d": _flat(body25),
                "face_keypoints_2d": [],
                "hand_left_keypoints_2d": [],
                "hand_right_keypoints_2d": [],
                "pose_keypoints_3d": [],
                "face_keypoints_3d": [],
                "hand_left_keypoints_3d": [],
                "hand_right_keypoints_3d": [],
            }
        ],
    }


def openpose_legacy_json(body25: np.ndarray) -> dict:
    """VVT's `*_keypoints.json` (pre-1.2 OpenPose: the 18-joint list under "pose_keypoints")."""
    return {
        "version": 1.0,
        "people": [
            {
                "pose_keypoints": _flat(coco18(body25)),
                "face_keypoints": [],
                "hand_left_keypoints": [],
                "hand_right_keypoints": [],
            }
        ],
    }


def dresscode_json(body25: np.ndarray, size: tuple[int, int]) -> dict:
    """Dress Code's `*_2.json`: COCO-18 as [x, y, score, id] scaled from an (H, W) image to 384x512."""
    h, w = size
    sx, sy = DRESSCODE_SPACE[0] / w, DRESSCODE_SPACE[1] / h
    out = []
    for index, (x, y, c) in enumerate(coco18(body25)):
        if c < MIN_CONFIDENCE:
            out.append([-1.0, -1.0, 0.0, float(index)])
        else:
            out.append([round(float(x) * sx, 3), round(float(y) * sy, 3), round(float(c), 3), float(index)])
    return {"keypoints": out}


def render_skeleton(body25: np.ndarray, size: tuple[int, int], limbs: str = "coco18") -> np.ndarray:
    """The OpenPose-style skeleton picture (BGR on black): coloured limbs and joints above threshold."""
    h, w = size
    canvas = np.zeros((h, w, 3), np.uint8)
    points = coco18(body25) if limbs == "coco18" else np.asarray(body25)
    pairs = OPENPOSE18_LIMBS if limbs == "coco18" else BODY25_LIMBS
    width = max(2, int(round(min(h, w) / 96)))
    for k, (a, b) in enumerate(pairs):
        if points[a, 2] < MIN_CONFIDENCE or points[b, 2] < MIN_CONFIDENCE:
            continue
        colour = OPENPOSE_COLOURS[k % len(OPENPOSE_COLOURS)][::-1]
        pa = (int(round(points[a, 0])), int(round(points[a, 1])))
        pb = (int(round(points[b, 0])), int(round(points[b, 1])))
        cv2.line(canvas, pa, pb, tuple(int(c * 0.6) for c in colour), width, cv2.LINE_AA)
    for k, (x, y, c) in enumerate(points):
        if c >= MIN_CONFIDENCE:
            colour = OPENPOSE_COLOURS[k % len(OPENPOSE_COLOURS)][::-1]
            cv2.circle(canvas, (int(round(x)), int(round(y))), width + 1, colour, -1, cv2.LINE_AA)
    return canvas
