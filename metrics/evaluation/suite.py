"""Compute a metric suite for one setting: match predictions to ground truth by sample id, score every
matched sample, aggregate per category (upper, lower, dresses) and over all of them.

Settings and what they compare (`SETTING_METRICS`):

Each setting scores the samples of one kind and pairing (`setting_samples`): paired and video the paired
samples (the person already wears the garment, so the person image is the ground truth), unpaired the
unpaired ones, mask every image sample.

- `paired`: each prediction against its own ground-truth image (SSIM, PSNR, MSE, LPIPS, DISTS per sample;
  FID, KID, IS, CLIP-FID over the matched sets), and the no-reference hyperIQA of each prediction;
- `unpaired`: distribution metrics and hyperIQA (no ground truth shows the person in the other garment);
- `video`: frame-wise paired metrics (a clip's value is the mean over its frames, the aggregate the mean
  over clips) and VFID with I3D or 3D-ResNeXt features over the matched clips; a clip counts as predicted
  only when every ground-truth frame has a prediction;
- `mask`: binary masks (pixels > 127 are inside): `mask_iou` (foreground IoU, `metrics.segmentation.mask_iou`;
  the name the papers' reference results use)
  and `cpa` (the mask class's pixel accuracy TP / (TP + FP), `metrics.segmentation.segmentation_scores`).

Metrics that need weights (LPIPS, DISTS, FID, KID, IS, CLIP-FID, hyperIQA, VFID) are opt-in: the default
suites need none. A suite naming one checks every weights file it needs before scoring anything, and a
missing one fails with the `vton weights import` command.

Image metrics reuse `metrics.folders.evaluate_folders` (the `vton metrics compute` engine) on folders of
links to the matched files, so both paths give the same numbers; VFID is `metrics.video`'s under the video
protocol (`metrics.protocols.get_video_protocol`: a video protocol as given, an image protocol's per-frame
settings under `vfid_toolkit`), which the video setting records. Ground-truth samples without a prediction
are counted (`missing`), predictions without a sample too (`unexpected`); nothing is dropped silently, and
no match at all is an error naming the prediction folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from metrics.evaluation.ground_truth import EvalSample
from metrics.extractors import build_extractor
from metrics.folders import (
    DISTRIBUTION_METRICS,
    NO_REFERENCE_METRICS,
    PAIRED_METRICS,
    evaluate_folders,
    extractors_for,
    require_weights,
)
from metrics.protocols import Protocol, VideoProtocol, get_protocol, get_video_protocol
from metrics.segmentation import mask_iou, segmentation_scores
from metrics.video import VFID_EXTRACTORS, protocol_input, vfid_from_features, window_features

SETTINGS = ("paired", "unpaired", "video", "mask")
MASK_METRICS = ("mask_iou", "cpa")
VFID_METRICS = tuple(VFID_EXTRACTORS)
SETTING_METRICS: dict[str, tuple[str, ...]] = {
    "paired": PAIRED_METRICS + DISTRIBUTION_METRICS + NO_REFERENCE_METRICS,
    "unpaired": DISTRIBUTION_METRICS + NO_REFERENCE_METRICS,
    "video": PAIRED_METRICS + VFID_METRICS,
    "mask": MASK_METRICS,
}
SAMPLE_LEVEL_METRICS = PAIRED_METRICS + NO_REFERENCE_METRICS + MASK_METRICS  # a value per sample
# What a setting computes when no suite is named: weight-free metrics wherever the setting has them.
DEFAULT_SUITES: dict[str, tuple[str, ...]] = {
    "paired": ("ssim", "psnr", "mse"),
    "unpaired": ("fid", "kid"),
    "video": ("ssim", "psnr", "mse"),
    "mask": MASK_METRICS,
}
# (sample kind, pair mode or None for any) each setting scores
SETTING_SAMPLES: dict[str, tuple[str, str | None]] = {
    "paired": ("image", "paired"),
    "unpaired": ("image", "unpaired"),
    "video": ("video", "paired"),
    "mask": ("image", None),
}
ALL = "all"
MASK_THRESHOLD = 127
MASK_PROTOCOL = {
    "name": "binary_mask",
    "threshold": MASK_THRESHOLD,
    "mask_iou": "IoU of the foreground masks (two empty masks score 1)",
    "cpa": "pixel accuracy of the mask class: TP / (TP + FP)",
}


class EvaluationError(ValueError):
    """An evaluation that cannot run as asked; the message names the folder or option and the fix."""


@dataclass(frozen=True)
class MetricValue:
    """One aggregate: a metric over the matched samples of a category (or `all`)."""

    category: str
    metric: str
    value: float
    n: int


@dataclass
class SettingResult:
    """Everything one setting's evaluation found: aggregates, per-sample values and what did not match."""

    setting: str
    metrics: tuple[str, ...]
    protocol: dict
    values: list[MetricValue]
    per_sample: dict[str, dict[str, float]]  # sample id -> metric -> value (sample-level metrics only)
    matched: list[str]
    missing: list[str]  # ground-truth samples with no prediction
    unexpected: list[str]  # predictions that match no ground-truth sample
    predictions: dict[str, Path] = field(default_factory=dict)  # sample id -> file (first frame for clips)
    targets: dict[str, Path] = field(default_factory=dict)
    source: str = ""

    @property
    def expected(self) -> int:
        return len(self.matched) + len(self.missing)

    def value(self, metric: str, category: str = ALL) -> float:
        """The aggregate of `metric` over `category`; KeyError when it was not computed."""
        for v in self.values:
            if v.metric == metric and v.category == category:
                return v.value
        raise KeyError(f"{metric} was not computed for category {category!r} in setting {self.setting}")


def resolve_suite(setting: str, metrics: Sequence[str] | None) -> tuple[str, ...]:
    """The metrics to compute: `metrics` checked against the setting, or the setting's default suite."""
    if setting not in SETTINGS:
        raise EvaluationError(f"unknown setting {setting!r}; choose one of: {', '.join(SETTINGS)}")
    if not metrics:
        return DEFAULT_SUITES[setting]
    wanted = tuple(dict.fromkeys(m.strip().lower() for m in metrics if m.strip()))
    wrong = [m for m in wanted if m not in SETTING_METRICS[setting]]
    if wrong:
        raise EvaluationError(
            f"metric(s) {', '.join(wrong)} do not apply to the {setting} setting; "
            f"choose from: {', '.join(SETTING_METRICS[setting])}"
        )
    return wanted


def setting_samples(setting: str, samples: Mapping[str, EvalSample]) -> dict[str, EvalSample]:
    """The samples a setting scores: of its kind (image or video clip) and pairing."""
    kind, pair_mode = SETTING_SAMPLES[setting]
    return {
        k: s for k, s in samples.items() if s.kind == kind and (pair_mode is None or s.pair_mode == pair_mode)
    }


def _clip(key: str) -> str:
    return key.partition(".")[0]


def _match(
    setting: str,
    predictions: Mapping[str, Path],
    targets: Mapping[str, Path],
    samples: Mapping[str, EvalSample],
) -> tuple[list[str], list[str], list[str]]:
    """(matched, missing, unexpected) sample ids. A clip matches when every one of its target frames does."""
    if setting == "video":
        frames: dict[str, set[str]] = {}
        for key in targets:
            if _clip(key) in samples:
                frames.setdefault(_clip(key), set()).add(key)
        predicted = {_clip(k) for k in predictions}
        matched = sorted(c for c, keys in frames.items() if keys <= set(predictions))
        missing = sorted(set(frames) - set(matched))
        return matched, missing, sorted(predicted - set(samples))
    expected = {k for k in targets if k in samples}
    return (
        sorted(expected & set(predictions)),
        sorted(expected - set(predictions)),
        sorted(set(predictions) - set(samples)),
    )


def _link_folder(folder: Path, files: Mapping[str, Path]) -> dict[Path, Path]:
    """Fill `folder` with links `<key><suffix>` -> file; return link -> file (to name real files in errors)."""
    folder.mkdir(parents=True)
    links = {}
    for key, file in files.items():
        link = folder / f"{key}{Path(file).suffix.lower()}"
        os.symlink(Path(file).resolve(), link)
        links[link] = Path(file)
    return links


def _real_names(message: str, links: Mapping[Path, Path]) -> str:
    for link, file in links.items():
        if str(link) in message:
            message = message.replace(str(link), str(file))
    return message


def _folder_metrics(
    pred: Mapping[str, Path],
    gt: Mapping[str, Path],
    metrics: Sequence[str],
    protocol: Protocol,
    device: str,
    batch_size: int,
    paths: Mapping[str, Path] | None,
    scratch: Path,
):
    """`evaluate_folders` on folders of links to exactly these files."""
    links = _link_folder(scratch / "pred", pred) | _link_folder(scratch / "gt", gt)
    try:
        return evaluate_folders(
            scratch / "pred", scratch / "gt", metrics, protocol, device=device, batch_size=batch_size,
            paths=paths, progress=False,
        )  # fmt: skip
    except ValueError as exc:
        raise EvaluationError(_real_names(str(exc), links)) from None


def _load_mask(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L")) > MASK_THRESHOLD
    except OSError as exc:
        raise EvaluationError(f"cannot read mask {path}: {exc}; replace or remove the file") from None


def _mask_scores(pred: Path, gt: Path) -> dict[str, float]:
    p, g = _load_mask(pred), _load_mask(gt)
    if p.shape != g.shape:
        raise EvaluationError(
            f"mask {pred} is {p.shape[1]}×{p.shape[0]} but its truth {gt} is {g.shape[1]}×{g.shape[0]}; "
            "write predicted masks at the ground-truth size"
        )
    return {"mask_iou": mask_iou(p, g), "cpa": segmentation_scores(p, g, 2).cpa[1]}


def _mean(values: list[float]) -> float:
    """Mean ignoring NaN (a class absent from both masks); +inf (PSNR of identical images) stays +inf."""
    array = np.asarray(values, dtype=np.float64)
    array = array[~np.isnan(array)]
    return float(array.mean()) if array.size else float("nan")


def _clip_frames(files: Mapping[str, Path]) -> dict[str, list[Path]]:
    """Each clip's frame files in frame order (keys `<sample_id>.fNNNN`)."""
    clips: dict[str, list[Path]] = {}
    for key in sorted(files):
        clips.setdefault(_clip(key), []).append(files[key])
    return clips


def _vfid_values(
    metrics: Sequence[str],
    groups: Mapping[str, list[str]],
    pred_files: Mapping[str, Path],
    gt_files: Mapping[str, Path],
    protocol: VideoProtocol,
    device: str,
    batch_size: int,
    paths: Mapping[str, Path] | None,
) -> list[MetricValue]:
    """VFID of the matched clips per category: window features are extracted once per clip, and a category
    whose clips give fewer than 2 windows a set gets NaN (all clips too few is an error)."""
    pred_clips, gt_clips = _clip_frames(pred_files), _clip_frames(gt_files)
    clips = list(groups[ALL])
    values = []
    for metric in metrics:
        net = build_extractor(VFID_EXTRACTORS[metric], paths=paths, device=device)
        options = protocol.vfid_options() | {"batch_size": batch_size, "device": device}
        try:
            with protocol_input(net, protocol):
                pred_features = window_features([pred_clips[c] for c in clips], net, **options)
                gt_features = window_features([gt_clips[c] for c in clips], net, **options)
        except ValueError as exc:
            raise EvaluationError(str(exc)) from None
        fp, fg = dict(zip(clips, pred_features, strict=True)), dict(zip(clips, gt_features, strict=True))
        overall = None
        for category, keys in groups.items():
            pred = np.concatenate([fp[k] for k in keys])
            gt = np.concatenate([fg[k] for k in keys])
            if overall is not None and len(keys) == len(clips):  # one category holds every clip
                value = overall
            elif min(len(pred), len(gt)) >= 2:
                value = vfid_from_features(pred, gt)
                overall = value if category == ALL else overall
            elif category == ALL:
                raise EvaluationError(
                    f"{metric} needs at least 2 windows per set, but the {len(keys)} matched clip(s) give "
                    f"{len(pred)} under protocol {protocol.name}; predict more clips"
                )
            else:
                value = float("nan")
            values.append(MetricValue(category, metric, value, len(keys)))
    return values


def evaluate_setting(
    setting: str,
    predictions: Mapping[str, Path],
    targets: Mapping[str, Path],
    samples: Mapping[str, EvalSample],
    metrics: Sequence[str] | None = None,
    protocol: Protocol | str = "torch_fidelity",
    device: str = "cpu",
    batch_size: int = 8,
    paths: Mapping[str, Path] | None = None,
    source: str = "predictions",
) -> SettingResult:
    """Score `predictions` (key -> file) against `targets` for the `samples` of one setting.

    Keys are sample ids (`<sample_id>.fNNNN` for video frames). `source` names where the predictions came
    from (their folder) in messages. Metrics that need weights load them from the weights store (or
    `paths`); every file is looked up before scoring starts, and a missing one fails at once with the
    `vton weights import` command. The video setting runs under `get_video_protocol(protocol)`.
    """
    suite = resolve_suite(setting, metrics)
    proto = get_protocol(protocol) if isinstance(protocol, str) else protocol
    if setting == "video":
        proto = get_video_protocol(proto)
    scored = setting_samples(setting, samples)
    if not scored:
        kind, pair_mode = SETTING_SAMPLES[setting]
        found = sorted({f"{s.pair_mode} {s.kind}" for s in samples.values()})
        raise EvaluationError(
            f"the {setting} setting scores {pair_mode or 'any'} {kind} samples, but the ground truth holds "
            f"only {', '.join(found) or 'no samples'}; evaluate another split or setting"
        )
    matched, missing, unexpected = _match(setting, predictions, targets, scored)
    unexpected = [k for k in unexpected if k not in samples]  # a sample of another setting is not unexpected
    samples = scored
    if not matched:
        example = next(iter(sorted(samples)), "<sample_id>")
        naming = f"{example}.f0000.png" if setting == "video" else f"{example}.png"
        raise EvaluationError(
            f"no prediction in {source} matches a {setting} ground-truth sample ({len(samples)} samples, "
            f"{len(targets)} targets, {len(predictions)} predictions); name prediction files like {naming}"
        )
    sample_level = [m for m in suite if m in SAMPLE_LEVEL_METRICS]
    distribution = [m for m in suite if m in DISTRIBUTION_METRICS]
    vfid_metrics = [m for m in suite if m in VFID_METRICS]
    require_weights(extractors_for(suite, proto) + [VFID_EXTRACTORS[m] for m in vfid_metrics], paths)
    if setting == "video":
        pred_files = {k: p for k, p in predictions.items() if _clip(k) in set(matched) and k in targets}
        gt_files = {k: targets[k] for k in pred_files}
    else:
        pred_files = {k: predictions[k] for k in matched}
        gt_files = {k: targets[k] for k in matched}
    per_sample: dict[str, dict[str, float]] = {k: {} for k in matched}
    categories = sorted({samples[k].category for k in matched})
    groups = {ALL: matched} | {c: [k for k in matched if samples[k].category == c] for c in categories}
    values: list[MetricValue] = []
    recorded = MASK_PROTOCOL if setting == "mask" else proto.as_dict()
    if setting == "mask":
        for key in matched:
            per_sample[key] = _mask_scores(pred_files[key], gt_files[key])
    elif sample_level or distribution:
        with tempfile.TemporaryDirectory(prefix="vton-eval-") as tmp:
            result = _folder_metrics(
                pred_files,
                gt_files,
                sample_level + distribution,
                proto,
                device,
                batch_size,
                paths,
                Path(tmp) / ALL,
            )
            recorded = result.protocol  # the protocol plus what a metric added (hyperIQA's crops)
            frame_values: dict[str, list[dict[str, float]]] = {}
            for key, row in result.per_image.items():
                frame_values.setdefault(_clip(key), []).append(row)
            for key, rows in frame_values.items():
                per_sample[key] = {m: _mean([r[m] for r in rows]) for m in sample_level}
            for metric in distribution:
                values.append(MetricValue(ALL, metric, float(result.values[metric]), len(matched)))
            for category in categories if distribution else ():
                members = set(groups[category])
                if members == set(matched):
                    subset = result
                else:
                    subset = _folder_metrics(
                        {k: p for k, p in pred_files.items() if _clip(k) in members},
                        {k: p for k, p in gt_files.items() if _clip(k) in members},
                        distribution, proto, device, batch_size, paths, Path(tmp) / category,
                    )  # fmt: skip
                for metric in distribution:
                    values.append(MetricValue(category, metric, float(subset.values[metric]), len(members)))
    if vfid_metrics:
        values += _vfid_values(vfid_metrics, groups, pred_files, gt_files, proto, device, batch_size, paths)
    for category, keys in groups.items():
        for metric in sample_level:
            values.append(
                MetricValue(category, metric, _mean([per_sample[k][metric] for k in keys]), len(keys))
            )
    order = {m: i for i, m in enumerate(suite)}
    values.sort(key=lambda v: (v.category != ALL, v.category, order[v.metric]))
    first = {}
    for key, path in sorted(pred_files.items()):
        first.setdefault(_clip(key), path)
    first_target = {}
    for key, path in sorted(gt_files.items()):
        first_target.setdefault(_clip(key), path)
    return SettingResult(
        setting=setting,
        metrics=suite,
        protocol=recorded,
        values=values,
        per_sample=per_sample if sample_level else {},
        matched=matched,
        missing=missing,
        unexpected=unexpected,
        predictions=first,
        targets=first_target,
        source=source,
    )
