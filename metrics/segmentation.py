"""Segmentation metrics on label maps: IoU and class pixel accuracy (CPA) per class and their mean.

CPA of a class is the share of pixels predicted as that class that are correct (TP / (TP + FP)), as the
garment-transfer paper uses it; IoU is TP / (TP + FP + FN). Classes absent from both maps are NaN and left
out of the means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def confusion_matrix(
    pred: torch.Tensor | np.ndarray, gt: torch.Tensor | np.ndarray, num_classes: int
) -> torch.Tensor:
    """num_classes × num_classes counts, rows = ground truth, columns = prediction; labels ≥ num_classes are ignored."""
    p = torch.as_tensor(np.asarray(pred) if not isinstance(pred, torch.Tensor) else pred).long().flatten()
    g = torch.as_tensor(np.asarray(gt) if not isinstance(gt, torch.Tensor) else gt).long().flatten()
    if p.shape != g.shape:
        raise ValueError(
            f"prediction and ground-truth label maps differ in size: {p.numel()} vs {g.numel()} pixels"
        )
    keep = (g >= 0) & (g < num_classes) & (p >= 0) & (p < num_classes)
    idx = g[keep] * num_classes + p[keep]
    return torch.bincount(idx, minlength=num_classes * num_classes).view(num_classes, num_classes)


@dataclass(frozen=True)
class SegmentationScores:
    """Per-class IoU and CPA (NaN where a class appears in neither map) and their NaN-ignoring means."""

    iou: list[float]
    cpa: list[float]

    @property
    def mean_iou(self) -> float:
        return float(np.nanmean(self.iou)) if not np.all(np.isnan(self.iou)) else float("nan")

    @property
    def mean_cpa(self) -> float:
        return float(np.nanmean(self.cpa)) if not np.all(np.isnan(self.cpa)) else float("nan")


def segmentation_scores(
    pred: torch.Tensor | np.ndarray, gt: torch.Tensor | np.ndarray, num_classes: int
) -> SegmentationScores:
    """IoU and CPA per class from label maps of equal size (any shape; batches are pooled)."""
    cm = confusion_matrix(pred, gt, num_classes).double()
    tp = cm.diagonal()
    predicted = cm.sum(0)
    actual = cm.sum(1)
    union = predicted + actual - tp
    iou = torch.where(union > 0, tp / union.clamp_min(1), torch.full_like(tp, float("nan")))
    cpa = torch.where(predicted > 0, tp / predicted.clamp_min(1), torch.where(actual > 0, 0.0, float("nan")))
    return SegmentationScores(iou.tolist(), cpa.tolist())


def mask_iou(pred: torch.Tensor | np.ndarray, gt: torch.Tensor | np.ndarray) -> float:
    """IoU of two binary masks (nonzero = inside); two empty masks score 1."""
    p = torch.as_tensor(np.asarray(pred) if not isinstance(pred, torch.Tensor) else pred) != 0
    g = torch.as_tensor(np.asarray(gt) if not isinstance(gt, torch.Tensor) else gt) != 0
    if p.shape != g.shape:
        raise ValueError(f"masks differ in shape: {tuple(p.shape)} vs {tuple(g.shape)}")
    union = int((p | g).sum())
    return 1.0 if union == 0 else int((p & g).sum()) / union
