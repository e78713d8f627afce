"""evaluate_job end to end on a tiny synthetic VITON-HD: baselines and rough masks scored, the three evaluation
tables written, the leaderboard showing them; paper_results; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from fixtures.evaluation_data import build_synthetic

from assets.evaluation import EVALUATION_ASSETS, paper_results
from metrics.evaluation import GroundTruth
from metrics.evaluation.suite import setting_samples
from orchestration.resources import PathsResource
from orchestration.runs import ManifestRunError, evaluate_dataset
from preprocess.dataset_registry import DatasetRegistry
from vton.cli import main
from vton.home import VtonHome
from warehouse.paper_results import load_paper_results
from warehouse.query import leaderboard

MODELS = {"identity_tryon", "paste_garment", "agnostic_mask"}


def _built(vton_home: Path, name: str, samples: int = 6) -> Path:
    """A synthetic VITON-HD built into VTON_HOME's manifest and shard folders and registered (no Ray)."""
    home = VtonHome(vton_home)
    root = vton_home.parent / "raw" / name
    build_synthetic(name, root, home.manifest_dir(name), home.shards / name, samples=samples)
    DatasetRegistry(home).register(name, root, "vitonhd")
    return root


def _table(vton_home: Path, table: str, dataset: str) -> dict[str, list[dict]]:
    by_run: dict[str, list[dict]] = {}
    for path in sorted((vton_home / "warehouse" / table / f"dataset={dataset}").glob("*.parquet")):
        by_run[path.stem] = pq.read_table(path).to_pylist()
    return by_run


def test_evaluate_job_writes_three_tables_and_the_leaderboard(vton_home, ephemeral_instance):
    _built(vton_home, "ev_hd", samples=10)
    summaries = {s["model"]: s for s in evaluate_dataset("ev_hd", instance=ephemeral_instance)}

    assert set(summaries) == MODELS
    runs = _table(vton_home, "eval_runs", "ev_hd")
    metrics = _table(vton_home, "eval_metrics", "ev_hd")
    samples = _table(vton_home, "sample_metrics", "ev_hd")
    assert set(runs) == set(metrics) == set(samples) == {s["run_id"] for s in summaries.values()}
    truth = GroundTruth.from_shards("ev_hd", vton_home / "shards" / "ev_hd", split=None)
    paired = summaries["identity_tryon"]
    # VITON-HD pairs test persons with other people's cloth: the paired setting scores the paired samples
    assert 0 < paired["matched"] == len(setting_samples("paired", truth.samples)) < len(truth.samples)
    assert paired["missing_predictions"] == 0 and paired["split"] == "all"
    assert paired["ssim"] == pytest.approx(1.0, abs=1e-4) and paired["mse"] == 0.0
    assert 0.3 < summaries["paste_garment"]["ssim"] < 0.99
    assert (
        summaries["agnostic_mask"]["matched"] == len(truth.samples)
        and 0.2 < summaries["agnostic_mask"]["mask_iou"] <= 1.0
    )
    for model, summary in summaries.items():
        (run,) = runs[summary["run_id"]]
        assert run["model"] == model and run["benchmark"] is None  # synthetic data stands for no paper set
        rows = metrics[summary["run_id"]]
        assert {r["category"] for r in rows} == {"all", "upper"}
        assert len(samples[summary["run_id"]]) == summary["matched"] * len(rows) // 2
        assert Path(summary["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mask_rows = {
        r["metric"]: r for r in metrics[summaries["agnostic_mask"]["run_id"]] if r["category"] == "all"
    }
    assert set(mask_rows) == {"mask_iou", "cpa"} and mask_rows["mask_iou"]["setting"] == "mask"
    assert json.loads(mask_rows["mask_iou"]["protocol"])["name"] == "binary_mask"

    board = leaderboard(dataset="ev_hd").to_pylist()
    assert {(r["model"], r["setting"]) for r in board if r["category"] == "all"} == {
        ("identity_tryon", "paired"),
        ("paste_garment", "paired"),
        ("agnostic_mask", "mask"),
    }
    paste = next(r for r in board if r["model"] == "paste_garment" and r["category"] == "all")
    assert paste["ssim"] == pytest.approx(summaries["paste_garment"]["ssim"])

    # the UI's metadata: a metric table and the plot inline
    (event,) = ephemeral_instance.fetch_materializations(dg.AssetKey("eval_paste_garment"), limit=10).records
    shown = event.asset_materialization.metadata
    assert "| category | n | ssim | psnr | mse |" in shown["metrics"].value
    assert shown["plot_image"].value.startswith("![paste_garment metrics](data:image/png;base64,")


def test_unbuilt_dataset_fails_with_the_fix(vton_home, ephemeral_instance, tmp_path):
    DatasetRegistry().register("ev_empty", tmp_path, "vitonhd")
    with pytest.raises(ManifestRunError, match="build the shards of dataset 'ev_empty' first"):
        evaluate_dataset("ev_empty", instance=ephemeral_instance)


def test_paper_results_asset_loads_the_packaged_csv(vton_home):
    result = dg.materialize([paper_results], resources={"paths": PathsResource()})
    (event,) = result.get_asset_materialization_events()
    shown = event.materialization.metadata
    expected = load_paper_results()
    stored = pq.read_table(vton_home / "warehouse" / "paper_results" / "paper_results.parquet")
    assert stored.equals(expected)
    assert shown["dagster/row_count"].value == expected.num_rows
    assert shown["seeds"].value == len(set(expected["seed"].to_pylist()))
    assert "| seed | source_table | dataset |" in shown["preview"].value


def test_evaluate_job_selects_every_evaluation_asset():
    from orchestration.definitions import defs

    job = defs.resolve_job_def("evaluate_job")
    keys = set(job.asset_layer.asset_graph.get_all_asset_keys())
    assert {a.key for a in EVALUATION_ASSETS} | {paper_results.key} <= keys
    graph = defs.resolve_asset_graph()
    for asset in EVALUATION_ASSETS:
        node = graph.get(asset.key)
        assert node.parent_keys == {dg.AssetKey("dataset_shards")} and node.partitions_def.name == "datasets"


def test_vton_evaluate_prints_the_leaderboard_and_skips_masks_without_truth(vton_home, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    root = _built(vton_home, "ev_cli", samples=4)
    (root / "synthetic_truth.jsonl").unlink()  # now it looks like a real dataset: no truth masks
    result = CliRunner().invoke(main, ["evaluate", "--dataset", "ev_cli", "--json"])
    assert result.exit_code == 0, result.output
    assert "agnostic_mask: skipped (the dataset ships no truth masks" in result.output
    assert (
        "leaderboard" in result.output
        and "paste_garment" in result.output
        and "identity_tryon" in result.output
    )
    summaries = {s["model"]: s for s in json.loads(result.output.strip().splitlines()[-1])}
    assert set(summaries) == MODELS and summaries["identity_tryon"]["matched"] >= 1
    assert {r["model"] for r in leaderboard(dataset="ev_cli").to_pylist()} == {
        "identity_tryon",
        "paste_garment",
    }
    missing = CliRunner().invoke(main, ["evaluate", "--dataset", "nope"])
    assert missing.exit_code == 1 and "not registered" in missing.output and "Traceback" not in missing.output
