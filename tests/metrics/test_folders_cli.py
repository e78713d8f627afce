"""`vton metrics compute` on tiny folders: pairs matched by name, JSON last line, paired means, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from fixtures.metrics_weights import random_hypernet_weights, random_inception_weights
from PIL import Image

from metrics.extractors import build_extractor
from metrics.folders import evaluate_folders
from metrics.hyperiqa import hyperiqa_score
from metrics.paired import psnr, ssim
from metrics.protocols import get_protocol
from vton.cli import main


@pytest.fixture()
def folders(tmp_path):
    rng = np.random.RandomState(0)
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    pred.mkdir()
    gt.mkdir()
    arrays = {}
    for i in range(4):
        g = rng.randint(0, 256, (32, 24, 3), dtype=np.uint8)
        p = np.clip(g.astype(int) + rng.randint(-30, 30, g.shape), 0, 255).astype(np.uint8)
        Image.fromarray(g).save(gt / f"s{i}.png")
        Image.fromarray(p).save(pred / f"s{i}.png")
        arrays[f"s{i}"] = (p, g)
    Image.fromarray(arrays["s0"][0]).save(pred / "extra.png")  # no partner
    return pred, gt, arrays


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255


def test_cli_json_last_line_is_mean_over_pairs(folders):
    pred, gt, arrays = folders
    res = CliRunner().invoke(
        main,
        ["metrics", "compute", "--pred", str(pred), "--gt", str(gt), "--metrics", "ssim,psnr,mse", "--json"],
    )
    assert res.exit_code == 0, res.output
    *_, protocol_line, values_line = res.output.strip().splitlines()
    values = json.loads(values_line)  # the last line maps each metric to its value, nothing else
    assert protocol_line.startswith("protocol ")  # the settings used, on the line before
    assert json.loads(protocol_line[len("protocol ") :]) == get_protocol("torch_fidelity").as_dict()
    assert set(values) == {"ssim", "psnr", "mse"}
    expected_ssim = np.mean([float(ssim(_t(p), _t(g))) for p, g in arrays.values()])
    expected_psnr = np.mean([float(psnr(_t(p), _t(g))) for p, g in arrays.values()])
    assert values["ssim"] == pytest.approx(expected_ssim, abs=1e-6)
    assert values["psnr"] == pytest.approx(expected_psnr, abs=1e-6)
    assert "1 prediction(s)" in res.output and "4 matched pairs" in res.output


def test_cli_errors_are_one_line(folders, tmp_path):
    pred, gt, _ = folders
    res = CliRunner().invoke(
        main, ["metrics", "compute", "--pred", str(pred), "--gt", str(gt), "--metrics", "foo"]
    )
    assert res.exit_code == 1 and "unknown metric(s) foo" in res.output and "Traceback" not in res.output
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(main, ["metrics", "compute", "--pred", str(tmp_path / "empty"), "--gt", str(gt)])
    assert res.exit_code == 1 and "holds no images" in res.output
    res = CliRunner().invoke(
        main, ["metrics", "compute", "--pred", str(pred), "--gt", str(gt), "--metrics", "fid"]
    )
    assert res.exit_code == 1 and "vton weights import" in res.output


def test_folder_fid_kid_with_both_resize_protocols(folders, tmp_path):
    pred, gt, _ = folders
    paths = {"fid_inception": random_inception_weights(tmp_path / "inc.pth")}
    with pytest.raises(ValueError, match="--kid-subset-size 4"):
        evaluate_folders(pred, gt, ["kid"], "torch_fidelity", paths=paths, progress=False)
    tf_protocol = get_protocol("hrviton").with_options(kid_subset_size=4, kid_subsets=3)
    tf = evaluate_folders(pred, gt, ["fid", "kid"], tf_protocol, paths=paths, progress=False)
    clean = evaluate_folders(pred, gt, ["fid", "kid"], "igr", paths=paths, progress=False)
    assert tf.values["fid"] > 0 and clean.values["fid"] > 0
    assert tf.values["fid"] != pytest.approx(clean.values["fid"], rel=1e-6)  # the resize changes features
    assert tf.values["kid"] != 0 and clean.values["kid"] != 0
    assert clean.protocol["kid_scale"] == 1e3 and clean.protocol["fid_resize"] == "clean_bicubic"


def test_cli_hyperiqa_scores_predictions_without_ground_truth(tmp_path, monkeypatch):
    monkeypatch.setenv("VTON_WEIGHTS", str(tmp_path / "store"))
    weights = random_hypernet_weights(tmp_path / "koniq_pretrained.pkl")
    imported = CliRunner().invoke(main, ["weights", "import", str(weights)])
    assert imported.exit_code == 0, imported.output
    pred = tmp_path / "pred"
    pred.mkdir()
    image = np.random.RandomState(3).randint(0, 256, (300, 280, 3), dtype=np.uint8)
    Image.fromarray(image).save(pred / "only.png")
    res = CliRunner().invoke(
        main, ["metrics", "compute", "--pred", str(pred), "--metrics", "hyperiqa", "--json"]
    )
    assert res.exit_code == 0, res.output
    value = json.loads(res.output.strip().splitlines()[-1])["hyperiqa"]
    # The demo protocol: resize to 512×384, 10 random crops seeded with the protocol's seed.
    expected = hyperiqa_score(
        [_t(image)[0]], build_extractor("hyperiqa"), patches=10, seed=get_protocol("torch_fidelity").seed
    )
    assert np.isfinite(value) and value == pytest.approx(float(expected[0]), abs=1e-5)
    res = CliRunner().invoke(main, ["metrics", "compute", "--pred", str(pred), "--metrics", "ssim,hyperiqa"])
    assert res.exit_code == 1 and "ssim need ground truth" in res.output and "--gt" in res.output
