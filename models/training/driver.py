"""`train(...)`: run one model family's training on Ray Train and return where its checkpoints are.

One call is one launch of a run; the run is its folder (`run_dir`): checkpoints `step-NNNNNNNN/`,
`metrics.jsonl` and `loss.png`. A launch on a folder that already holds checkpoints continues from the
latest (`resume=True`), so re-running with more epochs trains on, and a finished run returns at once.
Inside a launch, `FailureConfig(max_failures)` restarts the workers after a crash and they continue from
the last checkpoint. The Ray Train API is the V2 one (Ray 2.60's default): `TorchTrainer` with a
`ScalingConfig` (one CPU per worker, plus one GPU on GPU runs; DDP when there are several) and a `RunConfig`
whose storage lies under VTON_HOME/ray_results.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.training.checkpoints import (
    CHECKPOINT_RE,
    TrainingState,
    best_checkpoint,
    clean_temp_checkpoints,
    latest_checkpoint,
    read_config,
    read_state,
)
from models.training.data import plan_data
from models.training.family import get_family
from models.training.run_log import LOSS_PLOT, METRICS_FILE, plot_losses, write_history
from models.training.settings import TrainingSettings
from models.training.worker_loop import LaunchSpec, train_loop_per_worker
from vton.home import VtonHome


@dataclass
class TrainingResult:
    """Where a run's checkpoints are and what it measured (`history`: one record per epoch)."""

    run_dir: Path
    final_checkpoint: Path
    best_checkpoint: Path
    history: list[dict]
    epochs_run: int
    steps: int
    stopped_early: bool
    resumed_from: Path | None
    metrics: dict[str, float]

    @property
    def metrics_file(self) -> Path:
        return self.run_dir / METRICS_FILE

    @property
    def loss_plot(self) -> Path:
        return self.run_dir / LOSS_PLOT


def ray_storage_path() -> Path:
    """Ray Train's own run storage (experiment state, checkpoint pointers): VTON_HOME/ray_results."""
    path = VtonHome.from_env().root / "ray_results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def train(
    family: str,
    config: TrainingSettings,
    shard_dirs: Sequence[Path],
    run_dir: Path,
    *,
    preset: str | None = None,
    workers: int = 1,
    use_gpu: bool | None = None,
    resume: bool = True,
    max_failures: int = 2,
    progress: bool | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> TrainingResult:
    """Train `family` with `config` on the shards of `shard_dirs` into `run_dir` (see the module docstring).

    `workers` Ray Train workers (one process each, DDP when more than one); `use_gpu=None` uses GPUs when
    the Ray cluster has any. `resume=False` deletes the folder's earlier checkpoints and history and starts
    over. `progress=None` shows a progress bar when stderr is a terminal; `on_epoch(record)` is called in this
    process once per finished epoch. Starts a local Ray (`vton.ray_runtime.ensure_ray`) when none is running.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    family_obj = get_family(family)
    config = family_obj.config_class.from_dict(config.to_dict())
    run_dir = Path(run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_data([Path(d) for d in shard_dirs], config.val_fraction)
    clean_temp_checkpoints(run_dir)
    if not resume:
        _clear_run(run_dir)
    start = latest_checkpoint(run_dir)
    if start is not None:
        _check_resumable(start, family, config)
        if _is_complete(read_state(start), config):
            return _result(run_dir, config, resumed_from=start)

    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from vton.ray_runtime import ensure_ray

    cluster = ensure_ray()
    gpu = cluster["gpus"] > 0 if use_gpu is None else use_gpu
    show_bar = sys.stderr.isatty() if progress is None else progress
    relay = None
    if show_bar or on_epoch is not None:
        from models.training.progress import ProgressRelay

        relay = ProgressRelay(show_bar=show_bar, on_epoch=on_epoch, description=f"train {family}")
    spec = LaunchSpec(
        family=family,
        family_impl=family_obj,
        preset=preset,
        config=config.to_dict(),
        run_dir=str(run_dir),
        plan=plan,
        progress_queue=relay.queue if relay is not None else None,
    )
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"spec": spec},
        scaling_config=ScalingConfig(
            num_workers=workers,
            use_gpu=gpu,
            resources_per_worker={"CPU": 1, "GPU": 1} if gpu else {"CPU": 1},
        ),
        run_config=RunConfig(
            name=_ray_run_name(family, run_dir),
            storage_path=str(ray_storage_path()),
            failure_config=FailureConfig(max_failures=max_failures),
            checkpoint_config=CheckpointConfig(num_to_keep=1),  # pointers only; the run folder keeps best-k
        ),
    )
    history: list[dict] = []
    try:
        _fit(trainer, relay)
        result = _result(run_dir, config, resumed_from=start)
        history = result.history
    except Exception as exc:
        latest = latest_checkpoint(run_dir)
        resume_hint = (
            f"run train(...) again to continue from {latest.name}" if latest else "no checkpoint was written"
        )
        raise RuntimeError(
            f"training {family} into {run_dir} failed after {max_failures} restart(s): {exc}; {resume_hint}"
        ) from exc
    finally:
        if relay is not None:
            relay.close(history)
    write_history(run_dir, history)
    plot_losses(run_dir, history, config.monitor, title=f"{family}: {run_dir.name}")
    return result


def _fit(trainer: Any, relay: Any) -> None:
    """`trainer.fit()`, with the progress relay drained in this thread while it runs."""
    if relay is None:
        trainer.fit()
        return
    outcome: dict[str, BaseException] = {}

    def fit() -> None:
        try:
            trainer.fit()
        except BaseException as exc:  # handed to the calling thread
            outcome["error"] = exc

    thread = threading.Thread(target=fit, name="ray-train-fit", daemon=True)
    thread.start()
    while thread.is_alive():
        relay.pump(timeout=0.5)
    thread.join()
    relay.pump(timeout=0.01)
    if "error" in outcome:
        raise outcome["error"]


def _ray_run_name(family: str, run_dir: Path) -> str:
    """A fresh Ray run per launch (Ray's own restore would otherwise replay an older launch's pointers)."""
    digest = hashlib.sha256(str(run_dir).encode()).hexdigest()[:10]
    return f"{family}-{digest}-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**6:06d}"


def _clear_run(run_dir: Path) -> None:
    """Start over: remove the folder's checkpoints and run log (resume=False)."""
    for path in run_dir.iterdir():
        if CHECKPOINT_RE.match(path.name):
            shutil.rmtree(path)
    for name in (METRICS_FILE, LOSS_PLOT):
        (run_dir / name).unlink(missing_ok=True)


def _check_resumable(checkpoint: Path, family: str, config: TrainingSettings) -> None:
    """A run folder continues only with the same family and the same settings, run length aside."""
    saved = read_config(checkpoint)
    if saved.get("family") != family:
        raise ValueError(
            f"{checkpoint.parent} holds a {saved.get('family')!r} run, not {family!r}: use another run folder"
        )
    before = type(config).from_dict(saved["config"]).run_identity()
    now = config.run_identity()
    changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    if changed:
        raise ValueError(
            f"{checkpoint.parent} was trained with other settings ({', '.join(changed)} differ): use a new run "
            "folder, or resume=False to start this one over (only epochs, max_steps, patience, "
            "checkpoint_every_steps, keep_best and data_workers may change between launches)"
        )


def _is_complete(state: TrainingState, config: TrainingSettings) -> bool:
    """Whether a run whose latest checkpoint has `state` has nothing left to do under `config`: it stopped
    early, reached `max_steps`, or completed `config.epochs` epochs."""
    if state.stopped_early:
        return True
    if config.max_steps is not None and state.step >= config.max_steps:
        return True
    return state.epoch >= config.epochs and state.step_in_epoch == 0


def _result(run_dir: Path, config: TrainingSettings, *, resumed_from: Path | None) -> TrainingResult:
    final = latest_checkpoint(run_dir)
    if final is None:
        raise RuntimeError(f"training ended without a checkpoint in {run_dir}; see the Ray worker logs")
    state = read_state(final)
    if not _is_complete(state, config):
        raise RuntimeError(
            f"training ended at {final.name} of {run_dir} before its last epoch; run train(...) again to resume"
        )
    best = best_checkpoint(run_dir, config.monitor, config.monitor_mode) or final
    last = state.history[-1] if state.history else {}
    return TrainingResult(
        run_dir=run_dir,
        final_checkpoint=final,
        best_checkpoint=best,
        history=list(state.history),
        epochs_run=state.epoch,
        steps=state.step,
        stopped_early=state.stopped_early,
        resumed_from=resumed_from,
        metrics={
            k: float(v)
            for k, v in last.items()
            if isinstance(v, int | float)
            and not isinstance(v, bool)
            and k not in ("epoch", "step", "seconds")
        },
    )
