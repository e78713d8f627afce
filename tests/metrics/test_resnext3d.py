"""3D-ResNeXt-101: 3D-ResNets-PyTorch's parameter names and shapes, Hara's input normalisation, global pooling
equal to Hara's fixed average pool at 16×112 and 10×224, and a store-imported training checkpoint in the
published layout (`state_dict` with `module.` prefixes) gives 2048-d features; a wrong file names the fix."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from fixtures.video_weights import randomize, save_hara_layout

from metrics.extractors import build_extractor
from metrics.resnext3d import ACTIVITYNET_MEAN, FEATURE_DIM, ResNeXt3D
from vton.weights import WeightsCheckError, WeightsStore


def _narrow(**options) -> ResNeXt3D:
    """The same code at a fraction of the width and depth (ResNeXt-101 is 48M parameters)."""
    return randomize(
        ResNeXt3D(layers=(1, 1, 1, 1), cardinality=4, stem_channels=8, base_planes=32, **options)
    )


def test_state_dict_has_the_published_names_and_shapes():
    state = ResNeXt3D().state_dict()
    expected = {
        "conv1.weight": (64, 3, 7, 7, 7),
        "bn1.running_mean": (64,),
        "layer1.0.conv1.weight": (128, 64, 1, 1, 1),
        "layer1.0.conv2.weight": (128, 4, 3, 3, 3),  # cardinality 32, 4 channels per group
        "layer1.0.conv3.weight": (256, 128, 1, 1, 1),
        "layer1.0.downsample.0.weight": (256, 64, 1, 1, 1),  # shortcut B: projection + BN
        "layer1.0.downsample.1.running_var": (256,),
        "layer2.0.conv2.weight": (256, 8, 3, 3, 3),
        "layer3.22.conv3.weight": (1024, 512, 1, 1, 1),
        "layer4.0.downsample.0.weight": (2048, 1024, 1, 1, 1),
        "layer4.2.bn3.weight": (2048,),
        "fc.weight": (400, 2048),
        "fc.bias": (400,),
    }
    for key, shape in expected.items():
        assert tuple(state[key].shape) == shape, key
    blocks = {
        f"layer{i}": len({k.split(".")[1] for k in state if k.startswith(f"layer{i}.")}) for i in range(1, 5)
    }
    assert blocks == {"layer1": 3, "layer2": 4, "layer3": 23, "layer4": 3}
    assert not any(".downsample." in k for k in state if k.split(".")[1] != "0")
    assert "mean" not in state  # the normalisation constant is not part of the published file
    params = sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k)
    assert 47.5e6 < params < 49e6


def test_normalisation_is_hara_mean_subtraction_or_the_vfid_metrics_range():
    clips = torch.tensor([-1.0, 0.0, 1.0]).view(1, 1, 3, 1, 1).expand(1, 3, 3, 1, 1)
    mean = torch.tensor(ACTIVITYNET_MEAN).view(3, 1)
    hara = _narrow().normalize(clips)[0, :, :, 0, 0]
    assert torch.allclose(hara, torch.tensor([0.0, 127.5, 255.0]) - mean)
    assert torch.equal(_narrow(normalization="minus_one_one").normalize(clips), clips)
    with pytest.raises(ValueError, match="normalization must be one of"):
        ResNeXt3D(normalization="imagenet")


@pytest.mark.parametrize("frames,size", [(16, 112), (10, 224)])
def test_global_pool_equals_haras_fixed_average_pool(frames, size):
    net = _narrow()
    clip = torch.rand(2, 3, frames, size, size, generator=torch.Generator().manual_seed(frames)) * 2 - 1
    with torch.no_grad():
        fmap = net.feature_map(clip)
        features = net(clip)
    # 3D-ResNets-PyTorch: AvgPool3d((⌈T/16⌉, ⌈S/32⌉, ⌈S/32⌉), stride 1) after layer4, then flatten.
    hara = F.avg_pool3d(fmap, (math.ceil(frames / 16), math.ceil(size / 32), math.ceil(size / 32)), stride=1)
    assert hara.shape[2:] == (1, 1, 1)
    assert torch.allclose(features, hara.flatten(1), atol=1e-5)
    assert features.shape == (2, net.feature_dim) and features.std() > 0


def test_store_imported_training_checkpoint_gives_2048_d_features(tmp_path, monkeypatch):
    torch.manual_seed(0)
    state = randomize(ResNeXt3D(), seed=3).state_dict()
    published = save_hara_layout(state, tmp_path / "resnext-101-kinetics.pth")
    store_root = tmp_path / "store"
    try:
        WeightsStore(store_root).import_file(published, report=lambda line: None)  # `vton weights import`
        monkeypatch.setenv("VTON_WEIGHTS", str(store_root))
        net = build_extractor("resnext101_kinetics")
        for key, value in net.state_dict().items():
            if not key.endswith("num_batches_tracked"):
                assert torch.equal(value, state[key]), key
        clip = torch.rand(1, 3, 10, 112, 112, generator=torch.Generator().manual_seed(4)) * 2 - 1
        with torch.no_grad():
            features = net(clip)
            logits = net.fc(features)
        assert features.shape == (1, FEATURE_DIM) and torch.isfinite(features).all() and features.std() > 0
        assert logits.shape == (1, 400)
    finally:  # two copies of a 190 MB file: don't leave them in pytest's kept temp folders
        published.unlink(missing_ok=True)
        for f in store_root.rglob("*.pth"):
            f.unlink()


def test_another_networks_checkpoint_is_refused_with_the_import_command(tmp_path):
    wrong = save_hara_layout(_narrow().state_dict(), tmp_path / "resnext-101-kinetics.pth")
    with pytest.raises(WeightsCheckError) as err:
        build_extractor("resnext101_kinetics", paths={"resnext101_kinetics": wrong})
    message = str(err.value)
    assert "is not the 3D-ResNets-PyTorch ResNeXt-101 Kinetics" in message and "missing tensors" in message
    assert "shape mismatches (conv1.weight (8, 3, 7, 7, 7) (expected (64, 3, 7, 7, 7))" in message
    assert "vton weights import /path/to/resnext-101-kinetics.pth" in message
