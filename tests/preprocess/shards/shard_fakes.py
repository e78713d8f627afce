"""A tiny stand-in annotator for shard tests: simple arrays derived from the real input images.

Real annotators are built elsewhere; the shard builder only needs something that turns a manifest row
into encoded members (or a quarantine row), counts its calls, and can stall so a test can kill the build.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from preprocess.annotators.base import GarmentLandmarks, Pose
from preprocess.images import decode_image
from preprocess.samples import QuarantineRow
from preprocess.shards.codec import encode_sample, source_jpeg

VERSIONS = {
    "parse": ("fake_parser", "1"),
    "pose": ("fake_pose", "1"),
    "garment_mask": ("fake_mask", "1"),
    "garment_landmarks": ("fake_landmarks", "1"),
}


def fake_fields(root: Path, row: dict[str, Any]) -> dict[str, Any]:
    """Canonical fields of one row: source JPEGs plus arrays computed from the pixels."""
    person_bytes = (root / row["person_path"]).read_bytes()
    garment_bytes = (root / row["garment_path"]).read_bytes()
    person = decode_image(person_bytes, row["person_path"])
    garment = decode_image(garment_bytes, row["garment_path"])
    h, w = person.shape[:2]
    body = np.zeros((18, 3), np.float32)
    body[:, 0] = np.linspace(0, w - 1, 18)
    body[:, 1] = float(person[h // 2, w // 2, 0])
    body[:, 2] = 0.5
    return {
        "person": source_jpeg(person_bytes, row, "person", row["person_path"]),
        "garment": source_jpeg(garment_bytes, row, "garment", row["garment_path"]),
        "parse": (person.astype(np.uint16).sum(axis=2) % 20).astype(np.uint8),
        "pose": Pose(body=body, source="fake"),
        "garment_mask": np.where(garment.min(axis=2) < 240, 255, 0).astype(np.uint8),
        "garment_landmarks": GarmentLandmarks(
            "upper", ("neck", "hem"), np.array([[1, 2, 1], [3, 4, 0.5]], np.float32), "fake"
        ),
    }


class FakeAnnotate:
    """Callable for `build_shards`: records every sample id it is asked for; quarantines `reject` ids;
    with `stall_after`, writes `marker` and sleeps once it has annotated that many samples."""

    def __init__(
        self,
        root: Path,
        reject: tuple[str, ...] = (),
        stall_after: int | None = None,
        marker: Path | None = None,
    ) -> None:
        self.root = Path(root)
        self.reject = set(reject)
        self.stall_after = stall_after
        self.marker = marker
        self.calls: list[str] = []

    def __call__(self, rows: list[dict[str, Any]]) -> list[dict[str, bytes] | QuarantineRow]:
        out: list[dict[str, bytes] | QuarantineRow] = []
        for row in rows:
            if self.stall_after is not None and len(self.calls) >= self.stall_after:
                assert self.marker is not None
                self.marker.write_text("stalled")
                time.sleep(120)
            self.calls.append(row["sample_id"])
            if row["sample_id"] in self.reject:
                out.append(
                    QuarantineRow(
                        row["dataset"], row["person_path"], row["sample_id"], "annotate", "fake: no person"
                    )
                )
                continue
            out.append(encode_sample(row["sample_id"], fake_fields(self.root, row), row))
        return out
