"""The whole Definitions object loads and validates, the way `dagster dev` and `dagster definitions validate` do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from orchestration.definitions import defs
from quality.manifest_checks import MANIFEST_CHECKS
from quality.shard_checks import SHARD_CHECKS

REPO = Path(__file__).resolve().parents[2]


def test_definitions_validate_and_wire_the_ingest_graph():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("raw_manifest") in graph.get_all_asset_keys()
    checks = {key.name for key in graph.asset_check_keys}
    assert checks == {check.name for check in (*MANIFEST_CHECKS, *SHARD_CHECKS)}
    assert {dg.AssetKey("dataset_shards"), dg.AssetKey("hqft_subset")} <= graph.get_all_asset_keys()
    assert all(graph.get_check_spec(key).blocking for key in graph.asset_check_keys)
    job = defs.resolve_job_def("ingest_job")
    assert job.partitions_def is not None and job.partitions_def.name == "datasets"
    ingest_checks = {spec.name for spec in job.asset_layer.asset_graph.asset_check_keys}
    assert ingest_checks == {check.name for check in MANIFEST_CHECKS}
    sensor = defs.resolve_sensor_def("dataset_files_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 30
    assert set(defs.resources) == {"ray", "paths"}


def test_dagster_cli_validates_the_code_location(tmp_path):
    env = dict(os.environ, DAGSTER_HOME=str(tmp_path), DAGSTER_DISABLE_TELEMETRY="1")
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Validation successful" in done.stderr + done.stdout
