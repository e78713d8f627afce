"""One optimizer step of the generic driver: AdamW/Adam, mixed precision on CUDA, accumulation, clipping.

`Optimization.backward` runs one micro-batch (its loss divided by `grad_accum_steps`, so k micro-batches
of size b give the gradient of one batch of k*b when the family's loss is a batch mean); under DDP it skips
the gradient all-reduce on every micro-batch but the last (`no_sync`). `Optimization.step` unscales (fp16),
clips the global norm when asked, steps and clears the gradients. Mixed precision applies on CUDA only: bf16
autocast, or fp16 autocast with a gradient scaler; on CPU the model trains in fp32.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel

_AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


def build_optimizer(model: torch.nn.Module, config: Any) -> torch.optim.Optimizer:
    """The optimizer `config.optimizer` names over the trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"{type(model).__name__} has no trainable parameters")
    kinds = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}
    return kinds[config.optimizer](
        params, lr=config.lr, betas=tuple(config.betas), weight_decay=config.weight_decay
    )


def autocast_dtype(config: Any, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for this device: None (fp32) on CPU or with mixed_precision "no"."""
    if device.type != "cuda" or config.mixed_precision == "no":
        return None
    return _AUTOCAST[config.mixed_precision]


class Optimization:
    """Optimizer, precision and gradient accumulation for one model on one device."""

    def __init__(self, model: torch.nn.Module, config: Any, device: torch.device) -> None:
        self.config = config
        self.device = device
        self.optimizer = build_optimizer(model, config)
        self.params = [p for group in self.optimizer.param_groups for p in group["params"]]
        self.dtype = autocast_dtype(config, device)
        self.scaler = torch.amp.GradScaler("cuda") if self.dtype == torch.float16 else None

    def backward(
        self, family: Any, model: torch.nn.Module, batch: dict[str, Any], *, last_micro_batch: bool = True
    ) -> tuple[float, dict[str, float]]:
        """Forward and backward one micro-batch; returns its unscaled loss and the family's logs."""
        skip_sync = isinstance(model, DistributedDataParallel) and not last_micro_batch
        with model.no_sync() if skip_sync else nullcontext():
            autocast = (
                torch.autocast(self.device.type, dtype=self.dtype)
                if self.dtype is not None
                else nullcontext()
            )
            with autocast:
                loss, logs = family.training_step(model, batch, self.config)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"the training loss is {value}: lower lr, set grad_clip_norm, or use bf16 instead of fp16"
                )
            scaled = loss / self.config.grad_accum_steps
            (self.scaler.scale(scaled) if self.scaler is not None else scaled).backward()
        return value, {k: float(v) for k, v in logs.items()}

    def step(self) -> float | None:
        """Apply the accumulated gradients; returns the gradient norm before clipping when clipping is on."""
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        norm = None
        if self.config.grad_clip_norm is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_clip_norm))
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return norm

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"optimizer": self.optimizer.state_dict()}
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
