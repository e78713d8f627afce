"""Early stopping on a validation metric: stop after `patience` epochs in a row without a strict improvement.

The state (best value, epochs without improvement) is saved in every checkpoint's `state.json`, so a resumed
run keeps counting where it stopped instead of granting itself a fresh patience.
"""

from __future__ import annotations

import math
from typing import Any


class EarlyStopping:
    """Tracks the best monitored value; `should_stop` once `patience` epochs passed without improving it."""

    def __init__(self, patience: int | None, mode: str = "min", min_delta: float = 0.0) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"monitor mode must be 'min' or 'max', got {mode!r}")
        self.patience = patience
        self.mode = mode
        self.min_delta = min_delta
        self.best: float | None = None
        self.bad_epochs = 0

    def is_better(self, value: float, than: float | None) -> bool:
        """Whether `value` strictly improves on `than` by more than `min_delta` (NaN never does)."""
        if math.isnan(value):
            return False
        if than is None:
            return True
        return value < than - self.min_delta if self.mode == "min" else value > than + self.min_delta

    def update(self, value: float) -> bool:
        """Record one epoch's value; True when it is a new best."""
        if self.is_better(value, self.best):
            self.best = value
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state.get("best")
        self.bad_epochs = int(state.get("bad_epochs", 0))
