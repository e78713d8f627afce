"""LPIPS agrees with the `lpips` package (≤ 1e-5) with the same random backbone and head weights in both, and
end to end through the weights store with the published SqueezeNet heads; DISTS agrees with `piq` (≤ 1e-5)
with the same VGG16 and alpha/beta weights and behaves as a distance; registry lookups fail fast without
weights."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torchvision
from fixtures.metrics_weights import metrics_store, use_store

from metrics.extractors import build_extractor
from metrics.perceptual import DISTS, DISTS_CHANNELS, LPIPS_BACKBONES

lpips = pytest.importorskip("lpips")

_ARCH = {name: arch for name, (arch, _, _) in LPIPS_BACKBONES.items()}


def _features_module(arch: str) -> torch.nn.Module:
    """torchvision `arch`'s `.features`, uninitialised (the classifier is never allocated)."""
    with torch.device("meta"):
        return getattr(torchvision.models, arch)(weights=None).features.to_empty(device="cpu")


def _random_backbone(arch: str, path, features_only: bool = True) -> dict[str, torch.Tensor]:
    """Random torchvision weights saved to `path`: the whole model's, or only `features.*` (all LPIPS and
    DISTS read), which skips initialising VGG's 120M-parameter classifier."""
    torch.manual_seed(3)
    if features_only:
        features = _features_module(arch)
        for module in features.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.reset_parameters()
        state = {f"features.{k}": v for k, v in features.state_dict().items()}
    else:
        state = getattr(torchvision.models, arch)(weights=None).state_dict()
    torch.save(state, path)
    return state


def _copy_backbone_into_peer(peer, backbone: dict[str, torch.Tensor], slices: int) -> None:
    """The lpips package slices torchvision's `.features` into slice1..sliceN keeping the layer indices."""
    feats = {k[len("features.") :]: v for k, v in backbone.items() if k.startswith("features.")}
    for slice_module in [getattr(peer.net, f"slice{i}") for i in range(1, slices + 1)]:
        for idx, layer in slice_module.named_children():
            for pname, param in layer.named_parameters():
                param.data.copy_(feats[f"{idx}.{pname}"])


def _random_weights(tmp_path, net: str):
    backbone_file = tmp_path / f"{net}_backbone.pth"
    backbone = _random_backbone(_ARCH[net], backbone_file)
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
    _copy_backbone_into_peer(peer, backbone, len(heads))
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


def test_lpips_squeeze_end_to_end_through_the_store_with_the_published_heads(tmp_path, monkeypatch):
    """A full torchvision SqueezeNet 1.1 file imported under its catalog name; the v0.1 heads come from the
    installed lpips package (the catalog's `bundled` copy, checked by its published sha256) in both."""
    backbone_file = tmp_path / "squeezenet1_1-b8a52dc0.pth"
    backbone = _random_backbone("squeezenet1_1", backbone_file, features_only=False)
    store = metrics_store(tmp_path / "store", {"torchvision_squeezenet1_1": backbone_file})
    use_store(monkeypatch, store)
    heads = store.status()
    (head_status,) = [st for st in heads if st.entry.name == "lpips_squeeze_v0_1"]
    assert head_status.bundled and head_status.verified
    ours = build_extractor("lpips_squeeze")
    peer = lpips.LPIPS(net="squeeze", pretrained=True, pnet_rand=True, verbose=False)  # its own v0.1 heads
    _copy_backbone_into_peer(peer, backbone, len(LPIPS_BACKBONES["squeeze"][2]))
    peer.eval()
    g = torch.Generator().manual_seed(8)
    a, b = torch.rand(3, 3, 64, 48, generator=g), torch.rand(3, 3, 64, 48, generator=g)
    with torch.no_grad():
        mine, theirs = ours(a, b), peer(a, b, normalize=True).flatten()
    assert (mine > 0).all()
    assert torch.allclose(mine, theirs, atol=1e-5, rtol=0)


def test_dists_matches_piq_with_the_same_vgg_and_alpha_beta(tmp_path, monkeypatch):
    piq = pytest.importorskip("piq")
    vgg_file = tmp_path / "vgg16.pth"
    backbone = _random_backbone("vgg16", vgg_file)
    g = torch.Generator().manual_seed(9)
    total = sum(DISTS_CHANNELS)
    alpha, beta = torch.rand(1, total, 1, 1, generator=g), torch.rand(1, total, 1, 1, generator=g)
    alpha_beta_file = tmp_path / "weights.pt"
    torch.save({"alpha": alpha, "beta": beta}, alpha_beta_file)
    ours = build_extractor(
        "dists_vgg16", paths={"torchvision_vgg16": vgg_file, "dists_alpha_beta": alpha_beta_file}
    )

    # piq would download both files; hand it the same tensors instead. The original DISTS (and ours) divides
    # alpha and beta by their joint sum at run time; piq applies them as stored, so it gets them divided.
    def peer_vgg16(**_):  # piq keeps only `.features`
        features = _features_module("vgg16")
        features.load_state_dict({k.removeprefix("features."): v for k, v in backbone.items()})
        return SimpleNamespace(features=features)

    norm = alpha.sum() + beta.sum()
    monkeypatch.setattr(piq.perceptual, "vgg16", peer_vgg16)
    monkeypatch.setattr(
        torch.hub, "load_state_dict_from_url", lambda *a, **k: {"alpha": alpha / norm, "beta": beta / norm}
    )
    peer = piq.DISTS(reduction="none")
    x = torch.rand(2, 3, 64, 80, generator=g)
    y = (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    with torch.no_grad():
        mine, theirs = ours(x, y), peer(x, y)
    assert mine.shape == (2,) and (mine > 1e-3).all()
    assert torch.allclose(mine, theirs, atol=1e-5, rtol=0)


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
