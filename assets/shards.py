"""Shard assets: `dataset_shards` (one dataset partition -> annotated WebDataset shards) and its blocking checks.

Thin wrappers: `preprocess.annotation_pipeline.build_dataset_shards` annotates on Ray Data and writes the
shards incrementally; `quality.shard_checks` runs the great-expectations checks on the shards' statistics;
each check outcome is also stored in the warehouse `quality_results` table (stage "shards"), and the
per-category annotation statistics in `annotation_stats`.
"""

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from assets.reporting import (
    check_partition,
    check_result,
    markdown_table,
    progress_logger,
    store_quality_results,
)
from assets.sources import raw_manifest
from orchestration.partitions import datasets_partitions
from orchestration.resources import PathsResource, RayResource
from preprocess.annotation_pipeline import build_dataset_shards
from preprocess.dataset_registry import DatasetRegistry, DatasetRegistryError
from preprocess.manifest import MANIFEST_FILE, SUMMARY_FILE
from preprocess.samples import QuarantineRow
from preprocess.shards.preview import contact_sheet
from preprocess.shards.reader import SHARDS_JSON
from preprocess.shards.stats import category_summary, shard_stats
from quality.shard_checks import SHARD_CHECKS, ShardStatsError, validate_shard_folder
from vton import atomic_files
from vton.home import VtonHome
from warehouse.writer import write_rows

PREVIEW_FILE = "preview.png"
QUALITY_STAGE = "shards"
STATS_COLUMNS_SHOWN = (
    "samples",
    "agnostic_coverage_mean",
    "garment_mask_coverage_mean",
    "pose_mean_confidence_mean",
    "has_parse",
    "has_pose",
    "has_densepose",
    "has_agnostic_mask",
)


def shard_dir(home: VtonHome, dataset: str) -> Path:
    """Where a dataset's shards live: VTON_HOME/shards/<dataset>."""
    return home.shards / dataset


def _manifest(home: VtonHome, dataset: str) -> tuple[Path, str]:
    """The dataset's manifest and its layout; a dg.Failure naming the fix when it was never built."""
    folder = home.manifest_dir(dataset)
    if not (folder / SUMMARY_FILE).is_file():
        raise dg.Failure(
            description=f"dataset {dataset!r} has no manifest in {folder}; materialize raw_manifest first"
        )
    return folder / MANIFEST_FILE, json.loads((folder / SUMMARY_FILE).read_text())["layout"]


def _stats_table(summary: dict[str, dict[str, float]]) -> str:
    rows = [
        [category, *(f"{values.get(column, float('nan')):.3g}" for column in STATS_COLUMNS_SHOWN)]
        for category, values in summary.items()
    ]
    return markdown_table(["category", *STATS_COLUMNS_SHOWN], rows) if rows else "_no samples_"


def _quarantine_table(rows: list[QuarantineRow]) -> str:
    if not rows:
        return "_nothing quarantined_"
    reasons: dict[str, int] = {}
    for row in rows:
        reasons[row.reason] = reasons.get(row.reason, 0) + 1
    counts = markdown_table(["reason", "count"], sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    first = markdown_table(
        ["sample_id", "path", "reason"], [[r.sample_id, r.path, r.reason] for r in rows[:10]]
    )
    return f"{counts}\n\nfirst {min(10, len(rows))} of {len(rows)}\n\n{first}"


@dg.asset(
    partitions_def=datasets_partitions,
    group_name="annotations",
    kinds={"webdataset", "ray"},
    deps=[raw_manifest],
    automation_condition=dg.AutomationCondition.eager()
    & dg.AutomationCondition.all_deps_blocking_checks_passed(),
)
def dataset_shards(
    context: dg.AssetExecutionContext, paths: PathsResource, ray: RayResource
) -> dg.MaterializeResult:
    """The dataset's samples annotated (parse, pose, DensePose, masks, landmarks, skeleton) in WebDataset
    shards; only new and changed samples are annotated again. `ray` is requested for its setup."""
    dataset = context.partition_key
    home = paths.vton_home()
    manifest, layout = _manifest(home, dataset)
    try:
        root = Path(DatasetRegistry(home).get(dataset).root)
    except DatasetRegistryError as exc:
        raise dg.Failure(description=f"dataset {dataset!r}: {exc}") from None
    folder = shard_dir(home, dataset)
    result = build_dataset_shards(
        manifest, root, folder, use_ray=True, progress=progress_logger(context, dataset, "annotated")
    )
    built = json.loads((folder / SHARDS_JSON).read_text())
    summary = category_summary(shard_stats(folder))
    metadata: dict[str, object] = {
        "dataset": dataset,
        "layout": layout,
        "samples": result.samples,
        "quarantined": result.quarantined,
        "dagster/row_count": result.samples,
        "shards": result.shards,
        "shards_written": len(result.shards_written),
        "shards_kept": len(result.shards_kept),
        "annotated": result.annotated,
        "annotation_engine": result.annotation_engine,  # ray_data, threads, in_process or none
        "annotation_actors": result.annotation_actors,
        "seconds": float(result.seconds),
        "dataset_version": result.dataset_version,
        "annotators": dg.MetadataValue.json(built.get("annotators", {})),
        "shard_dir": dg.MetadataValue.path(str(folder)),
        "quarantine_preview": dg.MetadataValue.md(_quarantine_table(result.quarantine)),
        "category_stats": dg.MetadataValue.md(_stats_table(summary)),
    }
    sheet = contact_sheet(folder)
    if sheet is not None:
        atomic_files.write_bytes(folder / PREVIEW_FILE, sheet)
        metadata["preview"] = dg.MetadataValue.path(str(folder / PREVIEW_FILE))
        encoded = base64.b64encode(sheet).decode()
        metadata["preview_image"] = dg.MetadataValue.md(f"![contact sheet](data:image/png;base64,{encoded})")
    stat_rows = annotation_stat_rows(
        context.run.run_id, dataset, result.dataset_version, built.get("annotators", {}), summary
    )
    if stat_rows:
        write_rows("annotation_stats", stat_rows, home)
    return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(result.dataset_version))


# The measurement that describes each annotated field (stats.py columns), besides its presence.
FIELD_MEASURES = {
    "agnostic_mask": "agnostic_coverage",
    "garment_mask": "garment_mask_coverage",
    "pose": "pose_mean_confidence",
}


def annotation_stat_rows(
    run_id: str,
    dataset: str,
    dataset_version: str,
    annotators: dict[str, dict[str, str]],
    summary: dict[str, dict[str, float]],
) -> list[dict]:
    """Rows of the warehouse `annotation_stats` table: per field and annotator, `<category>.present` (share
    of samples holding the field) and its measurement's mean/min/max (`<category>.agnostic_coverage_mean`).

    `annotators` is shards.json's field -> {annotator: version}; a field filled by two annotators (shipped
    files for some samples, computed for others) gets the same per-category values under each.
    """
    now = datetime.now(UTC)
    rows = []
    for field, versions in sorted(annotators.items()):
        for category, values in sorted(summary.items()):
            stats = {f"{category}.present": values.get(f"has_{field}")}
            measure = FIELD_MEASURES.get(field)
            for agg in ("mean", "min", "max"):
                if measure and f"{measure}_{agg}" in values:
                    stats[f"{category}.{measure}_{agg}"] = values[f"{measure}_{agg}"]
            for name, version in sorted(versions.items()):
                rows += [
                    {
                        "run_id": run_id,
                        "dataset": dataset,
                        "dataset_version": dataset_version,
                        "annotator": name,
                        "annotator_version": version,
                        "field": field,
                        "stat": stat,
                        "value": value,
                        "created_at": now,
                    }
                    for stat, value in stats.items()
                    if value is not None
                ]
    return rows


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(check.name, asset=dataset_shards, blocking=True, description=check.description)
        for check in SHARD_CHECKS
    ],
)
def dataset_shards_checks(
    context: dg.AssetCheckExecutionContext, paths: PathsResource
) -> Iterable[dg.AssetCheckResult]:
    """great-expectations checks over the dataset's shards; any failure blocks the curated subsets."""
    dataset = check_partition(context, "dataset_shards")
    home = paths.vton_home()
    manifest, layout = _manifest(home, dataset)
    folder = shard_dir(home, dataset)
    try:
        results = validate_shard_folder(folder, manifest, layout, dataset)
    except (ShardStatsError, FileNotFoundError) as exc:
        raise dg.Failure(description=f"dataset {dataset!r}: {exc}") from None
    version = json.loads((folder / SHARDS_JSON).read_text()).get("dataset_version")
    store_quality_results(home, context.run.run_id, dataset, version, QUALITY_STAGE, results)
    for result in results:
        yield check_result(result, dataset_shards.key, dataset)


defs = dg.Definitions(assets=[dataset_shards], asset_checks=[dataset_shards_checks])
