"""The `inhouse` backend: parsing and DensePose part index from networks the platform trained itself.

Both load a model folder written by `inhouse_training.train_inhouse` (safetensors + config.json); the
version is "1:<first 12 hex digits of the weights' sha256>", so retraining re-annotates what they fed.
The DensePose annotator predicts the part index only: its output keeps the canonical (H, W, 3) layout with
I in channel 0 and U = V = 0 (as the `provided` backend does for datasets that ship only I).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from preprocess.annotators.base import AnnotationError, AnnotationInput
from preprocess.annotators.inhouse_network import CONFIG_FILE, InhouseSegNet, weights_digest


class _InhouseAnnotator:
    """Shared loading and batched prediction; subclasses name the task and wrap the label map."""

    task = ""
    name = ""
    outputs: tuple[str, ...] = ()
    needs = ("person",)

    def __init__(self, model_dir: Path, device: str = "auto", batch_size: int = 16) -> None:
        self.model_dir = Path(model_dir)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.model = InhouseSegNet.from_pretrained(self.model_dir, self.device)
        if self.model.config.task != self.task:
            raise ValueError(
                f"{self.model_dir} holds an in-house {self.model.config.task!r} model but {self.name} needs a "
                f"{self.task!r} one; train it with TrainConfig(net=preset(..., {self.task!r}))"
            )
        self.version = f"1:{weights_digest(self.model_dir)}"
        self.batch_size = batch_size

    @property
    def agreement(self) -> dict[str, Any] | None:
        """The held-out agreement recorded when the model was trained (mIoU, n, dataset), if any."""
        return json.loads((self.model_dir / CONFIG_FILE).read_text()).get("agreement")

    def __call__(self, batch: list[AnnotationInput]) -> list[dict[str, Any]]:
        """One dict per input holding this annotator's single output in its canonical encoding."""
        for item in batch:
            if item.person is None:
                raise AnnotationError(
                    f"sample {item.sample_id}: {self.name} needs the decoded person image; "
                    "pass AnnotationInput(person=decode_image(...))",
                    item.sample_id,
                )
        maps = self.model.predict([item.person for item in batch], self.batch_size)
        return [{self.outputs[0]: self._encode(labels)} for labels in maps]

    def _encode(self, labels: np.ndarray) -> Any:
        raise NotImplementedError


class InhouseParsingAnnotator(_InhouseAnnotator):
    """Annotator "inhouse_parse": LIP-20 label indices (H, W) uint8 at the person image's size."""

    task = "parse"
    name = "inhouse_parse"
    outputs = ("parse",)

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        return labels


class InhouseDensePoseAnnotator(_InhouseAnnotator):
    """Annotator "inhouse_densepose": (H, W, 3) uint8 with part index I (0-24) in channel 0, U = V = 0."""

    task = "densepose"
    name = "inhouse_densepose"
    outputs = ("densepose",)

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        iuv = np.zeros((*labels.shape, 3), dtype=np.uint8)
        iuv[..., 0] = labels
        return iuv
