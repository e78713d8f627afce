"""great-expectations 1.x checks on a built shard folder (its per-sample statistics and its index).

Five checks, each a group of expectations on one whole-DataFrame batch, run on the same process-wide
ephemeral GE context as the manifest checks (`quality.manifest_checks`):

- `shards_modalities_present`: every sample holds the fields its layout promises (below);
- `shards_mask_coverage`: the agnostic mask covers a plausible share of the person image for its
  category, and the garment mask a plausible share of the in-shop image (bounds below);
- `shards_keypoint_confidence`: at least `POSE_MOSTLY` (75%) of the samples have a mean body-keypoint
  confidence of at least `POSE_MIN_MEAN_CONFIDENCE` (0.3). Close-ups and waist-cut shots lose their legs
  (confidence 0) and fall below it, so a few are normal; a pose backend or format conversion gone wrong
  lowers nearly all of them;
- `shards_label_values`: parse labels inside LIP-20 (<= 19) and DensePose part indices inside 0-24;
- `shards_sample_count`: samples in the shards == manifest samples - samples the build quarantined.

Agnostic-mask bounds (share of the person image). The rough try-on mask covers the garment's region plus
the margin the CatVTON / HR-VITON rules add (arms for tops, legs for trousers and skirts). Under 5% (10%
for dresses) means the mask missed the garment (an empty or near-empty mask, e.g. no torso in the parse);
above 70% (85% for dresses) it swallows face, hands and background and leaves the model nothing to keep.
Dresses span shoulders to knees, so both limits are higher. Garment-mask bounds (share of the in-shop
image): 2% to 95%: an in-shop photo centres the garment on a plain background, so a mask under 2% is a
missed garment and one over 95% took the background in.
A few samples legitimately fall outside: close-ups whose top fills the frame (up to ~92% on the synthetic
generator's crops) and shots cut at the waist (lower-garment masks down to ~3%); they are hard cases for the
HQFT filter, not annotation failures. So each coverage expectation must hold for at least
`COVERAGE_MOSTLY` (75%) of a category's samples: a broken annotator or a wrong label mapping moves most
masks out of bounds and fails the check; the 5-95th percentiles of the generator's masks (upper 19-65%,
lower 8-23%, dresses 27-48%) sit well inside.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from preprocess.shards.index import INDEX_FILE, QUARANTINE_FILE
from preprocess.shards.stats import STATS_COLUMNS, shard_stats
from quality.manifest_checks import (
    MAX_EXAMPLES,
    ManifestCheck,
    ManifestCheckResult,
    build_suite,
    expectation_outcomes,
    ge_runtime,
    run_suite,
)

# The result type is shared with the manifest checks: one name, one description, pass/fail, examples.
ShardCheck = ManifestCheck
ShardCheckResult = ManifestCheckResult

IMAGE_FIELDS = (
    "person",
    "garment",
    "parse",
    "pose",
    "densepose",
    "garment_mask",
    "garment_landmarks",
    "agnostic_mask",
    "skeleton",
)
# Layout -> fields every image sample must hold; video clips need their frames and the garment.
REQUIRED_IMAGE_FIELDS: dict[str, tuple[str, ...]] = {"vitonhd": IMAGE_FIELDS, "dresscode": IMAGE_FIELDS}
PAIRED_IMAGE_FIELDS = ("person", "garment")
VIDEO_FIELDS = ("frames", "garment")
EITHER_FIELDS_LAYOUTS = ("folder",)

AGNOSTIC_COVERAGE = {"upper": (0.05, 0.70), "lower": (0.05, 0.70), "dresses": (0.10, 0.85)}
GARMENT_MASK_COVERAGE = (0.02, 0.95)
COVERAGE_MOSTLY = 0.75
POSE_MIN_MEAN_CONFIDENCE = 0.3
POSE_MOSTLY = 0.75
PARSE_MAX_LABEL = 19
DENSEPOSE_MAX_PART = 24

SHARD_CHECKS: tuple[ShardCheck, ...] = (
    ShardCheck(
        "shards_modalities_present",
        "Every sample holds its layout's fields: person, garment, parse, pose, densepose, garment_mask, "
        "garment_landmarks, agnostic_mask and skeleton for VITON-HD / DressCode images; frames and "
        "garment for video clips; person and garment for other paired images; one of them for folders.",
    ),
    ShardCheck(
        "shards_mask_coverage",
        "Agnostic mask covers 5-70% of the person image for upper and lower garments, 10-85% for dresses, "
        f"and the garment mask 2-95% of the in-shop image, for at least {COVERAGE_MOSTLY:.0%} of each "
        "category's samples (close-ups and waist-cut shots may fall outside).",
    ),
    ShardCheck(
        "shards_keypoint_confidence",
        f"At least {POSE_MOSTLY:.0%} of the samples with a pose have a mean body-keypoint confidence of "
        f"at least {POSE_MIN_MEAN_CONFIDENCE}.",
    ),
    ShardCheck(
        "shards_label_values",
        f"Parse labels are LIP-20 indices (<= {PARSE_MAX_LABEL}) and DensePose part indices are 0-"
        f"{DENSEPOSE_MAX_PART}.",
    ),
    ShardCheck(
        "shards_sample_count",
        "Samples in the shards (and rows of index.parquet) == manifest samples - samples the shard build "
        "quarantined.",
    ),
)


class ShardStatsError(ValueError):
    """The statistics frame lacks columns the checks need, or the shard folder is incomplete."""


def _required_fields(layout: str, kind: str) -> tuple[str, ...] | None:
    """Fields a sample must hold; None means 'person or garment' (plain folders)."""
    if kind == "video":
        return VIDEO_FIELDS
    if layout in REQUIRED_IMAGE_FIELDS:
        return REQUIRED_IMAGE_FIELDS[layout]
    if layout in EITHER_FIELDS_LAYOUTS:
        return None
    return PAIRED_IMAGE_FIELDS


def missing_modalities(stats: pd.DataFrame, layout: str) -> list[str | None]:
    """Per sample: the comma-separated fields it lacks for its layout, or None when it holds them all."""
    out: list[str | None] = []
    for row in stats.to_dict("records"):
        required = _required_fields(layout, str(row["kind"]))
        if required is None:
            lacking = [] if row["has_person"] or row["has_garment"] else ["person or garment"]
        else:
            lacking = [name for name in required if not row[f"has_{name}"]]
        out.append(", ".join(lacking) or None)
    return out


def _plain(values: Iterable[Any], kind: type) -> pd.Series:
    """Python numbers (None where missing) in an object column, so failure examples read `=0.8`, not
    `=np.float64(0.8)`; GE skips the missing values."""
    return pd.Series([None if pd.isna(v) else kind(v) for v in values], dtype=object)


def _samples_frame(stats: pd.DataFrame, layout: str) -> pd.DataFrame:
    frame = pd.DataFrame({"sample_id": stats["sample_id"].astype(object).to_numpy()})
    frame["missing_modalities"] = missing_modalities(stats, layout)
    category = stats["category"].to_numpy()
    for name in AGNOSTIC_COVERAGE:  # one column per category: the others' values are missing there
        coverage = stats["agnostic_coverage"].where(category == name)
        frame[f"agnostic_coverage_{name}"] = _plain(coverage.round(4), float)
    frame["garment_mask_coverage"] = _plain(stats["garment_mask_coverage"].round(4), float)
    frame["pose_mean_confidence"] = _plain(stats["pose_mean_confidence"].round(4), float)
    for column in ("parse_max_label", "densepose_max_part"):
        frame[column] = _plain(stats[column], int)
    return frame


def _sample_expectations() -> dict[str, list[tuple[str, str, dict]]]:
    between = "ExpectColumnValuesToBeBetween"
    return {
        "shards_modalities_present": [("ExpectColumnValuesToBeNull", "missing_modalities", {})],
        "shards_mask_coverage": [
            (
                between,
                f"agnostic_coverage_{category}",
                {"min_value": low, "max_value": high, "mostly": COVERAGE_MOSTLY},
            )
            for category, (low, high) in AGNOSTIC_COVERAGE.items()
        ]
        + [
            (
                between,
                "garment_mask_coverage",
                {
                    "min_value": GARMENT_MASK_COVERAGE[0],
                    "max_value": GARMENT_MASK_COVERAGE[1],
                    "mostly": COVERAGE_MOSTLY,
                },
            )
        ],
        "shards_keypoint_confidence": [
            (between, "pose_mean_confidence", {"min_value": POSE_MIN_MEAN_CONFIDENCE, "mostly": POSE_MOSTLY})
        ],
        "shards_label_values": [
            (between, "parse_max_label", {"min_value": 0, "max_value": PARSE_MAX_LABEL}),
            (between, "densepose_max_part", {"min_value": 0, "max_value": DENSEPOSE_MAX_PART}),
        ],
    }


def validate_shard_stats(
    stats: pd.DataFrame,
    layout: str,
    *,
    dataset: str,
    manifest_samples: int,
    build_quarantined: int,
    index_rows: int,
) -> list[ShardCheckResult]:
    """Run every shard check on `stats` (from `preprocess.shards.stats.shard_stats`) and the folder's counts."""
    lacking = [column for column in STATS_COLUMNS if column not in stats.columns]
    if lacking:
        raise ShardStatsError(
            f"shard statistics lack column(s) {', '.join(lacking)}; compute them with "
            "preprocess.shards.stats.shard_stats"
        )
    runtime = ge_runtime()
    samples = _samples_frame(stats, layout)
    grouped = expectation_outcomes(
        run_suite(
            runtime.samples, samples, build_suite("shard_samples", _sample_expectations()), ["sample_id"]
        )
    )
    expected = manifest_samples - build_quarantined
    counts = pd.DataFrame(
        {"dataset": [dataset], "shard_samples": [len(stats)], "index_rows": [index_rows]}, dtype=object
    )
    exact = {"min_value": expected, "max_value": expected}
    count_suite = {
        "shards_sample_count": [
            ("ExpectColumnValuesToBeBetween", "shard_samples", exact),
            ("ExpectColumnValuesToBeBetween", "index_rows", exact),
        ]
    }
    grouped |= expectation_outcomes(
        run_suite(runtime.samples, counts, build_suite("shard_counts", count_suite), ["dataset"])
    )
    results = []
    for check in SHARD_CHECKS:
        outcomes = grouped[check.name]
        examples = [example for outcome in outcomes if not outcome.success for example in outcome.examples]
        if check.name == "shards_sample_count" and examples:
            examples.append(
                f"expected {expected} = {manifest_samples} manifest samples - {build_quarantined} quarantined"
            )
        results.append(
            ShardCheckResult(
                name=check.name,
                description=check.description,
                passed=all(outcome.success for outcome in outcomes),
                rows=1 if check.name == "shards_sample_count" else len(samples),
                unexpected_count=sum(outcome.unexpected_count for outcome in outcomes),
                examples=list(dict.fromkeys(examples))[: MAX_EXAMPLES + 1],
                expectations=outcomes,
            )
        )
    return results


def validate_shard_folder(
    folder: Path, manifest: Path, layout: str, dataset: str, stats: pd.DataFrame | None = None
) -> list[ShardCheckResult]:
    """Run every shard check on a built shard folder against the manifest it was built from."""
    folder, manifest = Path(folder), Path(manifest)
    for path, fix in (
        (folder / INDEX_FILE, "materialize dataset_shards first (vton data build)"),
        (manifest, "materialize raw_manifest first (vton data ingest)"),
    ):
        if not path.is_file():
            raise ShardStatsError(f"{path} does not exist; {fix}")
    stats = shard_stats(folder) if stats is None else stats
    quarantine = folder / QUARANTINE_FILE
    quarantined = pq.read_metadata(quarantine).num_rows if quarantine.is_file() else 0
    return validate_shard_stats(
        stats,
        layout,
        dataset=dataset,
        manifest_samples=pq.read_metadata(manifest).num_rows,
        build_quarantined=quarantined,
        index_rows=pq.read_metadata(folder / INDEX_FILE).num_rows,
    )
