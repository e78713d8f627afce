"""I3D: pytorch-i3d's parameter names and shapes, TensorFlow SAME padding, a store-imported checkpoint in the
published layout gives 1024-d features on a 10-frame 224×224 clip; wrong or missing files fail with the fix."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from fixtures.video_weights import randomize, save_i3d_layout

from metrics.extractors import build_extractor
from metrics.i3d import FEATURE_DIM, InceptionI3D, same_padding
from vton.weights import MissingWeightsError, WeightsCheckError, WeightsStore

# Top-level modules of pytorch-i3d's InceptionI3d that hold tensors, in its order.
PUBLISHED_UNITS = [
    "Conv3d_1a_7x7",
    "Conv3d_2b_1x1",
    "Conv3d_2c_3x3",
    *(f"Mixed_{b}" for b in ("3b", "3c", "4b", "4c", "4d", "4e", "4f", "5b", "5c")),
    "logits",
]


def test_state_dict_has_the_published_names_and_shapes():
    state = InceptionI3D().state_dict()
    assert list(dict.fromkeys(k.split(".")[0] for k in state)) == PUBLISHED_UNITS
    expected = {
        "Conv3d_1a_7x7.conv3d.weight": (64, 3, 7, 7, 7),
        "Conv3d_1a_7x7.bn.running_var": (64,),
        "Conv3d_2c_3x3.conv3d.weight": (192, 64, 3, 3, 3),
        "Mixed_3b.b1b.conv3d.weight": (128, 96, 3, 3, 3),
        "Mixed_4e.b2a.conv3d.weight": (32, 512, 1, 1, 1),
        "Mixed_5c.b0.conv3d.weight": (384, 832, 1, 1, 1),
        "Mixed_5c.b3b.bn.bias": (128,),
        "logits.conv3d.weight": (400, 1024, 1, 1, 1),
        "logits.conv3d.bias": (400,),
    }
    for key, shape in expected.items():
        assert tuple(state[key].shape) == shape, key
    # 57 conv + batch-norm units (5 tensors each without counters) and the biased logits conv.
    assert len([k for k in state if not k.endswith("num_batches_tracked")]) == 57 * 5 + 2
    assert not any(
        k.startswith("logits.bn") or (k.endswith("conv3d.bias") and "logits" not in k) for k in state
    )
    params = sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k)
    assert 12.0e6 < params < 13.0e6  # I3D ≈ 12.3M + the 400-way logits


@pytest.mark.parametrize("kernel,stride", [(7, 2), (3, 1), (3, 2), (2, 2), (1, 1), (1, 2)])
def test_same_padding_is_tensorflows(kernel, stride):
    for n in range(1, 40):
        front, back = same_padding((n,), (kernel,), (stride,))
        out = math.ceil(n / stride)  # TF "SAME": output = ⌈n/s⌉, total pad = max((out-1)·s + k - n, 0)
        assert front + back == max((out - 1) * stride + kernel - n, 0)
        assert back - front in (0, 1)
        assert (n + front + back - kernel) // stride + 1 == out


def test_store_imported_checkpoint_gives_1024_d_features(tmp_path, monkeypatch):
    torch.manual_seed(0)
    state = randomize(InceptionI3D(), seed=1).state_dict()
    published = save_i3d_layout(state, tmp_path / "rgb_imagenet.pt")  # plain state dict, no BN counters
    store_root = tmp_path / "store"
    WeightsStore(store_root).import_file(published, report=lambda line: None)  # `vton weights import`
    monkeypatch.setenv("VTON_WEIGHTS", str(store_root))
    net = build_extractor("i3d_rgb_imagenet")
    for key, value in net.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            assert torch.equal(value, state[key]), key

    clip = torch.rand(1, 3, 10, 224, 224, generator=torch.Generator().manual_seed(2)) * 2 - 1
    with torch.no_grad():
        fmap = net.feature_map(clip)
        features = net(clip)
        logits = net.logits_per_step(fmap)
    assert fmap.shape == (1, FEATURE_DIM, 2, 7, 7)
    assert features.shape == (1, FEATURE_DIM) and torch.isfinite(features).all() and features.std() > 0
    # pytorch-i3d's extract_features (a 2×7×7 average pool) is the same number for this input.
    assert torch.allclose(features, F.avg_pool3d(fmap, (2, 7, 7), stride=1).flatten(1), atol=1e-6)
    assert logits.shape == (1, 400, 1) and torch.isfinite(logits).all()


def test_mismatching_or_missing_file_names_the_import_command(tmp_path, monkeypatch):
    state = InceptionI3D().state_dict()
    state["Mixed_4b.b1b.conv3d.weight"] = torch.zeros(208, 96, 1, 3, 3)  # a 2D-inflated kernel
    del state["logits.conv3d.bias"]
    wrong = save_i3d_layout(state, tmp_path / "rgb_imagenet.pt")
    with pytest.raises(WeightsCheckError) as err:
        build_extractor("i3d_rgb_imagenet", paths={"i3d_rgb_imagenet": wrong})
    message = str(err.value)
    assert "1 missing tensors (logits.conv3d.bias)" in message
    assert "Mixed_4b.b1b.conv3d.weight (208, 96, 1, 3, 3) (expected (208, 96, 3, 3, 3))" in message
    assert "vton weights import /path/to/rgb_imagenet.pt" in message and "\n" not in message

    monkeypatch.setenv("VTON_WEIGHTS", str(tmp_path / "empty_store"))
    with pytest.raises(MissingWeightsError, match=r"vton weights import /path/to/rgb_imagenet\.pt"):
        build_extractor("i3d_rgb_imagenet")
