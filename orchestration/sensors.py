"""Sensors: `dataset_files_sensor` turns registered datasets into partitions and file changes into refreshes;
`<family>_new_data_sensor` retrains a model family when a dataset it was trained on lands in a new version.

Every 30 s it fingerprints each registered dataset (names, sizes and mtimes only; see
preprocess/dataset_fingerprint.py) and compares with its cursor, a JSON object {dataset: fingerprint}.
A newly registered dataset gets a dynamic partition; a new or changed dataset gets one ingest run for its
partition only. A dataset the cursor has not seen yet (first tick, reset cursor) is compared with the
fingerprint its latest materialization recorded, so manifests built by `vton data ingest` are not rebuilt.

The new-data sensors compare the dataset version of each dataset's latest `dataset_shards` materialization
with the one the family's latest checkpoint was trained on, and request one training run per new version
(run key family:dataset:version), unless that family is already training on that dataset.
"""

import json
from pathlib import Path

import dagster as dg

from assets.shards import dataset_shards
from assets.sources import raw_manifest
from assets.training import CHECKPOINT_ASSETS
from orchestration.jobs import FAMILY_JOBS, ingest_job
from orchestration.partitions import datasets_partitions
from orchestration.resources import PathsResource
from orchestration.schedules import retrain_requests, trained_datasets
from preprocess.dataset_fingerprint import FingerprintError, fingerprint_dataset
from preprocess.dataset_registry import DatasetRegistry


def _read_cursor(raw: str | None) -> dict[str, str]:
    """The previous tick's fingerprints; an unreadable cursor counts as empty (everything is compared again)."""
    if not raw:
        return {}
    try:
        cursor = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in cursor.items()} if isinstance(cursor, dict) else {}


def _materialized_fingerprint(instance: dg.DagsterInstance, dataset: str) -> str | None:
    """The fingerprint recorded by the latest raw_manifest materialization of this dataset, if any."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=raw_manifest.key, asset_partitions=[dataset]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    value = records[0].asset_materialization.metadata.get("fingerprint")
    return str(value.value) if value is not None else None


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition per registered dataset and refreshes raw_manifest for new or changed files.",
)
def dataset_files_sensor(context: dg.SensorEvaluationContext, paths: PathsResource) -> dg.SensorResult:
    """Compare every registered dataset's file fingerprint with the cursor; request runs for the changed ones."""
    previous = _read_cursor(context.cursor)
    datasets = DatasetRegistry(paths.vton_home()).all()
    known = set(context.instance.get_dynamic_partitions(datasets_partitions.name))
    new_partitions = sorted(name for name in datasets if name not in known)
    cursor: dict[str, str] = {}
    run_requests: list[dg.RunRequest] = []
    for name, entry in sorted(datasets.items()):
        try:
            fingerprint = fingerprint_dataset(Path(entry.root), entry.layout)
        except FingerprintError as exc:
            context.log.warning(f"skipping dataset {name!r}: {exc}")
            if name in previous:
                cursor[name] = previous[name]
            continue
        cursor[name] = fingerprint.digest
        last = previous.get(name)
        if last is None and name in known:
            last = _materialized_fingerprint(context.instance, name)
        if last == fingerprint.digest:
            continue
        context.log.info(
            f"{name}: {'new' if last is None else 'changed'} ({fingerprint.files} files); requesting a refresh"
        )
        run_requests.append(
            dg.RunRequest(
                partition_key=name,
                run_key=f"{name}:{fingerprint.digest}",
                tags={"vton/trigger": "dataset_files_sensor", "vton/fingerprint": fingerprint.digest[:16]},
            )
        )
    return dg.SensorResult(
        run_requests=run_requests,
        cursor=json.dumps(cursor, sort_keys=True),
        dynamic_partitions_requests=[datasets_partitions.build_add_request(new_partitions)]
        if new_partitions
        else [],
    )


def _latest_metadata(instance: dg.DagsterInstance, key: dg.AssetKey, dataset: str) -> dict[str, str] | None:
    """The latest materialization's metadata of one partition (plain strings), None when never materialized."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[dataset]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return None
    return {k: str(v.value) for k, v in records[0].asset_materialization.metadata.items()}


def new_data_sensor(family: str) -> dg.SensorDefinition:
    """Retrain `family` on a dataset when its shards land in a version the family's model was not trained on."""

    @dg.sensor(
        name=f"{family}_new_data_sensor",
        job=FAMILY_JOBS[family].train,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Retrains {family} on a dataset whose shards changed version since its last training.",
    )
    def _sensor(context: dg.SensorEvaluationContext, paths: PathsResource) -> dg.SensorResult:
        trained = trained_datasets(paths.vton_home(), family)
        stale: list[tuple[str, str, str | None]] = []
        for dataset, preset in sorted(trained.items()):
            shards = _latest_metadata(context.instance, dataset_shards.key, dataset)
            checkpoint = _latest_metadata(context.instance, CHECKPOINT_ASSETS[family].key, dataset)
            if shards is None or checkpoint is None:
                continue
            landed, used = shards.get("dataset_version", ""), checkpoint.get("dataset_version", "")
            if landed and landed != used:
                context.log.info(f"{dataset}: shards are version {landed}, {family} was trained on {used}")
                # one run per dataset version, however many ticks see it
                stale.append((dataset, preset, f"{family}:{dataset}:{landed}"))
        requests = retrain_requests(
            context.instance, family, stale, f"{family}_new_data_sensor", log=context.log
        )
        return dg.SensorResult(run_requests=requests)

    return _sensor


NEW_DATA_SENSORS = [new_data_sensor(family) for family in CHECKPOINT_ASSETS]
