"""Shard checks: a real shard build passes all of them, and each one fails on a frame crafted to break it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from preprocess.annotation_pipeline import build_dataset_shards
from preprocess.manifest import build_manifest
from preprocess.shards.stats import shard_stats
from preprocess.synthetic import generate_dataset
from quality.shard_checks import SHARD_CHECKS, ShardStatsError, validate_shard_folder, validate_shard_stats


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(shard folder, manifest) of a tiny synthetic Dress Code build (all three categories)."""
    base = tmp_path_factory.mktemp("shard-checks")
    generate_dataset("dresscode", 6, base / "data", seed=5, size=(128, 96))
    manifest = Path(
        build_manifest(base / "data", "dc", base / "manifest", "dresscode", use_ray=False).manifest
    )
    build_dataset_shards(manifest, base / "data", base / "shards", use_ray=False)
    return base / "shards", manifest


@pytest.fixture()
def stats(built) -> pd.DataFrame:
    return shard_stats(built[0])


def _check(stats: pd.DataFrame, layout: str = "dresscode", **counts):
    n = len(stats)
    counts = {"manifest_samples": n, "build_quarantined": 0, "index_rows": n} | counts
    return {r.name: r for r in validate_shard_stats(stats, layout, dataset="dc", **counts)}


def _failed(results) -> set[str]:
    return {name for name, result in results.items() if not result.passed}


def test_a_real_build_passes_every_check(built):
    results = validate_shard_folder(built[0], built[1], "dresscode", "dc")
    assert [r.name for r in results] == [c.name for c in SHARD_CHECKS]
    assert all(r.passed for r in results), [(r.name, r.examples) for r in results if not r.passed]


def test_missing_modality_names_the_sample_and_the_field(stats):
    victim = stats.loc[0, "sample_id"]
    stats.loc[0, "has_parse"] = False
    stats.loc[0, "has_skeleton"] = False
    results = _check(stats)
    assert _failed(results) == {"shards_modalities_present"}
    assert results["shards_modalities_present"].unexpected_count == 1
    assert any(victim in e and "parse, skeleton" in e for e in results["shards_modalities_present"].examples)


def test_modalities_depend_on_layout_and_kind(stats):
    paired_only = stats.assign(has_parse=False, has_densepose=False)
    assert "shards_modalities_present" in _failed(_check(paired_only, "dresscode"))
    assert "shards_modalities_present" not in _failed(_check(paired_only, "streettryon"))
    lonely = stats.assign(has_person=False, has_garment=False)
    assert "shards_modalities_present" in _failed(_check(lonely, "folder"))
    assert "shards_modalities_present" not in _failed(_check(stats.assign(has_garment=False), "folder"))
    clips = stats.assign(kind="video", has_frames=True, has_parse=False)
    assert "shards_modalities_present" not in _failed(_check(clips, "vvt"))
    assert "shards_modalities_present" in _failed(_check(clips.assign(has_frames=False), "vvt"))


def test_agnostic_coverage_bounds_are_per_category(stats):
    upper = stats["category"] == "upper"
    dresses = stats["category"] == "dresses"
    stats.loc[dresses, "agnostic_coverage"] = 0.80  # inside the dresses bound (10-85%)
    assert not _failed(_check(stats))
    stats.loc[upper, "agnostic_coverage"] = 0.80  # outside the upper bound (5-70%)
    results = _check(stats)
    assert _failed(results) == {"shards_mask_coverage"}
    assert results["shards_mask_coverage"].unexpected_count == upper.sum()
    victim = stats.loc[upper, "sample_id"].iloc[0]
    assert any(
        victim in e and "agnostic_coverage_upper=0.8" in e for e in results["shards_mask_coverage"].examples
    )


def test_coverage_tolerates_a_few_close_ups_not_a_broken_annotator(stats):
    many = pd.concat([stats] * 4, ignore_index=True)
    many["sample_id"] = many["sample_id"] + "_" + many.index.astype(str)
    lower = many.index[many["category"] == "lower"]
    assert len(lower) >= 4
    many.loc[lower[0], "agnostic_coverage"] = 0.01  # one waist-cut shot: at most 25% of the lower samples
    assert not _failed(_check(many))
    assert "shards_mask_coverage" in _failed(_check(many.loc[lower[:2]]))  # one of two is too many
    many["garment_mask_coverage"] = 0.001  # every in-shop mask empty
    assert _failed(_check(many)) == {"shards_mask_coverage"}


def test_keypoint_confidence_tolerates_a_few_hard_poses_not_many(stats):
    stats.loc[0, "pose_mean_confidence"] = 0.05
    assert not _failed(_check(stats))  # one of nine below 0.3: within `mostly`
    stats["pose_mean_confidence"] = 0.2
    assert _failed(_check(stats)) == {"shards_keypoint_confidence"}


@pytest.mark.parametrize(("column", "value"), [("parse_max_label", 20), ("densepose_max_part", 25)])
def test_label_values_outside_the_label_set_fail(stats, column, value):
    stats.loc[1, column] = value
    results = _check(stats)
    assert _failed(results) == {"shards_label_values"}
    assert any(f"{column}={value}" in e for e in results["shards_label_values"].examples)


def test_sample_count_must_equal_manifest_minus_quarantine(stats):
    n = len(stats)
    assert not _failed(_check(stats, manifest_samples=n + 2, build_quarantined=2))
    results = _check(stats, manifest_samples=n + 2, build_quarantined=1)
    assert _failed(results) == {"shards_sample_count"}
    assert any(f"expected {n + 1}" in e for e in results["shards_sample_count"].examples)
    assert _failed(_check(stats, index_rows=n - 1)) == {"shards_sample_count"}


def test_incomplete_inputs_are_clear_errors(stats, built, tmp_path):
    with pytest.raises(ShardStatsError, match="lack column.*agnostic_coverage.*shard_stats"):
        _check(stats.drop(columns=["agnostic_coverage"]))
    with pytest.raises(ShardStatsError, match="index.parquet does not exist; materialize dataset_shards"):
        validate_shard_folder(tmp_path, built[1], "dresscode", "dc")
