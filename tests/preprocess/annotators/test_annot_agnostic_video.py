"""Rough try-on masks for video clips: one per frame on a generated VVT set, covering the garment, equal to
the image path's mask of the same frame, accepted by the shard checks; all or nothing when a frame fails;
clips sharded before per-frame masks existed get them on the next incremental build, image samples stay."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest

from preprocess.annotation_pipeline import (
    PipelineConfig,
    annotate_row,
    build_dataset_shards,
    field_versions,
    make_annotators,
)
from preprocess.annotators.agnostic_mask import AgnosticMaskAnnotator
from preprocess.annotators.agnostic_score import score_agnostic
from preprocess.annotators.agnostic_video import add_clip_agnostic_masks
from preprocess.annotators.base import AnnotationInput, Pose
from preprocess.annotators.provided import ProvidedAnnotator
from preprocess.manifest import build_manifest
from preprocess.shards import build_shards, fields_hash, read_index
from preprocess.shards.codec import encode_json
from preprocess.shards.reader import iter_samples, iter_tar
from preprocess.shards.stats import shard_stats
from preprocess.shards.writer import list_shard_files, write_shard
from preprocess.synthetic import generate_dataset, read_truth
from quality.shard_checks import validate_shard_folder


@pytest.fixture(scope="module")
def vvt(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(dataset root, manifest, shard folder) of 4 generated VVT clips built with the default chain."""
    base = tmp_path_factory.mktemp("agnostic-video")
    root = base / "vvt"
    generate_dataset("vvt", 4, root, seed=3, size=(128, 96))
    manifest = Path(build_manifest(root, "clips", base / "manifest", "vvt", use_ray=False).manifest)
    build_dataset_shards(manifest, root, base / "shards", use_ray=False)
    return root, manifest, base / "shards"


def _frame_regions(root: Path) -> dict[str, np.ndarray]:
    """The generator's exact garment region of every frame, keyed by the frame's path."""
    return {
        frame["person"]: cv2.imread(str(root / frame["garment_region"]), cv2.IMREAD_GRAYSCALE) > 127
        for record in read_truth(root)
        for frame in record["frames"]
    }


def test_every_clip_frame_gets_a_mask_covering_the_garment(vvt):
    root, _, shards = vvt
    regions = _frame_regions(root)
    clips = list(iter_samples(shards, decode=True))
    assert len(clips) == 4
    coverage = []
    for clip in clips:
        meta, frames = clip["meta"], clip["frames"]
        assert "agnostic_mask" not in meta["missing"], meta["missing"]
        assert len(frames) == len(meta["frame_paths"]) >= 4
        assert meta["annotators"]["agnostic_mask"]["version"] == "catvton-1+clip"
        for path, frame in zip(meta["frame_paths"], frames, strict=True):
            mask = frame["agnostic_mask"]
            assert mask.shape == frame["person"].shape[:2] and set(np.unique(mask)) <= {0, 255}
            assert 0.02 < (mask > 0).mean() < 0.8, path
            score = score_agnostic(mask, regions[path], frame["parse"], frame["densepose"])
            coverage.append(score["coverage"])
            assert score["face_spill"] < 0.2, path
    assert np.mean(coverage) >= 0.95 and min(coverage) >= 0.85, coverage


def test_shard_checks_accept_the_clips_and_measure_their_masks(vvt):
    root, manifest, shards = vvt
    stats = shard_stats(shards)
    assert stats["agnostic_coverage"].between(0.05, 0.7).all(), stats["agnostic_coverage"]
    results = validate_shard_folder(shards, manifest, "vvt", "clips", stats)
    assert all(r.passed for r in results), [(r.name, r.examples) for r in results if not r.passed]


def _provided_frames(root: Path, manifest: Path) -> tuple[dict, list[dict]]:
    row = pq.read_table(manifest).to_pylist()[0]
    row["annotations"] = dict(row.get("annotations") or [])
    row["annotation_frames"] = dict(row.get("annotation_frames") or [])
    frames = ProvidedAnnotator()([AnnotationInput(row["sample_id"], row, root)])[0]["frames"]
    return row, frames


@pytest.mark.parametrize("strategy", ["catvton", "hrviton"])
def test_each_frame_mask_is_the_image_path_mask_of_that_frame(vvt, strategy):
    root, manifest, _ = vvt
    row, frames = _provided_frames(root, manifest)
    annotators = make_annotators(PipelineConfig(agnostic_strategy=strategy))
    assert add_clip_agnostic_masks(frames, row, annotators) == {}
    image_path = AgnosticMaskAnnotator(strategy)
    for index, frame in enumerate(frames):
        item = AnnotationInput(
            f"f{index}", row, root, outputs={k: frame[k] for k in ("parse", "pose", "densepose")}
        )
        np.testing.assert_array_equal(frame["agnostic_mask"], image_path([item])[0]["agnostic_mask"])


def test_a_frame_that_cannot_be_masked_leaves_the_whole_clip_without_masks(vvt):
    root, manifest, _ = vvt
    row, frames = _provided_frames(root, manifest)
    annotators = make_annotators(PipelineConfig(agnostic_strategy="hrviton"))
    frames[2]["pose"] = Pose(body=np.zeros((18, 3), np.float32))  # no shoulders in view
    missing = add_clip_agnostic_masks(frames, row, annotators)
    assert missing["agnostic_mask"].startswith("frame 2: agnostic_mask (hrviton): no shoulders")
    assert not any("agnostic_mask" in frame for frame in frames)
    del frames[1]["pose"]
    missing = add_clip_agnostic_masks(frames, row, annotators)
    assert missing == {
        "agnostic_mask": "frame 1 has no pose: the hrviton mask needs parse and pose per frame "
        "(the dataset ships none for this clip)"
    }
    # catvton reads parse and DensePose only: the same frames are masked
    assert add_clip_agnostic_masks(frames, row, make_annotators(PipelineConfig())) == {}
    assert all(frame["agnostic_mask"].any() for frame in frames)


def _manifest_rows(manifest: Path) -> list[dict]:
    rows = pq.read_table(manifest).to_pylist()
    for row in rows:  # as build_dataset_shards hands them to the builder
        row["annotations"] = dict(row.get("annotations") or [])
        row["annotation_frames"] = dict(row.get("annotation_frames") or [])
    return rows


def _age_clips(folder: Path) -> None:
    """Rewrite the clips of a shard folder as the build before per-frame masks wrote them: no
    `fNNNN.agnostic_mask.png`, the bare annotator version, the old `missing` reason and fields_hash."""
    for name in list_shard_files(folder):
        samples = {}
        for key, members in iter_tar(folder / name):
            meta = json.loads(members["meta.json"])
            if meta["kind"] == "video":
                members = {m: v for m, v in members.items() if not m.endswith(".agnostic_mask.png")}
                meta["annotators"]["agnostic_mask"]["version"] = "catvton-1"
                meta["missing"]["agnostic_mask"] = "not computed for video clips yet"
                versions = {f: (a["name"], a["version"]) for f, a in meta["annotators"].items()}
                meta["fields_hash"] = fields_hash(meta["content_hash"], versions)
                members["meta.json"] = encode_json(meta)
            samples[key] = members
        write_shard(folder, name, samples)


def test_clips_sharded_before_per_frame_masks_get_them_and_images_are_not_annotated(vvt, tmp_path):
    root, manifest, _ = vvt
    photos = tmp_path / "photos"
    generate_dataset("vitonhd", 3, photos, seed=5, size=(128, 96))
    photo_manifest = Path(build_manifest(photos, "photos", tmp_path / "m", "vitonhd", use_ray=False).manifest)
    rows = _manifest_rows(manifest) + _manifest_rows(photo_manifest)
    roots = {"clips": root, "photos": photos}
    chain = make_annotators(PipelineConfig())
    asked: list[str] = []

    def annotate(batch: list[dict]) -> list:
        asked.extend(row["sample_id"] for row in batch)
        return [annotate_row(row, roots[row["dataset"]], chain) for row in batch]

    out = tmp_path / "shards"
    build_shards(out, rows, annotate, field_versions(chain), samples_per_shard=3)
    _age_clips(out)
    frame_masks = [m for s in iter_samples(out) for m in s if m.startswith("f") and "agnostic_mask" in m]
    assert frame_masks == []  # the old state: no clip carries a mask
    asked.clear()
    result = build_shards(out, rows, annotate, field_versions(chain), samples_per_shard=3)
    clips = sorted(r["sample_id"] for r in rows if r["kind"] == "video")
    assert len(clips) == 4 and sorted(asked) == clips and result.changed == 4 and result.unchanged == 3
    for sample in iter_samples(out):
        meta = json.loads(sample["meta.json"])
        version = meta["annotators"]["agnostic_mask"]["version"]
        if meta["kind"] == "video":
            frames = len(meta["frame_paths"])
            assert [m for m in sorted(sample) if m.endswith(".agnostic_mask.png")] == [
                f"f{i:04d}.agnostic_mask.png" for i in range(frames)
            ]
            assert version == "catvton-1+clip" and "agnostic_mask" not in meta["missing"]
        else:
            assert version == "catvton-1" and "agnostic_mask.png" in sample
    # the rebuilt folder is what a from-scratch build of the same rows gives
    fresh = tmp_path / "fresh"
    build_shards(fresh, rows, annotate, field_versions(chain), samples_per_shard=3)
    for name in list_shard_files(fresh):
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    assert read_index(out).equals(read_index(fresh))
