"""Distribution metrics on feature arrays: Fréchet distance (FID, CLIP-FID, VFID), KID (polynomial MMD) and IS.

Feature extraction lives in `metrics.extractors`; everything here takes arrays, so a metric can be recomputed
from cached features. Random subsets (KID) and shuffles (IS) use numpy's RandomState(seed) in the same order
as torch-fidelity, so equal features and seeds give torch-fidelity's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SMALL_SET_POLICIES = ("refuse", "clip")


def _as_float64(features: np.ndarray | torch.Tensor, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(features) if not isinstance(features, torch.Tensor) else features)
    if t.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (samples × features), got shape {tuple(t.shape)}")
    if t.shape[0] < 2:
        raise ValueError(f"{name} has {t.shape[0]} sample(s); a covariance needs at least 2")
    return t.detach().to("cpu", torch.float64)


def feature_statistics(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (rows are samples), in float64, as FID stores them."""
    f = _as_float64(features, "features")
    mu = f.mean(0)
    centred = f - mu
    sigma = centred.T @ centred / (f.shape[0] - 1)
    return mu.numpy(), sigma.numpy()


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """‖μ1−μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1Σ2)^½) with Tr((Σ1Σ2)^½) from symmetric eigenproblems (fast, stable).

    Tr((Σ1Σ2)^½) = Σ √λ(Σ1^½ Σ2 Σ1^½): two `eigh` calls instead of a general `sqrtm`/`eigvals`.
    """
    s1 = torch.as_tensor(sigma1, dtype=torch.float64)
    s2 = torch.as_tensor(sigma2, dtype=torch.float64)
    if s1.shape != s2.shape or s1.ndim != 2 or s1.shape[0] != s1.shape[1]:
        raise ValueError(
            f"covariances must be square and equal in shape, got {tuple(s1.shape)}, {tuple(s2.shape)}"
        )
    diff = torch.as_tensor(mu1, dtype=torch.float64) - torch.as_tensor(mu2, dtype=torch.float64)
    evals, evecs = torch.linalg.eigh(s1)
    root1 = (evecs * evals.clamp_min(0).sqrt()) @ evecs.T
    inner = root1 @ s2 @ root1
    inner = (inner + inner.T) / 2
    tr_covmean = torch.linalg.eigvalsh(inner).clamp_min(0).sqrt().sum()
    return float(diff.dot(diff) + torch.trace(s1) + torch.trace(s2) - 2 * tr_covmean)


def fid_from_features(features1: np.ndarray | torch.Tensor, features2: np.ndarray | torch.Tensor) -> float:
    """FID (or CLIP-FID, VFID: the same formula on other features) between two feature sets."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))


def _poly_kernel_sums(k_xx: torch.Tensor, k_yy: torch.Tensor, k_xy: torch.Tensor) -> float:
    m = k_xx.shape[0]
    off_xx = k_xx.sum() - k_xx.diagonal().sum()
    off_yy = k_yy.sum() - k_yy.diagonal().sum()
    return float((off_xx + off_yy) / (m * (m - 1)) - 2 * k_xy.sum() / (m * m))


def mmd2_polynomial(
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
) -> float:
    """Unbiased MMD² with the kernel k(a,b) = (γ a·b + c)^d, γ = 1/dim by default (KID's kernel)."""
    xt = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).to(torch.float64)
    yt = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).to(torch.float64)
    if xt.shape != yt.shape or xt.ndim != 2 or xt.shape[0] < 2:
        raise ValueError(
            f"MMD needs two equal-size sets of ≥2 rows, got {tuple(xt.shape)} and {tuple(yt.shape)}"
        )
    g = 1.0 / xt.shape[1] if gamma is None else gamma
    return _poly_kernel_sums(
        (xt @ xt.T * g + coef0) ** degree,
        (yt @ yt.T * g + coef0) ** degree,
        (xt @ yt.T * g + coef0) ** degree,
    )


@dataclass(frozen=True)
class KIDResult:
    """KID mean and std over subsets, with the subset size actually used (clipped sets say so)."""

    mean: float
    std: float
    subset_size: int
    subsets: int


_GRAM_LIMIT = 12_000  # above this many samples per set, kernels are computed per subset instead of once
_BLOCK_ROWS = 1024  # kernel rows computed at a time when every pair's kernel is needed


def _subset_kernel_sums(
    a: torch.Tensor,
    b: torch.Tensor,
    draws: list[tuple[torch.Tensor, torch.Tensor]],
    kernel,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per subset: off-diagonal sums of k(x, x') over S1×S1 and of k(y, y') over S2×S2, and the sum over S1×S2.

    Every pair's kernel is computed once, a block of rows at a time, and summed over all subsets by one
    product with the subsets' 0/1 membership matrices (Σ_{i,j∈S} K_ij = (M K Mᵀ)_ss): no kernel matrix is
    stored and no subset is gathered.
    """
    rows = torch.arange(len(draws))[:, None]
    m1 = torch.zeros(len(draws), a.shape[0], dtype=torch.float64)
    m2 = torch.zeros(len(draws), b.shape[0], dtype=torch.float64)
    m1[rows, torch.stack([i1 for i1, _ in draws])] = 1
    m2[rows, torch.stack([i2 for _, i2 in draws])] = 1

    def within(x: torch.Tensor, mx: torch.Tensor) -> torch.Tensor:
        # K is symmetric: each block of rows needs only the columns from its own first row on, the part right
        # of the block counted twice; the diagonal is taken out (the unbiased estimator leaves it out).
        out = torch.zeros(mx.shape[0], dtype=torch.float64)
        for lo in range(0, x.shape[0], _BLOCK_ROWS):
            hi = min(lo + _BLOCK_ROWS, x.shape[0])
            k = kernel(x[lo:hi] @ x[lo:].T)
            k.diagonal().zero_()
            p = mx[:, lo:hi] @ k
            out += (p[:, : hi - lo] * mx[:, lo:hi]).sum(1) + 2 * (p[:, hi - lo :] * mx[:, hi:]).sum(1)
        return out

    def across(x: torch.Tensor, y: torch.Tensor, mx: torch.Tensor, my: torch.Tensor) -> torch.Tensor:
        total = torch.zeros(mx.shape[0], y.shape[0], dtype=torch.float64)
        for lo in range(0, x.shape[0], _BLOCK_ROWS):
            total += mx[:, lo : lo + _BLOCK_ROWS] @ kernel(x[lo : lo + _BLOCK_ROWS] @ y.T)
        return (total * my).sum(1)

    return within(a, m1), within(b, m2), across(a, b, m1, m2)


def kid_from_features(
    features1: np.ndarray | torch.Tensor,
    features2: np.ndarray | torch.Tensor,
    subset_size: int = 1000,
    subsets: int = 100,
    seed: int = 2020,
    small_set: str = "refuse",
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
) -> KIDResult:
    """KID: mean/std of unbiased polynomial MMD² over random subsets (torch-fidelity's draw order).

    `small_set`: what happens when a set has fewer samples than `subset_size`: "refuse" raises (torch-fidelity),
    "clip" uses the smaller set's size (clean-fid).
    """
    if small_set not in SMALL_SET_POLICIES:
        raise ValueError(f"small_set must be one of {SMALL_SET_POLICIES}, got {small_set!r}")
    f1 = torch.as_tensor(np.asarray(features1) if not isinstance(features1, torch.Tensor) else features1)
    f2 = torch.as_tensor(np.asarray(features2) if not isinstance(features2, torch.Tensor) else features2)
    f1, f2 = f1.detach().cpu().to(torch.float64), f2.detach().cpu().to(torch.float64)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError(
            f"KID needs two 2-D feature sets of equal width, got {tuple(f1.shape)}, {tuple(f2.shape)}"
        )
    n1, n2 = f1.shape[0], f2.shape[0]
    if min(n1, n2) < subset_size:
        if small_set == "refuse":
            raise ValueError(
                f"KID subset size {subset_size} is larger than a set ({n1} and {n2} samples); pass a smaller "
                "subset size, or small_set='clip' to use the smaller set's size as clean-fid does"
            )
        subset_size = min(n1, n2)
    if subset_size < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {n1} and {n2}")
    g = 1.0 / f1.shape[1] if gamma is None else gamma
    rng = np.random.RandomState(seed)
    draws = [
        (
            torch.from_numpy(rng.choice(n1, subset_size, replace=False)),
            torch.from_numpy(rng.choice(n2, subset_size, replace=False)),
        )
        for _ in range(subsets)
    ]

    def kernel(products: torch.Tensor) -> torch.Tensor:
        # Products in float32 (as torch-fidelity), kernels and sums in float64.
        return (products.double() * g + coef0) ** degree

    m = subset_size
    if max(n1, n2) <= _GRAM_LIMIT:  # every pair is in some subset: compute each kernel value once
        s11, s22, s12 = _subset_kernel_sums(f1.float(), f2.float(), draws, kernel)
        arr = ((s11 + s22) / (m * (m - 1)) - 2 * s12 / (m * m)).numpy()
    else:
        values = []
        for i1, i2 in draws:
            a, b = f1[i1], f2[i2]
            values.append(_poly_kernel_sums(kernel(a @ a.T), kernel(b @ b.T), kernel(a @ b.T)))
        arr = np.asarray(values)
    return KIDResult(float(arr.mean()), float(arr.std()), subset_size, subsets)


def inception_score_from_logits(
    logits: np.ndarray | torch.Tensor, splits: int = 10, seed: int = 2020, shuffle: bool = True
) -> tuple[float, float]:
    """Inception Score (mean, std over splits) from classifier logits, shuffled as torch-fidelity does."""
    t = torch.as_tensor(np.asarray(logits) if not isinstance(logits, torch.Tensor) else logits)
    t = t.detach().cpu().to(torch.float64)
    n = t.shape[0]
    if t.ndim != 2 or n < splits:
        raise ValueError(f"IS needs at least {splits} samples (one per split), got shape {tuple(t.shape)}")
    if shuffle:
        t = t[torch.from_numpy(np.random.RandomState(seed).permutation(n))]
    p, log_p = t.softmax(1), t.log_softmax(1)
    scores = []
    for i in range(splits):
        lo, hi = i * n // splits, (i + 1) * n // splits
        q = p[lo:hi].mean(0, keepdim=True)
        scores.append(float((p[lo:hi] * (log_p[lo:hi] - q.log())).sum(1).mean().exp()))
    return float(np.mean(scores)), float(np.std(scores))
