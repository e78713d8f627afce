"""Auto-ARM through the generic Ray Train driver (session Ray): a tiny run validates with val_iou every
epoch, and its best checkpoint predicts masks."""

from __future__ import annotations

import json

import pytest
from autoarm_shards import build_shard_folder, training_samples

from models.autoarm.config import AutoArmConfig
from models.autoarm.predict import load_autoarm, predict_masks
from models.training.driver import train

pytestmark = pytest.mark.slow


def test_tiny_run_through_the_driver(tmp_path, ray_local):
    samples = training_samples(12) | training_samples(4, split="val", seed=100)
    shards = build_shard_folder(tmp_path / "shards", samples, per_shard=8)
    config = AutoArmConfig.preset(
        "tiny", height=64, width=48, widths=(8, 16, 32, 64), batch_size=4, epochs=2, data_workers=0
    )
    result = train("autoarm", config, [shards], tmp_path / "run", preset="tiny", progress=False)

    assert (result.epochs_run, result.steps) == (2, 6)  # 12 train samples / batch 4, two epochs
    assert [r["epoch"] for r in result.history] == [1, 2]
    for record in result.history:
        assert record["val_samples"] == 4
        assert 0.0 <= record["val_iou"] <= 1.0 and record["val_loss"] > 0
        assert record["val_rough_iou"] == pytest.approx(result.history[0]["val_rough_iou"])
    saved = json.loads((result.best_checkpoint / "config.json").read_text())
    assert (saved["family"], saved["preset"]) == ("autoarm", "tiny")
    model, loaded = load_autoarm(result.best_checkpoint)
    assert loaded == config and not model.training
    out = predict_masks(result.best_checkpoint, shards, tmp_path / "pred", split="val")
    assert sorted(out.files) == sorted(k for k in samples if k.startswith("val-"))
    assert sorted(out.truth) == sorted(out.files)  # all paired
