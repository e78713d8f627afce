"""The 3-channel OpenPose-coloured pose skeleton image (Auto-ARM's pose input P, seed 000 §3.1).

Auto-ARM concatenates the rough mask, the garment mask and a 3 x H x W pose skeleton of the person. The
render follows the OpenPose body renderer as ControlNet's/DWPose's annotators draw it (`draw_bodypose`):
the 17 limbs of the OpenPose-18 limb sequence (the two ear-shoulder links are not drawn) as filled
ellipses in 60 % of the limb's colour, then every joint as a filled circle in its full colour, on black,
in RGB. Stick width and joint radius are 4 px at a 512 px short side and scale with the image. Joints
with confidence at or below `min_confidence` (0.3: DWPose's visibility threshold) are skipped, with
every limb that touches them.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from preprocess.annotators.base import AnnotationError, AnnotationInput, Pose

# Colour (RGB) of joint k and of limb k, in OpenPose's order.
OPENPOSE_COLOURS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip
# The drawn OpenPose-18 limbs (joint index pairs), in colour order.
OPENPOSE18_LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip
MIN_CONFIDENCE = 0.3
REFERENCE_SIDE = 512  # ControlNet renders at a 512 px short side with stick width 4
STICK_WIDTH = 4
LIMB_SHADE = 0.6


def stick_width(height: int, width: int) -> int:
    """Limb half-thickness and joint radius in pixels for an image of this size (>= 1)."""
    return max(1, round(STICK_WIDTH * min(height, width) / REFERENCE_SIDE))


def render_skeleton(
    pose: Pose | np.ndarray, height: int, width: int, min_confidence: float = MIN_CONFIDENCE
) -> np.ndarray:
    """Draw the OpenPose-18 body of `pose` (a Pose or an (18, 3) array) on black: (H, W, 3) uint8 RGB."""
    body = np.asarray(pose.body if isinstance(pose, Pose) else pose, dtype=np.float32)
    if body.shape != (18, 3):
        raise ValueError(f"render_skeleton needs an OpenPose-18 body of shape (18, 3), got {body.shape}")
    canvas = np.zeros((height, width, 3), np.uint8)
    stick = stick_width(height, width)
    seen = (body[:, 2] > min_confidence) & np.isfinite(body[:, :2]).all(axis=1)
    for k, (a, b) in enumerate(OPENPOSE18_LIMBS):
        if not (seen[a] and seen[b]):
            continue
        (xa, ya), (xb, yb) = body[a, :2], body[b, :2]
        length = math.hypot(xb - xa, yb - ya)
        angle = math.degrees(math.atan2(yb - ya, xb - xa))
        centre = (round((xa + xb) / 2), round((ya + yb) / 2))
        polygon = cv2.ellipse2Poly(centre, (round(length / 2), stick), round(angle), 0, 360, 1)
        colour = tuple(int(c * LIMB_SHADE) for c in OPENPOSE_COLOURS[k])
        cv2.fillConvexPoly(canvas, polygon, colour)
    for k in np.flatnonzero(seen):
        x, y = body[k, :2]
        cv2.circle(canvas, (round(float(x)), round(float(y))), stick, OPENPOSE_COLOURS[k], thickness=-1)
    return canvas


class SkeletonRenderer:
    """Annotator: the pose skeleton image from the `pose` field (rule-based, no weights)."""

    name = "skeleton"
    version = "1"
    outputs = ("skeleton",)
    needs = ("pose",)

    def __init__(self, min_confidence: float = MIN_CONFIDENCE) -> None:
        self.min_confidence = min_confidence

    def __call__(self, batch: list[AnnotationInput]) -> list[dict[str, Any]]:
        """Render each sample's pose at person-image size; a video gets one render per frame with a pose.

        A sample without a pose gets no skeleton (nothing is drawn from nothing).
        """
        return [self._one(item) for item in batch]

    def _one(self, item: AnnotationInput) -> dict[str, Any]:
        height, width = _person_size(item)
        frames = item.outputs.get("frames")
        if frames is not None:
            return {
                "frames": [
                    {"skeleton": self._draw(frame["pose"], height, width, item)} if "pose" in frame else {}
                    for frame in frames
                ]
            }
        pose = item.outputs.get("pose")
        return {} if pose is None else {"skeleton": self._draw(pose, height, width, item)}

    def _draw(self, pose: Any, height: int, width: int, item: AnnotationInput) -> np.ndarray:
        if not isinstance(pose, Pose):
            raise AnnotationError(
                f"sample {item.sample_id}: the pose field is a {type(pose).__name__}, not a Pose; "
                "run a pose annotator (provided or dwpose) before the skeleton renderer",
                item.sample_id,
            )
        return render_skeleton(pose, height, width, self.min_confidence)


def _person_size(item: AnnotationInput) -> tuple[int, int]:
    """(H, W) of the person image: the decoded image if given, else the manifest row's size."""
    if item.person is not None:
        return int(item.person.shape[0]), int(item.person.shape[1])
    height, width = item.row.get("height"), item.row.get("width")
    if not height or not width:
        raise AnnotationError(
            f"sample {item.sample_id}: no person image and no width/height in its manifest row; "
            "pass the decoded person image or a manifest row from build_manifest",
            item.sample_id,
        )
    return int(height), int(width)
