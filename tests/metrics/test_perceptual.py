"""LPIPS agrees with the `lpips` package (≤ 1e-5) with the same random backbone and head weights in both;
DISTS behaves as a distance; registry lookups fail fast without weights."""

from __future__ import annotations

import pytest
import torch
import torchvision

from metrics.extractors import build_extractor
from metrics.perceptual import DISTS, LPIPS_BACKBONES

lpips = pytest.importorskip("lpips")

_ARCH = {name: arch for name, (arch, _, _) in LPIPS_BACKBONES.items()}


def _random_weights(tmp_path, net: str):
    torch.manual_seed(3)
    backbone = getattr(torchvision.models, _ARCH[net])(weights=None).state_dict()
    backbone_file = tmp_path / f"{net}_backbone.pth"
    torch.save(backbone, backbone_file)
    channels = LPIPS_BACKBONES[net][2]
    heads = {f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1) / c for i, c in enumerate(channels)}
    heads_file = tmp_path / f"{net}_heads.pth"
    torch.save(heads, heads_file)
    return backbone, backbone_file, heads, heads_file


@pytest.mark.parametrize("net", ["alex", "vgg", "squeeze"])
def test_lpips_matches_lpips_package(tmp_path, net):
    backbone, backbone_file, heads, heads_file = _random_weights(tmp_path, net)
    entries = {
        "alex": "torchvision_alexnet",
        "vgg": "torchvision_vgg16",
        "squeeze": "torchvision_squeezenet1_1",
    }
    ours = build_extractor(
        f"lpips_{net}", paths={entries[net]: backbone_file, f"lpips_{net}_v0_1": heads_file}
    )
    peer = lpips.LPIPS(net=net, pretrained=False, pnet_rand=True, verbose=False)
    # The lpips package slices torchvision's `.features` into slice1..sliceN keeping the layer indices.
    feats = {k[len("features.") :]: v for k, v in backbone.items() if k.startswith("features.")}
    for slice_module in [getattr(peer.net, f"slice{i}") for i in range(1, len(heads) + 1)]:
        for idx, layer in slice_module.named_children():
            for pname, param in layer.named_parameters():
                param.data.copy_(feats[f"{idx}.{pname}"])
    for key, value in heads.items():
        peer.state_dict()[key].copy_(value)
    peer.eval()
    g = torch.Generator().manual_seed(4)
    a, b = torch.rand(2, 3, 64, 64, generator=g), torch.rand(2, 3, 64, 64, generator=g)
    with torch.no_grad():
        mine = ours(a, b)
        theirs = peer(a, b, normalize=True).flatten()
    assert mine.shape == (2,) and (mine > 0).all()
    assert torch.allclose(mine, theirs, atol=1e-5, rtol=0)
    assert float(ours(a, a).abs().max()) < 1e-6


def test_dists_is_zero_for_identical_images_and_grows_with_distortion():
    torch.manual_seed(5)
    net = DISTS()
    g = torch.Generator().manual_seed(6)
    x = torch.rand(1, 3, 64, 64, generator=g)
    with torch.no_grad():
        same = float(net(x, x))
        slight = float(net(x, (x + 0.05 * torch.randn(x.shape, generator=g)).clamp(0, 1)))
        heavy = float(net(x, torch.rand(1, 3, 64, 64, generator=g)))
    assert abs(same) < 1e-5
    assert 0 < slight < heavy


def test_missing_weights_fail_fast_with_the_import_command(tmp_path, monkeypatch):
    from vton.weights.errors import MissingWeightsError

    monkeypatch.setenv("VTON_WEIGHTS", str(tmp_path / "empty_store"))
    with pytest.raises(MissingWeightsError, match="vton weights import"):
        build_extractor("inception_v3_tf")
    with pytest.raises(ValueError, match="registered: "):
        build_extractor("no_such_net")
