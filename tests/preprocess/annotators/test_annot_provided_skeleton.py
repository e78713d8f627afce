"""The pose skeleton render: limbs where the joints are, OpenPose colours, thresholds, size scaling."""

from __future__ import annotations

import numpy as np
import pytest

from preprocess.annotators.base import AnnotationError, AnnotationInput, Pose
from preprocess.annotators.skeleton import (
    OPENPOSE18_LIMBS,
    OPENPOSE_COLOURS,
    SkeletonRenderer,
    render_skeleton,
    stick_width,
)

NECK, R_SHOULDER, R_ELBOW = 1, 2, 3


def _pose(points: dict[int, tuple[float, float, float]]) -> Pose:
    body = np.zeros((18, 3), np.float32)
    for k, value in points.items():
        body[k] = value
    return Pose(body=body)


def test_limb_is_drawn_between_its_joints_in_its_colour():
    pose = _pose({NECK: (100, 100, 0.9), R_SHOULDER: (200, 100, 0.9)})
    image = render_skeleton(pose, 256, 320)
    assert image.shape == (256, 320, 3) and image.dtype == np.uint8
    limb = OPENPOSE18_LIMBS.index((NECK, R_SHOULDER))
    shaded = [int(c * 0.6) for c in OPENPOSE_COLOURS[limb]]
    for x in (130, 150, 170):
        assert image[100, x].tolist() == shaded
    assert image[100, 100].tolist() == list(OPENPOSE_COLOURS[NECK]), "joints are drawn over limbs"
    assert image[100, 200].tolist() == list(OPENPOSE_COLOURS[R_SHOULDER])
    assert not image[150:].any() and not image[:, 220:].any(), "nothing away from the skeleton"


def test_low_confidence_joints_and_their_limbs_are_skipped():
    pose = _pose({NECK: (50, 50, 0.9), R_SHOULDER: (50, 150, 0.9), R_ELBOW: (150, 150, 0.2)})
    image = render_skeleton(pose, 200, 200)
    assert image[100, 50].any(), "neck-shoulder limb drawn"
    assert not image[150, 100].any() and not image[150, 150].any(), "elbow below threshold: no limb, no joint"
    assert render_skeleton(pose, 200, 200, min_confidence=0.1)[150, 100].any()


def test_thickness_scales_with_the_image():
    assert stick_width(512, 384) < stick_width(1024, 768)
    assert stick_width(64, 48) >= 1
    small = render_skeleton(_pose({NECK: (10, 10, 1), R_SHOULDER: (40, 10, 1)}), 128, 96)
    large = render_skeleton(_pose({NECK: (80, 80, 1), R_SHOULDER: (320, 80, 1)}), 1024, 768)
    assert (small.any(axis=2).sum(axis=0).max()) < (large.any(axis=2).sum(axis=0).max())


def test_renderer_annotator_uses_the_pose_field():
    pose = _pose({NECK: (20, 20, 0.9), R_SHOULDER: (40, 20, 0.9)})
    row = {"height": 64, "width": 48}
    items = [
        AnnotationInput("a", row, root=None, outputs={"pose": pose}),
        AnnotationInput("b", row, root=None),
        AnnotationInput("c", row, root=None, outputs={"frames": [{"pose": pose}, {}]}),
    ]
    renderer = SkeletonRenderer()
    assert renderer.needs == ("pose",) and renderer.outputs == ("skeleton",)
    a, b, c = renderer(items)
    assert np.array_equal(a["skeleton"], render_skeleton(pose, 64, 48))
    assert b == {}, "no pose, no skeleton"
    assert np.array_equal(c["frames"][0]["skeleton"], a["skeleton"]) and c["frames"][1] == {}
    with pytest.raises(AnnotationError, match="not a Pose"):
        renderer([AnnotationInput("d", row, root=None, outputs={"pose": [1, 2]})])
