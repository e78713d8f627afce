"""SSIM, PSNR and MSE agree with torchmetrics and scikit-image on the same images (≤ 1e-4 absolute)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.color import rgb2gray
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from metrics import paired
from metrics.paired import mse, psnr, ssim
from metrics.protocols import PROTOCOLS

torchmetrics = pytest.importorskip("torchmetrics")


@pytest.fixture(scope="module")
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    gt = torch.rand(3, 3, 40, 36, generator=g)
    # A prediction that resembles the ground truth (blurred + noise), so SSIM is neither 0 nor 1.
    pred = (torch.nn.functional.avg_pool2d(gt, 3, 1, 1) + 0.05 * torch.randn(gt.shape, generator=g)).clamp(
        0, 1
    )
    return pred, gt


def test_ssim_matches_torchmetrics(pair):
    pred, gt = pair
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    ours = ssim(pred, gt, **PROTOCOLS["catvton"].ssim_options())
    theirs = tm_ssim(pred, gt, data_range=1.0, reduction="none")
    assert ours.shape == (3,)
    assert 0.1 < float(ours.mean()) < 0.95
    assert torch.allclose(ours, theirs.to(ours.dtype), atol=1e-4, rtol=0)


def test_ssim_in_cpu_chunks_matches_torchmetrics_in_float32_and_float64(monkeypatch):
    g = torch.Generator().manual_seed(1)
    gt = torch.rand(5, 3, 160, 120, generator=g)
    pred = (torch.nn.functional.avg_pool2d(gt, 5, 1, 2) + 0.05 * torch.randn(gt.shape, generator=g)).clamp(
        0, 1
    )
    monkeypatch.setattr(paired, "_CPU_CHUNK_VALUES", 4 * gt[0].numel())  # two chunks: 4 images, then 1
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    theirs = tm_ssim(pred.double(), gt.double(), data_range=1.0, reduction="none")
    ours32, ours64 = ssim(pred, gt), ssim(pred.double(), gt.double())
    assert ours32.dtype == torch.float32 and ours64.dtype == torch.float64
    assert torch.allclose(ours64, theirs, atol=1e-10, rtol=0)
    assert torch.allclose(ours32.double(), theirs, atol=1e-5, rtol=0)
    assert torch.equal(ssim(pred[4:], gt[4:]), ours32[4:])  # a chunk's result does not depend on the others


def test_ssim_grayscale_protocol_matches_scikit_image(pair):
    pred, gt = pair
    ours = ssim(pred, gt, **PROTOCOLS["hrviton"].ssim_options())
    for i in range(pred.shape[0]):
        p = rgb2gray(pred[i].permute(1, 2, 0).double().numpy())
        t = rgb2gray(gt[i].permute(1, 2, 0).double().numpy())
        ref = structural_similarity(
            t, p, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
        assert abs(float(ours[i]) - ref) <= 1e-4


def test_ssim_rgb_sample_covariance_matches_scikit_image(pair):
    pred, gt = pair
    ours = ssim(pred, gt, sample_covariance=True, border="crop")
    for i in range(pred.shape[0]):
        ref = structural_similarity(
            gt[i].permute(1, 2, 0).double().numpy(),
            pred[i].permute(1, 2, 0).double().numpy(),
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            channel_axis=2,
        )
        assert abs(float(ours[i]) - ref) <= 1e-4


def test_psnr_and_mse_match_peers(pair):
    pred, gt = pair
    from torchmetrics.functional.image import peak_signal_noise_ratio as tm_psnr

    ours = psnr(pred, gt)
    theirs = tm_psnr(pred, gt, data_range=1.0, dim=(1, 2, 3), reduction="none")
    assert torch.allclose(ours.float(), theirs, atol=1e-4, rtol=0)
    for i in range(pred.shape[0]):
        p, t = pred[i].double().numpy(), gt[i].double().numpy()
        assert abs(float(ours[i]) - peak_signal_noise_ratio(t, p, data_range=1.0)) <= 1e-4
        assert abs(float(mse(pred, gt)[i]) - float(np.mean((p - t) ** 2))) <= 1e-10


def test_identical_images_are_perfect_and_bad_shapes_are_refused(pair):
    _, gt = pair
    assert torch.allclose(ssim(gt, gt), torch.ones(3), atol=1e-6)
    assert torch.isinf(psnr(gt, gt)).all()
    with pytest.raises(ValueError, match="differ in shape"):
        ssim(gt, gt[:, :, :20])
    with pytest.raises(ValueError, match="smaller than the 11px"):
        ssim(gt[:, :, :8, :8], gt[:, :, :8, :8])
