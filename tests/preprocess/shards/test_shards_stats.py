"""Per-sample shard statistics: each value agrees with the decoded shard sample it describes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from preprocess.annotation_pipeline import build_dataset_shards
from preprocess.manifest import build_manifest
from preprocess.shards.reader import iter_samples
from preprocess.shards.stats import STATS_COLUMNS, category_summary, sample_stats, shard_stats
from preprocess.synthetic import generate_dataset


def _build(base: Path, layout: str, samples: int) -> Path:
    root = base / layout
    generate_dataset(layout, samples, root, seed=3, size=(128, 96))
    manifest = build_manifest(root, layout, base / f"{layout}-manifest", layout, use_ray=False).manifest
    out = base / f"{layout}-shards"
    build_dataset_shards(Path(manifest), root, out, use_ray=False, samples_per_shard=4)
    return out


@pytest.fixture(scope="module")
def dresscode_shards(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("stats"), "dresscode", 6)


@pytest.fixture(scope="module")
def vvt_shards(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("stats-vvt"), "vvt", 2)


def test_image_sample_stats_match_the_decoded_sample(dresscode_shards):
    stats = shard_stats(dresscode_shards).set_index("sample_id")
    decoded = list(iter_samples(dresscode_shards, decode=True))
    assert list(shard_stats(dresscode_shards).columns) == list(STATS_COLUMNS)
    assert sorted(stats.index) == sorted(s["__key__"] for s in decoded)
    for sample in decoded:
        row = stats.loc[sample["__key__"]]
        meta = sample["meta"]
        assert (row["split"], row["category"], row["kind"]) == (meta["split"], meta["category"], "image")
        assert row["agnostic_coverage"] == pytest.approx(np.mean(sample["agnostic_mask"] > 0))
        assert row["garment_mask_coverage"] == pytest.approx(np.mean(sample["garment_mask"] > 0))
        confidences = sample["pose"].body[:, 2]
        assert row["pose_mean_confidence"] == pytest.approx(float(confidences.mean()))
        assert row["pose_min_confidence"] == pytest.approx(float(confidences.min()))
        assert row["parse_max_label"] == int(sample["parse"].max())
        assert row["densepose_max_part"] == int(sample["densepose"][..., 0].max())
        assert json.loads(row["missing"]) == (meta.get("missing") or {})
        assert row["has_parse"] and row["has_skeleton"] and not row["has_frames"]


def test_absent_members_are_reported_absent_not_invented(dresscode_shards):
    sample = next(iter_samples(dresscode_shards))
    members = {
        k: v for k, v in sample.items() if not k.startswith("__") and k not in ("parse.png", "pose.json")
    }
    row = sample_stats(sample["__key__"], members)
    assert not row["has_parse"] and not row["has_pose"] and row["has_densepose"]
    assert row["parse_max_label"] is None and np.isnan(row["pose_mean_confidence"])


def test_video_clips_aggregate_over_frames(vvt_shards):
    stats = shard_stats(vvt_shards).set_index("sample_id")
    for sample in iter_samples(vvt_shards, decode=True):
        row = stats.loc[sample["__key__"]]
        frames = sample["frames"]
        assert row["kind"] == "video" and row["has_frames"] and row["frames"] == len(frames)
        assert not row["has_person"]
        assert row["agnostic_coverage"] == pytest.approx(
            np.mean([np.mean(f["agnostic_mask"] > 0) for f in frames])
        )
        assert row["pose_min_confidence"] == pytest.approx(
            min(float(f["pose"].body[:, 2].min()) for f in frames)
        )
        assert row["parse_max_label"] == max(int(f["parse"].max()) for f in frames)
        assert "agnostic_mask" not in json.loads(row["missing"])


def test_category_summary_counts_and_ranges(dresscode_shards):
    stats = shard_stats(dresscode_shards)
    summary = category_summary(stats)
    assert set(summary) == set(stats["category"])
    for category, values in summary.items():
        group = stats[stats["category"] == category]
        assert values["samples"] == len(group)
        assert values["has_agnostic_mask"] == pytest.approx(group["has_agnostic_mask"].mean())
        assert (
            values["agnostic_coverage_min"]
            <= values["agnostic_coverage_mean"]
            <= values["agnostic_coverage_max"]
        )
        assert values["agnostic_coverage_max"] == pytest.approx(group["agnostic_coverage"].max())
