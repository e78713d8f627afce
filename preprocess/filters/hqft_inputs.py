"""What the HQFT filter reads for one sample: LIP parsing, OpenPose-18 pose and the in-shop garment mask.

Loads the annotations a dataset ships (manifest row or `CanonicalSample`) into the canonical encodings of
`preprocess.annotators.base`: CIHP (VITON-HD) and ATR-18 (Dress Code) label maps are mapped to LIP-20,
and BODY_25 / Dress Code COCO-18 / legacy OpenPose-18 JSON to a `Pose`. The converters are private here
because no shared pose-format or parse-mapping module exists yet; when `preprocess/annotators` grows
one, this module should call it instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from preprocess.annotators.base import AnnotationError, Pose
from preprocess.images import BadImageError, decode_image, decode_label_map

# Published index -> LIP-20 index. CIHP shares LIP's indices except 10 (Torso-skin; LIP's 10 is
# Jumpsuits), which becomes Face (13), LIP's only bare-skin label above the legs.
_CIHP_TO_LIP = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 11, 12, 13, 14, 15, 16, 17, 18, 19], np.uint8)
# ATR-18 (Dress Code): head -> Face, belt -> Pants, bag -> Background (not part of the person's clothes).
_ATR_TO_LIP = np.array([0, 1, 2, 4, 5, 12, 9, 6, 9, 18, 19, 13, 16, 17, 14, 15, 0, 11], np.uint8)
_LIP_TO_LIP = np.arange(20, dtype=np.uint8)
_PARSE_TABLES = {"cihp": _CIHP_TO_LIP, "atr": _ATR_TO_LIP, "lip": _LIP_TO_LIP}
_BODY25_TO_OPENPOSE18 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
DRESSCODE_KEYPOINT_SPACE = (384, 512)  # (W, H) Dress Code stores its keypoints in


@dataclass
class HQFTInput:
    """One sample as the filter sees it: LIP parse and pose in person pixels, in-shop garment mask."""

    sample_id: str
    category: str  # upper / lower / dresses
    parse: np.ndarray  # (H, W) uint8 LIP-20 indices
    pose: Pose
    garment_mask: np.ndarray | None = None  # (Hg, Wg) uint8 {0, 255}; None when the dataset ships none

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the person image."""
        return int(self.parse.shape[0]), int(self.parse.shape[1])


def parse_to_lip(labels: np.ndarray, label_set: str) -> np.ndarray:
    """Map a CIHP, ATR-18 or LIP label map to LIP-20 indices (unknown values become background)."""
    try:
        table = _PARSE_TABLES[label_set]
    except KeyError:
        raise ValueError(
            f"unknown parse label set {label_set!r}; expected one of {sorted(_PARSE_TABLES)}"
        ) from None
    lut = np.zeros(256, np.uint8)
    lut[: len(table)] = table
    return lut[labels]


def pose_from_keypoint_json(obj: dict[str, Any], pose_format: str, size: tuple[int, int]) -> Pose:
    """A `Pose` (OpenPose-18, person pixels) from a keypoint JSON of `pose_format`.

    Formats: "body25" (OpenPose >= 1.2 `people[0].pose_keypoints_2d`), "openpose18_legacy" (VVT's
    `people[0].pose_keypoints`), "coco18" (Dress Code `keypoints` as [x, y, score, id] in 384x512).
    A file with no person gives all-zero keypoints (nothing detected).
    """
    if pose_format == "coco18":
        rows = (
            np.asarray(obj.get("keypoints") or np.zeros((18, 4)), np.float32).reshape(-1, 4)[:18, :3].copy()
        )
        h, w = size
        rows[:, 0] *= w / DRESSCODE_KEYPOINT_SPACE[0]
        rows[:, 1] *= h / DRESSCODE_KEYPOINT_SPACE[1]
        rows[rows[:, 2] <= 0] = 0.0
        return Pose(body=rows, source="coco18")
    people = obj.get("people") or []
    if pose_format == "body25":
        flat = people[0].get("pose_keypoints_2d", []) if people else []
        points = np.asarray(flat or np.zeros(75), np.float32).reshape(25, 3)[list(_BODY25_TO_OPENPOSE18)]
    elif pose_format == "openpose18_legacy":
        flat = people[0].get("pose_keypoints", []) if people else []
        points = np.asarray(flat or np.zeros(54), np.float32).reshape(18, 3)
    else:
        raise ValueError(f"unknown pose format {pose_format!r}; expected body25, coco18 or openpose18_legacy")
    return Pose(body=points.copy(), source=pose_format)


def _field(sample: Any, name: str) -> Any:
    return sample.get(name) if isinstance(sample, dict) else getattr(sample, name, None)


def _annotations(sample: Any) -> dict[str, str]:
    raw = _field(sample, "annotations") or {}
    return dict(raw) if not isinstance(raw, dict) else raw


def load_hqft_input(sample: Any, root: Path) -> HQFTInput:
    """Load one image sample's parse, pose and garment mask from its dataset root.

    `sample` is a `CanonicalSample` or a manifest row (dict; `annotations` as a dict or (key, path)
    pairs). Raises `AnnotationError` naming the file and the fix when something is missing or unreadable.
    """
    sample_id = str(_field(sample, "sample_id"))
    notes = _annotations(sample)
    for key in ("parse", "pose"):
        if key not in notes:
            raise AnnotationError(
                f"{sample_id}: the HQFT filter needs a {key!r} annotation and the dataset ships none; "
                f"run the {key} annotator first",
                sample_id,
            )
    root = Path(root)
    parse_path = root / notes["parse"]
    try:
        raw_parse = decode_label_map(parse_path, role="parse map")
    except (BadImageError, OSError) as exc:
        raise AnnotationError(f"{sample_id}: {getattr(exc, 'reason', exc)}", sample_id) from None
    parse = parse_to_lip(raw_parse, str(_field(sample, "parse_labels") or "lip"))
    pose_path = root / notes["pose"]
    try:
        obj = json.loads(pose_path.read_text(encoding="utf-8"))
        pose = pose_from_keypoint_json(obj, str(_field(sample, "pose_format") or "body25"), parse.shape)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise AnnotationError(
            f"{sample_id}: pose file {notes['pose']} is unreadable ({exc}); re-export it as OpenPose JSON",
            sample_id,
        ) from None
    mask = None
    if "garment_mask" in notes:
        try:
            mask = decode_label_map(root / notes["garment_mask"], role="garment mask")
        except BadImageError:  # a JPEG mask (VITON-HD cloth-mask) is decoded as an image and thresholded
            mask = decode_image(root / notes["garment_mask"], role="garment mask").mean(axis=2)
        except OSError as exc:
            raise AnnotationError(f"{sample_id}: garment mask unreadable ({exc})", sample_id) from None
        mask = np.where(mask > 127, 255, 0).astype(np.uint8)
    return HQFTInput(sample_id, str(_field(sample, "category") or "upper"), parse, pose, mask)
