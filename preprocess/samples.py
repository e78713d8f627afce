"""Canonical sample and quarantine records (ARCHITECTURE §3), shared by every reader and the manifest.

A reader turns a dataset root into `ReadResult`: canonical samples whose files exist and stay inside the
root, plus a quarantine row for every candidate it had to reject. `candidates` counts what the dataset
announced (pair lines, clips, photos), so `len(samples) + len(quarantine) == candidates` always holds.
Paths are POSIX strings relative to the dataset root; raw files are never modified.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import pyarrow as pa

SPLITS = ("train", "test", "val")
CATEGORIES = ("upper", "lower", "dresses")
KINDS = ("image", "video")
PAIR_MODES = ("paired", "unpaired")

# Names of annotation files a layout may ship, mapped to canonical annotation keys.
ANNOTATION_KEYS = (
    "parse",  # human parsing label map (CIHP, ATR or LIP indices; see `parse_labels`)
    "pose",  # keypoint JSON (OpenPose BODY_25, COCO-18, ...; see `pose_format`)
    "densepose",  # DensePose image (colour-mapped part index, or IUV)
    "densepose_uv",  # DensePose UV array (DressCode `_5_uv.npz`)
    "garment_mask",  # in-shop garment mask
    "agnostic",  # agnostic person image or mask shipped by the dataset
    "skeleton",  # rendered pose skeleton shipped by the dataset
)

_SAMPLE_ID_RE = re.compile(r"^[A-Za-z0-9_\-]+$")


def make_sample_id(*parts: str) -> str:
    """Join parts into a stable sample id: no dots (WebDataset keys), only [A-Za-z0-9_-]."""
    raw = "__".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9_\-]", "-", raw)


def is_valid_sample_id(sample_id: str) -> bool:
    return bool(_SAMPLE_ID_RE.match(sample_id))


@dataclass
class CanonicalSample:
    """One try-on sample as a reader sees it, before files are hashed and probed."""

    sample_id: str
    dataset: str
    split: str
    category: str
    kind: str  # "image" or "video"
    person_path: str | None  # image or video file, or the frame folder of a video; None for garment-only
    garment_path: str | None  # in-shop garment image; None where the dataset has none (plain folders)
    pair_mode: str = "paired"
    frame_paths: list[str] = field(
        default_factory=list
    )  # video frames in order; empty for images/video files
    annotations: dict[str, str] = field(default_factory=dict)  # ANNOTATION_KEYS -> relative path
    annotation_frames: dict[str, list[str]] = field(default_factory=dict)  # per-frame annotations (video)
    garment_id: str | None = None  # id of the garment (differs from the person's in unpaired pairs)
    parse_labels: str | None = None  # "cihp", "atr", "lip" for the `parse` annotation
    pose_format: str | None = None  # "body25", "coco18", "openpose18_legacy" for the `pose` annotation
    densepose_format: str | None = None  # "dp_segm_colormap", "iuv"
    source_line: str | None = None  # the pair-file line or folder this sample came from

    def files(self) -> list[str]:
        """Every input file of the sample, in a fixed order: what its content hash covers."""
        out: list[str] = []
        if self.kind == "video" and self.frame_paths:
            out.extend(self.frame_paths)
        elif self.person_path:
            out.append(self.person_path)
        if self.garment_path:
            out.append(self.garment_path)
        for key in sorted(self.annotations):
            out.append(self.annotations[key])
        for key in sorted(self.annotation_frames):
            out.extend(self.annotation_frames[key])
        return out

    def validate(self) -> None:
        """Raise ValueError naming the field when the sample breaks the contract (a reader bug)."""
        if not is_valid_sample_id(self.sample_id):
            raise ValueError(f"sample_id {self.sample_id!r} must match [A-Za-z0-9_-]+ (no dots)")
        if self.split not in SPLITS:
            raise ValueError(f"{self.sample_id}: split {self.split!r} not in {SPLITS}")
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.sample_id}: category {self.category!r} not in {CATEGORIES}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.sample_id}: kind {self.kind!r} not in {KINDS}")
        if self.pair_mode not in PAIR_MODES:
            raise ValueError(f"{self.sample_id}: pair_mode {self.pair_mode!r} not in {PAIR_MODES}")
        if not self.person_path and not self.garment_path:
            raise ValueError(f"{self.sample_id}: a sample needs a person or a garment")
        if self.kind == "video" and not (self.frame_paths or self.person_path):
            raise ValueError(f"{self.sample_id}: a video sample needs frame_paths or a video file")
        for key in self.annotations:
            if key not in ANNOTATION_KEYS:
                raise ValueError(f"{self.sample_id}: unknown annotation key {key!r}")


@dataclass
class QuarantineRow:
    """A candidate that did not become a sample, and exactly why."""

    dataset: str
    path: str  # the offending file or pair line, relative to the root where possible
    sample_id: str | None
    stage: str  # "read" (reader), "probe" (manifest hashing/probing), later stages name themselves
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ReadResult:
    """What a reader returns for one dataset root."""

    layout: str
    samples: list[CanonicalSample]
    quarantine: list[QuarantineRow]
    candidates: int
    warnings: list[str] = field(default_factory=list)  # dataset-level notes, e.g. an empty pairs file

    def check_accounting(self) -> None:
        """Every candidate is a sample or a quarantine row: nothing dropped silently."""
        if len(self.samples) + len(self.quarantine) != self.candidates:
            raise AssertionError(
                f"{self.layout} reader lost candidates: {len(self.samples)} samples + "
                f"{len(self.quarantine)} quarantined != {self.candidates} candidates"
            )


MANIFEST_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("dataset", pa.string()),
        ("split", pa.string()),
        ("category", pa.string()),
        ("kind", pa.string()),
        ("pair_mode", pa.string()),
        ("person_path", pa.string()),
        ("garment_path", pa.string()),
        ("garment_id", pa.string()),
        ("frame_paths", pa.list_(pa.string())),
        ("annotations", pa.map_(pa.string(), pa.string())),
        ("annotation_frames", pa.map_(pa.string(), pa.list_(pa.string()))),
        ("parse_labels", pa.string()),
        ("pose_format", pa.string()),
        ("densepose_format", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("garment_width", pa.int32()),
        ("garment_height", pa.int32()),
        ("frame_count", pa.int32()),
        ("person_format", pa.string()),  # decoded format (JPEG/PNG/...), may differ from the extension
        ("person_mode", pa.string()),  # PIL mode before normalisation (RGB, CMYK, I;16, RGBA, L, ...)
        ("normalisations", pa.list_(pa.string())),  # documented fixes applied when the image is decoded
        ("files", pa.list_(pa.string())),
        ("bytes", pa.int64()),
        ("content_hash", pa.string()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("path", pa.string()),
        ("sample_id", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
    ]
)
