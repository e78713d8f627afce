"""VVT reader (Dong et al., FW-GAN 2019): video clips stored as frame folders, one garment per clip.

Expected tree (the published release):

    ROOT/{train,test}/{train,test}_frames/<vid>/<vid>@<n>=person_whole_front.png               frames, n = 1, 2, ...
    ROOT/{train,test}/{train,test}_frames_parsing/<vid>/<vid>@<n>=person_whole_front_label.png  LIP labels -> parse
    ROOT/{train,test}/{train,test}_frames_keypoint/<vid>/<vid>@<n>=person_whole_front_keypoints.json
                                                          OpenPose 18 in the pre-1.2 "pose_keypoints" key -> pose
    ROOT/{train,test}/{train,test}_frames_densepose/<vid>/<vid>@<n>=person_whole_front_IUV.png  IUV -> densepose
    ROOT/clothes_person/img/<vid>/<vid>@1=cloth_front.jpg        in-shop garment of the clip
    ROOT/clothes_person/img/<vid>/<vid>@1=cloth_front_mask.jpg   its mask -> garment_mask

One sample per clip folder (`test__4he21d00f-g11`), paired with its own garment, category upper. Frames are
ordered by n as a number (2 before 10); other images in a clip folder are not frames (a warning names
them). A per-frame annotation is kept only when every frame has it; a partial one is left out with a
warning. A clip without frames or garment, or with a file whose name is not UTF-8, is quarantined.
"""

from __future__ import annotations

import re
from pathlib import Path

from preprocess.formats.collector import ResultCollector
from preprocess.formats.listing import IMAGE_SUFFIXES, FolderIndex
from preprocess.formats.paths import display_name, is_utf8_name
from preprocess.samples import CanonicalSample, ReadResult, make_sample_id

SPLITS = ("train", "test")
GARMENT_DIR = "clothes_person/img"
FRAME_ANNOTATIONS = (
    ("parse", "frames_parsing", "_label.png"),
    ("pose", "frames_keypoint", "_keypoints.json"),
    ("densepose", "frames_densepose", "_IUV.png"),
)
_GARMENT_RE = re.compile(r"@(\d+)=cloth_front\.(jpg|jpeg|png)$", re.IGNORECASE)


class VVTReader:
    """Reads a VVT root: one video sample per clip folder."""

    name = "vvt"
    looks_for = "train/train_frames/ or test/test_frames/ (VVT)"

    def detect(self, root: Path) -> bool:
        """True when a split holds its `<split>_frames/` folder."""
        return any((root / split / f"{split}_frames").is_dir() for split in SPLITS)

    def read(self, root: Path, dataset: str) -> ReadResult:
        """Every clip folder becomes a sample or a quarantine row."""
        index = FolderIndex(root)
        out = ResultCollector(self.name, dataset)
        for split in SPLITS:
            frames_dir = f"{split}/{split}_frames"
            if not index.has_dir(frames_dir):
                if index.has_dir(split):
                    out.warn(f"{frames_dir}/ is missing: no {split} clips read")
                continue
            clips = sorted(d for d in index.folder(frames_dir).dirs if not d.startswith("."))
            out.announce(len(clips))
            for vid in clips:
                _read_clip(index, out, dataset, split, vid)
        return out.result()


def _read_clip(index: FolderIndex, out: ResultCollector, dataset: str, split: str, vid: str) -> None:
    clip_dir = f"{split}/{split}_frames/{vid}"
    where = display_name(clip_dir)
    if not is_utf8_name(vid):
        out.reject(where, None, f"{where}: the clip folder name is not valid UTF-8; rename the folder")
        return
    sample_id = make_sample_id(split, vid)
    frames, reason = _ordered_frames(index, clip_dir, vid)
    stray = sorted(
        n for n in index.folder(clip_dir).files if n.lower().endswith(IMAGE_SUFFIXES) and n not in frames
    )
    if reason is None and frames and stray:
        out.warn(
            f"{clip_dir}/: {len(stray)} image(s) not named {vid}@<n>=person_whole_front.png are not frames "
            f"(first: {display_name(stray[0])}); rename them to include them"
        )
    if reason is None and not frames:
        reason = (
            f"{where}: no frames named {vid}@<n>=person_whole_front.png; add the frames or remove the folder"
        )
    if reason is not None:
        out.reject(where, sample_id, reason)
        return
    garment = _garment(index, vid)
    if garment is None:
        reason = (
            f"{where}: the clip's garment {GARMENT_DIR}/{vid}/{vid}@1=cloth_front.jpg does not exist; "
            "restore it or remove the clip"
        )
        out.reject(where, sample_id, reason)
        return
    sample = CanonicalSample(
        sample_id=sample_id,
        dataset=dataset,
        split=split,
        category="upper",
        kind="video",
        person_path=clip_dir,
        garment_path=garment,
        frame_paths=[f"{clip_dir}/{name}" for name in frames],
        garment_id=vid,
        source_line=clip_dir,
    )
    garment_name = garment.rsplit("/", 1)[1]
    mask_stem = garment_name.rsplit(".", 1)[0] + "_mask"
    mask = index.find(f"{GARMENT_DIR}/{vid}", (f"{mask_stem}.jpg",), mask_stem)
    if mask is not None:
        sample.annotations["garment_mask"] = mask
    for key, folder, suffix in FRAME_ANNOTATIONS:
        ann_dir = f"{split}/{split}_{folder}/{vid}"
        names = [name.rsplit(".", 1)[0] + suffix for name in frames]
        listing = index.folder(ann_dir)
        present = listing.files - listing.outside_links
        have = sum(name in present for name in names)
        if have == len(names):
            sample.annotation_frames[key] = [f"{ann_dir}/{name}" for name in names]
        elif have:
            out.warn(f"{ann_dir}/: {key} exists for {have} of {len(names)} frames; left out for {sample_id}")
    if "parse" in sample.annotation_frames:
        sample.parse_labels = "lip"
    if "pose" in sample.annotation_frames:
        sample.pose_format = "openpose18_legacy"
    if "densepose" in sample.annotation_frames:
        sample.densepose_format = "iuv"
    out.add(sample)


def _ordered_frames(index: FolderIndex, clip_dir: str, vid: str) -> tuple[list[str], str | None]:
    """Frame names of a clip ordered by frame number, or a reason the clip cannot be used."""
    pattern = re.compile(rf"^{re.escape(vid)}@(\d+)=person_whole_front\.(png|jpg|jpeg)$", re.IGNORECASE)
    listing = index.folder(clip_dir)
    numbered: dict[int, str] = {}
    for name in sorted(listing.files):
        if not is_utf8_name(name):
            shown = display_name(f"{clip_dir}/{name}")
            return [], f"{shown}: the frame name is not valid UTF-8; rename the file"
        match = pattern.match(name)
        if match is None:
            continue
        number = int(match.group(1))
        if number in numbered:
            return [], (
                f"{clip_dir}: frames {numbered[number]} and {name} both have number {number}; "
                "remove or renumber one of them"
            )
        if name in listing.outside_links:
            return [], f"{clip_dir}/{name} is a symlink leading outside the dataset root; copy the file in"
        numbered[number] = name
    return [numbered[n] for n in sorted(numbered)], None


def _garment(index: FolderIndex, vid: str) -> str | None:
    """The clip's in-shop garment image (lowest view number), root-relative, or None."""
    folder = f"{GARMENT_DIR}/{vid}"
    listing = index.folder(folder)
    candidates = []
    for name in listing.files:
        match = _GARMENT_RE.search(name)
        if match and name not in listing.outside_links:
            candidates.append((int(match.group(1)), name))
    if not candidates:
        return None
    return f"{folder}/{min(candidates)[1]}"
