"""Video metrics: the window rule, the resize (torchvision's), VFID of a set against itself ≈ 0 and its Fréchet
part equal to a scipy reference on the extracted features, per-frame SSIM equal to torchmetrics' frame mean,
per-frame LPIPS the frame mean of LPIPS, and `vton metrics compute --video` over folders of clip folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg
import torch
from click.testing import CliRunner
from fixtures.video_weights import randomize
from PIL import Image

from metrics import video
from metrics.perceptual import LPIPS
from metrics.protocols import get_protocol, get_video_protocol
from metrics.resnext3d import ResNeXt3D
from metrics.video import (
    clip_features,
    clip_tensor,
    evaluate_video_folders,
    load_clip,
    per_frame_lpips,
    per_frame_scores,
    per_frame_ssim,
    vfid,
    window_indices,
)
from vton.cli import main

torchmetrics = pytest.importorskip("torchmetrics")


def _tiny_extractor() -> ResNeXt3D:
    """A narrow, shallow 3D-ResNeXt (512-d features) with random weights."""
    return randomize(ResNeXt3D(layers=(1, 1, 1, 1), cardinality=4, stem_channels=8, base_planes=32), seed=5)


def _clips(seed: int, n: int, frames: int = 12, h: int = 24, w: int = 20, shift: int = 0) -> list[np.ndarray]:
    rng = np.random.RandomState(seed)
    return [rng.randint(shift, 256, (frames, h, w, 3)).astype(np.uint8) for _ in range(n)]


def _resembling(clips: list[np.ndarray], seed: int) -> list[np.ndarray]:
    rng = np.random.RandomState(seed)
    return [np.clip(c.astype(int) + rng.randint(-40, 40, c.shape), 0, 255).astype(np.uint8) for c in clips]


def test_window_rule_centres_pads_and_cuts():
    assert window_indices(25, 10, "centre")[0].tolist() == list(range(7, 17))
    assert window_indices(10, 10, "centre")[0].tolist() == list(range(10))
    assert window_indices(11, 10, "centre")[0].tolist() == list(range(10))
    short = [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]  # short: repeat both ends
    assert window_indices(4, 10, "centre")[0].tolist() == short
    cut = window_indices(25, 10)  # the default: the vfid-metrics toolkit's cut
    assert [w.tolist() for w in cut] == [list(range(10)), list(range(10, 20))]  # remainder dropped
    assert [w.tolist() for w in window_indices(4, 10, "non_overlapping")] == [short]
    with pytest.raises(ValueError, match="windows must be one of"):
        window_indices(25, 10, "random")


def test_clip_tensor_resizes_like_torchvision_and_scales_to_minus_one_one():
    from torchvision.transforms import functional as TF

    frames = _clips(0, 1, frames=3, h=48, w=36)[0]
    out = clip_tensor(frames, size=32)
    assert out.shape == (3, 3, 32, 32) and out.min() >= -1 and out.max() <= 1
    reference = TF.resize(
        torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255, [32, 32], antialias=True
    )
    assert torch.allclose(out, (reference * 2 - 1).permute(1, 0, 2, 3), atol=1e-6)


def test_folder_clip_loads_in_name_order_and_refuses_mixed_sizes(tmp_path):
    frames = _clips(1, 1, frames=3)[0]
    folder = tmp_path / "clip"
    folder.mkdir()
    for i in (2, 0, 1):
        Image.fromarray(frames[i]).save(folder / f"f{i:04d}.png")
    assert np.array_equal(load_clip(folder), frames)
    Image.fromarray(frames[0][:10]).save(folder / "f0003.png")
    with pytest.raises(ValueError, match="f0003.png is 20×10 but f0000.png is 20×24"):
        load_clip(folder)
    with pytest.raises(ValueError, match="T×H×W×3 uint8"):
        load_clip(frames[0])


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # singular covariances: n < d, as in VFID
def test_vfid_is_zero_against_itself_and_its_frechet_part_matches_scipy():
    net = _tiny_extractor()
    pred, gt = _clips(2, 4, frames=12), _clips(3, 4, frames=12, shift=60)
    protocol = get_video_protocol("vfid_toolkit").with_options(vfid_frames=4, vfid_size=32)
    options = protocol.vfid_options()  # 3 windows per clip, 12 per set
    value = vfid(pred, gt, net, protocol)
    net.normalization = "minus_one_one"  # what the toolkit protocol feeds the ResNeXt
    f1, f2 = clip_features(pred, net, **options), clip_features(gt, net, **options)
    assert f1.shape == (12, net.feature_dim)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    # 12 samples of 512-d features: singular covariances, so "0" is 0 up to rounding relative to their trace.
    assert abs(vfid(gt, gt, net, protocol)) < 1e-6 * np.trace(s2)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real  # the reference the vfid-metrics toolkit uses
    reference = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    assert value > 0 and value == pytest.approx(reference, rel=1e-5)
    # One centred window per clip: the same clips give different (fewer) samples.
    centred = clip_features(pred, net, frames=4, size=32, windows="centre")
    assert centred.shape == (4, net.feature_dim)
    assert np.allclose(centred[0], f1[1], atol=1e-5)  # frames 4-7: the 12-frame clip's centre = window 2
    with pytest.raises(ValueError, match="at least 2 windows per set"):
        vfid(pred[:1], gt, net, protocol.with_options(vfid_windows="centre"))


def test_per_frame_ssim_is_the_mean_of_torchmetrics_over_frames():
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    gt = _clips(4, 2, frames=5, h=40, w=36)
    pred = _resembling(gt, 5)
    ours = per_frame_ssim(pred, gt)
    per_clip = [
        float(
            tm_ssim(
                torch.from_numpy(p).permute(0, 3, 1, 2).float() / 255,
                torch.from_numpy(g).permute(0, 3, 1, 2).float() / 255,
                data_range=1.0,
                reduction="none",
            ).mean()
        )
        for p, g in zip(pred, gt, strict=True)
    ]
    assert 0.05 < ours < 0.99
    assert ours == pytest.approx(np.mean(per_clip), abs=1e-4)
    with pytest.raises(ValueError, match="same frame count and size"):
        per_frame_ssim([pred[0][:4]], [gt[0]])


def test_per_frame_lpips_is_the_frame_mean_of_lpips():
    torch.manual_seed(6)
    net = LPIPS("alex")  # random backbone and heads: the averaging is under test
    with torch.no_grad():
        for head in net.heads:
            head.weight.uniform_(0, 0.05)
    gt = _clips(7, 2, frames=3, h=64, w=64)
    pred = _resembling(gt, 8)

    def frames(clip):
        return torch.from_numpy(clip).permute(0, 3, 1, 2).float() / 255

    with torch.no_grad():
        expected = np.mean([float(net(frames(p), frames(g)).mean()) for p, g in zip(pred, gt, strict=True)])
    assert per_frame_lpips(pred, gt, net=net) == pytest.approx(expected, rel=1e-5)
    assert per_frame_lpips(gt, gt, net=net) == pytest.approx(0.0, abs=1e-6)


def _write_clip_folders(root, clips: dict[str, np.ndarray]) -> None:
    root.mkdir()
    for name, clip in clips.items():
        (root / name).mkdir()
        for i, frame in enumerate(clip):
            Image.fromarray(frame).save(root / name / f"{i:05d}.png")


def test_cli_video_mode_over_clip_folders(tmp_path, monkeypatch):
    gt = dict(zip(("a", "b", "c"), _clips(9, 3, frames=10), strict=True))
    pred = dict(zip(("a", "b", "c"), _resembling(list(gt.values()), 10), strict=True))
    pred["extra"] = pred["a"]  # no partner
    _write_clip_folders(tmp_path / "gt", gt)
    _write_clip_folders(tmp_path / "pred", pred)
    net = _tiny_extractor()
    built, checked = [], []
    monkeypatch.setattr(video, "build_extractor", lambda name, **kw: built.append(name) or net)
    monkeypatch.setattr(video, "require_weights", lambda names, paths=None: checked.append(names))
    args = ["metrics", "compute", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"), "--json"]
    res = CliRunner().invoke(main, [*args, "--metrics", "ssim,psnr,vfid_resnext"])
    assert res.exit_code == 0, res.output
    *_, protocol_line, values_line = res.output.strip().splitlines()
    values = json.loads(values_line)
    assert json.loads(protocol_line[len("protocol ") :])["name"] == "vfid_toolkit"  # the papers' default
    names = ["a", "b", "c"]
    assert values["ssim"] == pytest.approx(
        per_frame_ssim([pred[n] for n in names], list(gt.values())), abs=1e-6
    )
    expected_vfid = vfid(list(pred.values()), list(gt.values()), net)  # 10-frame windows at 224²
    assert values["vfid_resnext"] == pytest.approx(expected_vfid, rel=1e-6)
    assert checked == [["resnext101_kinetics"]]  # looked up before any scoring
    assert (
        built == ["resnext101_kinetics"]
        and "3 matched clips" in res.output
        and "1 prediction(s)" in res.output
    )

    monkeypatch.undo()
    monkeypatch.setenv("VTON_WEIGHTS", str(tmp_path / "empty_store"))
    res = CliRunner().invoke(main, [*args, "--metrics", "vfid_i3d"])
    assert res.exit_code == 1 and "vton weights import /path/to/rgb_imagenet.pt" in res.output
    res = CliRunner().invoke(main, [*args, "--video", "--metrics", "fid"])
    assert res.exit_code == 1 and "image-only metric(s) for videos: fid" in res.output


def test_evaluate_video_folders_records_the_protocol_and_per_clip_values(tmp_path):
    gt = dict(zip(("a", "b"), _clips(11, 2, frames=4), strict=True))
    pred = dict(zip(("a", "b"), _resembling(list(gt.values()), 12), strict=True))
    _write_clip_folders(tmp_path / "gt", gt)
    _write_clip_folders(tmp_path / "pred", pred)
    result = evaluate_video_folders(
        tmp_path / "pred", tmp_path / "gt", ["ssim", "mse"], "hrviton", progress=False
    )
    hrviton = get_protocol("hrviton").ssim_options()
    per_clip = per_frame_scores(list(pred.values()), list(gt.values()), ["ssim"], hrviton)
    assert result.per_image["b"]["ssim"] == pytest.approx(per_clip["ssim"][1], abs=1e-9)
    assert result.values["ssim"] == pytest.approx(per_clip["ssim"].mean(), abs=1e-9)
    # an image protocol's per-frame settings under the papers' VFID settings, named as such
    assert (
        result.protocol["name"] == "vfid_toolkit+hrviton" and result.protocol["frame_protocol"] == "hrviton"
    )
    assert result.protocol["vfid_frames"] == 10 and result.protocol["vfid_windows"] == "non_overlapping"
    assert result.protocol["ssim_grayscale"] is True and result.pairs == 2
