"""raw_manifest materialized through Dagster for one dataset partition: Parquet, metadata and blocking checks."""

from __future__ import annotations

import json

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.definitions import defs
from preprocess.manifest import MANIFEST_FILE, SUMMARY_FILE
from quality.manifest_checks import MANIFEST_CHECKS


def _run(instance: dg.DagsterInstance, dataset: str) -> dg.ExecuteInProcessResult:
    if not instance.has_dynamic_partition("datasets", dataset):
        instance.add_dynamic_partitions("datasets", [dataset])
    return defs.resolve_job_def("ingest_job").execute_in_process(
        partition_key=dataset, instance=instance, raise_on_error=False
    )


def test_raw_manifest_partition_writes_parquet_metadata_and_passes_checks(
    ray_local, make_dataset, ephemeral_instance, vton_home
):
    make_dataset("tiny_hd", count=40, missing_cloth=("00007_00",))  # 40 pairs: two chunks, probed on Ray
    result = _run(ephemeral_instance, "tiny_hd")
    assert result.success

    manifest = vton_home / "manifests" / "tiny_hd" / MANIFEST_FILE
    table = pq.read_table(manifest)
    assert table.num_rows == 39
    assert "train__00007_00" not in table.column("sample_id").to_pylist()
    assert all(len(h) == 64 for h in table.column("content_hash").to_pylist())

    (materialization,) = result.asset_materializations_for_node("raw_manifest")
    assert materialization.partition == "tiny_hd"
    meta = {key: value.value for key, value in materialization.metadata.items()}
    summary = json.loads((manifest.parent / SUMMARY_FILE).read_text())
    assert meta["samples"] == meta["dagster/row_count"] == 39
    assert meta["quarantined"] == 1 and meta["candidates"] == 40
    assert meta["layout"] == "vitonhd" and meta["dataset"] == "tiny_hd"
    assert meta["manifest"] == str(manifest)
    assert meta["dataset_version"] == summary["dataset_version"]
    assert meta["bytes"] == sum(table.column("bytes").to_pylist()) > 0
    assert len(meta["fingerprint"]) == 64
    assert "train__00000_00" in meta["preview"] and "first 5 of 39 samples" in meta["preview"]
    assert "00007_00" in meta["quarantine_preview"] and "| reason | count |" in meta["quarantine_preview"]
    assert sum(meta["quarantine_reasons"].values()) == 1

    # The data version is the manifest's content id, so downstream assets see real changes only.
    event = ephemeral_instance.get_latest_materialization_event(dg.AssetKey("raw_manifest"))
    assert event.asset_materialization.tags["dagster/data_version"] == summary["dataset_version"]

    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {check.name for check in MANIFEST_CHECKS}
    assert all(e.passed and e.severity == dg.AssetCheckSeverity.ERROR for e in evaluations.values())
    assert evaluations["manifest_unique_ids"].metadata["rows"].value == 39


def test_a_failing_blocking_check_fails_the_run(ray_local, make_dataset, ephemeral_instance, monkeypatch):
    import assets.sources as sources

    real_build = sources.build_manifest

    def build_with_duplicate(*args, **kwargs):
        built = real_build(*args, **kwargs)
        table = pq.read_table(built.manifest)
        pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), built.manifest)
        return built

    monkeypatch.setattr(sources, "build_manifest", build_with_duplicate)
    make_dataset("dup_hd", count=3)
    result = _run(ephemeral_instance, "dup_hd")
    assert not result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evaluations["manifest_unique_ids"].passed
    assert evaluations["manifest_unique_ids"].metadata["examples"].value == ["sample_id='train__00000_00'"]
    assert all(e.passed for name, e in evaluations.items() if name != "manifest_unique_ids")


def test_unregistered_partition_fails_with_the_register_command(ray_local, vton_home, ephemeral_instance):
    result = _run(ephemeral_instance, "ghost")
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert "vton data register ghost ROOT" in failure.step_failure_data.error.message


def test_checks_without_a_manifest_explain_what_to_run(make_dataset, ephemeral_instance):
    make_dataset("never_built")
    ephemeral_instance.add_dynamic_partitions("datasets", ["never_built"])
    result = defs.resolve_job_def("ingest_job").execute_in_process(
        partition_key="never_built",
        instance=ephemeral_instance,
        op_selection=["raw_manifest_checks"],
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert "materialize raw_manifest first" in failure.step_failure_data.error.message
