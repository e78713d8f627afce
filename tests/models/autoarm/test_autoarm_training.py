"""Auto-ARM's family methods in a plain loop (loss goes down, validation metrics), then `predict_masks` from a
checkpoint: one mask per sample at the person's size, rough/truth beside them, shards keyed by sample id."""

from __future__ import annotations

import json
from io import BytesIO

import numpy as np
import pytest
import torch
from autoarm_shards import build_shard_folder, sample_members, training_samples
from PIL import Image

from metrics.segmentation import mask_iou
from models.autoarm.config import AutoArmConfig
from models.autoarm.data import input_arrays, truth_mask
from models.autoarm.family import FAMILY
from models.autoarm.predict import REFINED_MEMBER, load_autoarm, mask_grid, predict_masks
from models.training.checkpoints import TrainingState, save_checkpoint
from preprocess.shards.codec import decode_sample
from preprocess.shards.reader import iter_samples

SMALL = {"height": 64, "width": 48, "widths": (8, 16, 32, 64), "lr": 3e-3, "batch_size": 4}


def _png(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == "L"
        return np.array(image)


@pytest.fixture(scope="module")
def trained():
    """A small Auto-ARM fitted for 100 steps on 12 tiny samples: (model, config, losses, examples).

    One intra-op thread: on a busy 2-core machine two threads spin-wait and make these small convolutions
    an order of magnitude slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield _fit()
    finally:
        torch.set_num_threads(threads)


def _fit():
    torch.manual_seed(0)
    config = AutoArmConfig.preset("tiny", **SMALL)
    samples = training_samples(12)
    model = FAMILY.build_model(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    losses = []
    for step in range(100):
        keys = sorted(samples)[(step * 4) % 12 :][:4]
        batch = FAMILY.collate([FAMILY.example(samples[k], config, train=True) for k in keys])
        loss, logs = FAMILY.training_step(model, batch, config)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert logs["loss"] == pytest.approx(float(loss.detach()))
        losses.append(logs["loss"])
    examples = [FAMILY.example(samples[k], config, train=False) for k in sorted(samples)]
    return model, config, losses, examples


def test_a_short_training_run_reduces_the_loss(trained):
    _, _, losses, _ = trained
    assert np.mean(losses[-6:]) < 0.4 * np.mean(losses[:3])


def test_validation_metrics(trained):
    model, config, _, examples = trained
    batches = [FAMILY.collate(examples[:5]), FAMILY.collate(examples[5:])]
    model.train()
    metrics = FAMILY.validation_metrics(model, batches, config)
    assert model.training  # left as it was found
    assert set(metrics) == {"val_loss", "val_iou", "val_rough_iou", "val_samples"}
    assert metrics["val_samples"] == 12
    rough = np.mean([mask_iou(e["inputs"][0].numpy() > 0.5, e["truth"][0].numpy() > 0.5) for e in examples])
    assert metrics["val_rough_iou"] == pytest.approx(rough, rel=1e-5)
    model.eval()
    with torch.no_grad():
        refined = [
            mask_iou(torch.sigmoid(model(e["inputs"][None]))[0, 0].numpy() > 0.5, e["truth"][0].numpy() > 0.5)
            for e in examples
        ]
    assert metrics["val_iou"] == pytest.approx(np.mean(refined), rel=1e-5)  # per-sample mean
    assert metrics["val_iou"] > metrics["val_rough_iou"]  # the fit refines the overshooting rough masks
    assert 0 < metrics["val_loss"] < 0.69


@pytest.fixture(scope="module")
def checkpoint(trained, tmp_path_factory):
    model, config, _, _ = trained
    run = tmp_path_factory.mktemp("autoarm_run")
    record = {
        "family": "autoarm",
        "preset": "tiny",
        "config": config.to_dict(),
        "config_hash": config.config_hash(),
    }
    return save_checkpoint(run, model=model, state=TrainingState(epoch=1, step=100), config_record=record)


def test_predict_masks_writes_one_mask_per_sample_at_the_original_size(checkpoint, trained, tmp_path):
    sizes = {"t-000": (64, 48), "t-001": (70, 52), "t-002": (96, 72), "t-003": (64, 48)}
    samples = {
        key: sample_members(key, split="test", category=cat, size=size, seed=i, pair_mode=mode)
        for i, (key, size, cat, mode) in enumerate(
            [
                (k, s, c, m)
                for (k, s), c, m in zip(
                    sizes.items(),
                    ("upper", "lower", "dresses", "upper"),
                    ("paired", "paired", "unpaired", "paired"),
                    strict=True,
                )
            ]
        )
    }
    samples["v-000"] = sample_members("v-000", split="train")  # another split: not predicted
    video = sample_members("t-004", split="test")
    video["meta.json"] = json.dumps(json.loads(video["meta.json"]) | {"kind": "video"}).encode()
    samples["t-004"] = video
    shard_dir = build_shard_folder(tmp_path / "shards", samples, per_shard=3)
    out = tmp_path / "pred"
    out.mkdir()
    (out / "stale.png").write_bytes(b"old")  # replaced as a whole

    result = predict_masks(checkpoint, shard_dir, out, split="test", batch_size=3)

    assert result.folder == out and result.checkpoint == str(checkpoint)
    assert sorted(result.files) == sorted(sizes) and result.skipped == {"t-004": result.skipped["t-004"]}
    assert "video" in result.skipped["t-004"]
    assert sorted(p.name for p in out.glob("*.png")) == [f"{k}.png" for k in sorted(sizes)]
    model, config, _, _ = trained
    for key, size in sizes.items():
        refined = _png(result.files[key])
        assert refined.shape == size and set(np.unique(refined)) <= {0, 255}
        decoded = decode_sample(samples[key])
        assert result.rough[key].read_bytes() == samples[key]["agnostic_mask.png"]
        # the same mask as the model's σ(logits) resized to the person and thresholded
        inputs, original = input_arrays(samples[key], config.height, config.width)
        assert original == size
        with torch.no_grad():
            probability = torch.sigmoid(model.eval()(torch.from_numpy(inputs)[None]))
        full = torch.nn.functional.interpolate(probability, size=size, mode="bilinear", align_corners=False)
        np.testing.assert_array_equal(refined > 0, full[0, 0].numpy() > 0.5)
        if key in result.truth:
            truth = _png(result.truth[key]) > 0
            np.testing.assert_array_equal(
                truth, truth_mask(decoded["parse"], json.loads(samples[key]["meta.json"])["category"])
            )
            assert mask_iou(refined, truth) > mask_iou(np.array(decoded["agnostic_mask"]), truth)
    assert sorted(result.truth) == ["t-000", "t-001", "t-003"]  # paired only
    # shards keyed by sample id, readable by the project's reader
    assert result.shards and all(p.is_file() for p in result.shards)
    read = {s["__key__"]: s for s in iter_samples(out / "shards")}
    assert sorted(read) == sorted(sizes)
    for key, sample in read.items():
        assert sample[REFINED_MEMBER] == result.files[key].read_bytes()
        assert json.loads(sample["meta.json"])["sample_id"] == key
    summary = json.loads((out / "predictions.json").read_text())
    assert summary["predicted"] == 4 and summary["with_truth"] == 3

    unpaired = predict_masks(
        checkpoint, shard_dir, tmp_path / "unpaired", pair_mode="unpaired", write_shards=False
    )
    assert sorted(unpaired.files) == ["t-002"] and unpaired.truth == {} and unpaired.shards == []


def test_load_autoarm_refuses_other_checkpoints(tmp_path, trained):
    model, config, _, _ = trained
    other = save_checkpoint(
        tmp_path, model=model, state=TrainingState(step=1), config_record={"family": "igr", "config": {}}
    )
    with pytest.raises(ValueError, match="not autoarm"):
        load_autoarm(other)
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_autoarm(tmp_path)


def test_mask_grid_renders_rows_of_rough_refined_truth():
    rough = np.zeros((64, 48), np.uint8)
    rough[10:50, 8:40] = 255
    refined = np.zeros((64, 48), bool)
    refined[14:46, 12:36] = True
    data = mask_grid([("a 0.61", rough, refined, refined), ("b unpaired", rough, refined, None)])
    with Image.open(BytesIO(data)) as image:
        grid = np.asarray(image.convert("RGB"))
    assert grid.shape[0] > 2 * 160 and grid.shape[1] == 3 * 120 + 4 * 4
    assert (
        (grid == 255).all(axis=2).any() and (grid == 0).all(axis=2).any() and (grid == 160).all(axis=2).any()
    )
    with pytest.raises(ValueError, match="at least one"):
        mask_grid([])
