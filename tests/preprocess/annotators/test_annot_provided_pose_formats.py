"""Keypoint converters on hand-built files with known values: BODY_25, VVT legacy, Dress Code, 18 <-> 134."""

from __future__ import annotations

import numpy as np
import pytest

from preprocess.annotators.base import OPENPOSE18_NAMES
from preprocess.annotators.pose_formats import (
    BODY25_NAMES,
    PoseFileError,
    openpose18_to_wholebody,
    pose_from_body25_json,
    pose_from_dresscode_json,
    pose_from_file_json,
    pose_from_legacy_json,
    wholebody_to_openpose18,
)


def _body25() -> np.ndarray:
    points = np.zeros((25, 3), np.float32)
    points[:, 0] = np.arange(25) * 10 + 1  # x encodes the BODY_25 index
    points[:, 1] = np.arange(25) * 2 + 5
    points[:, 2] = 0.5 + np.arange(25) / 100
    return points


def test_body25_drops_mid_hip_and_sends_feet_to_the_wholebody_slots():
    b25 = _body25()
    face = np.arange(210, dtype=np.float32).reshape(70, 3)
    left = np.full((21, 3), 7.0, np.float32)
    obj = {
        "people": [
            {
                "pose_keypoints_2d": b25.reshape(-1).tolist(),
                "face_keypoints_2d": face.reshape(-1).tolist(),
                "hand_left_keypoints_2d": left.reshape(-1).tolist(),
                "hand_right_keypoints_2d": [],
            }
        ]
    }
    pose = pose_from_body25_json(obj, "a_keypoints.json")
    assert pose.source == "body25" and pose.body.shape == (18, 3)
    for k, name in enumerate(OPENPOSE18_NAMES):
        assert np.array_equal(pose.body[k], b25[BODY25_NAMES.index(name)]), name
    assert pose.body[8, 0] == b25[9, 0], "OpenPose-18 r_hip is BODY_25 r_hip, not mid-hip"
    assert not np.isin(b25[8, 0], pose.body[:, 0])
    whole = pose.wholebody
    assert whole.shape == (134, 3)
    assert np.array_equal(whole[:18], pose.body)
    assert np.array_equal(whole[18:24], b25[19:25]), "l_big_toe .. r_heel in DWPose's feet order"
    assert np.array_equal(whole[24:92], face[:68]), "the two pupil points have no slot"
    assert np.array_equal(whole[92:113], left)
    assert not whole[113:].any(), "a hand the file leaves empty stays (0, 0, 0)"


def test_an_empty_people_list_means_no_point_was_detected():
    pose = pose_from_body25_json({"version": 1.3, "people": []}, "empty.json")
    assert not pose.body.any() and pose.wholebody.shape == (134, 3) and not pose.wholebody.any()


def test_legacy_pose_keypoints_keep_their_order():
    body = np.arange(54, dtype=np.float32).reshape(18, 3)
    pose = pose_from_legacy_json({"people": [{"pose_keypoints": body.reshape(-1).tolist()}]}, "f.json")
    assert pose.source == "openpose18_legacy" and np.array_equal(pose.body, body)
    with pytest.raises(PoseFileError, match="pose_keypoints_2d.*other pose format"):
        pose_from_legacy_json({"people": [{"pose_keypoints_2d": [0.0] * 75}]}, "f.json")


def test_dresscode_keypoints_scale_to_image_pixels_and_missing_become_zero():
    rows = [[float(10 * k), float(20 * k), 0.9, float(k)] for k in range(18)]
    rows[4] = [-1.0, -1.0, 0.0, 4.0]
    rows = rows[::-1]  # ids, not list order, give the joint
    pose = pose_from_dresscode_json({"keypoints": rows}, (1024, 768), "000001_2.json")
    scale = np.array([768 / 384, 1024 / 512])
    for k in range(18):
        if k == 4:
            assert not pose.body[k].any()
        else:
            assert np.allclose(pose.body[k, :2], np.array([10 * k, 20 * k]) * scale)
            assert pose.body[k, 2] == pytest.approx(0.9)
    assert np.array_equal(pose.wholebody[:18], pose.body) and not pose.wholebody[18:].any()
    with pytest.raises(PoseFileError, match="ids"):
        pose_from_dresscode_json({"keypoints": [[0, 0, 1, 0]] * 18}, (512, 384), "bad.json")


def test_openpose18_wholebody_round_trip():
    body = np.random.default_rng(0).uniform(0, 100, (18, 3)).astype(np.float32)
    whole = openpose18_to_wholebody(body)
    assert whole.shape == (134, 3) and not whole[18:].any()
    assert np.array_equal(wholebody_to_openpose18(whole), body)
    with pytest.raises(ValueError, match="134"):
        wholebody_to_openpose18(np.zeros((133, 3)))


@pytest.mark.parametrize(
    ("obj", "fmt", "message"),
    [
        ({"people": [{"pose_keypoints_2d": [1.0] * 74}]}, "body25", "74 numbers, expected 25"),
        ({"people": [{"pose_keypoints_2d": ["a"] * 75}]}, "body25", "non-numeric"),
        ({"nobody": []}, "body25", "not an OpenPose JSON"),
        ({"keypoints": [[1, 2, 3]] * 18}, "coco18", "expected 18 points x 4"),
        ({"people": []}, "halpe", "unknown pose format"),
    ],
)
def test_malformed_files_name_the_file(obj, fmt, message):
    with pytest.raises(PoseFileError, match=message) as info:
        pose_from_file_json(obj, fmt, (512, 384), "dir/x_keypoints.json")
    assert "dir/x_keypoints.json" in str(info.value)
