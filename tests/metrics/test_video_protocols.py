"""Named VFID protocols: `vfid_toolkit` (the papers' numbers: non-overlapping windows, [-1, 1] ResNeXt input)
and `vfid_centre` (one centred window, Hara's normalisation). Each protocol's settings reach the windowing and
the extractor (checked against the windows and features computed by hand), are recorded in the result and in
`vton metrics compute --json`, and `--protocol` selects them (the papers' one by default with --video)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from fixtures.video_weights import randomize
from PIL import Image

from metrics import distribution, protocols, video
from metrics.protocols import (
    PROTOCOLS,
    RESNEXT_INPUTS,
    VIDEO_PROTOCOLS,
    VideoProtocol,
    get_protocol,
    get_video_protocol,
)
from metrics.resnext3d import NORMALIZATIONS, ResNeXt3D
from metrics.video import clip_tensor, evaluate_video_folders, vfid
from vton.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # n < d, as in VFID


class RecordingResNeXt(ResNeXt3D):
    """A narrow 3D-ResNeXt that records every batch it is fed and the input normalisation in force."""

    def __init__(self) -> None:
        super().__init__(layers=(1, 1, 1, 1), cardinality=4, stem_channels=8, base_planes=32)
        randomize(self, seed=11)
        self.calls: list[tuple[torch.Tensor, str]] = []

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        self.calls.append((clips.clone(), self.normalization))
        return super().forward(clips)


def _clips(seed: int, n: int, frames: int, h: int = 14, w: int = 12) -> list[np.ndarray]:
    rng = np.random.RandomState(seed)
    return [rng.randint(0, 256, (frames, h, w, 3)).astype(np.uint8) for _ in range(n)]


def test_the_registry_names_both_protocols_and_validates_options():
    toolkit, centre = VIDEO_PROTOCOLS["vfid_toolkit"], VIDEO_PROTOCOLS["vfid_centre"]
    assert (toolkit.vfid_windows, toolkit.vfid_resnext_input) == ("non_overlapping", "minus_one_one")
    assert (centre.vfid_windows, centre.vfid_resnext_input) == ("centre", "hara")
    assert toolkit.vfid_options() == {"frames": 10, "size": 224, "windows": "non_overlapping"}
    assert centre.vfid_frames == 10 and centre.vfid_size == 224
    assert set(RESNEXT_INPUTS) == set(NORMALIZATIONS)
    assert get_protocol("vfid_centre") is centre and get_video_protocol(None) is toolkit
    # an image protocol: its per-frame settings under the papers' VFID settings
    assert get_video_protocol("torch_fidelity") is toolkit  # the same per-frame settings: nothing renamed
    hr = get_video_protocol(PROTOCOLS["hrviton"])
    assert hr.name == "vfid_toolkit+hrviton" and hr.ssim_grayscale and hr.ssim_border == "crop"
    assert hr.vfid_options() == toolkit.vfid_options() and hr.frame_protocol == "hrviton"
    with pytest.raises(ValueError, match="vfid_windows must be one of"):
        toolkit.with_options(vfid_windows="center")
    with pytest.raises(ValueError, match="vfid_resnext_input must be one of"):
        VideoProtocol("x", "x", vfid_resnext_input="imagenet")
    with pytest.raises(ValueError, match=r"unknown metrics protocol 'vfid'.*vfid_toolkit, vfid_centre"):
        get_video_protocol("vfid")


@pytest.mark.parametrize(
    "name,windows,normalization",
    [
        ("vfid_toolkit", [range(0, 10), range(10, 20)], "minus_one_one"),  # frames 20-24 dropped
        ("vfid_centre", [range(7, 17)], "hara"),
    ],
)
def test_each_protocol_reaches_the_windowing_and_the_extractor(name, windows, normalization):
    protocol = get_video_protocol(name).with_options(vfid_size=16)
    pred, gt = _clips(1, 2, frames=25), _clips(2, 2, frames=25)
    net = RecordingResNeXt()
    value = vfid(pred, gt, net, protocol, batch_size=3)

    fed = torch.cat([batch for batch, _ in net.calls])
    expected = [clip_tensor(clip[list(w)], 16) for clip in pred + gt for w in windows]
    assert fed.shape == (len(expected), 3, 10, 16, 16)
    assert torch.equal(fed, torch.stack(expected))  # every window, in clip order, cut by the protocol's rule
    assert {norm for _, norm in net.calls} == {normalization}
    assert net.normalization == "hara"  # the module's own setting is restored afterwards

    # The reference: the same weights built with the protocol's normalisation, on the hand-cut windows.
    reference = randomize(
        ResNeXt3D(
            layers=(1, 1, 1, 1), cardinality=4, stem_channels=8, base_planes=32, normalization=normalization
        ),
        seed=11,
    )
    with torch.no_grad():
        features = reference(torch.stack(expected)).double().numpy()
    half = len(expected) // 2
    assert value == pytest.approx(distribution.fid_from_features(features[:half], features[half:]), rel=1e-6)


def _write_clip_folders(root, clips: dict[str, np.ndarray]) -> None:
    for name, clip in clips.items():
        (root / name).mkdir(parents=True)
        for i, frame in enumerate(clip):
            Image.fromarray(frame).save(root / name / f"{i:04d}.png")


def test_protocols_are_recorded_in_the_result_and_selected_by_the_cli(tmp_path, monkeypatch):
    gt = dict(zip("abc", _clips(3, 3, frames=20), strict=True))
    pred = dict(zip("abc", _clips(4, 3, frames=20), strict=True))
    _write_clip_folders(tmp_path / "gt", gt)
    _write_clip_folders(tmp_path / "pred", pred)
    net = RecordingResNeXt()
    monkeypatch.setattr(video, "build_extractor", lambda name, **kw: net)
    monkeypatch.setattr(video, "require_weights", lambda names, paths=None: None)
    for name in VIDEO_PROTOCOLS:  # small frames keep the test fast; the CLI still selects them by name
        monkeypatch.setitem(protocols.VIDEO_PROTOCOLS, name, VIDEO_PROTOCOLS[name].with_options(vfid_size=16))

    result = evaluate_video_folders(
        tmp_path / "pred", tmp_path / "gt", ["vfid_resnext"], "vfid_centre", progress=False
    )
    assert result.protocol == protocols.VIDEO_PROTOCOLS["vfid_centre"].as_dict()
    assert result.protocol["vfid_windows"] == "centre" and result.protocol["vfid_resnext_input"] == "hara"

    args = ["metrics", "compute", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    outputs = {}
    for extra in ([], ["--protocol", "vfid_toolkit"], ["--protocol", "vfid_centre"]):
        res = CliRunner().invoke(main, [*args, "--metrics", "vfid_resnext", "--json", *extra])
        assert res.exit_code == 0, res.output
        *_, protocol_line, values_line = res.output.strip().splitlines()
        outputs[tuple(extra)] = json.loads(values_line) | {
            "protocol": json.loads(protocol_line[len("protocol ") :])
        }
    default, toolkit, centre = outputs.values()
    assert default == toolkit  # --video defaults to the papers' protocol
    for out, name in ((toolkit, "vfid_toolkit"), (centre, "vfid_centre")):
        chosen = protocols.VIDEO_PROTOCOLS[name]
        assert out["protocol"] == chosen.as_dict()
        assert out["vfid_resnext"] == pytest.approx(
            vfid(list(pred.values()), list(gt.values()), net, chosen), rel=1e-6
        )
    assert toolkit["vfid_resnext"] != pytest.approx(centre["vfid_resnext"], rel=1e-3)

    res = CliRunner().invoke(main, [*args, "--video", "--metrics", "ssim", "--json", "--protocol", "hrviton"])
    assert res.exit_code == 0 and "protocol vfid_toolkit+hrviton" in res.output
    protocol_line = res.output.strip().splitlines()[-2]
    assert json.loads(protocol_line[len("protocol ") :])["ssim_grayscale"] is True
    res = CliRunner().invoke(main, [*args, "--metrics", "ssim", "--protocol", "vfid_centre"])
    assert res.exit_code == 1 and "vfid_centre is a video protocol: add --video" in res.output
