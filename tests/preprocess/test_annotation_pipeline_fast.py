"""The annotation pipeline's shortcuts give the same shards: person and garment are only checked (not decoded)
when no annotator that runs reads their pixels, and a small update is annotated ahead in a thread."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

import preprocess.annotation_pipeline as pipeline
from preprocess.annotation_pipeline import PipelineConfig, annotate_row, build_dataset_shards, make_annotators
from preprocess.manifest import build_manifest
from preprocess.synthetic import generate_dataset


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("fast") / "vitonhd"
    generate_dataset("vitonhd", 6, root, seed=9, size=(128, 96))
    return root, Path(
        build_manifest(root, "fast", root.parent / "manifest", "vitonhd", use_ray=False).manifest
    )


def _rows(manifest: Path) -> list[dict]:
    rows = pq.read_table(manifest).to_pylist()
    for row in rows:
        row["annotations"] = dict(row["annotations"] or [])
        row["annotation_frames"] = dict(row["annotation_frames"] or [])
    return rows


def test_only_annotators_that_run_make_their_images_decoded(tiny):
    _, manifest = tiny
    row = _rows(manifest)[0]
    annotators = make_annotators(PipelineConfig())
    assert pipeline._pixels_read(row, annotators) == set()  # VITON-HD ships every annotation
    no_mask = dict(row, annotations={k: v for k, v in row["annotations"].items() if k != "garment_mask"})
    assert pipeline._pixels_read(no_mask, annotators) == {"garment"}  # the garment mask annotator runs


def test_checked_images_give_the_members_decoded_ones_give(tiny, monkeypatch):
    root, manifest = tiny
    annotators = make_annotators(PipelineConfig())
    rows = _rows(manifest)
    checked = [annotate_row(row, root, annotators) for row in rows]
    monkeypatch.setattr(pipeline, "_pixels_read", lambda row, annotators: {"person", "garment"})
    assert [annotate_row(row, root, annotators) for row in rows] == checked
    no_mask = dict(
        rows[0], annotations={k: v for k, v in rows[0]["annotations"].items() if k != "garment_mask"}
    )
    members = annotate_row(no_mask, root, annotators)
    assert isinstance(members, dict) and "garment_mask.png" in members


def test_a_small_update_annotated_ahead_equals_a_fresh_build(tiny, tmp_path):
    root = tmp_path / "vitonhd"
    shutil.copytree(tiny[0], root)
    manifest = Path(build_manifest(root, "fast", tmp_path / "manifest0", "vitonhd", use_ray=False).manifest)
    built = build_dataset_shards(manifest, root, tmp_path / "shards", use_ray=False, samples_per_shard=2)
    rows = _rows(manifest)
    for row in rows[::2]:  # three samples of three shards change
        path = root / row["person_path"]
        pixels = np.array(Image.open(path).convert("RGB"))
        pixels[:8] = 255 - pixels[:8]
        Image.fromarray(pixels).save(path, quality=95)
    changed = Path(build_manifest(root, "fast", tmp_path / "manifest", "vitonhd", use_ray=False).manifest)
    update = build_dataset_shards(changed, root, tmp_path / "shards", use_ray=True, samples_per_shard=2)
    fresh = build_dataset_shards(changed, root, tmp_path / "fresh", use_ray=False, samples_per_shard=2)
    assert (update.changed, update.annotated, len(update.shards_written)) == (3, 3, 3)
    assert update.annotation_engine == "threads" and fresh.annotation_engine == "in_process"
    assert update.dataset_version == fresh.dataset_version != built.dataset_version
    for name in update.shards_written:
        assert (tmp_path / "shards" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes()
