"""Auto-ARM as a `ModelFamily` for the generic driver (`models.training`): model, examples, step, metrics.

The driver owns the loop (Ray Train, optimiser, mixed precision, checkpoints, early stopping); this module
says what one example is, what the loss is and what validation reports:
`val_loss` (mean BCE per pixel), `val_iou` (mean per-sample IoU of σ(logits) > threshold against the parse
truth, the paper's monitor), `val_rough_iou` (the same IoU for the input rough mask, the baseline the
refinement must beat) and `val_samples`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch.utils.data import default_collate

from models.autoarm.config import AutoArmConfig
from models.autoarm.data import example_from_sample
from models.autoarm.losses import binary_masks, mask_bce_loss, per_sample_iou
from models.autoarm.network import INPUT_CHANNELS, AttentionUNet


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


class AutoArmFamily:
    """The Auto-ARM model family (seed 000): Attention U-Net mask refinement trained with BCE."""

    name = "autoarm"
    config_class = AutoArmConfig

    def build_model(self, config: AutoArmConfig) -> torch.nn.Module:
        """A freshly initialised Attention U-Net with the config's widths."""
        return AttentionUNet(
            in_channels=INPUT_CHANNELS, out_channels=1, widths=config.widths, norm=config.norm
        )

    def example(
        self, sample: dict[str, Any], config: AutoArmConfig, *, train: bool
    ) -> dict[str, torch.Tensor] | None:
        """{"inputs", "truth"} of one paired image sample; None for anything Auto-ARM cannot learn from."""
        return example_from_sample(sample, config, train=train)

    def collate(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        """Stack examples into a batch."""
        return default_collate(examples)

    def training_step(
        self, model: torch.nn.Module, batch: dict[str, torch.Tensor], config: AutoArmConfig
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """BCE loss of one batch (moved to the model's device) and its logged value."""
        device = _device_of(model)
        logits = model(batch["inputs"].to(device, non_blocking=True))
        loss = mask_bce_loss(logits, batch["truth"].to(device, non_blocking=True))
        return loss, {"loss": float(loss.detach())}

    @torch.no_grad()
    def validation_metrics(
        self, model: torch.nn.Module, batches: Iterable[dict[str, torch.Tensor]], config: AutoArmConfig
    ) -> dict[str, float]:
        """val_loss, val_iou, val_rough_iou, val_samples over the given batches (model in eval mode)."""
        device = _device_of(model)
        was_training = model.training
        model.eval()
        loss_sum, iou_sum, rough_sum, samples, pixels = 0.0, 0.0, 0.0, 0, 0
        try:
            for batch in batches:
                inputs = batch["inputs"].to(device, non_blocking=True)
                truth = batch["truth"].to(device, non_blocking=True)
                logits = model(inputs)
                loss_sum += float(mask_bce_loss(logits, truth)) * truth.numel()
                pixels += truth.numel()
                inside = truth > 0.5
                iou_sum += float(per_sample_iou(binary_masks(logits, config.threshold), inside).sum())
                rough_sum += float(per_sample_iou(inputs[:, :1] > 0.5, inside).sum())
                samples += int(truth.shape[0])
        finally:
            model.train(was_training)
        if samples == 0:
            nan = float("nan")
            return {"val_loss": nan, "val_iou": nan, "val_rough_iou": nan, "val_samples": 0.0}
        return {
            "val_loss": loss_sum / pixels,
            "val_iou": iou_sum / samples,
            "val_rough_iou": rough_sum / samples,
            "val_samples": float(samples),
        }


FAMILY = AutoArmFamily()
