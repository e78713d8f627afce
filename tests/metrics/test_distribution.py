"""FID, KID and IS agree with torch-fidelity given the same Inception weights; Fréchet distance and MMD agree
with scipy/numpy reference computations on fixed feature arrays."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from fixtures.metrics_weights import inception_vs_torch_fidelity

from metrics.distribution import (
    feature_statistics,
    fid_from_features,
    frechet_distance,
    inception_score_from_logits,
    kid_from_features,
    mmd2_polynomial,
)


def _reference_frechet(f1: np.ndarray, f2: np.ndarray) -> float:
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def _reference_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1) ** 3  # noqa: E731
    m = x.shape[0]
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2 * kxy.mean()
    )


def test_frechet_distance_matches_scipy_sqrtm():
    rng = np.random.RandomState(1)
    f1 = rng.randn(200, 24)
    f2 = rng.randn(180, 24) @ rng.randn(24, 24) * 0.5 + 0.3
    ours = frechet_distance(*feature_statistics(f1), *feature_statistics(f2))
    assert ours == pytest.approx(_reference_frechet(f1, f2), rel=1e-8)
    assert fid_from_features(f1, f1) == pytest.approx(0.0, abs=1e-8)


def test_mmd_matches_numpy_reference_and_kid_policies():
    rng = np.random.RandomState(2)
    x, y = rng.randn(30, 16), rng.randn(30, 16) + 0.4
    assert mmd2_polynomial(x, y) == pytest.approx(_reference_mmd2(x, y), rel=1e-10)
    with pytest.raises(ValueError, match="small_set='clip'"):
        kid_from_features(x, y[:20], subset_size=25)
    clipped = kid_from_features(x, y[:20], subset_size=25, subsets=3, small_set="clip")
    assert clipped.subset_size == 20 and clipped.mean > 0
    full = kid_from_features(x, y, subset_size=30, subsets=2)
    # A full subset is a permutation of the sets; Gram products are float32 as in torch-fidelity.
    assert full.mean == pytest.approx(_reference_mmd2(x, y), rel=1e-4)


@pytest.mark.slow
def test_fid_kid_is_match_torch_fidelity_with_same_inception_weights(tmp_path):
    pytest.importorskip("torch_fidelity")
    fa, la, fb, theirs = inception_vs_torch_fidelity(tmp_path)
    fid = fid_from_features(fa, fb)
    kid = kid_from_features(fa, fb, subset_size=10, subsets=5)
    is_mean, is_std = inception_score_from_logits(la, splits=2)
    assert fid > 0 and kid.mean != 0
    assert fid == pytest.approx(theirs["frechet_inception_distance"], rel=1e-3)
    assert kid.mean == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-3)
    # torch-fidelity sums kernels in float32; the spread of 5 near-equal MMDs amplifies that rounding.
    assert kid.std == pytest.approx(theirs["kernel_inception_distance_std"], rel=2e-2)
    assert is_mean == pytest.approx(theirs["inception_score_mean"], rel=1e-3)
    assert is_std == pytest.approx(theirs["inception_score_std"], rel=1e-3, abs=1e-6)
