"""Video metrics: VFID with I3D or 3D-ResNeXt-101 features, and per-frame SSIM/PSNR/MSE/LPIPS averaged over clips.

A clip is a T×H×W×3 uint8 array, a folder of frames (sorted by file name), a list of frame files or a video
file. Video try-on papers (FW-GAN, ClothFormer, DPIDM) report VFID_I3D and VFID_ResNeXt computed with the
public vfid-metrics toolkit (ZaiqiangWu/vfid-metrics, built for video try-on). How VFID cuts and feeds clips
is a named `metrics.protocols.VideoProtocol`, recorded with every result:

- `vfid_toolkit` (the default; the papers' numbers): every consecutive 10-frame window from frame 0
  (frames 0-9, 10-19, …; a remainder shorter than a window is dropped), each frame resized to 224×224
  (bilinear with antialiasing, no aspect-ratio preservation, as torchvision's `Resize` on tensors), scaled
  to [-1, 1] and fed as is to I3D and to the 3D-ResNeXt;
- `vfid_centre`: one centred window per clip, frames `clip(i + (T - frames) // 2, 0, T - 1)` for
  i < frames, and the 3D-ResNeXt fed Hara et al.'s normalisation (0..255 minus the ActivityNet mean; see
  `metrics.resnext3d`).

Under both, a clip shorter than one window gives its centred window (its first and last frames repeated),
one pooled feature per window, and VFID is the Fréchet distance between the two sets of window features.
Two deliberate differences from the toolkit: frames are always RGB (it passes OpenCV's BGR frames of .mp4
input unconverted), and a window never spans two clips (its frame-folder reader cuts across clip
boundaries). Per-frame metrics compare every frame at its own size; each clip's value is the mean over its
frames and the reported value the mean over clips.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from metrics import distribution, paired
from metrics.extractors import build_extractor
from metrics.folders import IMAGE_SUFFIXES, FolderEvaluation, extractors_for, load_rgb, require_weights
from metrics.protocols import VFID_WINDOWS, Protocol, VideoProtocol, get_video_protocol
from metrics.resnext3d import ResNeXt3D

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
VFID_EXTRACTORS = {"vfid_i3d": "i3d_rgb_imagenet", "vfid_resnext": "resnext101_kinetics"}
FRAME_METRICS = ("ssim", "psnr", "mse", "lpips")
VIDEO_METRICS = FRAME_METRICS + tuple(VFID_EXTRACTORS)

Clip = np.ndarray | str | Path | Sequence[Path]


def _clip_name(clip: Clip, index: int) -> str:
    if isinstance(clip, str | Path):
        return str(clip)
    if isinstance(clip, np.ndarray) or not clip:
        return f"clip #{index}"
    return f"the clip of {Path(clip[0]).name}"


def stack_frames(files: Sequence[Path]) -> np.ndarray:
    """T×H×W×3 uint8 of frame files in the given order; a frame of another size is an error naming it."""
    frames = [load_rgb(f) for f in files]
    (h, w, _) = frames[0].shape
    for f, im in zip(files, frames, strict=True):
        if im.shape != frames[0].shape:
            raise ValueError(
                f"frame {f} is {im.shape[1]}×{im.shape[0]} but {Path(files[0]).name} is {w}×{h}; "
                "give every frame of a clip one size"
            )
    return np.stack(frames)


def load_clip(clip: Clip) -> np.ndarray:
    """T×H×W×3 uint8 frames of a clip given as an array, a folder of frames, a list of frame files or a video."""
    if isinstance(clip, np.ndarray):
        if clip.ndim != 4 or clip.shape[-1] != 3 or clip.dtype != np.uint8 or clip.shape[0] == 0:
            raise ValueError(
                f"a clip array must be T×H×W×3 uint8 with T ≥ 1, got shape {clip.shape} {clip.dtype}; "
                "convert frames with np.asarray(frames, dtype=np.uint8)"
            )
        return clip
    if not isinstance(clip, str | Path):
        if not clip:
            raise ValueError("a clip given as a list of frame files needs at least one file")
        return stack_frames([Path(f) for f in clip])
    path = Path(clip)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"clip folder {path} holds no frames ({', '.join(IMAGE_SUFFIXES)})")
        return stack_frames(files)
    if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
        from preprocess.videos import read_frames

        return read_frames(path)
    raise ValueError(
        f"{path} is neither a folder of frames nor a video file ({', '.join(VIDEO_SUFFIXES)}); "
        "pass one folder or video per clip"
    )


def window_indices(num_frames: int, frames: int = 10, windows: str = "non_overlapping") -> list[np.ndarray]:
    """Frame indices of each window cut from a clip of `num_frames` frames (the module docstring's rules)."""
    if windows not in VFID_WINDOWS:
        raise ValueError(f"windows must be one of {VFID_WINDOWS}, got {windows!r}")
    if num_frames < 1 or frames < 1:
        raise ValueError(f"need at least one frame per clip and window, got {num_frames} and {frames}")
    centred = np.clip(np.arange(frames) + (num_frames - frames) // 2, 0, num_frames - 1)
    if windows == "centre" or num_frames < frames:
        return [centred]
    return [np.arange(s, s + frames) for s in range(0, num_frames - frames + 1, frames)]


def clip_tensor(frames: np.ndarray, size: int = 224) -> torch.Tensor:
    """T×H×W×3 uint8 → 3×T×size×size float in [-1, 1], resized like torchvision's `Resize` on tensors."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (x * 2 - 1).permute(1, 0, 2, 3).contiguous()


def _windows(
    clips: Sequence[Clip], frames: int, size: int, windows: str
) -> Iterator[tuple[int, torch.Tensor]]:
    for i, clip in enumerate(clips):
        data = load_clip(clip)
        for idx in window_indices(len(data), frames, windows):
            yield i, clip_tensor(data[idx], size)


def window_features(
    clips: Sequence[Clip],
    extractor: nn.Module,
    frames: int = 10,
    size: int = 224,
    windows: str = "non_overlapping",
    batch_size: int = 4,
    device: str | torch.device = "cpu",
    progress: bool = False,
    desc: str = "video features",
) -> list[np.ndarray]:
    """Per clip, one pooled feature row per window (float64, windows × D); clips are loaded one at a time."""
    if not clips:
        raise ValueError("no clips given: VFID needs at least two windows per set")
    owners: list[int] = []
    rows, batch = [], []
    stream = tqdm(_windows(clips, frames, size, windows), desc=desc, unit="window", disable=not progress)
    for owner, window in stream:
        owners.append(owner)
        batch.append(window)
        if len(batch) == batch_size:
            rows.append(_forward(extractor, batch, device))
            batch = []
    if batch:
        rows.append(_forward(extractor, batch, device))
    features = np.concatenate(rows).astype(np.float64)
    where = np.asarray(owners)
    return [features[where == i] for i in range(len(clips))]


def clip_features(
    clips: Sequence[Clip],
    extractor: nn.Module,
    frames: int = 10,
    size: int = 224,
    windows: str = "non_overlapping",
    batch_size: int = 4,
    device: str | torch.device = "cpu",
    progress: bool = False,
    desc: str = "video features",
) -> np.ndarray:
    """One pooled feature row per window of every clip (float64), in clip order."""
    per_clip = window_features(clips, extractor, frames, size, windows, batch_size, device, progress, desc)
    return np.concatenate(per_clip)


def _forward(extractor: nn.Module, batch: list[torch.Tensor], device) -> np.ndarray:
    with torch.no_grad():
        return extractor(torch.stack(batch).to(device)).float().cpu().numpy()


@contextmanager
def protocol_input(extractor: nn.Module, protocol: VideoProtocol) -> Iterator[nn.Module]:
    """`extractor` fed as `protocol` says: a 3D-ResNeXt's input normalisation set for the block, then restored."""
    if not isinstance(extractor, ResNeXt3D):
        yield extractor
        return
    before = extractor.normalization
    extractor.normalization = protocol.vfid_resnext_input
    try:
        yield extractor
    finally:
        extractor.normalization = before


def vfid_from_features(pred: np.ndarray, gt: np.ndarray) -> float:
    """Fréchet distance of two sets of window features; fewer than 2 windows in a set is an error."""
    for f, side in ((pred, "predictions"), (gt, "ground truth")):
        if len(f) < 2:
            raise ValueError(
                f"VFID needs at least 2 windows per set, the {side} give {len(f)}; pass more clips "
                "(or longer clips under the vfid_toolkit protocol)"
            )
    return distribution.fid_from_features(pred, gt)


def vfid(
    pred_clips: Sequence[Clip],
    gt_clips: Sequence[Clip],
    extractor: str | nn.Module = "i3d_rgb_imagenet",
    protocol: VideoProtocol | Protocol | str | None = None,
    paths: Mapping[str, Path] | None = None,
    device: str | torch.device = "cpu",
    batch_size: int = 4,
    progress: bool = False,
) -> float:
    """VFID between two sets of clips under a video protocol (default `vfid_toolkit`, the papers'): Fréchet
    distance of the pooled features of its windows.

    `extractor` is a registry name (`i3d_rgb_imagenet`, `resnext101_kinetics`; weights from the store or
    `paths`) or a module mapping N×3×T×H×W clips in [-1, 1] to N×D features; a 3D-ResNeXt gets the
    protocol's input normalisation.
    """
    proto = get_video_protocol(protocol)
    net = build_extractor(extractor, paths=paths, device=device) if isinstance(extractor, str) else extractor
    feats = []
    with protocol_input(net, proto):
        for clips, side in ((pred_clips, "predictions"), (gt_clips, "ground truth")):
            desc = f"vfid ({side})"
            feats.append(
                clip_features(
                    clips,
                    net,
                    **proto.vfid_options(),
                    batch_size=batch_size,
                    device=device,
                    progress=progress,
                    desc=desc,
                )
            )
    return vfid_from_features(*feats)


def _pairs(
    pred_clips: Sequence[Clip], gt_clips: Sequence[Clip]
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    if len(pred_clips) != len(gt_clips):
        raise ValueError(
            f"{len(pred_clips)} predicted clips but {len(gt_clips)} ground-truth clips; per-frame metrics "
            "compare clips pairwise, give both in the same order"
        )
    for i, (p, g) in enumerate(zip(pred_clips, gt_clips, strict=True)):
        pred, gt = load_clip(p), load_clip(g)
        if pred.shape != gt.shape:
            raise ValueError(
                f"{_clip_name(p, i)} has {pred.shape[0]} frames of {pred.shape[2]}×{pred.shape[1]} but "
                f"{_clip_name(g, i)} has {gt.shape[0]} of {gt.shape[2]}×{gt.shape[1]}; per-frame metrics need "
                "the same frame count and size (resize or trim the predictions to the ground truth)"
            )
        yield _clip_name(p, i), pred, gt


def per_frame_scores(
    pred_clips: Sequence[Clip],
    gt_clips: Sequence[Clip],
    metrics: Sequence[str] = ("ssim",),
    ssim_options: Mapping | None = None,
    data_range: float = 1.0,
    lpips: nn.Module | None = None,
    device: str | torch.device = "cpu",
    batch_size: int = 16,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Per clip, the mean over frames of each paired metric (frames in [0, 1]); `lpips` is the LPIPS module."""
    unknown = [m for m in metrics if m not in FRAME_METRICS]
    if unknown:
        raise ValueError(f"unknown per-frame metric(s) {', '.join(unknown)}; choose from {FRAME_METRICS}")
    if "lpips" in metrics and lpips is None:
        raise ValueError("per-frame LPIPS needs the LPIPS module: build_extractor('lpips_alex')")
    options = dict(ssim_options or {})
    out: dict[str, list[float]] = {m: [] for m in metrics}
    for _, pred, gt in tqdm(
        _pairs(pred_clips, gt_clips), desc="per-frame metrics", unit="clip", disable=not progress
    ):
        values: dict[str, list[torch.Tensor]] = {m: [] for m in metrics}
        for lo in range(0, len(pred), batch_size):
            p = torch.from_numpy(pred[lo : lo + batch_size]).permute(0, 3, 1, 2).float().div(255).to(device)
            g = torch.from_numpy(gt[lo : lo + batch_size]).permute(0, 3, 1, 2).float().div(255).to(device)
            with torch.no_grad():
                if "ssim" in metrics:
                    values["ssim"].append(paired.ssim(p, g, **options))
                if "psnr" in metrics:
                    values["psnr"].append(paired.psnr(p, g, data_range))
                if "mse" in metrics:
                    values["mse"].append(paired.mse(p, g))
                if "lpips" in metrics:
                    values["lpips"].append(lpips(p, g))
        for m in metrics:
            out[m].append(float(torch.cat(values[m]).double().mean()))
    return {m: np.asarray(v) for m, v in out.items()}


def per_frame_ssim(pred_clips: Sequence[Clip], gt_clips: Sequence[Clip], **ssim_options) -> float:
    """SSIM of every frame pair (`metrics.paired.ssim` options), averaged over frames, then over clips."""
    return float(per_frame_scores(pred_clips, gt_clips, ("ssim",), ssim_options)["ssim"].mean())


def per_frame_lpips(
    pred_clips: Sequence[Clip],
    gt_clips: Sequence[Clip],
    net: str | nn.Module = "alex",
    paths: Mapping[str, Path] | None = None,
    device: str | torch.device = "cpu",
) -> float:
    """LPIPS of every frame pair, averaged over frames, then over clips; `net` is a backbone name or the module."""
    module = build_extractor(f"lpips_{net}", paths=paths, device=device) if isinstance(net, str) else net
    return float(
        per_frame_scores(pred_clips, gt_clips, ("lpips",), lpips=module, device=device)["lpips"].mean()
    )


def list_clips(folder: Path) -> dict[str, Path]:
    """Clips of a folder keyed by name: each sub-folder of frames and each video file (by stem)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of clips")
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_dir() or (p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES):
            key = p.name if p.is_dir() else p.stem
            if key in found:
                raise ValueError(
                    f"{found[key].name} and {p.name} in {folder} share a clip name; keep one of them"
                )
            found[key] = p
    if not found:
        raise ValueError(
            f"{folder} holds no clips: give one sub-folder of frames or one video file "
            f"({', '.join(VIDEO_SUFFIXES)}) per clip"
        )
    return found


def evaluate_video_folders(
    pred_dir: Path,
    gt_dir: Path,
    metrics: Sequence[str],
    protocol: VideoProtocol | Protocol | str | None = None,
    device: str | torch.device = "cpu",
    batch_size: int = 4,
    paths: Mapping[str, Path] | None = None,
    progress: bool = True,
) -> FolderEvaluation:
    """Video metrics between two folders of clips matched by name: per-frame paired metrics (mean over the
    matched clips' frame means) and VFID over every clip of each folder.

    `protocol`: a video protocol (default `vfid_toolkit`, the papers'), or an image protocol whose per-frame
    settings go under the default VFID settings (`get_video_protocol`); it is recorded in the result.
    """
    proto = get_video_protocol(protocol)
    unknown = [m for m in metrics if m not in VIDEO_METRICS]
    if unknown:
        raise ValueError(
            f"unknown or image-only metric(s) for videos: {', '.join(unknown)}; choose from: "
            f"{', '.join(VIDEO_METRICS)}"
        )
    wanted_paired = [m for m in metrics if m in FRAME_METRICS]
    wanted_vfid = [m for m in metrics if m in VFID_EXTRACTORS]
    preds, gts = list_clips(pred_dir), list_clips(gt_dir)
    names = sorted(set(preds) & set(gts))
    if wanted_paired and not names:
        raise ValueError(
            f"no clip names match between {pred_dir} and {gt_dir}; paired metrics need the same names"
        )
    require_weights(extractors_for(wanted_paired, proto) + [VFID_EXTRACTORS[m] for m in wanted_vfid], paths)
    result = FolderEvaluation(
        values={},
        per_image={n: {} for n in names} if wanted_paired else {},
        protocol=proto.as_dict(),
        pairs=len(names),
        unmatched_pred=sorted(set(preds) - set(gts)),
        unmatched_gt=sorted(set(gts) - set(preds)),
    )
    if wanted_paired:
        lpips = None
        if "lpips" in wanted_paired:
            lpips = build_extractor(f"lpips_{proto.lpips_net}", paths=paths, device=device)
        scores = per_frame_scores(
            [preds[n] for n in names],
            [gts[n] for n in names],
            wanted_paired,
            proto.ssim_options(),
            proto.data_range,
            lpips,
            device,
            progress=progress,
        )
        for metric, per_clip in scores.items():
            for name, value in zip(names, per_clip, strict=True):
                result.per_image[name][metric] = float(value)
            result.values[metric] = float(per_clip.mean())
    for metric in wanted_vfid:
        net = build_extractor(VFID_EXTRACTORS[metric], paths=paths, device=device)
        result.values[metric] = vfid(
            list(preds.values()),
            list(gts.values()),
            net,
            proto,
            device=device,
            batch_size=batch_size,
            progress=progress,
        )
    return result
