"""materialize_manifest: the CLI's and the demo's way to ingest, through Dagster on the persistent instance."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.runs import ManifestRunError, materialize_manifest
from quality.manifest_checks import MANIFEST_CHECKS


@pytest.fixture()
def fresh_dagster_home(vton_home, monkeypatch) -> Path:
    """No DAGSTER_HOME from the caller: materialize_manifest must put one under VTON_HOME."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return vton_home / "dagster"


def test_materialize_manifest_end_to_end_on_a_temporary_dagster_home(
    ray_local, make_dataset, fresh_dagster_home, vton_home
):
    make_dataset("cli_hd", count=4, missing_cloth=("00002_00",))
    summary = materialize_manifest("cli_hd")

    assert summary["samples"] == 3 and summary["quarantined"] == 1 and summary["candidates"] == 4
    assert Path(summary["manifest"]) == vton_home / "manifests" / "cli_hd" / "manifest.parquet"
    assert pq.read_table(summary["manifest"]).num_rows == 3
    assert summary["layout"] == "vitonhd" and summary["dataset"] == "cli_hd"
    json.dumps(summary)  # plain data: the CLI prints it as its last line
    assert not any(key.startswith("dagster/") or key.endswith("preview") for key in summary)

    instance = dg.DagsterInstance.get()
    try:
        assert Path(instance.root_directory) == fresh_dagster_home.resolve()
        run = instance.get_run_by_id(summary["run_id"])
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["dagster/partition"] == "cli_hd"
        assert instance.get_dynamic_partitions("datasets") == ["cli_hd"]
        logged = instance.all_logs(summary["run_id"], of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        evaluations = [entry.dagster_event.event_specific_data for entry in logged]
        assert len(evaluations) == len(MANIFEST_CHECKS) and all(e.passed for e in evaluations)
    finally:
        instance.dispose()

    again = materialize_manifest("cli_hd")  # the partition exists now; a second run is fine
    assert again["dataset_version"] == summary["dataset_version"] and again["run_id"] != summary["run_id"]


def test_unregistered_dataset_is_a_clear_error(fresh_dagster_home):
    with pytest.raises(ManifestRunError, match="'nope' is not registered.*vton data register nope ROOT"):
        materialize_manifest("nope")


def test_failed_blocking_check_names_the_check_and_the_dataset(
    ray_local, make_dataset, fresh_dagster_home, monkeypatch
):
    import assets.sources as sources

    real_build = sources.build_manifest

    def build_with_escaping_path(*args, **kwargs):
        built = real_build(*args, **kwargs)
        rows = pq.read_table(built.manifest).to_pylist()
        rows[0]["garment_path"] = "../../elsewhere/cloth.jpg"
        pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(built.manifest)), built.manifest)
        return built

    monkeypatch.setattr(sources, "build_manifest", build_with_escaping_path)
    make_dataset("leaky", count=2)
    with pytest.raises(ManifestRunError) as raised:
        materialize_manifest("leaky")
    message = str(raised.value)
    assert "'leaky'" in message and "manifest_paths_inside_root" in message
    assert "../../elsewhere/cloth.jpg" in message and "manifest_unique_ids" not in message


def test_failed_step_reports_the_readers_reason(ray_local, vton_home, tmp_path, fresh_dagster_home):
    from preprocess.dataset_registry import DatasetRegistry

    empty = tmp_path / "not_a_dataset"
    empty.mkdir()
    DatasetRegistry().register("mystery", empty, "auto")
    with pytest.raises(
        ManifestRunError, match=r"ingesting dataset 'mystery' failed: raw_manifest: dataset 'mystery'"
    ):
        materialize_manifest("mystery")
