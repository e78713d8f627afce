"""dataset_files_sensor: partitions for new datasets, one run per new or changed dataset, nothing otherwise."""

from __future__ import annotations

import json
import shutil

import dagster as dg

from orchestration.resources import PathsResource
from orchestration.sensors import dataset_files_sensor
from preprocess.dataset_fingerprint import fingerprint_dataset


def _tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    """Evaluate the sensor once and apply its partition requests, as the daemon does."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"paths": PathsResource()})
    result = dataset_files_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def _requested(result: dg.SensorResult) -> list[str]:
    return [request.partition_key for request in result.run_requests or []]


def _added(result: dg.SensorResult) -> list[str]:
    return [key for request in result.dynamic_partitions_requests or [] for key in request.partition_keys]


def test_new_dataset_gets_a_partition_and_one_run(make_dataset, ephemeral_instance):
    root = make_dataset("alpha")
    result = _tick(ephemeral_instance, None)
    assert _added(result) == ["alpha"]
    assert _requested(result) == ["alpha"]
    fingerprint = fingerprint_dataset(root, "vitonhd").digest
    (request,) = result.run_requests
    assert request.run_key == f"alpha:{fingerprint}"
    assert dataset_files_sensor.job_name == "ingest_job"
    assert json.loads(result.cursor) == {"alpha": fingerprint}
    assert ephemeral_instance.get_dynamic_partitions("datasets") == ["alpha"]


def test_unchanged_datasets_request_nothing_and_changes_request_only_their_partition(
    make_dataset, ephemeral_instance
):
    alpha = make_dataset("alpha")
    first = _tick(ephemeral_instance, None)
    quiet = _tick(ephemeral_instance, first.cursor)
    assert _requested(quiet) == [] and _added(quiet) == []
    assert quiet.cursor == first.cursor

    make_dataset("beta")
    second = _tick(ephemeral_instance, quiet.cursor)
    assert _added(second) == ["beta"] and _requested(second) == ["beta"]

    (alpha / "train" / "image" / "00001_00.jpg").write_bytes(b"edited")
    third = _tick(ephemeral_instance, second.cursor)
    assert _added(third) == [] and _requested(third) == ["alpha"]
    assert json.loads(third.cursor)["beta"] == json.loads(second.cursor)["beta"]
    assert _requested(_tick(ephemeral_instance, third.cursor)) == []


def test_fresh_cursor_trusts_the_fingerprint_of_the_last_materialization(make_dataset, ephemeral_instance):
    root = make_dataset("alpha")
    ephemeral_instance.add_dynamic_partitions("datasets", ["alpha"])
    fingerprint = fingerprint_dataset(root, "vitonhd").digest
    ephemeral_instance.report_runless_asset_event(
        dg.AssetMaterialization("raw_manifest", partition="alpha", metadata={"fingerprint": fingerprint})
    )
    assert _requested(_tick(ephemeral_instance, None)) == []
    (root / "train_pairs.txt").write_text("00000_00.jpg 00000_00.jpg\n")
    assert _requested(_tick(ephemeral_instance, None)) == ["alpha"]


def test_vanished_root_is_skipped_without_failing_the_tick(make_dataset, ephemeral_instance):
    gone = make_dataset("gone")
    make_dataset("kept")
    first = _tick(ephemeral_instance, None)
    shutil.rmtree(gone)
    second = _tick(ephemeral_instance, first.cursor)
    assert _requested(second) == []
    assert json.loads(second.cursor) == json.loads(first.cursor)  # gone keeps its last fingerprint


def test_garbled_cursor_counts_as_empty(make_dataset, ephemeral_instance):
    make_dataset("alpha")
    assert _requested(_tick(ephemeral_instance, "not json")) == ["alpha"]
