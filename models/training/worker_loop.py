"""What every Ray Train worker runs: build, resume, train epochs, validate, checkpoint, report.

All ranks build the same seeded model, load the start checkpoint (the newer of the one Ray's `get_checkpoint`
names after a retry and the run folder's latest) and train in lockstep under DDP. Rank 0 alone
validates (on the unwrapped module, with the EMA weights when there are any), writes checkpoints into the
run folder and decides early stopping; the decision is broadcast so every rank leaves the loop together.

Checkpoint bytes live once, in the run folder; what each `ray.train.report` hands Ray is a small pointer
checkpoint (`checkpoint.json`: the folder and its step), the pattern Ray recommends for checkpoints kept
outside its run storage. Ray keeps track of the latest one and gives it back through
`ray.train.get_checkpoint()` when `FailureConfig` restarts the workers.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from models.training.checkpoints import (
    STATE_FILE,
    TrainingState,
    checkpoint_name,
    checkpoint_step,
    latest_checkpoint,
    load_ema_state,
    load_weights,
    prune_checkpoints,
    read_optimizer_state,
    read_state,
    save_checkpoint,
)
from models.training.data import TRAIN, DataPlan, example_loader
from models.training.early_stopping import EarlyStopping
from models.training.ema import ExponentialMovingAverage
from models.training.optimization import Optimization
from models.training.run_log import write_history
from models.training.seeding import derive_seed, seed_everything

POINTER_FILE = "checkpoint.json"
PROGRESS_INTERVAL_S = 0.5


@dataclass(frozen=True)
class LaunchSpec:
    """Everything a worker needs. Ray pickles it: a library family (a module-level object) travels as a
    reference its module is imported for; the config travels as a plain dict."""

    family: str
    family_impl: Any  # the ModelFamily object
    preset: str | None
    config: dict[str, Any]
    run_dir: str
    plan: DataPlan
    progress_queue: Any = None  # a ray.util.queue.Queue the driver reads, or None


def train_loop_per_worker(loop_config: dict[str, Any]) -> None:
    """The `TorchTrainer` entry point: `loop_config["spec"]` is a `LaunchSpec`."""
    import ray.train
    import ray.train.torch

    spec: LaunchSpec = loop_config["spec"]
    context = ray.train.get_context()
    worker = WorkerRun(spec, context.get_world_rank(), context.get_world_size(), ray.train.torch.get_device())
    worker.run(_start_checkpoint(spec, ray.train.get_checkpoint()))


def _start_checkpoint(spec: LaunchSpec, reported: Any) -> Path | None:
    """The checkpoint to continue from: the newer of Ray's latest reported one (after a retry) and the run
    folder's latest (a new launch of an existing run, or a checkpoint written just before a kill cut its
    report short). The driver emptied the run folder when it was told not to resume."""
    candidates = [latest_checkpoint(Path(spec.run_dir))]
    if reported is not None:
        with reported.as_directory() as folder:
            candidates.append(Path(json.loads((Path(folder) / POINTER_FILE).read_text())["path"]))
    found = [path for path in candidates if path is not None and (path / STATE_FILE).is_file()]
    return max(found, key=checkpoint_step) if found else None


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


class WorkerRun:
    """One rank's training run (see the module docstring)."""

    def __init__(self, spec: LaunchSpec, rank: int, world_size: int, device: torch.device) -> None:
        self.spec = spec
        self.rank = rank
        self.world_size = world_size
        self.device = device
        self.run_dir = Path(spec.run_dir)
        self.family = spec.family_impl
        self.config = self.family.config_class.from_dict(spec.config)
        self.steps_per_epoch = spec.plan.steps_per_epoch(
            world_size, self.config.batch_size, self.config.grad_accum_steps
        )
        self._last_progress = 0.0
        self._queue = spec.progress_queue

    # --- setup -------------------------------------------------------------------------------------------
    def run(self, start: Path | None) -> None:
        import ray.train.torch

        config = self.config
        seed_everything(config.seed)
        self.model = self.family.build_model(config).to(self.device)
        self.ema = ExponentialMovingAverage(self.model, config.ema_decay) if config.ema_decay else None
        self.optimization = Optimization(self.model, config, self.device)
        self.state = TrainingState(steps_per_epoch=self.steps_per_epoch, world_size=self.world_size)
        if start is not None:
            self._restore(start)
        self.stopper = EarlyStopping(config.early_stopping_patience, config.monitor_mode)
        self.stopper.load_state_dict(self.state.early_stopping)
        self.trained = ray.train.torch.prepare_model(self.model) if self.world_size > 1 else self.model
        self._loop()

    def _restore(self, start: Path) -> None:
        load_weights(start, self.model, ema=False)
        if self.ema is not None:
            saved = load_ema_state(start, self.device)
            if saved is not None:
                self.ema.load_state_dict(saved)
        optimizer_state = read_optimizer_state(start, self.device)
        if optimizer_state is not None:
            self.optimization.load_state_dict(optimizer_state)
        self.state = read_state(start)
        self.state.finished = False  # continued with more epochs or steps
        self.state.resumed_steps.append(self.state.step)
        self.state.steps_per_epoch = self.steps_per_epoch
        self.state.world_size = self.world_size
        self.state.step_in_epoch = min(self.state.step_in_epoch, self.steps_per_epoch - 1)
        if self.rank != 0:  # the saved loss totals are every rank's: rank 0 carries them on
            self.state.epoch_loss_sum, self.state.epoch_loss_count = 0.0, 0

    # --- the loop ----------------------------------------------------------------------------------------
    def _loop(self) -> None:
        state = self.state
        while True:
            epoch = state.epoch + 1
            started = time.perf_counter()
            hit_max_steps = self._train_epoch(epoch)
            partial = state.step_in_epoch < self.steps_per_epoch
            if not partial:
                state.epoch = epoch
                state.step_in_epoch = 0
            record = self._epoch_record(epoch, partial, time.perf_counter() - started)
            stop = self._decide_stop(record, epoch, hit_max_steps)
            state.history.append(record)
            state.epoch_loss_sum, state.epoch_loss_count = 0.0, 0
            state.finished = stop
            self._checkpoint(record)
            self._progress({"kind": "epoch", "record": record})
            if stop:
                return

    def _batches(self, epoch: int) -> Iterator[Any]:
        """The rank's endless batch stream for `epoch`, the same in every process that asks for it."""
        loader = example_loader(
            self.spec.plan,
            self.family,
            self.config,
            role=TRAIN,
            rank=self.rank,
            world_size=self.world_size,
            epoch=epoch,
            pin_memory=self.device.type == "cuda",
        )
        return iter(loader)

    def _next_batch(self, batches: Iterator[Any], step: int, micro: int) -> Any:
        """The next micro-batch, drawn under a seed of its own (augmentation in this process is replayable)."""
        seed_everything(derive_seed(self.config.seed, "data", step, micro, self.rank))
        return next(batches)

    def _train_epoch(self, epoch: int) -> bool:
        """Run the epoch's remaining optimizer steps; True when `max_steps` cut it short.

        Every draw is seeded by (seed, step, micro-batch, rank), so a restart inside the epoch replays the
        batches the lost steps consumed (decoding them again, no training) and then trains exactly as an
        uninterrupted run would have.
        """
        config, state = self.config, self.state
        batches = self._batches(epoch)
        first_step = state.step - state.step_in_epoch + 1
        for step in range(first_step, state.step + 1):  # a mid-epoch restart: replay what was consumed
            for micro in range(config.grad_accum_steps):
                self._next_batch(batches, step, micro)
        self.trained.train()
        total = self._total_steps()
        try:
            while state.step_in_epoch < self.steps_per_epoch:
                step = state.step + 1
                losses = []
                for micro in range(config.grad_accum_steps):
                    batch = _to_device(self._next_batch(batches, step, micro), self.device)
                    seed_everything(derive_seed(config.seed, "model", step, micro, self.rank))
                    last = micro == config.grad_accum_steps - 1
                    loss, _logs = self.optimization.backward(
                        self.family, self.trained, batch, last_micro_batch=last
                    )
                    losses.append(loss)
                self.optimization.step()
                if self.ema is not None:
                    self.ema.update(self.model)
                state.step = step
                state.step_in_epoch += 1
                state.epoch_loss_sum += sum(losses) / len(losses)
                state.epoch_loss_count += 1
                self._progress({"kind": "step", "step": step, "total": total, "loss": losses[-1]})
                if config.max_steps is not None and step >= config.max_steps:
                    return True
                every = config.checkpoint_every_steps
                if every and step % every == 0 and state.step_in_epoch < self.steps_per_epoch:
                    self._checkpoint({"epoch": epoch, "step": step, "train_loss_so_far": self._mean_loss()})
        finally:
            del batches  # stops the DataLoader's worker processes
        return False

    def _total_steps(self) -> int:
        total = self.config.epochs * self.steps_per_epoch
        return min(total, self.config.max_steps) if self.config.max_steps is not None else total

    def _loss_totals(self) -> tuple[float, int]:
        """(sum, count) of this epoch's step losses over every rank (a collective: every rank calls it)."""
        values = torch.tensor(
            [self.state.epoch_loss_sum, float(self.state.epoch_loss_count)],
            dtype=torch.float64,
            device=self.device,
        )
        if self.world_size > 1 and dist.is_initialized():
            dist.all_reduce(values)
        return float(values[0]), int(values[1])

    def _mean_loss(self) -> float:
        """This epoch's mean training loss over every rank."""
        total, count = self._loss_totals()
        return total / count if count else float("nan")

    def _epoch_record(self, epoch: int, partial: bool, seconds: float) -> dict[str, Any]:
        record: dict[str, Any] = {
            "epoch": epoch,
            "step": self.state.step,
            "train_loss": self._mean_loss(),
            "lr": self.optimization.lr,
            "seconds": round(seconds, 3),
        }
        if partial:
            record["partial"] = True
        if self.rank == 0:
            record.update(self._validate())
        return record

    def _validate(self) -> dict[str, float]:
        """Rank 0: the family's metrics over every validation sample (EMA weights when the family uses EMA)."""
        plan, config = self.spec.plan, self.config
        if plan.val_samples == 0:
            return {}
        loader = example_loader(plan, self.family, config, role="val", pin_memory=self.device.type == "cuda")
        batches = (_to_device(batch, self.device) for batch in loader)
        self.model.eval()
        try:
            with torch.no_grad():
                if self.ema is not None:
                    with self.ema.applied_to(self.model):
                        metrics = self.family.validation_metrics(self.model, batches, config)
                else:
                    metrics = self.family.validation_metrics(self.model, batches, config)
        finally:
            self.model.train()
        metrics = {k: float(v) for k, v in metrics.items()}
        if config.monitor not in metrics and config.monitor != "train_loss":
            raise KeyError(
                f"family {self.spec.family}: validation_metrics returned {sorted(metrics)} but the config "
                f"monitors {config.monitor!r}; set monitor to one of those"
            )
        return metrics

    def _decide_stop(self, record: dict[str, Any], epoch: int, hit_max_steps: bool) -> bool:
        """Rank 0 scores the epoch and decides; every rank gets the same answer."""
        decision = [False, None]
        if self.rank == 0:
            monitor = self.config.monitor
            if monitor not in record:  # no validation samples: watch the training loss instead
                record["monitor_source"] = "train_loss"
                value = record["train_loss"]
            else:
                value = record[monitor]
            record["improved"] = self.stopper.update(float(value))
            early = self.stopper.should_stop and epoch < self.config.epochs and not hit_max_steps
            done = early or hit_max_steps or epoch >= self.config.epochs
            if early:
                record["stopped_early"] = True
            decision = [done, early]
            self.state.early_stopping = self.stopper.state_dict()
        if self.world_size > 1 and dist.is_initialized():
            dist.broadcast_object_list(
                decision, src=0, device=self.device if self.device.type == "cuda" else None
            )
        self.state.stopped_early = bool(decision[1])
        return bool(decision[0])

    # --- checkpoints and reports -------------------------------------------------------------------------
    def _checkpoint(self, metrics: dict[str, Any]) -> None:
        """Rank 0 writes the checkpoint; every rank reports (Ray's report is a barrier), rank 0 with the pointer."""
        import ray.train

        name = checkpoint_name(self.state.step)
        scalars = {k: v for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        loss_sum, loss_count = self._loss_totals()
        if self.rank != 0:
            ray.train.report(scalars, checkpoint=None, checkpoint_dir_name=name)
            return
        config = self.config
        folder = save_checkpoint(
            self.run_dir,
            model=self.model,
            state=replace(
                self.state, metrics=dict(metrics), epoch_loss_sum=loss_sum, epoch_loss_count=loss_count
            ),
            config_record={
                "family": self.spec.family,
                "preset": self.spec.preset,
                "config": config.to_dict(),
                "config_hash": config.config_hash(),
            },
            optimizer_state=self.optimization.state_dict(),
            ema_state=self.ema.state_dict() if self.ema is not None else None,
        )
        with tempfile.TemporaryDirectory(prefix="vton-ckpt-pointer-") as pointer_dir:
            pointer = {"path": str(folder), "step": self.state.step}
            (Path(pointer_dir) / POINTER_FILE).write_text(json.dumps(pointer))
            ray.train.report(
                scalars, checkpoint=ray.train.Checkpoint.from_directory(pointer_dir), checkpoint_dir_name=name
            )
        prune_checkpoints(
            self.run_dir, keep_best=config.keep_best, monitor=config.monitor, mode=config.monitor_mode
        )
        if "train_loss" in metrics:
            write_history(self.run_dir, self.state.history)

    def _progress(self, event: dict[str, Any]) -> None:
        """Rank 0 tells the driver (progress bar, on_epoch); step events at most every PROGRESS_INTERVAL_S."""
        if self._queue is None or self.rank != 0:
            return
        now = time.monotonic()
        if event["kind"] == "step" and now - self._last_progress < PROGRESS_INTERVAL_S:
            if event["step"] != event["total"]:
                return
        self._last_progress = now
        try:
            self._queue.put_nowait(event)
        except Exception:  # progress must never stop training (the driver may have gone away)
            self._queue = None
