"""Run the ingest, build and evaluate jobs from Python (the CLI and `make demo`): through Dagster, so every
run shows in its UI.

`materialize_manifest` executes `ingest_job`, `materialize_dataset` executes `build_job` (ingest, shards,
curated subset), `evaluate_dataset` executes `evaluate_job` (every evaluation asset), in this process for
one dataset partition against the persistent instance; a failed run or a failed blocking check becomes one
readable error.
"""

from __future__ import annotations

import time
from typing import Any

import dagster as dg
from dagster import DagsterInstance

from assets.curation import hqft_subset
from assets.evaluation import EVALUATION_ASSETS
from assets.shards import dataset_shards
from assets.sources import raw_manifest
from orchestration.definitions import defs
from orchestration.instance import get_instance
from orchestration.partitions import datasets_partitions
from preprocess.dataset_registry import DatasetRegistry, DatasetRegistryError

INGEST_JOB = "ingest_job"
BUILD_JOB = "build_job"
EVALUATE_JOB = "evaluate_job"


class ManifestRunError(RuntimeError):
    """The ingest run for a dataset failed or one of its blocking checks did not pass."""


def _plain(value: dg.MetadataValue) -> Any:
    """A metadata value as plain JSON-able data (paths become strings)."""
    raw = value.value
    return str(raw) if not isinstance(raw, (int, float, str, bool, list, dict, type(None))) else raw


def _step_failure_reason(event: dg.DagsterEvent) -> str:
    """Why a step failed: the description of a raised dg.Failure, else the root cause of the error."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error is not None else "unknown error"


def _failure_message(
    dataset: str, result: dg.ExecuteInProcessResult, action: str = "ingesting", retry: str = "ingest"
) -> str:
    failed_checks = [e for e in result.get_asset_check_evaluations() if not e.passed]
    if failed_checks:
        parts = []
        for evaluation in failed_checks:
            examples = evaluation.metadata.get("examples")
            count = evaluation.metadata.get("unexpected_count")
            detail = f"{count.value} unexpected" if count is not None else "failed"
            if examples is not None and examples.value:
                detail += f", e.g. {'; '.join(map(str, examples.value[:3]))}"
            parts.append(f"{evaluation.check_name} ({detail})")
        stages = {e.asset_key.to_user_string() for e in failed_checks}
        what = "manifest" if stages == {raw_manifest.key.to_user_string()} else ", ".join(sorted(stages))
        return (
            f"the {what} of dataset {dataset!r} failed blocking check(s): {'; '.join(parts)}. "
            f"Fix those samples in the dataset (or its reader) and {retry} again; the run is in the Dagster "
            f"UI (run {result.run_id})."
        )
    failures = result.get_step_failure_events()
    reasons = "; ".join(f"{event.step_key}: {_step_failure_reason(event)}" for event in failures)
    return (
        f"{action} dataset {dataset!r} failed: {reasons or 'the run did not succeed'} (run {result.run_id})"
    )


def _execute(
    job: str, dataset: str, instance: DagsterInstance | None, run_config: dict[str, Any], trigger: str
) -> dg.ExecuteInProcessResult:
    """Run `job` for one registered dataset's partition in this process, against the persistent instance.

    The console shows what `run_config`'s logger level lets through; every event still lands in the
    instance for the Dagster UI.
    """
    try:
        DatasetRegistry().get(dataset)
    except DatasetRegistryError as exc:
        raise ManifestRunError(str(exc)) from None
    instance = instance or get_instance()
    if not instance.has_dynamic_partition(datasets_partitions.name, dataset):
        instance.add_dynamic_partitions(datasets_partitions.name, [dataset])
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance,
        partition_key=dataset,
        raise_on_error=False,
        tags={"vton/trigger": trigger},
        run_config=run_config,
    )


def console_logging(level: str) -> dict[str, Any]:
    """The run config that sets the console logger's level (events below it still reach the instance)."""
    return {"loggers": {"console": {"config": {"log_level": level}}}}


def run_dataset_job(
    job: str,
    dataset: str,
    instance: DagsterInstance | None,
    run_config: dict[str, Any],
    trigger: str,
    *,
    action: str = "ingesting",
    retry: str = "ingest",
    error: type[ManifestRunError] = ManifestRunError,
) -> dg.ExecuteInProcessResult:
    """Run `job` for one dataset partition in this process; a failed run raises `error` naming the dataset,
    the failed step or check, and the command to retry."""
    result = _execute(job, dataset, instance, run_config, trigger)
    if not result.success:
        raise error(_failure_message(dataset, result, action=action, retry=retry))
    return result


def materialize_manifest(
    dataset: str, instance: DagsterInstance | None = None, console_log_level: str = "WARNING"
) -> dict[str, Any]:
    """Materialize raw_manifest for one registered dataset through Dagster; return its metadata as a dict.

    Raises ManifestRunError naming the dataset and the failed step or check when the run does not succeed.
    """
    result = run_dataset_job(
        INGEST_JOB, dataset, instance, console_logging(console_log_level), "materialize_manifest"
    )
    summary = run_metadata(result, raw_manifest.op.name)
    summary["run_id"] = result.run_id
    return summary


def run_metadata(result: dg.ExecuteInProcessResult, node: str) -> dict[str, Any]:
    """The plain metadata of the one materialization of `node` in a run (no Dagster keys, no Markdown)."""
    (materialization,) = result.asset_materializations_for_node(node)
    return {
        key: _plain(value)
        for key, value in materialization.metadata.items()
        if not key.startswith("dagster/") and not isinstance(value, dg.MarkdownMetadataValue)
    }


def materialize_dataset(
    dataset: str,
    instance: DagsterInstance | None = None,
    console_log_level: str = "WARNING",
    hqft_fraction: float | None = None,
) -> dict[str, Any]:
    """Ingest, annotate, shard and curate one registered dataset through Dagster (`build_job`).

    Returns the manifest's summary plus `quarantined` (manifest + annotation), `shards`, `annotated`,
    `annotation_engine` (ray_data, threads, in_process or none), `hqft_selected` and `seconds` (wall time of the run). Raises ManifestRunError naming the dataset and
    the failed step or check when the run does not succeed.
    """
    run_config = console_logging(console_log_level)
    if hqft_fraction is not None:
        run_config["ops"] = {hqft_subset.op.name: {"config": {"fraction": hqft_fraction}}}
    started = time.perf_counter()
    result = run_dataset_job(
        BUILD_JOB, dataset, instance, run_config, "materialize_dataset", action="building", retry="build"
    )
    manifest = run_metadata(result, raw_manifest.op.name)
    shards = run_metadata(result, dataset_shards.op.name)
    curated = run_metadata(result, hqft_subset.op.name)
    return manifest | {
        "manifest_samples": manifest["samples"],
        "manifest_quarantined": manifest["quarantined"],
        "samples": shards["samples"],
        "annotate_quarantined": shards["quarantined"],
        "quarantined": manifest["quarantined"] + shards["quarantined"],
        "shards": shards["shards"],
        "shards_written": shards["shards_written"],
        "annotated": shards["annotated"],
        "annotation_engine": shards["annotation_engine"],
        "shard_dir": shards["shard_dir"],
        "hqft_selected": curated["selected"],
        "hqft_kept": curated["kept"],
        "hqft": curated["hqft"],
        "seconds": round(time.perf_counter() - started, 3),
        "run_id": result.run_id,
    }


def evaluate_dataset(
    dataset: str, instance: DagsterInstance | None = None, console_log_level: str = "WARNING"
) -> list[dict[str, Any]]:
    """Run every evaluation asset for one built dataset through Dagster (`evaluate_job`).

    Returns each evaluation's plain metadata (model, setting, run_id, matched, missing_predictions, metric
    values, or `skipped` with the reason). Raises ManifestRunError naming the dataset and the failed step.
    """
    result = run_dataset_job(
        EVALUATE_JOB,
        dataset,
        instance,
        console_logging(console_log_level),
        "evaluate_dataset",
        action="evaluating",
        retry="evaluate",
    )
    return [
        run_metadata(result, asset.op.name) | {"dagster_run_id": result.run_id} for asset in EVALUATION_ASSETS
    ]
