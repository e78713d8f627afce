"""The training settings every model family shares; a family's config subclasses `TrainingSettings`.

One dataclass per family (dataclass inheritance), named presets in `PRESETS` (`tiny` for tests and the demo,
`paper` for the seed's settings), and a stable `config_hash` so a checkpoint, a registry row and an evaluation
run can say exactly which settings produced them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

S = TypeVar("S", bound="TrainingSettings")

OPTIMIZERS = ("adamw", "adam")
MIXED_PRECISION = ("bf16", "fp16", "no")
MONITOR_MODES = ("min", "max")

# Fields that only say how long or how often a run goes on: a run continued with other values of these is
# still the same run (`vton train` with more epochs resumes it). Every other field must match to resume.
RUN_LENGTH_FIELDS = frozenset(
    {"epochs", "max_steps", "early_stopping_patience", "checkpoint_every_steps", "keep_best", "data_workers"}
)


@dataclass
class TrainingSettings:
    """Optimisation, precision, checkpointing and validation settings read by `models.training.driver`."""

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    epochs: int = 10
    batch_size: int = 6
    lr: float = 1e-5
    weight_decay: float = 1e-2
    optimizer: str = "adamw"  # "adamw" | "adam"
    betas: tuple[float, float] = (0.9, 0.999)
    grad_accum_steps: int = 1
    grad_clip_norm: float | None = None
    ema_decay: float | None = None
    mixed_precision: str = "bf16"  # "bf16" | "fp16" | "no"; used only on CUDA, CPU always trains in fp32
    seed: int = 0
    checkpoint_every_steps: int | None = None  # plus one at every epoch end (the last one is the final)
    keep_best: int = 2  # best-k checkpoints kept (by `monitor`) + always the latest
    early_stopping_patience: int | None = None  # in epochs (validation runs once per epoch)
    monitor: str = "val_loss"
    monitor_mode: str = "min"  # "min" | "max"
    val_fraction: float = 0.1  # held out of split "train" by a stable hash of sample_id when no "val" split
    max_steps: int | None = None  # optimizer steps cap (tests, benchmarks)
    data_workers: int = 2  # DataLoader worker processes per training worker (0: decode in the training loop)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first setting out of range."""
        problems = []
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        if self.mixed_precision not in MIXED_PRECISION:
            problems.append(
                f"mixed_precision {self.mixed_precision!r} is not one of {', '.join(MIXED_PRECISION)}"
            )
        if self.monitor_mode not in MONITOR_MODES:
            problems.append(f"monitor_mode {self.monitor_mode!r} is not 'min' or 'max'")
        for name in ("epochs", "batch_size", "grad_accum_steps"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("checkpoint_every_steps", "max_steps", "early_stopping_patience"):
            value = getattr(self, name)
            if value is not None and value < 1:
                problems.append(f"{name} must be None or at least 1, got {value}")
        if self.keep_best < 0 or self.data_workers < 0:
            problems.append("keep_best and data_workers must not be negative")
        if not 0.0 <= self.val_fraction < 1.0:
            problems.append(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            problems.append(f"ema_decay must be None or in (0, 1), got {self.ema_decay}")
        if problems:
            raise ValueError(f"{type(self).__name__}: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON values (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls: type[S], data: dict[str, Any]) -> S:
        """The settings `to_dict` wrote; an unknown key is an error naming it (a config of another family)."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ValueError(
                f"{cls.__name__} has no setting(s) {unknown}; known settings: {', '.join(fields)}"
            )
        values = {}
        for name, value in data.items():
            default = fields[name].default
            values[name] = tuple(value) if isinstance(default, tuple) and isinstance(value, list) else value
        return cls(**values)

    def config_hash(self) -> str:
        """16 hex digits of the sha256 of the sorted JSON of every setting."""
        body = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    @classmethod
    def preset(cls: type[S], name: str, **overrides: Any) -> S:
        """The named preset of this family with `overrides` applied; an unknown name lists the presets."""
        if name not in cls.PRESETS:
            known = ", ".join(sorted(cls.PRESETS)) or "none defined"
            raise ValueError(f"{cls.__name__} has no preset {name!r}; presets: {known}")
        values = {**cls.PRESETS[name], **overrides}
        known_fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known_fields)
        if unknown:
            raise ValueError(f"{cls.__name__} has no setting(s) {unknown}; known: {', '.join(known_fields)}")
        return cls(**values)

    def run_identity(self) -> dict[str, Any]:
        """The settings that must match for a run folder to be resumed (all but `RUN_LENGTH_FIELDS`)."""
        return {k: v for k, v in self.to_dict().items() if k not in RUN_LENGTH_FIELDS}
