"""An exponential moving average of a model's weights, for families that validate and ship the averaged weights.

The average covers the whole `state_dict` (parameters and buffers) of the unwrapped module: floating
tensors move towards the live values by `1 - decay` after every optimizer step, other buffers (counters)
are copied. It lives on the model's device and is saved as `ema.safetensors` beside `model.safetensors`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


class ExponentialMovingAverage:
    """shadow <- decay * shadow + (1 - decay) * live, per tensor of the model's state dict."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.shadow = {name: value.detach().clone() for name, value in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """Move the average towards `model`'s current weights (call after each optimizer step)."""
        for name, value in model.state_dict().items():
            average = self.shadow[name]
            if average.is_floating_point():
                average.lerp_(value.detach().to(average.dtype), 1.0 - self.decay)
            else:
                average.copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.shadow

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Copy saved averages in; the names must be exactly the model's state-dict names."""
        if set(state) != set(self.shadow):
            missing, extra = sorted(set(self.shadow) - set(state)), sorted(set(state) - set(self.shadow))
            raise ValueError(
                f"EMA state does not fit the model: missing {missing[:5]}, unexpected {extra[:5]}"
            )
        for name, value in state.items():
            self.shadow[name].copy_(value)

    @contextmanager
    def applied_to(self, model: torch.nn.Module) -> Iterator[torch.nn.Module]:
        """Run the block with the averaged weights loaded into `model`, then put the live weights back."""
        live = {name: value.detach().clone() for name, value in model.state_dict().items()}
        model.load_state_dict(self.shadow)
        try:
            yield model
        finally:
            model.load_state_dict(live)
