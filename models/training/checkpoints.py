"""Checkpoint folders of a training run: `step-00000123/` beside each other in the run folder.

A checkpoint holds `model.safetensors` (the live weights), `ema.safetensors` (the averaged weights, when the
family uses EMA), `config.json` (family, preset, config dict and hash), `optimizer.pt` (optimizer and
gradient-scaler state, read back with `torch.load(weights_only=True)`) and `state.json` (epoch and step
counters, this checkpoint's metrics, the run's history so far, early-stopping state, whether the run
finished). It is written under a temporary name and renamed, so a killed run never leaves a half checkpoint
under a final name; only folders with a `state.json` count. Pruning keeps the `keep_best` best checkpoints
by the monitored metric and always the latest.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

CHECKPOINT_RE = re.compile(r"^step-(\d{8})$")
MODEL_FILE = "model.safetensors"
EMA_FILE = "ema.safetensors"
CONFIG_FILE = "config.json"
OPTIMIZER_FILE = "optimizer.pt"
STATE_FILE = "state.json"
_TEMP_RE = re.compile(r"^\.step-\d{8}\.(tmp|old)-\d+$")


@dataclass
class TrainingState:
    """What `state.json` records: counters, this checkpoint's metrics and the run's history up to it.

    `epoch` counts completed epochs; `step` counts optimizer steps over the whole run; `step_in_epoch` is
    non-zero for a checkpoint taken inside an epoch. `resumed_steps` lists the step each restart (a Ray retry
    or a new launch) continued from.
    """

    epoch: int = 0
    step: int = 0
    step_in_epoch: int = 0
    steps_per_epoch: int = 0
    world_size: int = 1
    epoch_loss_sum: float = 0.0
    epoch_loss_count: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    early_stopping: dict[str, Any] = field(default_factory=dict)
    stopped_early: bool = False
    finished: bool = False
    resumed_steps: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrainingState:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def checkpoint_name(step: int) -> str:
    """`step-00000123` for step 123."""
    return f"step-{step:08d}"


def checkpoint_step(path: Path) -> int:
    found = CHECKPOINT_RE.match(Path(path).name)
    if not found:
        raise ValueError(f"{path} is not a checkpoint folder (step-NNNNNNNN)")
    return int(found.group(1))


def _tensors_for_saving(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """CPU, contiguous copies; tensors that share storage (tied weights) are cloned so safetensors accepts them."""
    out: dict[str, torch.Tensor] = {}
    seen: set[tuple[int, int]] = set()
    for name, value in state.items():
        tensor = value.detach().to("cpu").contiguous()
        key = (tensor.untyped_storage().data_ptr(), tensor.storage_offset())
        out[name] = tensor.clone() if key in seen else tensor
        seen.add(key)
    return out


def save_checkpoint(
    run_dir: Path,
    *,
    model: torch.nn.Module,
    state: TrainingState,
    config_record: Mapping[str, Any],
    optimizer_state: Mapping[str, Any] | None = None,
    ema_state: Mapping[str, torch.Tensor] | None = None,
) -> Path:
    """Write `run_dir/step-<state.step>/` atomically (replacing one of the same step) and return its path."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    name = checkpoint_name(state.step)
    final = run_dir / name
    temp = run_dir / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    try:
        save_file(_tensors_for_saving(model.state_dict()), str(temp / MODEL_FILE), metadata={"format": "pt"})
        if ema_state is not None:
            save_file(_tensors_for_saving(ema_state), str(temp / EMA_FILE), metadata={"format": "pt"})
        if optimizer_state is not None:
            torch.save(dict(optimizer_state), temp / OPTIMIZER_FILE)
        (temp / CONFIG_FILE).write_text(json.dumps(dict(config_record), indent=2, sort_keys=True) + "\n")
        (temp / STATE_FILE).write_text(json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n")
        for path in temp.iterdir():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        old = run_dir / f".{name}.old-{os.getpid()}"
        if final.exists():  # the same step done again after a restart: swap the new folder in
            os.replace(final, old)
        os.replace(temp, final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return final


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoint folders of a run, oldest step first."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    found = [p for p in run_dir.iterdir() if CHECKPOINT_RE.match(p.name) and (p / STATE_FILE).is_file()]
    return sorted(found, key=checkpoint_step)


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint with the highest step, or None for a run with none yet."""
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def clean_temp_checkpoints(run_dir: Path) -> list[str]:
    """Remove half-written checkpoint folders a killed writer left behind; returns their names."""
    run_dir = Path(run_dir)
    removed = []
    if run_dir.is_dir():
        for path in run_dir.iterdir():
            if _TEMP_RE.match(path.name):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
    return sorted(removed)


def read_state(checkpoint_dir: Path) -> TrainingState:
    """The `state.json` of a checkpoint."""
    return TrainingState.from_json(json.loads((Path(checkpoint_dir) / STATE_FILE).read_text()))


def read_config(checkpoint_dir: Path) -> dict[str, Any]:
    """The `config.json` of a checkpoint: {"family", "preset", "config", "config_hash"}."""
    return json.loads((Path(checkpoint_dir) / CONFIG_FILE).read_text())


def read_optimizer_state(checkpoint_dir: Path, device: torch.device | str = "cpu") -> dict[str, Any] | None:
    """The saved optimizer (and scaler) state, or None when the checkpoint has none."""
    path = Path(checkpoint_dir) / OPTIMIZER_FILE
    if not path.is_file():
        return None
    return torch.load(path, map_location=device, weights_only=True)


def load_weights(checkpoint_dir: Path, model: torch.nn.Module, *, ema: bool = True) -> Path:
    """Load a checkpoint's weights into `model` (strict names and shapes); the EMA weights when `ema` and the
    checkpoint has them, else the live ones. Returns the file read."""
    checkpoint_dir = Path(checkpoint_dir)
    path = checkpoint_dir / (EMA_FILE if ema and (checkpoint_dir / EMA_FILE).is_file() else MODEL_FILE)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: {checkpoint_dir} is not a complete checkpoint")
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    try:
        model.load_state_dict(load_file(str(path), device=str(device)))
    except RuntimeError as exc:
        raise ValueError(
            f"{path} does not fit {type(model).__name__} ({exc}); build the model from the checkpoint's "
            f"config.json (family and preset)"
        ) from None
    return path


def load_ema_state(
    checkpoint_dir: Path, device: torch.device | str = "cpu"
) -> dict[str, torch.Tensor] | None:
    """The averaged weights of a checkpoint, or None when it has none."""
    path = Path(checkpoint_dir) / EMA_FILE
    return load_file(str(path), device=str(device)) if path.is_file() else None


def monitored_value(checkpoint_dir: Path, monitor: str) -> float | None:
    """The checkpoint's value of `monitor` (None for checkpoints taken inside an epoch). An epoch without
    validation samples was scored by its training loss (`monitor_source` says so), and ranks by it."""
    metrics = read_state(checkpoint_dir).metrics
    value = metrics.get(monitor)
    if value is None and metrics.get("monitor_source") == "train_loss":
        value = metrics.get("train_loss")
    return None if value is None else float(value)


def ranked_checkpoints(run_dir: Path, monitor: str, mode: str) -> list[Path]:
    """Checkpoints that carry a value of `monitor`, best first (ties: the earlier step first)."""
    scored = []
    for path in list_checkpoints(run_dir):
        value = monitored_value(path, monitor)
        if value is not None and value == value:  # NaN never ranks
            scored.append((value if mode == "min" else -value, checkpoint_step(path), path))
    return [path for _, _, path in sorted(scored)]


def best_checkpoint(run_dir: Path, monitor: str, mode: str) -> Path | None:
    """The best checkpoint by `monitor`, or None when none has a value."""
    ranked = ranked_checkpoints(run_dir, monitor, mode)
    return ranked[0] if ranked else None


def prune_checkpoints(run_dir: Path, *, keep_best: int, monitor: str, mode: str) -> list[str]:
    """Delete every checkpoint but the `keep_best` best by `monitor` and the latest; returns the names removed."""
    found = list_checkpoints(run_dir)
    if not found:
        return []
    keep = set(ranked_checkpoints(run_dir, monitor, mode)[:keep_best]) | {found[-1]}
    removed = []
    for path in found:
        if path not in keep:
            shutil.rmtree(path)
            removed.append(path.name)
    return removed
