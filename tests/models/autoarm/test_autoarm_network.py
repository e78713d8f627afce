"""Auto-ARM's Attention U-Net: the gate formula by hand, a gate on every skip, output sizes, the paper preset
and the BCE loss against torch's own."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.autoarm.config import AutoArmConfig
from models.autoarm.family import FAMILY
from models.autoarm.losses import mask_bce_loss, per_sample_iou
from models.autoarm.network import AttentionGate, AttentionUNet


def _upsample_bilinear(a: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of (h, w) to (height, width) with half-pixel centres (align_corners=False), by hand."""

    def axis(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0.0)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, src - lo

    y0, y1, wy = axis(height, a.shape[0])
    x0, x1, wx = axis(width, a.shape[1])
    top = a[y0][:, x0] * (1 - wx) + a[y0][:, x1] * wx
    bottom = a[y1][:, x0] * (1 - wx) + a[y1][:, x1] * wx
    return top * (1 - wy)[:, None] + bottom * wy[:, None]


def test_attention_gate_matches_hand_computation():
    torch.manual_seed(0)
    gate = AttentionGate(x_channels=2, g_channels=3, inter_channels=2).double()
    x = torch.randn(1, 2, 6, 4, dtype=torch.float64)
    g = torch.randn(1, 3, 3, 2, dtype=torch.float64)
    wx = gate.w_x.weight.detach().numpy()  # (inter, 2, 2, 2), no bias
    wg, bg = gate.w_g.weight.detach().numpy()[:, :, 0, 0], gate.w_g.bias.detach().numpy()
    psi, bpsi = gate.psi.weight.detach().numpy()[0, :, 0, 0], gate.psi.bias.detach().numpy()[0]
    xn, gn = x.numpy()[0], g.numpy()[0]
    alpha_coarse = np.zeros((3, 2))
    for i in range(3):
        for j in range(2):
            theta = np.array([(wx[k] * xn[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]).sum() for k in range(2)])
            phi = wg @ gn[:, i, j] + bg
            q = np.maximum(theta + phi, 0.0)  # ReLU(W_x x + W_g g + b_g)
            alpha_coarse[i, j] = 1.0 / (1.0 + np.exp(-(psi @ q + bpsi)))  # σ(ψ q + b_ψ)
    alpha = _upsample_bilinear(alpha_coarse, 6, 4)
    with torch.no_grad():
        coefficients, gated = gate.coefficients(x, g), gate(x, g)
    np.testing.assert_allclose(coefficients.numpy()[0, 0], alpha, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gated.numpy()[0], xn * alpha[None], rtol=1e-12, atol=1e-12)  # x' = α·x


def test_a_gate_on_every_skip_connection():
    widths = (4, 8, 16, 32, 64)
    model = AttentionUNet(widths=widths).eval()
    assert len(model.gates) == model.depth == 4
    assert sum(isinstance(m, AttentionGate) for m in model.modules()) == 4
    seen: dict[int, tuple] = {}

    def record(level: int):
        def hook(module, args, out) -> None:
            assert level not in seen, f"gate {level} ran twice"
            seen[level] = (args, out)

        return hook

    hooks = [gate.register_forward_hook(record(level)) for level, gate in enumerate(model.gates)]
    x = torch.rand(2, 5, 32, 48)
    with torch.no_grad():
        model(x)
    assert sorted(seen) == [0, 1, 2, 3]  # every gate ran once
    for level, ((skip, gating), out) in seen.items():
        assert skip.shape[1] == widths[level] and gating.shape[1] == widths[level + 1]
        assert skip.shape[-2:] == (32 // 2**level, 48 // 2**level)
        assert gating.shape[-2:] == (16 // 2**level, 24 // 2**level)  # gated from the coarser level
        assert out.shape == skip.shape
    for hook in hooks:
        hook.remove()
    # each decoder level reads the gated skip (first half of its input channels), not the raw encoder output
    decoder_inputs: dict[int, torch.Tensor] = {}
    for level, decoder in enumerate(model.decoders):
        decoder.register_forward_pre_hook(
            lambda mod, args, level=level: decoder_inputs.__setitem__(level, args[0])
        )
    with torch.no_grad():
        model(x)
    for level, ((skip, _), gated) in seen.items():
        assert torch.equal(decoder_inputs[level][:, : widths[level]], gated)
        assert not torch.equal(gated, skip)


@pytest.mark.parametrize("size", [(512, 384), (128, 96), (100, 70)])
def test_output_is_one_logit_per_input_pixel(size):
    model = AttentionUNet(widths=(4, 8, 16, 32, 64)).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 5, *size))
    assert out.shape == (2, 1, *size)


def test_paper_network_shapes_and_size_without_computing():
    config = AutoArmConfig.preset("paper")
    with torch.device("meta"):  # shapes only: the 32M-parameter U-Net is never run
        model = FAMILY.build_model(config)
        out = model(torch.empty(1, 5, 512, 384))
    assert out.shape == (1, 1, 512, 384)
    assert [enc[0].out_channels for enc in model.encoders] == [64, 128, 256, 512, 1024]
    assert len(model.gates) == 4
    assert isinstance(model.encoders[0][1], torch.nn.BatchNorm2d)
    assert 30e6 < sum(p.numel() for p in model.parameters()) < 36e6  # Attention U-Net's ~32-35M


def test_paper_preset_is_the_papers_settings():
    config = AutoArmConfig.preset("paper")
    assert config.optimizer == "adamw"
    assert config.lr == 1e-5
    assert config.batch_size == 6
    assert config.epochs == 10
    assert (config.height, config.width) == (512, 384)
    assert config.early_stopping_patience == 5
    assert (config.monitor, config.monitor_mode) == ("val_iou", "max")
    assert config.widths == (64, 128, 256, 512, 1024)
    assert config.norm == "batch"


def test_config_round_trips_and_rejects_bad_values():
    tiny = AutoArmConfig.preset("tiny")
    assert (tiny.height, tiny.width, tiny.widths) == (128, 96, (8, 16, 32, 64, 128))
    again = AutoArmConfig.from_dict(tiny.to_dict())
    assert again == tiny and again.config_hash() == tiny.config_hash()
    with pytest.raises(ValueError, match="norm"):
        AutoArmConfig.preset("tiny", norm="layer")
    with pytest.raises(ValueError, match="smaller than"):
        AutoArmConfig.preset("tiny", height=8)
    with pytest.raises(ValueError, match="presets: paper, tiny"):
        AutoArmConfig.preset("huge")


def test_bce_equals_torch_bce_on_sigmoid_outputs():
    torch.manual_seed(1)
    logits = torch.randn(3, 1, 16, 12) * 3
    truth = (torch.rand(3, 1, 16, 12) > 0.6).float()
    expected = F.binary_cross_entropy(torch.sigmoid(logits), truth)
    torch.testing.assert_close(mask_bce_loss(logits, truth), expected, rtol=1e-5, atol=1e-6)
    soft = torch.rand(3, 1, 16, 12)  # soft targets too
    torch.testing.assert_close(
        mask_bce_loss(logits, soft), F.binary_cross_entropy(torch.sigmoid(logits), soft), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="differ in shape"):
        mask_bce_loss(logits, truth[:, :, :8])


def test_per_sample_iou():
    a = torch.zeros(3, 1, 4, 4, dtype=torch.bool)
    b = torch.zeros(3, 1, 4, 4, dtype=torch.bool)
    a[0, 0, :2], b[0, 0, 1:3] = True, True  # 4 shared of 12 -> 1/3
    a[1, 0, 0, 0] = True  # 0 shared of 1
    iou = per_sample_iou(a, b)  # sample 2: both empty -> 1
    torch.testing.assert_close(iou, torch.tensor([1 / 3, 0.0, 1.0]))
