"""The annotator protocol (ARCHITECTURE §4) and the canonical in-memory encodings every annotator returns.

An annotator is a small object with `name`, `version`, `outputs` (the shard fields it fills), `needs`
(the inputs it reads: "person", "garment", another annotator's output such as "parse" or "pose", and
weights-store entries as "weights:<name>") and a batched `__call__(batch) -> list[dict]`. It works on CPU
and, where it runs a network, on GPU (`device` argument). Results use these canonical encodings:

| field              | value                                                                                  |
|--------------------|----------------------------------------------------------------------------------------|
| `parse`            | (H, W) uint8 LIP-20 label indices, person-image size                                   |
| `pose`             | `Pose`: OpenPose-18 body (18, 3) x, y, confidence in person-image pixels; optional      |
|                    | whole-body (134, 3) in DWPose order (body 18, feet 6, face 68, left hand 21, right 21)  |
| `densepose`        | (H, W, 3) uint8: part index I (0-24), U and V scaled to 0-255                           |
| `garment_mask`     | (Hg, Wg) uint8 {0, 255}, garment-image size                                            |
| `garment_landmarks`| `GarmentLandmarks`, garment-image pixels                                               |
| `agnostic_mask`    | (H, W) uint8 {0, 255}: the rough try-on mask, person-image size                        |
| `skeleton`         | (H, W, 3) uint8 OpenPose-coloured skeleton render                                      |

Low-confidence pose points keep their coordinates and carry their confidence; consumers threshold them
(OpenPose's convention of (0, 0, 0) for undetected points is used when converting from files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

OPENPOSE18_NAMES = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
    "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
)  # fmt: skip
WHOLEBODY_POINTS = 134  # DWPose: 18 body (OpenPose order, neck inserted) + 6 feet + 68 face + 2 x 21 hands


@dataclass
class Pose:
    """One person's keypoints in person-image pixels."""

    body: np.ndarray  # (18, 3) float32, OpenPose-18 order
    wholebody: np.ndarray | None = None  # (134, 3) float32 or None
    source: str = ""  # "body25", "coco18", "openpose18_legacy", "dwpose", "synthetic"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": "openpose18", "source": self.source, "body": self.body.tolist()}
        if self.wholebody is not None:
            out["wholebody"] = self.wholebody.tolist()
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Pose:
        whole = obj.get("wholebody")
        return cls(
            body=np.asarray(obj["body"], dtype=np.float32).reshape(18, 3),
            wholebody=None if whole is None else np.asarray(whole, dtype=np.float32).reshape(-1, 3),
            source=obj.get("source", ""),
        )


@dataclass
class GarmentLandmarks:
    """Garment landmarks in garment-image pixels; the name set depends on the category (DPIDM §3.3)."""

    category: str  # upper / lower / dresses
    names: tuple[str, ...]
    points: np.ndarray  # (K, 3) float32: x, y, visibility or confidence in [0, 1]
    method: str = ""  # "geometric", "heatmap", "truth"

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "names": list(self.names),
            "points": self.points.tolist(),
            "method": self.method,
        }


@dataclass
class AnnotationInput:
    """What an annotator sees for one sample: the manifest row, its root, decoded inputs, earlier outputs."""

    sample_id: str
    row: dict[str, Any]  # the manifest row
    root: Path
    person: np.ndarray | None = None  # (H, W, 3) uint8 RGB, decoded with preprocess.images.decode_image
    garment: np.ndarray | None = None
    outputs: dict[str, Any] = field(default_factory=dict)  # fields other annotators already filled


@runtime_checkable
class Annotator(Protocol):
    name: str
    version: str
    outputs: tuple[str, ...]
    needs: tuple[str, ...]

    def __call__(self, batch: list[AnnotationInput]) -> list[dict[str, Any]]:
        """One dict per input, mapping each of `outputs` to its canonical value."""
        ...


class AnnotationError(ValueError):
    """One sample cannot be annotated (its `reason` becomes a quarantine row at the annotation stage)."""

    def __init__(self, reason: str, sample_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sample_id = sample_id
