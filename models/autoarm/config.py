"""Auto-ARM settings: the generic training settings plus the input size, the U-Net widths and augmentation.

Presets:
- `paper`: seed 000 §5.3 exactly: AdamW, learning rate 1e-5, batch size 6, 10 epochs, 512 x 384, early
  stopping with patience 5 on the validation IoU (the paper monitors segmentation by IoU); the U-Net widths
  of Oktay et al.'s Attention U-Net (64 to 1024, four down-samplings). The paper gives no weight decay or
  betas, so AdamW's defaults stay (torch: 1e-2, (0.9, 0.999)).
- `tiny`: tests and the demo on CPU: 128 x 96, widths 8 to 128 (0.5M parameters, 1/64 of the paper's
  32M), GroupNorm, batch 2, learning rate 2e-3, 25 epochs, no early stopping. The paper's 1e-5 suits 32M
  parameters and tens of thousands of steps on 11,647-48,392 pairs; the demo has a few dozen samples and
  must learn in about a minute, i.e. in a few hundred steps, so the small network takes 200 times larger
  steps, and batches of 2 give it more of them. BatchNorm's running statistics from batches of 2 over a few
  hundred steps do not match the validation batches (Dress Code demo: IoU 0.20 in eval mode against 0.62
  with batch statistics, same weights), so `tiny` uses GroupNorm (2 channels a group), which computes the
  same in training and evaluation. With the demo's 2-8 validation samples the IoU moves by 0.05 or more
  from one epoch to the next, and patience 5 stopped the VITON-HD demo at epoch 10 (gain over the rough
  masks +0.056 against +0.070 after 25 epochs), so `tiny` runs all its epochs; the best checkpoint is
  still chosen by val_iou. Weight decay 1e-4 (not AdamW's 1e-2): with 200x the step size, 1e-2 would
  shrink the small network's weights 200x faster too.

Both presets flip horizontally with probability 0.5 in training (`flip_probability`; the issue's
augmentation, the paper names none); see `models.autoarm.data` for how the skeleton follows the flip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from models.autoarm.network import NORMS, PAPER_WIDTHS
from models.training.settings import TrainingSettings


@dataclass
class AutoArmConfig(TrainingSettings):
    """Training and model settings of one Auto-ARM run (`AutoArmConfig.preset("paper" | "tiny", **overrides)`)."""

    epochs: int = 10
    batch_size: int = 6
    lr: float = 1e-5
    optimizer: str = "adamw"
    early_stopping_patience: int | None = 5
    monitor: str = "val_iou"
    monitor_mode: str = "max"
    height: int = 512  # model input size; predictions go back to each person's own size
    width: int = 384
    widths: tuple[int, ...] = PAPER_WIDTHS  # U-Net channels per level, finest first
    norm: str = "batch"  # "batch" (Oktay) or "group" (batch-size independent; see the tiny preset)
    flip_probability: float = 0.5  # horizontal flip in training (skeleton re-drawn with left/right swapped)
    threshold: float = 0.5  # σ(logit) above it is inside the refined mask

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {
            "optimizer": "adamw",
            "lr": 1e-5,
            "batch_size": 6,
            "epochs": 10,
            "height": 512,
            "width": 384,
            "early_stopping_patience": 5,
            "monitor": "val_iou",
            "monitor_mode": "max",
            "widths": PAPER_WIDTHS,
            "norm": "batch",
        },
        "tiny": {
            "optimizer": "adamw",
            "lr": 2e-3,
            "weight_decay": 1e-4,
            "batch_size": 2,
            "epochs": 25,
            "height": 128,
            "width": 96,
            "early_stopping_patience": None,
            "monitor": "val_iou",
            "monitor_mode": "max",
            "widths": (8, 16, 32, 64, 128),
            "norm": "group",
        },
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        self.widths = tuple(int(w) for w in self.widths)  # JSON round trips give a list
        if len(self.widths) < 2:
            raise ValueError(f"AutoArmConfig.widths {self.widths} needs at least two levels")
        if self.height < 2 ** (len(self.widths) - 1) or self.width < 2 ** (len(self.widths) - 1):
            raise ValueError(
                f"AutoArmConfig input {self.height}x{self.width} is smaller than the U-Net's "
                f"{2 ** (len(self.widths) - 1)} px down-sampling; raise height/width or use fewer widths"
            )
        if self.norm not in NORMS:
            raise ValueError(f"AutoArmConfig.norm {self.norm!r} is not one of {', '.join(NORMS)}")
        if not 0.0 <= self.flip_probability <= 1.0:
            raise ValueError(f"AutoArmConfig.flip_probability {self.flip_probability} must be in [0, 1]")
