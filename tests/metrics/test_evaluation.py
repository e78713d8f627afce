"""The evaluation driver: values equal direct metric calls, per category; missing predictions counted; runs
written to the warehouse and replaced (not duplicated) when re-run; errors that name the folder and the fix."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from fixtures.evaluation_data import build_synthetic
from PIL import Image

from metrics import paired
from metrics.evaluation import (
    EvalSample,
    EvaluationError,
    GroundTruth,
    GroundTruthError,
    RunIdentity,
    SettingInputs,
    evaluate_run,
    evaluate_setting,
    export_member,
)
from metrics.evaluation.ground_truth import AGNOSTIC_MEMBER
from metrics.protocols import get_protocol
from metrics.segmentation import mask_iou, segmentation_scores
from vton.home import VtonHome
from vton.weights.errors import MissingWeightsError

CATEGORIES = {"a": "upper", "b": "upper", "c": "lower", "d": "dresses", "e": "lower"}


def _write(path, array) -> None:
    Image.fromarray(array).save(path)


def _tensor(path) -> torch.Tensor:
    return torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1)[None].float() / 255


@pytest.fixture()
def image_pairs(tmp_path):
    """Ground truth for five samples in three categories; predictions for four of them plus a stray one."""
    rng = np.random.default_rng(0)
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    targets, predictions = {}, {}
    for key in CATEGORIES:
        gt = rng.integers(0, 256, (32, 24, 3), dtype=np.uint8)
        targets[key] = tmp_path / "gt" / f"{key}.png"
        _write(targets[key], gt)
        if key != "e":
            noise = rng.integers(-40, 40, gt.shape)
            predictions[key] = tmp_path / "pred" / f"{key}.png"
            _write(predictions[key], np.clip(gt + noise, 0, 255).astype(np.uint8))
    predictions["stray"] = tmp_path / "pred" / "stray.png"
    _write(predictions["stray"], rng.integers(0, 256, (32, 24, 3), dtype=np.uint8))
    samples = {k: EvalSample(k, c, "image", "test") for k, c in CATEGORIES.items()}
    return predictions, targets, samples


def test_paired_values_equal_direct_metric_calls_per_category(image_pairs):
    predictions, targets, samples = image_pairs
    result = evaluate_setting("paired", predictions, targets, samples, source="pred/")

    assert (
        result.matched == ["a", "b", "c", "d"] and result.missing == ["e"] and result.unexpected == ["stray"]
    )
    options = get_protocol("torch_fidelity").ssim_options()
    direct = {}
    for key in result.matched:
        p, g = _tensor(predictions[key]), _tensor(targets[key])
        direct[key] = {
            "ssim": float(paired.ssim(p, g, **options)),
            "psnr": float(paired.psnr(p, g)),
            "mse": float(paired.mse(p, g)),
        }
        for metric, value in direct[key].items():
            assert result.per_sample[key][metric] == pytest.approx(value, rel=1e-6)
    for category, keys in {"all": "abcd", "upper": "ab", "lower": "c", "dresses": "d"}.items():
        for metric in ("ssim", "psnr", "mse"):
            assert result.value(metric, category) == pytest.approx(np.mean([direct[k][metric] for k in keys]))
        assert {v.n for v in result.values if v.category == category} == {len(keys)}
    assert result.protocol["name"] == "torch_fidelity" and result.expected == 5


def test_mask_values_equal_direct_calls(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    predictions, targets, expected = {}, {}, {}
    for key in ("m1", "m2", "m3"):
        pred = rng.random((20, 16)) > 0.5
        gt = rng.random((20, 16)) > 0.4
        predictions[key], targets[key] = tmp_path / "p" / f"{key}.png", tmp_path / "g" / f"{key}.png"
        _write(predictions[key], np.where(pred, 255, 0).astype(np.uint8))
        _write(targets[key], np.where(gt, 250, 3).astype(np.uint8))  # any value above 127 is inside
        tp, fp = (pred & gt).sum(), (pred & ~gt).sum()
        expected[key] = {"mask_iou": mask_iou(pred, gt), "cpa": segmentation_scores(pred, gt, 2).cpa[1]}
        assert expected[key]["cpa"] == pytest.approx(tp / (tp + fp))
    samples = {k: EvalSample(k, "upper", "image", "test", "unpaired") for k in predictions}
    result = evaluate_setting("mask", predictions, targets, samples)

    assert result.metrics == ("mask_iou", "cpa") and result.protocol["name"] == "binary_mask"
    for key in predictions:
        assert result.per_sample[key] == pytest.approx(expected[key])
    assert result.value("mask_iou") == pytest.approx(np.mean([e["mask_iou"] for e in expected.values()]))
    assert result.value("cpa", "upper") == pytest.approx(np.mean([e["cpa"] for e in expected.values()]))


def test_video_clips_average_their_frames_and_need_every_frame(tmp_path):
    rng = np.random.default_rng(2)
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    predictions, targets = {}, {}
    for clip in ("v1", "v2"):
        for frame in range(3):
            key = f"{clip}.f{frame:04d}"
            gt = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
            targets[key] = tmp_path / "g" / f"{key}.png"
            _write(targets[key], gt)
            if not (clip == "v2" and frame == 2):  # v2 lacks its last frame
                predictions[key] = tmp_path / "p" / f"{key}.png"
                _write(predictions[key], np.clip(gt.astype(int) + 20, 0, 255).astype(np.uint8))
    samples = {c: EvalSample(c, "upper", "video", "test") for c in ("v1", "v2")}
    result = evaluate_setting("video", predictions, targets, samples, metrics=["mse"])

    assert result.matched == ["v1"] and result.missing == ["v2"]
    frames = [
        float(paired.mse(_tensor(predictions[f"v1.f{i:04d}"]), _tensor(targets[f"v1.f{i:04d}"])))
        for i in range(3)
    ]
    assert result.value("mse") == pytest.approx(np.mean(frames))


def test_errors_name_the_folder_the_option_and_the_fix(image_pairs, tmp_path, monkeypatch):
    predictions, targets, samples = image_pairs
    renamed = {f"x_{k}": p for k, p in predictions.items()}
    with pytest.raises(
        EvaluationError, match=r"no prediction in /some/folder matches .* name prediction files like a\.png"
    ):
        evaluate_setting("paired", renamed, targets, samples, source="/some/folder")
    with pytest.raises(EvaluationError, match="do not apply to the unpaired setting; choose from: fid"):
        evaluate_setting("unpaired", predictions, targets, samples, metrics=["ssim"])
    with pytest.raises(EvaluationError, match="unknown setting 'pairs'"):
        evaluate_setting("pairs", predictions, targets, samples)
    with pytest.raises(
        EvaluationError, match="scores unpaired image samples, but the ground truth holds only paired image"
    ):
        evaluate_setting("unpaired", predictions, targets, samples)
    small = tmp_path / "small.png"
    _write(small, np.zeros((16, 12, 3), np.uint8))
    with pytest.raises(EvaluationError, match=f"{small} is 12×16 but .*resize the predictions"):
        evaluate_setting("paired", predictions | {"a": small}, targets, samples)
    # metrics that need weights fail at once with the import command (the store here is empty)
    monkeypatch.setenv("VTON_WEIGHTS", str(tmp_path / "no_weights"))
    with pytest.raises(MissingWeightsError, match="vton weights import"):
        evaluate_setting("paired", predictions, targets, samples, metrics=["ssim", "lpips"])


def test_run_identity_is_deterministic():
    one = RunIdentity("m", "ckpt1", "d", "v1", {"settings": {"paired": ["ssim"]}})
    assert one.run_id == RunIdentity("m", "ckpt1", "d", "v1", {"settings": {"paired": ["ssim"]}}).run_id
    assert one.run_id.startswith("m-")
    changed = [
        RunIdentity("m2", "ckpt1", "d", "v1", one.config),
        RunIdentity("m", "ckpt2", "d", "v1", one.config),
        RunIdentity("m", "ckpt1", "d2", "v1", one.config),
        RunIdentity("m", "ckpt1", "d", "v2", one.config),
        RunIdentity("m", "ckpt1", "d", "v1", {"settings": {"paired": ["psnr"]}}),
    ]
    assert len({one.run_id, *(c.run_id for c in changed)}) == 6


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("eval_ds")
    return build_synthetic("ev", base / "raw", base / "manifest", base / "shards", samples=8)


def _rows(home, table: str, run_id: str) -> list[dict]:
    return pq.read_table(home / "warehouse" / table / "dataset=ev" / f"{run_id}.parquet").to_pylist()


def test_run_writes_three_tables_and_a_rerun_replaces_its_rows(built, vton_home, tmp_path):
    truth = GroundTruth.from_shards("ev", built.shard_dir, built.root, split=None)
    targets = truth.person_targets(tmp_path / "targets")
    pred = tmp_path / "pred"
    pred.mkdir()
    keys = sorted(k for k, s in truth.samples.items() if s.pair_mode == "paired")
    for key in keys[:-1]:  # the last paired sample gets no prediction
        image = np.array(Image.open(targets[key]))
        _write(pred / f"{key}.png", np.clip(image.astype(int) + 9, 0, 255).astype(np.uint8))
    files = {p.stem: p for p in pred.iterdir()}
    report = evaluate_run(
        truth, "toy", [SettingInputs("paired", files, targets, source=str(pred))], checkpoint="c1"
    )

    result = report.result("paired")
    assert result.missing == [keys[-1]] and len(result.matched) == len(keys) - 1
    home = VtonHome(vton_home)
    (run,) = _rows(vton_home, "eval_runs", report.run_id)
    assert (
        run["model"] == "toy"
        and run["checkpoint"] == "c1"
        and run["dataset_version"] == truth.dataset_version
    )
    assert run["config_hash"] == report.identity.config_hash and run["code_version"]
    metrics = _rows(vton_home, "eval_metrics", report.run_id)
    assert {(r["category"], r["metric"]) for r in metrics} == {
        (c, m) for c in ("all", "upper") for m in ("ssim", "psnr", "mse")
    }
    assert all(r["n"] == len(keys) - 1 and r["setting"] == "paired" for r in metrics)
    assert {r["metric"]: r["higher_is_better"] for r in metrics} == {"ssim": True, "psnr": True, "mse": False}
    samples = _rows(vton_home, "sample_metrics", report.run_id)
    assert len(samples) == 3 * (len(keys) - 1)
    first = next(r for r in samples if r["sample_id"] == keys[0] and r["metric"] == "mse")
    assert first["prediction_path"] == str(pred / f"{keys[0]}.png") and first["person_path"].startswith(
        str(built.root)
    )

    for key in keys[:-1]:  # different predictions, same run: values replaced, nothing added
        _write(pred / f"{key}.png", np.array(Image.open(targets[key])))
    again = evaluate_run(truth, "toy", [SettingInputs("paired", files, targets)], checkpoint="c1", home=home)
    assert again.run_id == report.run_id
    assert len(_rows(vton_home, "eval_metrics", report.run_id)) == len(metrics)
    assert len(_rows(vton_home, "sample_metrics", report.run_id)) == len(samples)
    replaced = {
        r["metric"]: r["value"]
        for r in _rows(vton_home, "eval_metrics", report.run_id)
        if r["category"] == "all"
    }
    assert (
        replaced["mse"] == 0.0
        and {r["metric"]: r["value"] for r in metrics if r["category"] == "all"}["mse"] > 0
    )
    assert _rows(vton_home, "eval_runs", again.run_id)[0]["started_at"] > run["started_at"]

    other = evaluate_run(
        truth, "toy", [SettingInputs("paired", files, targets, metrics=["mse"])], checkpoint="c1"
    )
    assert other.run_id != report.run_id and len(_rows(vton_home, "eval_metrics", report.run_id)) == len(
        metrics
    )


def test_ground_truth_from_shards(built, tmp_path):
    truth = GroundTruth.from_shards("ev", built.shard_dir, built.root, split="train")
    assert truth.samples and all(s.split == "train" for s in truth.samples.values())
    with pytest.raises(GroundTruthError, match="hold no samples of split 'val' .*train: "):
        GroundTruth.from_shards("ev", built.shard_dir, split="val")
    with pytest.raises(GroundTruthError, match="build the shards of dataset 'ev' first"):
        GroundTruth.from_shards("ev", tmp_path)
    masks = truth.synthetic_masks()
    assert set(masks) == set(truth.samples) and all(p.is_file() for p in masks.values())
    exported = export_member(built.shard_dir, AGNOSTIC_MEMBER, tmp_path / "agn")
    stamp = (tmp_path / "agn" / ".export.json").stat().st_mtime_ns
    assert export_member(built.shard_dir, AGNOSTIC_MEMBER, tmp_path / "agn") == exported  # cached
    assert (tmp_path / "agn" / ".export.json").stat().st_mtime_ns == stamp
    assert set(truth.samples) <= set(exported)
    no_truth = GroundTruth.from_shards("ev", built.shard_dir, None, split=None)
    with pytest.raises(GroundTruthError, match="not a synthetic dataset; pass a folder of truth masks"):
        no_truth.synthetic_masks()
