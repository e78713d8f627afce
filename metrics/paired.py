"""Paired full-reference image metrics on tensors: SSIM (both paper protocols), PSNR and MSE, one value per image.

Images are N×C×H×W floats in [0, data_range]. SSIM filters with a separable Gaussian window (two depthwise
1-D convolutions). Border handling is the one option the peers differ on besides colour: torchmetrics ≥ 1.x
reflect-pads and averages the whole map (`border="reflect"`); scikit-image averages only positions where the
window fits (`border="crop"`).
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


# On CPU, SSIM runs over chunks of about this many values per map so that its ten intermediate maps stay in
# cache (several times faster than one pass over a big batch); on GPU the whole batch goes at once.
_CPU_CHUNK_VALUES = 1 << 20


@torch.no_grad()
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
    `border` is "reflect" (torchmetrics) or "crop" (scikit-image). A metric, not a loss: no autograd graph (the
    filtered maps are reused in place).
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
    if gaussian:
        win = gaussian_window(kernel_size, sigma, dtype, x.device)
    else:
        win = torch.full((kernel_size,), 1.0 / kernel_size, dtype=dtype, device=x.device)
    options = {
        "win": win,
        "pad": (kernel_size - 1) // 2 if border == "reflect" else 0,
        "cov_norm": kernel_size**2 / (kernel_size**2 - 1) if sample_covariance else 1.0,
        "c1": (k1 * data_range) ** 2,
        "c2": (k2 * data_range) ** 2,
    }
    n = x.shape[0]
    chunk = n if x.device.type != "cpu" else max(1, _CPU_CHUNK_VALUES // x[0].numel())
    if chunk >= n:
        return _ssim_batch(x, y, **options)
    return torch.cat([_ssim_batch(x[i : i + chunk], y[i : i + chunk], **options) for i in range(0, n, chunk)])


def _ssim_batch(
    x: torch.Tensor, y: torch.Tensor, win: torch.Tensor, pad: int, cov_norm: float, c1: float, c2: float
) -> torch.Tensor:
    """Mean SSIM map per image of one batch: five maps filtered by one separable depthwise convolution."""
    if pad:
        x = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        y = F.pad(y, (pad, pad, pad, pad), mode="reflect")
    n, c, h, w = x.shape
    stack = torch.empty((n, 5 * c, h, w), dtype=x.dtype, device=x.device)
    sx, sy, sxx, syy, sxy = stack.split(c, 1)
    sx.copy_(x)
    sy.copy_(y)
    torch.mul(x, x, out=sxx)
    torch.mul(y, y, out=syy)
    torch.mul(x, y, out=sxy)
    k = win.numel()
    filt = F.conv2d(stack, win.view(1, 1, 1, k).expand(5 * c, 1, 1, k), groups=5 * c)
    filt = F.conv2d(filt, win.view(1, 1, k, 1).expand(5 * c, 1, k, 1), groups=5 * c)
    # In place on the filtered maps: mx, my, E[x²] → σx², E[y²] → σy², E[xy] → σxy.
    mx, my, vx, vy, vxy = filt.split(c, 1)
    mxy = mx * my
    vxy.sub_(mxy).mul_(2 * cov_norm).add_(c2)
    num = mxy.mul_(2).add_(c1).mul_(vxy)
    vx.addcmul_(mx, mx, value=-1).clamp_min_(0)
    vy.addcmul_(my, my, value=-1).clamp_min_(0)
    den = mx.mul_(mx).addcmul_(my, my).add_(c1).mul_(vx.add_(vy).mul_(cov_norm).add_(c2))
    return num.div_(den).flatten(1).mean(1)


def mse(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared error over all channels and pixels."""
    _check_pair(pred, gt)
    return (pred.double() - gt.double()).pow(2).flatten(1).mean(1)


def psnr(pred: torch.Tensor, gt: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-image PSNR in dB, 10·log10(range² / MSE); identical images give +inf."""
    return 10 * torch.log10(data_range**2 / mse(pred, gt))
