"""A test-only model family: a 1x1 convolution that learns to copy the mask channel of its input.

Input: the person image (3 channels) and the rough mask (1 channel) of a shard sample; target: the mask.
The family can also leave a trace of the batches each rank trained on (`trace_dir`) and SIGKILL its own
worker process once at a given training-step call (`kill_at_call`, guarded by `kill_marker`), for the
no-starvation and fault tests. Registered as "tiny_copy". This folder is not importable in Ray workers
(pytest puts it on the driver's sys.path only), so the module is pickled by value when the driver hands
the family to the workers.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import ray.cloudpickle
import torch
from PIL import Image
from torch.nn import functional as F
from torch.utils.data import default_collate

from models.training.family import register_family
from models.training.settings import TrainingSettings

NAME = "tiny_copy"
_CALLS = {"training_step": 0}


@dataclass
class TinyCopyConfig(TrainingSettings):
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"epochs": 2, "batch_size": 4, "lr": 0.05, "data_workers": 0, "val_fraction": 0.25}
    }

    kill_at_call: int | None = None
    kill_marker: str | None = None
    trace_dir: str | None = None


class TinyCopyFamily:
    name = NAME
    config_class = TinyCopyConfig

    def build_model(self, config: TinyCopyConfig) -> torch.nn.Module:
        return torch.nn.Conv2d(4, 1, kernel_size=1)

    def example(
        self, sample: dict[str, Any], config: TinyCopyConfig, *, train: bool
    ) -> dict[str, Any] | None:
        if "agnostic_mask.png" not in sample:
            return None
        person = np.asarray(Image.open(BytesIO(sample["person.jpg"])).convert("RGB"), np.float32) / 255
        mask = np.asarray(Image.open(BytesIO(sample["agnostic_mask.png"])), np.float32)[None] / 255
        x = torch.from_numpy(np.concatenate([person.transpose(2, 0, 1), mask]))
        y = torch.from_numpy(mask.copy())
        if train and float(torch.rand(())) < 0.5:  # augmentation drawn from the seeded global generator
            x, y = x.flip(-1), y.flip(-1)
        return {"x": x, "y": y, "key": sample["__key__"]}

    def collate(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        return default_collate(examples)

    def training_step(
        self, model: torch.nn.Module, batch: dict[str, Any], config: TinyCopyConfig
    ) -> tuple[torch.Tensor, dict[str, float]]:
        _CALLS["training_step"] += 1
        if config.trace_dir:
            _trace(Path(config.trace_dir), batch["key"])
        if config.kill_at_call == _CALLS["training_step"] and config.kill_marker:
            marker = Path(config.kill_marker)
            if not marker.exists():
                marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
        loss = F.mse_loss(model(batch["x"]), batch["y"])
        return loss, {"mse": float(loss.detach())}

    def validation_metrics(self, model: torch.nn.Module, batches, config: TinyCopyConfig) -> dict[str, float]:
        squared, count, inter, union = 0.0, 0, 0.0, 0.0
        for batch in batches:
            pred = model(batch["x"])
            squared += float(F.mse_loss(pred, batch["y"], reduction="sum"))
            count += batch["y"].numel()
            hit, truth = pred > 0.5, batch["y"] > 0.5
            inter += float((hit & truth).sum())
            union += float((hit | truth).sum())
        return {"val_loss": squared / max(count, 1), "val_iou": inter / union if union else 1.0}


def _trace(folder: Path, keys: list[str]) -> None:
    import ray.train

    rank = ray.train.get_context().get_world_rank()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"rank{rank}-{os.getpid()}.jsonl", "a") as fh:
        fh.write(json.dumps({"rank": rank, "keys": list(keys)}) + "\n")


FAMILY = TinyCopyFamily()
register_family(NAME, f"{__name__}:FAMILY")
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
