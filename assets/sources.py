"""Source assets: `raw_manifest` (one dataset partition -> manifest.parquet) and its blocking checks.

Thin wrappers: `preprocess.manifest.build_manifest` does the work (reading, hashing and probing on Ray),
`quality.manifest_checks` runs the great-expectations suites; this module turns their results into
Dagster metadata and AssetCheckResults.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from orchestration.partitions import datasets_partitions
from orchestration.resources import PathsResource, RayResource
from preprocess.dataset_fingerprint import FingerprintError, fingerprint_dataset
from preprocess.dataset_registry import DatasetRegistry, DatasetRegistryError
from preprocess.formats import LayoutError
from preprocess.manifest import MANIFEST_FILE, SUMMARY_FILE, build_manifest
from preprocess.samples import MANIFEST_SCHEMA
from quality.manifest_checks import (
    MANIFEST_CHECKS,
    ManifestCheckResult,
    ManifestSchemaError,
    validate_manifest_file,
)

PREVIEW_ROWS = 5
QUARANTINE_PREVIEW_ROWS = 10
PREVIEW_COLUMNS = ("sample_id", "split", "category", "kind", "pair_mode", "person_path", "garment_path")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


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
    return shown + _markdown_table([*PREVIEW_COLUMNS, "w x h", "hash"], body)


def _quarantine_preview(quarantine: Path, reasons: dict[str, int]) -> str:
    if not reasons:
        return "_nothing quarantined_"
    table = pq.read_table(quarantine, columns=["path", "sample_id", "stage", "reason"])
    counts = _markdown_table(["reason", "count"], sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    first = table.slice(0, QUARANTINE_PREVIEW_ROWS).to_pylist()
    rows = _markdown_table(["path", "sample_id", "stage", "reason"], [list(r.values()) for r in first])
    return f"{counts}\n\nfirst {len(first)} of {table.num_rows} rows\n\n{rows}"


def _progress_logger(context: dg.AssetExecutionContext, dataset: str) -> Callable[[int, int], None]:
    """A build_manifest progress callback that logs each tenth of the samples once (not every chunk)."""
    logged = {-1}

    def log(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth not in logged:
            logged.add(tenth)
            context.log.info(f"{dataset}: probed {done}/{total} samples")

    return log


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
            progress=_progress_logger(context, dataset),
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


def _check_result(result: ManifestCheckResult, dataset: str) -> dg.AssetCheckResult:
    expectations = _markdown_table(
        ["expectation", "column", "passed", "unexpected"],
        [[e.expectation, e.column, e.success, e.unexpected_count] for e in result.expectations],
    )
    return dg.AssetCheckResult(
        check_name=result.name,
        asset_key=raw_manifest.key,
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=result.description,
        metadata={
            "dataset": dataset,
            "rows": result.rows,
            "unexpected_count": result.unexpected_count,
            "examples": dg.MetadataValue.json(result.examples),
            "expectations": dg.MetadataValue.md(expectations),
        },
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
    if not context.has_partition_key:
        raise dg.Failure(
            description="raw_manifest checks run per dataset: launch them for one dataset partition"
        )
    dataset = context.partition_key
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
    for result in results:
        yield _check_result(result, dataset)


defs = dg.Definitions(assets=[raw_manifest], asset_checks=[raw_manifest_checks])
