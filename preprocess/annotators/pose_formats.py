"""Keypoint files as datasets ship them -> the canonical `Pose` (OpenPose-18 body + DWPose 134 whole body).

Shipped encodings:

- OpenPose >= 1.2 JSON (VITON-HD `openpose_json/*_keypoints.json`): `people[0]["pose_keypoints_2d"]`,
  BODY_25 as 75 floats x, y, c in image pixels. BODY_25 is OpenPose-18 with MidHip (8) inserted and six
  foot points (19-24) appended, so the body is BODY_25 without MidHip and the feet fill the whole-body
  feet slots. `face_keypoints_2d` (70: the 68 iBUG points + 2 pupils) and `hand_{left,right}_keypoints_2d`
  (21 each, the same hand model as COCO-WholeBody) fill their slots when present.
- pre-1.2 OpenPose JSON (VVT): the same with keys `pose_keypoints` (18 joints already in OpenPose-18
  order), `face_keypoints`, `hand_left_keypoints`, `hand_right_keypoints`.
- Dress Code `keypoints/*_2.json`: `{"keypoints": [[x, y, score, id] x 18]}`, OpenPose-18 order, in a
  384x512 (W x H) space whatever the image size; missing joints have negative coordinates.

The whole-body layout is DWPose's (ControlNet annotator `dwpose/wholebody.py`): COCO-WholeBody's 133
points with the neck inserted at 17 and the 17 body points reordered to OpenPose order, giving 0-17 body,
18-23 feet (left big toe, left small toe, left heel, right big toe, right small toe, right heel — BODY_25's
19-24 in the same order), 24-91 face, 92-112 left hand, 113-133 right hand. Undetected points are
(0, 0, 0), OpenPose's own convention; slots a file does not fill stay (0, 0, 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from preprocess.annotators.base import OPENPOSE18_NAMES, WHOLEBODY_POINTS, Pose

BODY25_NAMES = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist", "mid_hip",
    "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
    "l_big_toe", "l_small_toe", "l_heel", "r_big_toe", "r_small_toe", "r_heel",
)  # fmt: skip
# BODY_25 index of each OpenPose-18 joint (drops MidHip and the feet).
BODY25_TO_OPENPOSE18 = tuple(BODY25_NAMES.index(name) for name in OPENPOSE18_NAMES)
BODY25_FEET = tuple(range(19, 25))
DRESSCODE_SPACE = (384, 512)  # (W, H) of Dress Code keypoint coordinates

# Slices of the 134-point whole-body layout.
WB_BODY = slice(0, 18)
WB_FEET = slice(18, 24)
WB_FACE = slice(24, 92)
WB_LEFT_HAND = slice(92, 113)
WB_RIGHT_HAND = slice(113, 134)
FACE_POINTS = 68
HAND_POINTS = 21


class PoseFileError(ValueError):
    """A keypoint file that does not hold what its format promises; the message names the file and fix."""


def _points(values: Any, count: int, width: int, what: str, name: str) -> np.ndarray:
    """A flat list of `count` x `width` numbers as a (count, width) float32 array, or PoseFileError."""
    try:
        array = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise PoseFileError(f"{name}: {what} holds non-numeric values; re-export the keypoint file") from None
    if array.size != count * width:
        raise PoseFileError(
            f"{name}: {what} has {array.size} numbers, expected {count} points x {width} = {count * width}; "
            "check that the file is in the format the dataset declares"
        )
    array = array.reshape(count, width)
    if not np.isfinite(array).all():
        raise PoseFileError(f"{name}: {what} holds NaN or infinite values; re-export the keypoint file")
    return array


def _first_person(obj: Any, name: str) -> dict[str, Any] | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("people"), list):
        raise PoseFileError(
            f"{name}: not an OpenPose JSON (no 'people' list); expected OpenPose's *_keypoints.json"
        )
    people = obj["people"]
    if not people:
        return None
    if not isinstance(people[0], dict):
        raise PoseFileError(f"{name}: 'people[0]' is not an object; expected OpenPose's *_keypoints.json")
    return people[0]


def _optional(person: dict[str, Any], key: str, count: int, name: str) -> np.ndarray | None:
    """A face or hand array, or None when the key is absent or empty (OpenPose run without it)."""
    values = person.get(key)
    if not values:
        return None
    return _points(values, count, 3, key, name)


def _wholebody(
    body: np.ndarray,
    feet: np.ndarray | None = None,
    face: np.ndarray | None = None,
    left_hand: np.ndarray | None = None,
    right_hand: np.ndarray | None = None,
) -> np.ndarray:
    whole = np.zeros((WHOLEBODY_POINTS, 3), np.float32)
    whole[WB_BODY] = body
    for part, target in ((feet, WB_FEET), (left_hand, WB_LEFT_HAND), (right_hand, WB_RIGHT_HAND)):
        if part is not None:
            whole[target] = part
    if face is not None:
        whole[WB_FACE] = face[:FACE_POINTS]  # OpenPose's two pupil points (68, 69) have no slot
    return whole


def _openpose(obj: Any, name: str, legacy: bool) -> Pose:
    person = _first_person(obj, name)
    source = "openpose18_legacy" if legacy else "body25"
    if person is None:  # OpenPose found nobody: every point undetected
        return Pose(
            body=np.zeros((18, 3), np.float32), wholebody=_wholebody(np.zeros((18, 3))), source=source
        )
    suffix = "" if legacy else "_2d"
    key = f"pose_keypoints{suffix}"
    if key not in person:
        other = "pose_keypoints_2d" if legacy else "pose_keypoints"
        hint = f"; it has {other!r}: declare the other pose format" if other in person else ""
        raise PoseFileError(f"{name}: people[0] has no {key!r}{hint}")
    if legacy:
        body = _points(person[key], 18, 3, key, name)
        feet = None
    else:
        body25 = _points(person[key], 25, 3, key, name)
        body, feet = body25[list(BODY25_TO_OPENPOSE18)], body25[list(BODY25_FEET)]
    whole = _wholebody(
        body,
        feet,
        _optional(person, f"face_keypoints{suffix}", 70, name),
        _optional(person, f"hand_left_keypoints{suffix}", HAND_POINTS, name),
        _optional(person, f"hand_right_keypoints{suffix}", HAND_POINTS, name),
    )
    return Pose(body=body.copy(), wholebody=whole, source=source)


def pose_from_body25_json(obj: Any, name: str = "keypoint file") -> Pose:
    """OpenPose BODY_25 JSON (VITON-HD) -> Pose: body in OpenPose-18 order, feet/face/hands in the whole body."""
    return _openpose(obj, name, legacy=False)


def pose_from_legacy_json(obj: Any, name: str = "keypoint file") -> Pose:
    """Pre-1.2 OpenPose JSON with an 18-joint `pose_keypoints` list (VVT) -> Pose."""
    return _openpose(obj, name, legacy=True)


def pose_from_dresscode_json(obj: Any, image_size: tuple[int, int], name: str = "keypoint file") -> Pose:
    """Dress Code `{"keypoints": [[x, y, score, id] x 18]}` in 384x512 space -> Pose in pixels of an
    (H, W) `image_size` image; points with a negative coordinate become (0, 0, 0)."""
    if not isinstance(obj, dict) or "keypoints" not in obj:
        raise PoseFileError(
            f"{name}: no 'keypoints' list; expected Dress Code's {{'keypoints': [[x, y, score, id], ...]}}"
        )
    rows = _points(obj["keypoints"], 18, 4, "keypoints", name)
    order = rows[:, 3].astype(int)
    if sorted(order.tolist()) != list(range(18)):
        raise PoseFileError(f"{name}: keypoint ids are {order.tolist()}, expected each of 0..17 once")
    rows = rows[np.argsort(order)]
    height, width = image_size
    scale = np.array([width / DRESSCODE_SPACE[0], height / DRESSCODE_SPACE[1]], np.float32)
    body = np.zeros((18, 3), np.float32)
    seen = (rows[:, 0] >= 0) & (rows[:, 1] >= 0)
    body[seen, :2] = rows[seen, :2] * scale
    body[seen, 2] = rows[seen, 2]
    return Pose(body=body, wholebody=_wholebody(body), source="coco18")


def openpose18_to_wholebody(body: np.ndarray) -> np.ndarray:
    """OpenPose-18 (18, 3) -> DWPose whole body (134, 3): body slots filled, feet/face/hands (0, 0, 0)."""
    body = np.asarray(body, dtype=np.float32)
    if body.shape != (18, 3):
        raise ValueError(f"an OpenPose-18 body is (18, 3), got {body.shape}")
    return _wholebody(body)


def wholebody_to_openpose18(wholebody: np.ndarray) -> np.ndarray:
    """DWPose whole body (134, 3) -> its OpenPose-18 body (18, 3) (the first 18 points, neck included)."""
    wholebody = np.asarray(wholebody, dtype=np.float32)
    if wholebody.shape != (WHOLEBODY_POINTS, 3):
        raise ValueError(f"a DWPose whole body is ({WHOLEBODY_POINTS}, 3), got {wholebody.shape}")
    return wholebody[WB_BODY].copy()


POSE_READERS = ("body25", "coco18", "openpose18_legacy")


def pose_from_file_json(obj: Any, pose_format: str, image_size: tuple[int, int], name: str) -> Pose:
    """Dispatch on the manifest's `pose_format` ("body25", "coco18", "openpose18_legacy")."""
    if pose_format == "body25":
        return pose_from_body25_json(obj, name)
    if pose_format == "openpose18_legacy":
        return pose_from_legacy_json(obj, name)
    if pose_format == "coco18":
        return pose_from_dresscode_json(obj, image_size, name)
    raise PoseFileError(
        f"{name}: unknown pose format {pose_format!r}; expected one of {', '.join(POSE_READERS)}"
    )
