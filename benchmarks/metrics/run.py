"""Benchmark our metrics against their peers in one run: SSIM and LPIPS throughput (torchmetrics, lpips) and
FID/KID on 5,000×2,048 feature arrays (torch-fidelity). Prints a table; ratio = peer time / our time (≥ 1.0
means not slower). Each repeat times ours and the peer back to back and the best of each is kept, so load from
other processes hits both alike. Usage: python -m benchmarks.metrics.run [--images 32] [--size 256]
[--features 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from metrics.distribution import fid_from_features, kid_from_features
from metrics.paired import ssim
from metrics.perceptual import LPIPS


def _best_of_both(
    ours: Callable[[], object], peer: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Best wall time of each over `repeats` rounds, the two alternating within a round."""
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for i, fn in enumerate((ours, peer)):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0], best[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--features", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import lpips
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
    from torch_fidelity.metric_kid import kid_features_to_metric
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    g = torch.Generator().manual_seed(0)
    a = torch.rand(args.images, 3, args.size, args.size, generator=g)
    b = (a + 0.1 * torch.randn(a.shape, generator=g)).clamp(0, 1)
    rows = []

    ours, peer = _best_of_both(lambda: ssim(a, b), lambda: tm_ssim(a, b, data_range=1.0), args.repeats)
    rows.append(("SSIM", f"{args.images}×{args.size}²", "torchmetrics", ours, peer))

    torch.manual_seed(0)
    mine, theirs = (
        LPIPS("alex"),
        lpips.LPIPS(net="alex", pretrained=False, pnet_rand=True, verbose=False).eval(),
    )
    with torch.no_grad():
        ours, peer = _best_of_both(lambda: mine(a, b), lambda: theirs(a, b, normalize=True), args.repeats)
    rows.append(("LPIPS alex", f"{args.images}×{args.size}²", "lpips", ours, peer))

    rng = np.random.RandomState(0)
    f1 = rng.randn(args.features, 2048).astype(np.float32)
    f2 = (rng.randn(args.features, 2048) * 1.1 + 0.05).astype(np.float32)
    ours, peer = _best_of_both(
        lambda: fid_from_features(f1, f2),
        lambda: fid_statistics_to_metric(
            fid_features_to_statistics(torch.from_numpy(f1)),
            fid_features_to_statistics(torch.from_numpy(f2)),
            False,
        ),
        args.repeats,
    )
    rows.append(("FID", f"{args.features}×2048", "torch-fidelity", ours, peer))

    ours, peer = _best_of_both(
        lambda: kid_from_features(f1, f2),
        lambda: kid_features_to_metric(
            torch.from_numpy(f1), torch.from_numpy(f2), kid_subsets=100, kid_subset_size=1000, verbose=False
        ),
        args.repeats,
    )
    rows.append(("KID 100×1000", f"{args.features}×2048", "torch-fidelity", ours, peer))

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'metric':14s} {'input':14s} {'peer':15s} {'ours s':>9s} {'peer s':>9s} {'ratio':>7s}")
    for name, what, peer_name, t_ours, t_peer in rows:
        print(f"{name:14s} {what:14s} {peer_name:15s} {t_ours:9.3f} {t_peer:9.3f} {t_peer / t_ours:7.2f}")


if __name__ == "__main__":
    main()
