"""hyperIQA: random weights in the published layout load strictly through the weights store; scores are finite,
deterministic and independent of batch order; the hypernetwork + target network agree with a hand-written
float64 reference of the same math."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fixtures.metrics_weights import random_hypernet_weights

from metrics.extractors import build_extractor
from metrics.hyperiqa import HyperNet, crop_offsets, hyperiqa_score, load_hypernet
from vton.weights import WeightsStore


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return random_hypernet_weights(tmp_path_factory.mktemp("hyperiqa") / "koniq_pretrained.pkl")


@pytest.fixture(scope="module")
def net(weights):
    return load_hypernet(weights)


def _images() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    smooth = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 300, 260, generator=g), 9, 1, 4)[0]
    return [smooth, torch.rand(3, 240, 250, generator=g)]


def test_published_layout_imports_into_the_store_and_loads_strictly(weights, tmp_path, monkeypatch):
    monkeypatch.setenv("VTON_WEIGHTS", str(tmp_path / "store"))
    WeightsStore.from_env().import_file(weights, report=lambda line: None)  # found by its file name
    net = build_extractor("hyperiqa")
    assert isinstance(net, HyperNet) and not net.training
    published = torch.load(weights, map_location="cpu", weights_only=True)
    assert set(published) == set(net.state_dict())
    assert {"res.lda1_pool.0.weight", "conv1.4.bias", "fc1w_conv.weight", "fc5b_fc.bias"} <= set(published)
    for key in ("res.layer4.2.bn3.running_var", "fc3w_conv.weight"):
        assert torch.equal(net.state_dict()[key], published[key])


def test_scores_are_finite_deterministic_and_batch_independent(net):
    images = _images()
    first = hyperiqa_score(images, net, patches=2, resize=None)
    assert first.shape == (2,) and torch.isfinite(first).all()
    assert torch.equal(first, hyperiqa_score(images, net, patches=2, resize=None))
    # Same crops whatever the batch: only the convolutions' summation order may differ.
    alone = hyperiqa_score(images[1:], net, patches=2, resize=None, batch_size=1)
    assert torch.allclose(alone, first[1:], atol=1e-5, rtol=0)
    assert crop_offsets(300, 260, 2, seed=0) != crop_offsets(300, 260, 2, seed=1)
    assert float(first[0]) != pytest.approx(float(first[1]), abs=1e-6)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def test_hypernetwork_and_target_network_match_a_hand_written_reference(net):
    g = torch.Generator().manual_seed(2)
    patch = torch.randn(1, 3, 224, 224, generator=g)
    with torch.no_grad():
        ours = float(net.score_patches(patch)[0])
        feat, vec = net.res(patch)  # the backbone and LDA path, shared by both
        hyper = net.conv1(feat)[0].double().numpy()  # 112×7×7
    x = vec[0].double().numpy()
    pooled = hyper.mean((1, 2))
    sizes = (224, 112, 56, 28, 14)

    def conv3x3(layer) -> np.ndarray:
        """3×3 convolution, zero padding 1, written out: out[o, i, j] = b[o] + Σ w[o, c, di, dj] h[c, i+di-1, j+dj-1]."""
        w, b = layer.weight.detach().double().numpy(), layer.bias.detach().double().numpy()
        padded = np.pad(hyper, ((0, 0), (1, 1), (1, 1)))
        out = np.empty((w.shape[0], 7, 7))
        for i in range(7):
            for j in range(7):
                out[:, i, j] = np.einsum("ocij,cij->o", w, padded[:, i : i + 3, j : j + 3]) + b
        return out

    def linear(layer) -> np.ndarray:
        return layer.weight.detach().double().numpy() @ pooled + layer.bias.detach().double().numpy()

    q = x
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        # The authors view the conv output (C×7×7, row-major) as the out×in weight of target FC i.
        w = conv3x3(getattr(net, f"fc{i}w_conv")).reshape(n_out, n_in)
        q = _sigmoid(w @ q + linear(getattr(net, f"fc{i}b_fc")))
    reference = float(linear(net.fc5w_fc) @ q + linear(net.fc5b_fc)[0])
    assert ours == pytest.approx(reference, abs=1e-5)


def test_bad_inputs_name_the_problem(net, tmp_path):
    with pytest.raises(ValueError, match="smaller than hyperIQA's 224px crop"):
        hyperiqa_score([torch.rand(3, 200, 300)], net, resize=None)
    with pytest.raises(ValueError, match="3×H×W RGB"):
        hyperiqa_score([torch.rand(1, 300, 300)], net)
    wrong = tmp_path / "koniq_pretrained.pkl"
    torch.save({"res.conv1.weight": torch.zeros(64, 3, 7, 7), "fc9.weight": torch.zeros(1)}, wrong)
    with pytest.raises(ValueError, match=r"koniq_pretrained.pkl is not the hyperIQA HyperNet.*fc9.weight"):
        load_hypernet(wrong)
