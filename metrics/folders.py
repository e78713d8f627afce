"""Evaluate two folders of images matched by file name (the job CatVTON's eval script does), with progress bars.

Paired metrics (ssim, psnr, mse, lpips, dists) run on images whose names (without extension) match and are
averaged over those pairs; distribution metrics (fid, kid, is, clip_fid) use every image of each folder; the
no-reference hyperIQA scores every prediction on its own. IS and hyperIQA need no ground-truth folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from metrics import distribution, paired
from metrics.extractors import EXTRACTORS, build_extractor, weights_path
from metrics.hyperiqa import DEMO_RESIZE, hyperiqa_score
from metrics.inception import INPUT_SIZE
from metrics.protocols import Protocol, get_protocol

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
PAIRED_METRICS = ("ssim", "psnr", "mse", "lpips", "dists")
DISTRIBUTION_METRICS = ("fid", "kid", "is", "clip_fid")
NO_REFERENCE_METRICS = ("hyperiqa",)
ALL_METRICS = PAIRED_METRICS + DISTRIBUTION_METRICS + NO_REFERENCE_METRICS
GROUND_TRUTH_FREE = ("is", "hyperiqa")  # computed from the predictions alone
HIGHER_IS_BETTER = {"ssim": True, "psnr": True, "is": True, "hyperiqa": True}
# The registered feature extractor each metric builds (lpips: `lpips_<protocol.lpips_net>`).
METRIC_EXTRACTORS = {
    "dists": "dists_vgg16",
    "fid": "inception_v3_tf",
    "kid": "inception_v3_tf",
    "is": "inception_v3_tf",
    "clip_fid": "clip_vit_b32",
    "hyperiqa": "hyperiqa",
}


@dataclass
class FolderEvaluation:
    """Aggregate values per metric, per-image values for paired metrics, and what produced them."""

    values: dict[str, float]
    per_image: dict[str, dict[str, float]]
    protocol: dict
    pairs: int
    unmatched_pred: list[str] = field(default_factory=list)
    unmatched_gt: list[str] = field(default_factory=list)


def list_images(folder: Path) -> dict[str, Path]:
    """Images of a folder keyed by file stem; two files with one stem are an error naming both."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of images")
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file():
            if p.stem in found:
                raise ValueError(
                    f"{found[p.stem].name} and {p.name} in {folder} share a name; keep one of them"
                )
            found[p.stem] = p
    if not found:
        raise ValueError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return found


def load_rgb(path: Path) -> np.ndarray:
    """H×W×3 uint8 RGB of an image file; an unreadable file is an error that names it."""
    try:
        with Image.open(path) as img:
            return np.array(img.convert("RGB"))
    except OSError as exc:
        raise ValueError(f"cannot read image {path}: {exc}; replace or remove the file") from None


def clean_resize(image: np.ndarray, size: int = INPUT_SIZE) -> torch.Tensor:
    """clean-fid's 'clean' resize: each channel as a float image through PIL bicubic → 3×size×size, 0..255."""
    channels = [
        np.asarray(
            Image.fromarray(image[..., c].astype(np.float32), mode="F").resize((size, size), Image.BICUBIC)
        )
        for c in range(3)
    ]
    return torch.from_numpy(np.stack(channels))


def extractors_for(metrics: Sequence[str], protocol: Protocol) -> list[str]:
    """The registered feature extractors that computing `metrics` under `protocol` builds, once each."""
    names = [f"lpips_{protocol.lpips_net}" if m == "lpips" else METRIC_EXTRACTORS.get(m) for m in metrics]
    return list(dict.fromkeys(n for n in names if n))


def require_weights(extractors: Sequence[str], paths: Mapping[str, Path] | None = None) -> None:
    """Find every weights file these extractors load now, so a missing one fails (with the `vton weights
    import` command) before any scoring starts rather than after the metrics before it."""
    for name in extractors:
        for entry in EXTRACTORS[name].weights:
            weights_path(entry, paths)


def _batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _inception_features(
    files: list[Path], net: torch.nn.Module, protocol: Protocol, batch_size: int, device, desc: str
) -> tuple[torch.Tensor, torch.Tensor]:
    pools, logits = [], []
    for chunk in tqdm(list(_batches(files, batch_size)), desc=desc, unit="batch", leave=False):
        images = [load_rgb(f) for f in chunk]
        if protocol.fid_resize == "clean_bicubic":
            groups = [torch.stack([clean_resize(im) for im in images])]
        elif len({im.shape for im in images}) == 1:
            groups = [torch.stack([torch.from_numpy(im).permute(2, 0, 1) for im in images])]
        else:  # mixed sizes: Inception resizes each image on its own
            groups = [torch.from_numpy(im).permute(2, 0, 1)[None] for im in images]
        for batch in groups:
            with torch.no_grad():
                p, lg = net(batch.to(device))
            pools.append(p.cpu())
            logits.append(lg.cpu())
    return torch.cat(pools), torch.cat(logits)


def _clip_features(
    files: list[Path], net: torch.nn.Module, batch_size: int, device, desc: str
) -> torch.Tensor:
    out = []
    for chunk in tqdm(list(_batches(files, batch_size)), desc=desc, unit="batch", leave=False):
        for f in chunk:  # sizes may differ between files; CLIP resizes each
            with torch.no_grad():
                out.append(net(torch.from_numpy(load_rgb(f)).permute(2, 0, 1)[None].to(device)).cpu())
    return torch.cat(out)


def evaluate_folders(
    pred_dir: Path,
    gt_dir: Path | None,
    metrics: Sequence[str],
    protocol: Protocol | str = "torch_fidelity",
    device: str | torch.device = "cpu",
    batch_size: int = 8,
    paths: Mapping[str, Path] | None = None,
    progress: bool = True,
    hyperiqa_patches: int = 10,
) -> FolderEvaluation:
    """Compute `metrics` between predictions and ground truth; `paths` overrides weights-store files by entry.

    `gt_dir` may be None when every metric is ground-truth free (is, hyperiqa). `hyperiqa_patches`: random
    224×224 crops averaged per image (the authors' demo 10, their paper's test protocol 25).
    """
    proto = get_protocol(protocol) if isinstance(protocol, str) else protocol
    unknown = [m for m in metrics if m not in ALL_METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; choose from: {', '.join(ALL_METRICS)}")
    needs_gt = [m for m in metrics if m not in GROUND_TRUTH_FREE]
    if gt_dir is None and needs_gt:
        raise ValueError(
            f"metric(s) {', '.join(needs_gt)} need ground truth: pass a ground-truth folder (--gt)"
        )
    preds, gts = list_images(pred_dir), (list_images(gt_dir) if gt_dir is not None else {})
    names = sorted(set(preds) & set(gts))
    wanted_paired = [m for m in metrics if m in PAIRED_METRICS]
    if wanted_paired and not names:
        raise ValueError(
            f"no file names match between {pred_dir} and {gt_dir}; paired metrics need the same names"
        )
    require_weights(extractors_for(metrics, proto), paths)
    result = FolderEvaluation(
        values={},
        per_image={n: {} for n in names} if wanted_paired else {},
        protocol=proto.as_dict(),
        pairs=len(names),
        unmatched_pred=sorted(set(preds) - set(gts)),
        unmatched_gt=sorted(set(gts) - set(preds)),
    )
    smallest = min(len(preds), len(gts))
    if "kid" in metrics and proto.kid_small_set == "refuse" and smallest < proto.kid_subset_size:
        raise ValueError(
            f"KID subset size {proto.kid_subset_size} is larger than a folder ({len(preds)} predictions, "
            f"{len(gts)} ground truth); pass --kid-subset-size {smallest} or a protocol that clips (catvton)"
        )
    if wanted_paired:
        _paired(result, names, preds, gts, wanted_paired, proto, device, batch_size, paths, progress)
    if any(m in metrics for m in ("fid", "kid", "is")):
        net = build_extractor("inception_v3_tf", paths=paths, device=device)
        fp, lp = _inception_features(list(preds.values()), net, proto, batch_size, device, "inception (pred)")
        if "is" in metrics:
            result.values["is"] = distribution.inception_score_from_logits(
                lp, splits=min(proto.is_splits, len(lp)), seed=proto.seed
            )[0]
        if "fid" in metrics or "kid" in metrics:
            fg, _ = _inception_features(list(gts.values()), net, proto, batch_size, device, "inception (gt)")
            if "fid" in metrics:
                result.values["fid"] = distribution.fid_from_features(fp, fg)
            if "kid" in metrics:
                kid = distribution.kid_from_features(
                    fp, fg, proto.kid_subset_size, proto.kid_subsets, proto.seed, proto.kid_small_set
                )
                result.values["kid"] = kid.mean * proto.kid_scale
    if "clip_fid" in metrics:
        net = build_extractor("clip_vit_b32", paths=paths, device=device)
        cp = _clip_features(list(preds.values()), net, batch_size, device, "clip (pred)")
        cg = _clip_features(list(gts.values()), net, batch_size, device, "clip (gt)")
        result.values["clip_fid"] = distribution.fid_from_features(cp, cg)
    if "hyperiqa" in metrics:
        _hyperiqa(result, preds, hyperiqa_patches, proto.seed, device, batch_size, paths, progress)
    return result


def _hyperiqa(result, preds, patches, seed, device, batch_size, paths, progress) -> None:
    """hyperIQA of every prediction (per-image values too), with the demo's resize and `patches` crops."""
    net = build_extractor("hyperiqa", paths=paths, device=device)
    scores = []
    for chunk in tqdm(
        list(_batches(list(preds.items()), batch_size)), desc="hyperiqa", unit="batch", disable=not progress
    ):
        images = [torch.from_numpy(load_rgb(path)).permute(2, 0, 1).float().div(255) for _, path in chunk]
        values = hyperiqa_score(images, net, patches=patches, seed=seed, device=device)
        for (name, _), value in zip(chunk, values.tolist(), strict=True):
            result.per_image.setdefault(name, {})["hyperiqa"] = value
            scores.append(value)
    result.values["hyperiqa"] = float(np.mean(scores))
    result.protocol.update(hyperiqa_patches=patches, hyperiqa_resize=list(DEMO_RESIZE), hyperiqa_seed=seed)


def _paired(result, names, preds, gts, wanted, proto, device, batch_size, paths, progress) -> None:
    nets = {}
    if "lpips" in wanted:
        nets["lpips"] = build_extractor(f"lpips_{proto.lpips_net}", paths=paths, device=device)
    if "dists" in wanted:
        nets["dists"] = build_extractor("dists_vgg16", paths=paths, device=device)
    for chunk in tqdm(
        list(_batches(names, batch_size)), desc="paired metrics", unit="batch", disable=not progress
    ):
        for name in chunk:
            p, g = load_rgb(preds[name]), load_rgb(gts[name])
            if p.shape != g.shape:
                raise ValueError(
                    f"{preds[name]} is {p.shape[1]}×{p.shape[0]} but {gts[name]} is {g.shape[1]}×{g.shape[0]}; "
                    "resize the predictions to the ground-truth size"
                )
            pt = torch.from_numpy(p).permute(2, 0, 1)[None].float().div(255).to(device)
            gt = torch.from_numpy(g).permute(2, 0, 1)[None].float().div(255).to(device)
            row = result.per_image[name]
            with torch.no_grad():
                if "ssim" in wanted:
                    row["ssim"] = float(paired.ssim(pt, gt, **proto.ssim_options()))
                if "psnr" in wanted:
                    row["psnr"] = float(paired.psnr(pt, gt, proto.data_range))
                if "mse" in wanted:
                    row["mse"] = float(paired.mse(pt, gt))
                for key, net in nets.items():
                    row[key] = float(net(pt, gt))
    for metric in wanted:
        result.values[metric] = float(np.mean([result.per_image[name][metric] for name in names]))
