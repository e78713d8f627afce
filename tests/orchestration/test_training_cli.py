"""`vton train`, `vton predict` and `vton evaluate FAMILY` end to end on a tiny synthetic VITON-HD (12 samples at
128x96, 2 epochs of the tiny preset on the session's 2-CPU Ray): one model registered and listed, the
Dagster runs tagged, the refined and rough masks scored into eval_metrics as mask_iou for models autoarm and
rough_mask, each equal to the IoU recomputed here from the shards' own parse maps."""

from __future__ import annotations

import io
import json
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from fixtures.evaluation_data import build_synthetic
from PIL import Image

from assets.predictions import read_predictions
from metrics.segmentation import mask_iou
from models.autoarm.predict import truth_mask
from preprocess.dataset_registry import DatasetRegistry
from preprocess.shards.reader import iter_tar, shard_names
from vton.cli import main
from vton.home import VtonHome
from warehouse.report import build_report

DATASET = "tr_hd"


def _png(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def _reference_truth(shards: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per paired test sample: (rough mask, garment region of its parse for its category), from the shards."""
    found = {}
    for name in shard_names(shards):
        for key, members in iter_tar(shards / name):
            meta = json.loads(members["meta.json"])
            if meta.get("split") == "test" and meta.get("pair_mode") == "paired":
                rough = _png(members["agnostic_mask.png"]) > 127
                found[key] = (rough, truth_mask(_png(members["parse.png"]), meta["category"]))
    return found


def _last_json(output: str) -> object:
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.slow
def test_train_predict_evaluate_autoarm_through_the_cli(ray_local, vton_home, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = VtonHome(vton_home)
    root = vton_home.parent / "raw" / DATASET
    build_synthetic(
        DATASET, root, home.manifest_dir(DATASET), home.shards / DATASET, samples=12, size=(128, 96)
    )
    DatasetRegistry(home).register(DATASET, root, "vitonhd")
    runner = CliRunner()

    trained = runner.invoke(
        main, ["train", "autoarm", "--dataset", DATASET, "--preset", "tiny", "--epochs", "2", "--json"]
    )
    assert trained.exit_code == 0, trained.output
    summary = _last_json(trained.output)
    assert summary["model_version"].startswith("autoarm-") and summary["preset"] == "tiny"
    assert 1 <= summary["epochs"] <= 2 and summary["steps"] >= 1
    assert "final_val_iou" in summary and f"registered {summary['model_version']}" in trained.output

    listed = runner.invoke(main, ["models", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    models = _last_json(listed.output)
    assert [m["model_version"] for m in models] == [summary["model_version"]]
    assert models[0]["train_dataset"] == DATASET and models[0]["family"] == "autoarm"

    instance = dg.DagsterInstance.get()
    try:
        run = instance.get_run_by_id(summary["run_id"])
        assert run.tags["vton/training"] == "autoarm" and run.tags["dagster/partition"] == DATASET
        (event,) = instance.fetch_materializations(dg.AssetKey("autoarm_checkpoint"), limit=5).records
        shown = event.asset_materialization.metadata
        assert shown["model_version"].value == summary["model_version"]
        assert shown["loss_curve"].value.startswith("![autoarm loss](data:image/png;base64,")
    finally:
        instance.dispose()

    predicted = runner.invoke(main, ["predict", "autoarm", "--dataset", DATASET, "--json"])
    assert predicted.exit_code == 0, predicted.output
    made = _last_json(predicted.output)
    reference = _reference_truth(home.shards / DATASET)
    assert made["paired"] == len(reference) == 2 and made["unpaired"] == 2
    assert made["model_version"] == summary["model_version"] and Path(made["mask_grid"]).is_file()

    evaluated = runner.invoke(main, ["evaluate", "autoarm", "--dataset", DATASET, "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    by_model = {s["model"]: s for s in _last_json(evaluated.output)}
    assert set(by_model) == {"autoarm", "rough_mask"}
    rows = pq.read_table(vton_home / "warehouse" / "eval_metrics").to_pylist()
    iou = {
        r["model"]: r["value"]
        for r in rows
        if r["metric"] == "mask_iou" and r["category"] == "all" and r["setting"] == "mask"
    }
    assert set(iou) == {"autoarm", "rough_mask"}
    expected_rough = np.mean([mask_iou(rough, truth) for rough, truth in reference.values()])
    assert iou["rough_mask"] == pytest.approx(expected_rough, abs=1e-9)
    refined = read_predictions(home, "autoarm", DATASET).files
    assert all(Path(made["predictions"]) in path.parents for path in refined.values())
    expected_refined = np.mean(
        [
            mask_iou(np.asarray(Image.open(refined[k]).convert("L")) > 127, truth)
            for k, (_, truth) in reference.items()
        ]
    )
    assert iou["autoarm"] == pytest.approx(expected_refined, abs=1e-9)
    assert by_model["autoarm"]["matched"] == by_model["rough_mask"]["matched"] == 2
    assert by_model["autoarm"]["checkpoint"] == summary["model_version"]
    assert "autoarm" in evaluated.output and "rough_mask" in evaluated.output  # the mask leaderboard

    report = build_report(home)
    assert f"autoarm · {DATASET}" in report and "rough | refined | truth" in report


def test_unknown_family_and_untrained_dataset_are_clear_errors(vton_home, monkeypatch, tmp_path):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    runner = CliRunner()
    unknown = runner.invoke(main, ["train", "nofamily", "--dataset", "x"])
    assert (
        unknown.exit_code == 1 and "unknown model family 'nofamily'; choose one of: autoarm" in unknown.output
    )
    DatasetRegistry().register("empty", tmp_path, "vitonhd")
    untrained = runner.invoke(main, ["predict", "autoarm", "--dataset", "empty"])
    assert untrained.exit_code == 1 and "Traceback" not in untrained.output
    assert "no autoarm model is registered for dataset 'empty'" in untrained.output
    assert "vton train autoarm --dataset empty" in untrained.output
