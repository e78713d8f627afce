"""Opt-in metrics that need weights in the evaluation suites: hyperIQA (no reference) in the paired and unpaired
settings, VFID (I3D, 3D-ResNeXt) in the video setting. Without weights they fail before any scoring, naming the
`vton weights import` command; with random weights of the real networks a tiny run writes warehouse rows
whose values equal direct calls."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from fixtures.metrics_weights import random_hypernet_weights
from fixtures.video_weights import randomize, save_hara_layout, save_i3d_layout
from PIL import Image

from metrics.evaluation import (
    DEFAULT_SUITES,
    SETTING_METRICS,
    EvalSample,
    EvaluationError,
    GroundTruth,
    SettingInputs,
    evaluate_run,
    evaluate_setting,
)
from metrics.evaluation import suite as suite_module
from metrics.extractors import build_extractor
from metrics.folders import METRIC_EXTRACTORS
from metrics.hyperiqa import hyperiqa_score
from metrics.i3d import InceptionI3D
from metrics.protocols import get_protocol
from metrics.resnext3d import ResNeXt3D
from metrics.video import vfid
from vton.weights.errors import MissingWeightsError

pytestmark = pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # n < d, as in VFID

IMAGES = {"p1": ("upper", "paired"), "u1": ("lower", "unpaired")}
CLIPS = {"v1": "upper", "v2": "upper", "v3": "lower"}
FRAMES = 10  # one 10-frame window per clip under either protocol


def _image(rng, h=40, w=32) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture()
def data(tmp_path):
    """A paired and an unpaired image sample and three 10-frame clips (two upper, one lower), all predicted."""
    rng = np.random.default_rng(0)
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    pred.mkdir()
    gt.mkdir()
    predictions, targets, arrays = {}, {}, {}
    keys = list(IMAGES) + [f"{c}.f{i:04d}" for c in CLIPS for i in range(FRAMES)]
    for key in keys:
        g = _image(rng, 24, 20) if "." in key else _image(rng)
        p = np.clip(g.astype(int) + rng.integers(-50, 50, g.shape), 0, 255).astype(np.uint8)
        targets[key], predictions[key] = gt / f"{key}.png", pred / f"{key}.png"
        Image.fromarray(g).save(targets[key])
        Image.fromarray(p).save(predictions[key])
        arrays[key] = (p, g)
    samples = {k: EvalSample(k, c, "image", "test", mode) for k, (c, mode) in IMAGES.items()}
    samples |= {k: EvalSample(k, c, "video", "test") for k, c in CLIPS.items()}
    return predictions, targets, samples, arrays


def test_suites_offer_the_metrics_opt_in_only():
    assert "hyperiqa" in SETTING_METRICS["paired"] and "hyperiqa" in SETTING_METRICS["unpaired"]
    assert {"vfid_i3d", "vfid_resnext"} <= set(SETTING_METRICS["video"])
    assert "hyperiqa" not in SETTING_METRICS["video"] and "vfid_i3d" not in SETTING_METRICS["paired"]
    defaults = {m for suite in DEFAULT_SUITES.values() for m in suite}
    assert not {"hyperiqa", "vfid_i3d", "vfid_resnext"} & defaults
    assert set(DEFAULT_SUITES["paired"]).isdisjoint(METRIC_EXTRACTORS)  # weight-free where the setting can be


@pytest.mark.parametrize(
    "setting,metrics,file",
    [
        ("paired", ["ssim", "hyperiqa"], "koniq_pretrained.pkl"),
        ("unpaired", ["hyperiqa"], "koniq_pretrained.pkl"),
        ("video", ["ssim", "vfid_i3d"], "rgb_imagenet.pt"),
        ("video", ["vfid_resnext"], "resnext-101-kinetics.pth"),
    ],
)
def test_without_weights_the_suite_fails_before_scoring(data, tmp_path, monkeypatch, setting, metrics, file):
    predictions, targets, samples, _ = data
    monkeypatch.setenv("VTON_WEIGHTS", str(tmp_path / "empty_store"))

    def no_scoring(*args, **kwargs):
        raise AssertionError("scored before the weights were checked")

    monkeypatch.setattr(suite_module, "_folder_metrics", no_scoring)
    monkeypatch.setattr(suite_module, "_vfid_values", no_scoring)
    with pytest.raises(MissingWeightsError, match=f"vton weights import /path/to/{file}"):
        evaluate_setting(setting, predictions, targets, samples, metrics=metrics)


def _rows(home, table: str, run_id: str) -> list[dict]:
    return pq.read_table(home / "warehouse" / table / "dataset=tiny" / f"{run_id}.parquet").to_pylist()


def _t(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array).permute(2, 0, 1).float() / 255


def test_a_tiny_run_with_random_weights_writes_the_rows(data, tmp_path, vton_home, monkeypatch):
    predictions, targets, samples, arrays = data
    built = {}  # the networks the run builds from the files, kept for the direct calls below
    monkeypatch.setattr(
        suite_module,
        "build_extractor",
        lambda name, **kw: built.setdefault(name, build_extractor(name, **kw)),
    )
    paths = {
        "hyperiqa_koniq": random_hypernet_weights(tmp_path / "koniq_pretrained.pkl"),
        "i3d_rgb_imagenet": save_i3d_layout(randomize(InceptionI3D(), 1).state_dict(), tmp_path / "i3d.pt"),
        "resnext101_kinetics": save_hara_layout(randomize(ResNeXt3D(), 2).state_dict(), tmp_path / "rx.pth"),
    }
    protocol = get_protocol("vfid_toolkit").with_options(vfid_size=64)  # small frames keep it fast
    # One category of clips: VFID of 2048-d features is costly on CPU (per category, see the test below).
    samples = {k: replace(s, category="upper") if s.kind == "video" else s for k, s in samples.items()}
    truth = GroundTruth("tiny", tmp_path, "v1", samples)
    inputs = [
        SettingInputs("paired", predictions, targets, ["ssim", "hyperiqa"]),
        SettingInputs("unpaired", predictions, targets, ["hyperiqa"]),
        SettingInputs("video", predictions, targets, ["ssim", "vfid_i3d", "vfid_resnext"]),
    ]
    try:
        report = evaluate_run(truth, "toy", inputs, protocol=protocol, paths=paths, batch_size=4)
        hyper = build_extractor("hyperiqa", paths=paths)
    finally:  # a 190 MB file: don't leave it in pytest's kept temp folders
        paths["resnext101_kinetics"].unlink()

    metrics = _rows(vton_home, "eval_metrics", report.run_id)
    got = {(r["setting"], r["category"], r["metric"]): r for r in metrics}
    assert {k for k in got if k[2] in ("hyperiqa", "vfid_i3d", "vfid_resnext")} == {
        *(("paired", c, "hyperiqa") for c in ("all", "upper")),
        *(("unpaired", c, "hyperiqa") for c in ("all", "lower")),
        *(("video", c, m) for c in ("all", "upper") for m in ("vfid_i3d", "vfid_resnext")),
    }
    # hyperIQA: each prediction scored on its own, as `metrics.hyperiqa` does directly (protocol seed and crops)
    direct = {
        k: float(hyperiqa_score([_t(arrays[k][0])], hyper, patches=10, seed=protocol.seed)[0]) for k in IMAGES
    }
    for setting, key, category in (("paired", "p1", "upper"), ("unpaired", "u1", "lower")):
        for cat in ("all", category):
            row = got[(setting, cat, "hyperiqa")]
            assert row["value"] == pytest.approx(direct[key], abs=1e-4) and row["n"] == 1
        recorded = json.loads(got[(setting, "all", "hyperiqa")]["protocol"])
        assert recorded["hyperiqa_patches"] == 10 and recorded["hyperiqa_seed"] == protocol.seed
    assert got[("paired", "all", "hyperiqa")]["higher_is_better"] is True
    samples_rows = _rows(vton_home, "sample_metrics", report.run_id)
    per_sample = {
        (r["setting"], r["sample_id"]): r["value"] for r in samples_rows if r["metric"] == "hyperiqa"
    }
    assert per_sample == pytest.approx(
        {("paired", "p1"): direct["p1"], ("unpaired", "u1"): direct["u1"]}, abs=1e-4
    )

    # VFID: the matched clips' windows under the run's video protocol
    def clip(name: str, side: int) -> np.ndarray:
        return np.stack([arrays[f"{name}.f{i:04d}"][side] for i in range(FRAMES)])

    assert set(built) == {"i3d_rgb_imagenet", "resnext101_kinetics"}
    for metric, extractor in suite_module.VFID_EXTRACTORS.items():
        net = built[extractor]
        expected = vfid([clip(c, 0) for c in CLIPS], [clip(c, 1) for c in CLIPS], net, protocol)
        for category in ("all", "upper"):
            row = got[("video", category, metric)]
            assert row["value"] == pytest.approx(expected, rel=1e-5) and row["n"] == 3
        assert row["higher_is_better"] is False and json.loads(row["protocol"]) == protocol.as_dict()
    assert not any(r["metric"].startswith("vfid") for r in samples_rows)  # a set-level metric only


def test_vfid_per_category_and_too_few_windows(data, monkeypatch):
    predictions, targets, samples, arrays = data
    net = randomize(ResNeXt3D(layers=(1, 1, 1, 1), cardinality=4, stem_channels=8, base_planes=32), 3)
    monkeypatch.setattr(suite_module, "build_extractor", lambda name, **kw: net)
    monkeypatch.setattr(suite_module, "require_weights", lambda names, paths=None: None)
    centre = get_protocol("vfid_centre").with_options(vfid_size=16)  # one window per clip
    result = evaluate_setting("video", predictions, targets, samples, ["vfid_resnext"], centre)

    def clips(names, side: int) -> list[np.ndarray]:
        return [np.stack([arrays[f"{n}.f{i:04d}"][side] for i in range(FRAMES)]) for n in names]

    for category, names in (("all", CLIPS), ("upper", ("v1", "v2"))):
        expected = vfid(clips(names, 0), clips(names, 1), net, centre)
        assert result.value("vfid_resnext", category) == pytest.approx(expected, rel=1e-6)
    assert np.isnan(result.value("vfid_resnext", "lower"))  # one clip, one window a set: undefined
    assert result.protocol["vfid_windows"] == "centre" and result.protocol["vfid_resnext_input"] == "hara"
    only_v1 = {k: p for k, p in predictions.items() if not k.startswith(("v2", "v3"))}
    with pytest.raises(EvaluationError, match="vfid_resnext needs at least 2 windows .* 1 matched clip"):
        evaluate_setting("video", only_v1, targets, samples, ["vfid_resnext"], centre)
