"""Source assets: `raw_manifest` (one dataset partition -> manifest.parquet) and its blocking checks.

Thin wrappers: `preprocess.manifest.build_manifest` does the work (reading, hashing and probing on Ray),
`quality.manifest_checks` runs the great-expectations suites; this module turns their results into
Dagster metadata and AssetCheckResults.
"""

import json
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from assets.reporting import (
    check_partition,
    check_result,
    markdown_table,
    progress_logger,
    store_quality_results,
)
from orchestration.partitions import datasets_partitions
from orchestration.resources import PathsResource, RayResource
from preprocess.dataset_fingerprint import FingerprintError, fingerprint_dataset
from preprocess.dataset_registry import DatasetRegistry, DatasetRegistryError
from preprocess.formats import LayoutError
from preprocess.manifest import MANIFEST_FILE, SUMMARY_FILE, build_manifest
from preprocess.samples import MANIFEST_SCHEMA
from quality.manifest_checks import (
    MANIFEST_CHECKS,
    ManifestSchemaError,
    validate_manifest_file,
)

PREVIEW_ROWS = 5
QUARANTINE_PREVIEW_ROWS = 10
PREVIEW_COLUMNS = ("sample_id", "split", "category", "kind", "pair_mode", "person_path", "garment_path")


def _manifest_preview(manifest: Path) -> str:
    table = pq.read_table(manifest, columns=[*PREVIEW_COLUMNS, "width", "height", "content_hash"])
    rows = table.slice(0, PREVIEW_ROWS).to_pylist()
    if not rows:
        return "_no samples_"
    body = [
        [*(r[c] for c in PREVIEW_COLUMNS), f"{r['width']}x{r['height']}", (r["content_hash"] or "")[:12]]
        for r in rows
    ]
    shown = f"first {len(rows)} of {table.num_rows} samples\n\n"
    return shown + markdown_table([*PREVIEW_COLUMNS, "w x h", "hash"], body)


def _quarantine_preview(quarantine: Path, reasons: dict[str, int]) -> str:
    if not reasons:
        return "_nothing quarantined_"
    table = pq.read_table(quarantine, columns=["path", "sample_id", "stage", "reason"])
    counts = markdown_table(["reason", "count"], sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    first = table.slice(0, QUARANTINE_PREVIEW_ROWS).to_pylist()
    rows = markdown_table(["path", "sample_id", "stage", "reason"], [list(r.values()) for r in first])
    return f"{counts}\n\nfirst {len(first)} of {table.num_rows} rows\n\n{rows}"


MANIFEST_COLUMN_SCHEMA = dg.TableSchema(
    columns=[dg.TableColumn(name=f.name, type=str(f.type)) for f in MANIFEST_SCHEMA]
)


@dg.asset(
    partitions_def=datasets_partitions,
    group_name="sources",
    kinds={"parquet", "ray"},
    metadata={"dagster/column_schema": MANIFEST_COLUMN_SCHEMA},
)
def raw_manifest(
    context: dg.AssetExecutionContext, paths: PathsResource, ray: RayResource
) -> dg.MaterializeResult:
    """One row per sample of a registered dataset, with content hashes; rejects go to quarantine.parquet.

    `ray` is requested for its setup: Ray is up (or connected) before build_manifest fans out over it.
    """
    dataset = context.partition_key
    home = paths.vton_home()
    try:
        entry = DatasetRegistry(home).get(dataset)
        fingerprint = fingerprint_dataset(Path(entry.root), entry.layout)
        result = build_manifest(
            Path(entry.root),
            dataset,
            home.manifest_dir(dataset),
            entry.layout,
            use_ray=True,
            progress=progress_logger(context, dataset, "probed"),
        )
    except (DatasetRegistryError, FingerprintError, LayoutError) as exc:
        raise dg.Failure(description=f"dataset {dataset!r}: {exc}") from None
    for warning in result.warnings:
        context.log.warning(f"{dataset}: {warning}")
    return dg.MaterializeResult(
        metadata={
            "dataset": dataset,
            "layout": result.layout,
            "root": dg.MetadataValue.path(result.root),
            "candidates": result.candidates,
            "samples": result.samples,
            "quarantined": result.quarantined,
            "dagster/row_count": result.samples,
            "dataset_version": result.dataset_version,
            "bytes": result.bytes,
            "seconds": float(result.seconds),
            "manifest": dg.MetadataValue.path(result.manifest),
            "quarantine": dg.MetadataValue.path(result.quarantine),
            "fingerprint": fingerprint.digest,
            "warnings": dg.MetadataValue.json(list(result.warnings)),
            "quarantine_reasons": dg.MetadataValue.json(dict(result.quarantine_reasons)),
            "preview": dg.MetadataValue.md(_manifest_preview(Path(result.manifest))),
            "quarantine_preview": dg.MetadataValue.md(
                _quarantine_preview(Path(result.quarantine), result.quarantine_reasons)
            ),
        },
        data_version=dg.DataVersion(result.dataset_version),
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(check.name, asset=raw_manifest, blocking=True, description=check.description)
        for check in MANIFEST_CHECKS
    ],
)
def raw_manifest_checks(
    context: dg.AssetCheckExecutionContext, paths: PathsResource
) -> Iterable[dg.AssetCheckResult]:
    """great-expectations suites over the dataset's manifest; any failure blocks everything downstream."""
    dataset = check_partition(context, "raw_manifest")
    folder = paths.vton_home().manifest_dir(dataset)
    summary = folder / SUMMARY_FILE
    if not summary.is_file():
        raise dg.Failure(
            description=f"dataset {dataset!r} has no manifest in {folder}; materialize raw_manifest first"
        )
    layout = json.loads(summary.read_text())["layout"]
    try:
        results = validate_manifest_file(folder / MANIFEST_FILE, layout)
    except (ManifestSchemaError, FileNotFoundError) as exc:
        raise dg.Failure(description=f"dataset {dataset!r}: {exc}") from None
    summary_data = json.loads(summary.read_text())
    store_quality_results(
        paths.vton_home(),
        context.run.run_id,
        dataset,
        summary_data.get("dataset_version"),
        "manifest",
        results,
    )
    for result in results:
        yield check_result(result, raw_manifest.key, dataset)


defs = dg.Definitions(assets=[raw_manifest], asset_checks=[raw_manifest_checks])
