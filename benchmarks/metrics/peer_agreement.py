"""How closely our metrics agree with their peer implementations: on fixed-seed inputs (the ones the tests in
tests/metrics/ use, built by the same helpers) ours and the peer's values are computed and one table prints
the max absolute and relative differences against the issue's tolerances. Exits 1 if any row fails.
Usage: python -m benchmarks.metrics.peer_agreement [--json]

The tests assert these agreements; this prints the numbers. Their input builders and reference computations
are loaded from the test files themselves (tests/ cannot be imported as a package: a site-packages `tests`
shadows it), so the inputs cannot drift from what the tests check.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"


@dataclasses.dataclass(frozen=True)
class Agreement:
    """One metric against one peer: both values on the same inputs and the tolerance the issue sets."""

    metric: str
    peer: str
    inputs: str
    ours: np.ndarray
    theirs: np.ndarray
    tolerance: float
    relative: bool  # the tolerance bounds the relative difference (else the absolute one)

    @property
    def max_abs(self) -> float:
        return float(np.max(np.abs(self.ours - self.theirs)))

    @property
    def max_rel(self) -> float:
        return float(np.max(np.abs(self.ours - self.theirs) / np.maximum(np.abs(self.theirs), 1e-30)))

    @property
    def passed(self) -> bool:
        return (self.max_rel if self.relative else self.max_abs) <= self.tolerance

    def row(self) -> dict:
        return {
            "metric": self.metric,
            "peer": self.peer,
            "inputs": self.inputs,
            "max_abs_diff": self.max_abs,
            "max_rel_diff": self.max_rel,
            "tolerance": f"{self.tolerance:.0e} {'rel' if self.relative else 'abs'}",
            "pass": self.passed,
        }


def _agreement(metric, peer, inputs, ours, theirs, tolerance, relative=False) -> Agreement:
    as_array = lambda v: np.atleast_1d(np.asarray(torch.as_tensor(v).double().numpy()))  # noqa: E731
    return Agreement(metric, peer, inputs, as_array(ours), as_array(theirs), tolerance, relative)


def _test_module(name: str) -> types.ModuleType:
    """tests/metrics/`name`.py, loaded by path (with tests/ on sys.path for its `fixtures` imports)."""
    if str(TESTS) not in sys.path:
        sys.path.append(str(TESTS))  # appended: tests/metrics must not shadow the `metrics` package
    spec = importlib.util.spec_from_file_location(f"peer_agreement_{name}", TESTS / "metrics" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def _patched(owner: object, name: str, value: object) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


def paired_rows() -> list[Agreement]:
    """SSIM and PSNR on test_paired's pair: 3 blurred+noisy 40×36 RGB images against their originals."""
    from skimage.color import rgb2gray
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    from torchmetrics.functional.image import peak_signal_noise_ratio as tm_psnr
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    from metrics.paired import psnr, ssim
    from metrics.protocols import PROTOCOLS

    g = torch.Generator().manual_seed(0)
    gt = torch.rand(3, 3, 40, 36, generator=g)
    pred = (torch.nn.functional.avg_pool2d(gt, 3, 1, 1) + 0.05 * torch.randn(gt.shape, generator=g)).clamp(
        0, 1
    )
    inputs = "3 RGB 40×36"
    hwc = lambda t: t.permute(1, 2, 0).double().numpy()  # noqa: E731
    sk_ssim_gray = [
        structural_similarity(
            rgb2gray(hwc(t)),
            rgb2gray(hwc(p)),
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        for p, t in zip(pred, gt, strict=True)
    ]
    ours_psnr = psnr(pred, gt)
    return [
        _agreement(
            "SSIM (RGB, Gaussian 11, σ 1.5; catvton)",
            "torchmetrics",
            inputs,
            ssim(pred, gt, **PROTOCOLS["catvton"].ssim_options()),
            tm_ssim(pred, gt, data_range=1.0, reduction="none"),
            1e-4,
        ),
        _agreement(
            "SSIM (grayscale, gaussian_weights; hrviton)",
            "scikit-image",
            inputs,
            ssim(pred, gt, **PROTOCOLS["hrviton"].ssim_options()),
            sk_ssim_gray,
            1e-4,
        ),
        _agreement(
            "PSNR",
            "torchmetrics",
            inputs,
            ours_psnr,
            tm_psnr(pred, gt, data_range=1.0, dim=(1, 2, 3), reduction="none"),
            1e-4,
        ),
        _agreement(
            "PSNR",
            "scikit-image",
            inputs,
            ours_psnr,
            [peak_signal_noise_ratio(hwc(t), hwc(p), data_range=1.0) for p, t in zip(pred, gt, strict=True)],
            1e-4,
        ),
    ]


def perceptual_rows(tmp: Path) -> list[Agreement]:
    """LPIPS alex/vgg/squeeze vs `lpips` and DISTS vs `piq`, the same random backbone and head weights in both
    (test_perceptual's builders and seeds)."""
    import lpips
    import piq

    from metrics.extractors import build_extractor
    from metrics.perceptual import DISTS_CHANNELS

    helpers = _test_module("test_perceptual")
    entries = {
        "alex": "torchvision_alexnet",
        "vgg": "torchvision_vgg16",
        "squeeze": "torchvision_squeezenet1_1",
    }
    rows = []
    for net in ("alex", "vgg", "squeeze"):
        backbone, backbone_file, heads, heads_file = helpers._random_weights(tmp, net)
        ours = build_extractor(
            f"lpips_{net}", paths={entries[net]: backbone_file, f"lpips_{net}_v0_1": heads_file}
        )
        peer = lpips.LPIPS(net=net, pretrained=False, pnet_rand=True, verbose=False)
        helpers._copy_backbone_into_peer(peer, backbone, len(heads))
        for key, value in heads.items():
            peer.state_dict()[key].copy_(value)
        peer.eval()
        g = torch.Generator().manual_seed(4)
        a, b = torch.rand(2, 3, 64, 64, generator=g), torch.rand(2, 3, 64, 64, generator=g)
        with torch.no_grad():
            mine, theirs = ours(a, b), peer(a, b, normalize=True).flatten()
        rows.append(_agreement(f"LPIPS {net}", "lpips", "2 pairs 64×64", mine, theirs, 1e-5))

    vgg_file = tmp / "vgg16.pth"
    backbone = helpers._random_backbone("vgg16", vgg_file)
    g = torch.Generator().manual_seed(9)
    total = sum(DISTS_CHANNELS)
    alpha, beta = torch.rand(1, total, 1, 1, generator=g), torch.rand(1, total, 1, 1, generator=g)
    torch.save({"alpha": alpha, "beta": beta}, tmp / "dists_alpha_beta.pt")
    ours = build_extractor(
        "dists_vgg16", paths={"torchvision_vgg16": vgg_file, "dists_alpha_beta": tmp / "dists_alpha_beta.pt"}
    )

    def peer_vgg16(**_):  # piq would download VGG16 and keeps only `.features`: hand it ours
        features = helpers._features_module("vgg16")
        features.load_state_dict({k.removeprefix("features."): v for k, v in backbone.items()})
        return types.SimpleNamespace(features=features)

    # piq applies alpha/beta as stored; the original DISTS (and ours) divides them by their joint sum.
    norm = alpha.sum() + beta.sum()
    with (
        _patched(piq.perceptual, "vgg16", peer_vgg16),
        _patched(
            torch.hub,
            "load_state_dict_from_url",
            lambda *a, **k: {"alpha": alpha / norm, "beta": beta / norm},
        ),
    ):
        peer = piq.DISTS(reduction="none")
    x = torch.rand(2, 3, 64, 80, generator=g)
    y = (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    with torch.no_grad():
        rows.append(_agreement("DISTS", "piq", "2 pairs 64×80", ours(x, y), peer(x, y), 1e-5))
    return rows


def distribution_rows(tmp: Path) -> list[Agreement]:
    """FID/KID/IS vs torch-fidelity with the same random-weight Inception file (test_distribution's set-up), and
    Fréchet distance / MMD on fixed feature arrays vs its scipy/numpy references."""

    from metrics.distribution import (
        feature_statistics,
        fid_from_features,
        frechet_distance,
        inception_score_from_logits,
        kid_from_features,
        mmd2_polynomial,
    )

    helpers = _test_module("test_distribution")  # puts tests/ on sys.path for `fixtures`
    from fixtures.metrics_weights import inception_vs_torch_fidelity

    rng = np.random.RandomState(1)
    f1 = rng.randn(200, 24)
    f2 = rng.randn(180, 24) @ rng.randn(24, 24) * 0.5 + 0.3
    rng = np.random.RandomState(2)
    x, y = rng.randn(30, 16), rng.randn(30, 16) + 0.4
    rows = [
        _agreement(
            "Fréchet distance",
            "scipy sqrtm",
            "200 vs 180 ×24-d",
            frechet_distance(*feature_statistics(f1), *feature_statistics(f2)),
            helpers._reference_frechet(f1, f2),
            1e-8,
            relative=True,
        ),
        _agreement(
            "MMD² (cubic polynomial)",
            "numpy",
            "30 vs 30 ×16-d",
            mmd2_polynomial(x, y),
            helpers._reference_mmd2(x, y),
            1e-10,
            relative=True,
        ),
    ]

    fa, la, fb, theirs = inception_vs_torch_fidelity(tmp)
    kid = kid_from_features(fa, fb, subset_size=10, subsets=5)
    is_mean, _ = inception_score_from_logits(la, splits=2)
    inputs = "16 vs 16 PNG 64×64"
    return rows + [
        _agreement(
            "FID",
            "torch-fidelity",
            inputs,
            fid_from_features(fa, fb),
            theirs["frechet_inception_distance"],
            1e-3,
            relative=True,
        ),
        _agreement(
            "KID (mean; 5 subsets of 10)",
            "torch-fidelity",
            inputs,
            kid.mean,
            theirs["kernel_inception_distance_mean"],
            1e-3,
            relative=True,
        ),
        _agreement(
            "IS (mean; 2 splits)",
            "torch-fidelity",
            "16 PNG 64×64",
            is_mean,
            theirs["inception_score_mean"],
            1e-3,
            True,
        ),
    ]


def _save_tiny_clip(folder: Path, size: int) -> Path:
    """A tiny random CLIP saved as a full CLIP folder (model + image processor), as test_clip_fid's fixture does."""
    import transformers

    config = transformers.CLIPConfig(
        text_config={
            "vocab_size": 64,
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 16,
            "bos_token_id": 0,
            "eos_token_id": 1,
        },
        vision_config={
            "image_size": size,
            "patch_size": 8,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
        },
        projection_dim=8,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        transformers.CLIPModel(config).save_pretrained(folder)
    transformers.CLIPImageProcessor(
        size={"shortest_edge": size}, crop_size={"height": size, "width": size}
    ).save_pretrained(folder)
    return folder


def clip_rows(tmp: Path) -> list[Agreement]:
    """CLIP-FID features: our `clip_vit_b32` extractor vs transformers' CLIPImageProcessor + CLIPModel."""
    from metrics.extractors import build_extractor

    helpers = _test_module("test_clip_fid")
    folder = _save_tiny_clip(tmp / "clip-vit-base-patch32", helpers.SIZE)
    images = helpers._random_images(0, 4, 0)
    net = build_extractor("clip_vit_b32", paths={"clip_vit_b32": folder})
    with torch.no_grad():
        ours = net(torch.from_numpy(images).permute(0, 3, 1, 2))
    theirs = helpers._peer_features(folder, images)
    return [
        _agreement("CLIP-FID features", "transformers", f"4 RGB {helpers.SIZE}², 8-d", ours, theirs, 1e-5)
    ]


def video_rows() -> list[Agreement]:
    """Per-frame SSIM vs torchmetrics' frame mean (test_video's clips)."""
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    from metrics.video import per_frame_ssim

    helpers = _test_module("test_video")
    gt = helpers._clips(4, 2, frames=5, h=40, w=36)
    pred = helpers._resembling(gt, 5)
    frames = lambda clip: torch.from_numpy(clip).permute(0, 3, 1, 2).float() / 255  # noqa: E731
    per_clip = [
        float(tm_ssim(frames(p), frames(g), data_range=1.0, reduction="none").mean())
        for p, g in zip(pred, gt, strict=True)
    ]
    return [
        _agreement(
            "per-frame SSIM (video)",
            "torchmetrics",
            "2 clips ×5 frames 40×36",
            per_frame_ssim(pred, gt),
            np.mean(per_clip),
            1e-4,
        )
    ]


def _table(rows: list[dict]) -> str:
    header = ["metric", "peer", "inputs", "max abs diff", "max rel diff", "tolerance", "pass"]
    cells = [
        [
            r["metric"],
            r["peer"],
            r["inputs"],
            f"{r['max_abs_diff']:.2e}",
            f"{r['max_rel_diff']:.2e}",
            r["tolerance"],
            "yes" if r["pass"] else "NO",
        ]
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *cells, strict=True)]
    line = lambda values: " | ".join(str(v).ljust(w) for v, w in zip(values, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *map(line, cells)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = ap.parse_args(argv)
    torch.set_num_threads(min(torch.get_num_threads(), 2))
    start = time.perf_counter()
    groups: list[Callable[[Path], list[Agreement]]] = [
        lambda tmp: paired_rows(),
        perceptual_rows,
        distribution_rows,
        clip_rows,
        lambda tmp: video_rows(),
    ]
    results: list[Agreement] = []
    with tempfile.TemporaryDirectory(prefix="peer-agreement-") as root:
        for i, group in enumerate(groups):
            (Path(root) / str(i)).mkdir()
            results += group(Path(root) / str(i))
    rows = [r.row() for r in results]
    failed = sum(not r["pass"] for r in rows)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print(_table(rows))
        print(f"{len(rows) - failed}/{len(rows)} rows within tolerance ({time.perf_counter() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
