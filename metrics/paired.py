"""Paired full-reference image metrics on tensors: SSIM (both paper protocols), PSNR and MSE, one value per image.

Images are N×C×H×W floats in [0, data_range]. SSIM uses a separable Gaussian window. Border handling is the
one option the peers differ on besides colour: torchmetrics ≥ 1.x reflect-pads and averages the whole map
(`border="reflect"`); scikit-image averages only positions where the window fits (`border="crop"`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# ITU-R BT.709 luma weights, as scikit-image's rgb2gray uses them.
GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)


def _check_pair(pred: torch.Tensor, gt: torch.Tensor) -> None:
    if pred.shape != gt.shape:
        raise ValueError(
            f"prediction and ground truth differ in shape: {tuple(pred.shape)} vs {tuple(gt.shape)}"
        )
    if pred.ndim != 4:
        raise ValueError(f"expected N×C×H×W image batches, got shape {tuple(pred.shape)}")


def to_gray(images: torch.Tensor) -> torch.Tensor:
    """RGB N×3×H×W → N×1×H×W luma with scikit-image's rgb2gray weights."""
    w = torch.tensor(GRAY_WEIGHTS, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images * w).sum(1, keepdim=True)


def gaussian_window(size: int, sigma: float, dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
    """Normalised 1-D Gaussian of odd length `size`."""
    x = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return (g / g.sum()).to(dtype)


def ssim(
    pred: torch.Tensor,
    gt: torch.Tensor,
    data_range: float = 1.0,
    kernel_size: int = 11,
    sigma: float = 1.5,
    gaussian: bool = True,
    grayscale: bool = False,
    sample_covariance: bool = False,
    k1: float = 0.01,
    k2: float = 0.03,
    border: str = "reflect",
) -> torch.Tensor:
    """Per-image SSIM (N values). Defaults = torchmetrics (Gaussian 11, σ 1.5, all channels averaged).

    `grayscale` converts RGB to luma first; `sample_covariance` scales variances by P/(P−1) (P = window pixels)
    as scikit-image does unless `use_sample_covariance=False`; `gaussian=False` uses a uniform window;
    `border` is "reflect" (torchmetrics) or "crop" (scikit-image).
    """
    _check_pair(pred, gt)
    if border not in ("reflect", "crop"):
        raise ValueError(f"SSIM border must be 'reflect' or 'crop', got {border!r}")
    if kernel_size % 2 != 1:
        raise ValueError(f"SSIM kernel_size must be odd, got {kernel_size}")
    if min(pred.shape[-2:]) < kernel_size:
        raise ValueError(
            f"images of size {tuple(pred.shape[-2:])} are smaller than the {kernel_size}px SSIM window"
        )
    dtype = torch.float64 if pred.dtype == torch.float64 else torch.float32
    x, y = pred.to(dtype), gt.to(dtype)
    if grayscale:
        if x.shape[1] != 3:
            raise ValueError(f"grayscale SSIM needs RGB input, got {x.shape[1]} channels")
        x, y = to_gray(x), to_gray(y)
    if border == "reflect":
        pad = (kernel_size - 1) // 2
        x = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        y = F.pad(y, (pad, pad, pad, pad), mode="reflect")
    n, c = x.shape[:2]
    if gaussian:
        win = gaussian_window(kernel_size, sigma, dtype, x.device)
    else:
        win = torch.full((kernel_size,), 1.0 / kernel_size, dtype=dtype, device=x.device)
    # Five maps filtered in one pass: x, y, x², y², xy, each channel separately (grouped separable conv).
    stack = torch.cat([x, y, x * x, y * y, x * y], 1).reshape(n * 5 * c, 1, *x.shape[-2:])
    filt = F.conv2d(stack, win.view(1, 1, 1, -1))
    filt = F.conv2d(filt, win.view(1, 1, -1, 1))
    mx, my, mxx, myy, mxy = filt.reshape(n, 5, c, *filt.shape[-2:]).unbind(1)
    cov_norm = kernel_size**2 / (kernel_size**2 - 1) if sample_covariance else 1.0
    vx = (mxx - mx * mx).clamp_min(0) * cov_norm
    vy = (myy - my * my).clamp_min(0) * cov_norm
    vxy = (mxy - mx * my) * cov_norm
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)


def mse(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared error over all channels and pixels."""
    _check_pair(pred, gt)
    return (pred.double() - gt.double()).pow(2).flatten(1).mean(1)


def psnr(pred: torch.Tensor, gt: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-image PSNR in dB, 10·log10(range² / MSE); identical images give +inf."""
    return 10 * torch.log10(data_range**2 / mse(pred, gt))
