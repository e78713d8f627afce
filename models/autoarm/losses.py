"""Auto-ARM's objective and its validation score (seed 000 §4.2, §5.2).

The loss is binary cross-entropy over all pixels between the refined mask σ(logits) and the parse-derived
truth; it is computed from the logits (`binary_cross_entropy_with_logits`, the same value as BCE on the
sigmoid output but stable for large logits) and always in float32, also under autocast. The score is the
paper's mask IoU: a pixel is inside where σ(logit) > threshold; two empty masks score 1, as in
`metrics.segmentation.mask_iou`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mask_bce_loss(logits: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy over every pixel of the batch; `truth` in [0, 1], same shape as `logits`."""
    if logits.shape != truth.shape:
        raise ValueError(
            f"logits {tuple(logits.shape)} and truth {tuple(truth.shape)} differ in shape; "
            "resize the truth mask to the model's input size"
        )
    return F.binary_cross_entropy_with_logits(logits.float(), truth.float())


def binary_masks(logits: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Boolean masks: σ(logits) > threshold."""
    return torch.sigmoid(logits.float()) > threshold


def per_sample_iou(predicted: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """IoU of each sample's boolean masks (first dimension = samples), float32; two empty masks give 1."""
    predicted, truth = predicted.bool().flatten(1), truth.bool().flatten(1)
    intersection = (predicted & truth).sum(dim=1).float()
    union = (predicted | truth).sum(dim=1).float()
    return torch.where(union > 0, intersection / union.clamp(min=1), torch.ones_like(union))
