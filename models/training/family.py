"""What a model family gives the generic driver, and the registry that maps a family name to it.

A family is a small object (the `ModelFamily` protocol): its config class, how to build the network, how to
turn one WebDataset sample into tensors, how to collate, one training step and the validation metrics. The
registry maps a name to a lazy import target ("package.module:ATTRIBUTE", as timm and torch-fidelity map
names to builders), so listing families imports nothing heavy and Ray workers import the family themselves
from the target string.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import torch

from models.training.settings import TrainingSettings

FAMILY_TARGETS: dict[str, str] = {"autoarm": "models.autoarm.family:FAMILY"}
_MEMBERS = (
    "name",
    "config_class",
    "build_model",
    "example",
    "collate",
    "training_step",
    "validation_metrics",
)


@runtime_checkable
class ModelFamily(Protocol):
    """The per-family logic the driver calls; everything else (loop, devices, checkpoints) is the driver's."""

    name: str
    config_class: type[TrainingSettings]

    def build_model(self, config: Any) -> torch.nn.Module:
        """A freshly initialised network for `config` (the driver seeds torch before calling)."""
        ...

    def example(self, sample: dict[str, Any], config: Any, *, train: bool) -> dict[str, torch.Tensor] | None:
        """Tensors of one example from one WebDataset sample (`__key__`, `meta.json`, `person.jpg`, ... as
        bytes), augmented when `train`; None skips the sample (wrong kind or category, missing member)."""
        ...

    def collate(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """One batch from examples (usually `torch.utils.data.default_collate`)."""
        ...

    def training_step(
        self, model: torch.nn.Module, batch: dict[str, torch.Tensor], config: Any
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """(loss averaged over the batch, float logs) for one batch already on the model's device."""
        ...

    def validation_metrics(
        self, model: torch.nn.Module, batches: Iterable[dict[str, torch.Tensor]], config: Any
    ) -> dict[str, float]:
        """Metrics over all validation batches (on the model's device); must contain `config.monitor`."""
        ...


def register_family(name: str, target: str) -> None:
    """Map `name` to a lazy import target "package.module:ATTRIBUTE" (replacing an earlier mapping)."""
    if ":" not in target:
        raise ValueError(f"family target {target!r} must look like 'package.module:ATTRIBUTE'")
    FAMILY_TARGETS[name] = target


def family_target(name: str) -> str:
    """The import target registered for `name`; an unknown name lists the registered ones."""
    try:
        return FAMILY_TARGETS[name]
    except KeyError:
        known = ", ".join(sorted(FAMILY_TARGETS)) or "none"
        raise ValueError(
            f"unknown model family {name!r}; registered families: {known} "
            "(add one with models.training.family.register_family)"
        ) from None


def load_family(target: str) -> ModelFamily:
    """Import "package.module:ATTRIBUTE" and check it looks like a `ModelFamily`."""
    module_name, _, attribute = target.partition(":")
    try:
        family = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"family target {target!r} cannot be imported ({exc})") from exc
    missing = [m for m in _MEMBERS if not hasattr(family, m)]
    if missing:
        raise TypeError(f"{target} is not a ModelFamily: it lacks {', '.join(missing)}")
    return family


def get_family(name: str) -> ModelFamily:
    """The family registered under `name`, imported on first use."""
    return load_family(family_target(name))
