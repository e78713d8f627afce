"""build_job end to end: raw_manifest -> dataset_shards -> hqft_subset, blocking checks, CLI and errors."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from assets.curation import HQFT_FILE
from assets.shards import PREVIEW_FILE
from orchestration.runs import ManifestRunError, materialize_dataset
from preprocess.annotation_pipeline import LOCAL_MAX_ROWS
from preprocess.dataset_registry import DatasetRegistry
from preprocess.synthetic import generate_dataset
from quality.manifest_checks import MANIFEST_CHECKS
from quality.shard_checks import SHARD_CHECKS
from vton.cli import main


def _synthetic(vton_home: Path, layout: str, name: str, samples: int) -> Path:
    root = vton_home.parent / "datasets" / name
    generate_dataset(layout, samples, root, seed=11, size=(128, 96))
    DatasetRegistry().register(name, root, layout)
    return root


def _check_evaluations(instance: dg.DagsterInstance, run_id: str) -> dict[str, bool]:
    logged = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    return {
        e.dagster_event.event_specific_data.check_name: e.dagster_event.event_specific_data.passed
        for e in logged
    }


def _quality_rows(vton_home: Path, dataset: str, run_id: str) -> list[dict]:
    path = vton_home / "warehouse" / "quality_results" / f"dataset={dataset}" / f"{run_id}.parquet"
    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize(("layout", "samples"), [("vitonhd", 10), ("dresscode", 4)])
def test_build_job_end_to_end(ray_local, vton_home, ephemeral_instance, layout, samples):
    _synthetic(vton_home, layout, f"e2e_{layout}", samples)
    summary = materialize_dataset(f"e2e_{layout}", instance=ephemeral_instance)

    folder = vton_home / "shards" / f"e2e_{layout}"
    index = pq.read_table(folder / "index.parquet")
    assert (
        summary["samples"] == index.num_rows == summary["manifest_samples"] - summary["annotate_quarantined"]
    )
    assert summary["quarantined"] == summary["manifest_quarantined"] + summary["annotate_quarantined"] == 0
    assert summary["shards"] == len(json.loads((folder / "shards.json").read_text())["shards"]) >= 1
    json.dumps(summary)

    checks = _check_evaluations(ephemeral_instance, summary["run_id"])
    assert {c.name for c in SHARD_CHECKS} <= set(checks) and all(checks.values())

    hqft = pq.read_table(folder / HQFT_FILE).to_pandas()
    assert sorted(hqft["sample_id"]) == sorted(index["sample_id"].to_pylist())
    assert summary["hqft_selected"] == hqft["selected"].sum() == round(0.2 * len(hqft))
    assert hqft.loc[hqft["selected"], "keep"].all()
    assert all(isinstance(json.loads(s), dict) for s in hqft["scores"])
    assert (folder / PREVIEW_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    stored = _quality_rows(vton_home, f"e2e_{layout}", summary["run_id"])
    by_stage = {(r["stage"], r["check_name"]) for r in stored}
    assert by_stage == {("shards", c.name) for c in SHARD_CHECKS} | {
        ("manifest", c.name) for c in MANIFEST_CHECKS
    }
    assert all(r["passed"] for r in stored)
    stats_file = (
        vton_home
        / "warehouse"
        / "annotation_stats"
        / f"dataset=e2e_{layout}"
        / f"{summary['run_id']}.parquet"
    )
    stats = pq.read_table(stats_file).to_pandas()
    coverage = stats[
        (stats["field"] == "agnostic_mask") & stats["stat"].str.endswith(".agnostic_coverage_mean")
    ]
    assert set(coverage["annotator"]) == {"agnostic_mask"} and len(coverage) == len(
        set(index["category"].to_pylist())
    )
    assert coverage["value"].between(0.05, 0.85).all()
    present = stats[(stats["field"] == "parse") & stats["stat"].str.endswith(".present")]
    assert (present["value"] == 1.0).all() and (present["annotator"] == "provided").all()

    again = materialize_dataset(f"e2e_{layout}", instance=ephemeral_instance, hqft_fraction=0.5)
    small = summary["annotated"] <= LOCAL_MAX_ROWS  # a small build is annotated in threads, not on Ray Data
    assert summary["annotation_engine"] == ("threads" if small else "ray_data")
    assert again["annotated"] == 0 and again["samples"] == summary["samples"]
    assert again["annotation_engine"] == "none"
    assert again["hqft_selected"] == round(0.5 * len(hqft))


def test_failed_shard_check_blocks_curation_and_is_stored(
    ray_local, vton_home, ephemeral_instance, monkeypatch
):
    import quality.shard_checks as shard_checks

    # Bounds no real agnostic mask meets: the coverage check fails on genuine shards.
    monkeypatch.setattr(
        shard_checks, "AGNOSTIC_COVERAGE", {c: (0.9, 1.0) for c in ("upper", "lower", "dresses")}
    )
    _synthetic(vton_home, "vitonhd", "tight", 4)
    with pytest.raises(ManifestRunError) as raised:
        materialize_dataset("tight", instance=ephemeral_instance)
    message = str(raised.value)
    assert "'tight'" in message and "dataset_shards" in message and "shards_mask_coverage" in message
    assert "agnostic_coverage_upper" in message and "shards_label_values" not in message
    folder = vton_home / "shards" / "tight"
    assert (folder / "index.parquet").is_file() and not (folder / HQFT_FILE).exists()
    (run,) = ephemeral_instance.get_runs()
    stored = {r["check_name"]: r["passed"] for r in _quality_rows(vton_home, "tight", run.run_id)}
    assert stored["shards_mask_coverage"] is False and stored["shards_label_values"] is True


def test_vton_data_build_json(ray_local, vton_home, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    root = vton_home.parent / "cli_data"
    generate_dataset("vitonhd", 5, root, seed=2, size=(128, 96))
    broken = sorted((root / "train" / "image-parse-v3").glob("*.png"))[0]
    broken.write_bytes(b"not a png")  # the manifest keeps the sample; annotation quarantines it
    result = CliRunner().invoke(main, ["data", "build", str(root), "--name", "cli_build", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    for key in ("samples", "quarantined", "shards", "hqft_selected", "seconds"):
        assert key in summary
    assert summary["annotate_quarantined"] == 1 and summary["quarantined"] == 1
    assert summary["samples"] == summary["manifest_samples"] - 1
    assert summary["samples"] == pq.read_table(vton_home / "shards" / "cli_build" / "index.parquet").num_rows
    assert summary["hqft_selected"] == round(0.2 * summary["samples"])
    assert "datasets built" in result.output and "hqft_selected" in result.output  # the summary table
    missing = CliRunner().invoke(main, ["data", "build", str(vton_home.parent / "nowhere"), "--name", "gone"])
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_build_job_wiring_blocking_checks_and_automation():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    shards, curated = dg.AssetKey("dataset_shards"), dg.AssetKey("hqft_subset")
    assert graph.get(shards).parent_keys == {dg.AssetKey("raw_manifest")}
    assert graph.get(curated).parent_keys == {shards}
    shard_checks = {key.name for key in graph.asset_check_keys if key.asset_key == shards}
    assert shard_checks == {c.name for c in SHARD_CHECKS}
    assert all(graph.get_check_spec(key).blocking for key in graph.asset_check_keys)
    for key in (shards, curated):
        assert graph.get(key).automation_condition is not None
        assert graph.get(key).partitions_def.name == "datasets"
    job = defs.resolve_job_def("build_job")
    assert set(job.asset_layer.asset_graph.get_all_asset_keys()) >= {
        dg.AssetKey("raw_manifest"),
        shards,
        curated,
    }
