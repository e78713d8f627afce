"""Training assets: one checkpoint asset per model family (`autoarm_checkpoint`), partitioned by dataset.

Thin wrappers: `models.training.driver.train` trains the family on the dataset's shards on Ray Train (DDP
on GPUs when Ray has them, CPU otherwise), resuming from the latest checkpoint of the same run;
`models.registry.register_model` records the final checkpoint with its lineage (dataset version, config
hash, parent model). Each materialization shows the final and best metrics, the loss curve and the model
version in the Dagster UI; its data version is the model version, so predictions and evaluations that
follow (eager automation) re-run only for a new checkpoint.

At most one training at a time: the asset runs in the Dagster pool "training" (limit 1, dagster.yaml), and
a lock file per family and dataset stops two processes (two `vton train` calls, or one beside a queued run)
training the same family on the same dataset at once.
"""

import base64
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from assets.reporting import markdown_table
from assets.shards import dataset_shards, shard_dir
from orchestration.partitions import datasets_partitions
from orchestration.resources import PathsResource, RayResource
from preprocess.shards.reader import SHARDS_JSON
from vton.home import VtonHome

TRAINING_GROUP = "training"
TRAINING_POOL = "training"
# Run tag of every training job (value: the family); with Dagster's own dagster/partition tag it names the
# family and dataset a run trains, which is how schedules and sensors see a training already under way.
TRAINING_TAG = "vton/training"
FAMILIES = ("autoarm",)
LOCK_FILE = ".training.lock"
LOSS_PLOT = "loss.png"
HISTORY_ROWS_SHOWN = 20


class TrainingConfig(dg.Config):
    """How a family trains: a named preset of its config, with the few overrides the CLI offers."""

    preset: str = Field(
        default="paper",
        description="The family's named settings: paper (the seed paper's, for GPUs) or tiny (CPU demo, tests).",
    )
    epochs: int | None = Field(default=None, ge=1, description="Override the preset's epochs.")
    max_steps: int | None = Field(default=None, ge=1, description="Stop after this many optimizer steps.")
    workers: int = Field(default=1, ge=1, description="Ray Train workers (one GPU each where Ray has GPUs).")
    use_gpu: bool | None = Field(default=None, description="Train on GPUs; unset: when Ray has one.")
    resume: bool = Field(
        default=True,
        description="Continue from the run's latest checkpoint (a finished run given more epochs goes on).",
    )


def training_run_dir(home: VtonHome, family: str, dataset: str, preset: str, dataset_version: str) -> Path:
    """Where one training run lives: VTON_HOME/checkpoints/<family>/<dataset>/<preset>-<dataset version>.

    A new dataset version starts a new run; the same version resumes the same run.
    """
    version = dataset_version[:12] or "unversioned"
    return home.checkpoints / family / dataset / f"{preset}-{version}"


class TrainingInProgress(RuntimeError):
    """Another process is training the same family on the same dataset."""


@contextmanager
def training_lock(home: VtonHome, family: str, dataset: str) -> Iterator[Path]:
    """Hold an exclusive lock for (family, dataset) while training; fail at once when another process holds it.

    The lock is an flock on VTON_HOME/checkpoints/<family>/<dataset>/.training.lock, so the kernel releases it
    when the holder dies: a killed run never blocks the next one.
    """
    path = home.checkpoints / family / dataset / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise TrainingInProgress(
                f"{family} is already training on dataset {dataset!r} ({holder}, lock {path}); wait for that "
                "run to finish, or cancel it in the Dagster UI"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield path
    finally:
        handle.close()


def _dataset_version(folder: Path, dataset: str) -> str:
    summary = folder / SHARDS_JSON
    if not summary.is_file():
        raise dg.Failure(
            description=f"dataset {dataset!r} has no shards in {folder}; materialize dataset_shards first "
            f"(vton data build ROOT --name {dataset})"
        )
    return str(json.loads(summary.read_text()).get("dataset_version") or "")


def _best_metrics(checkpoint: Path) -> dict[str, float]:
    """The validation metrics recorded with the best checkpoint (its state.json)."""
    from models.training.checkpoints import read_state

    metrics = read_state(checkpoint).metrics
    return {
        str(k): float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and k != "seconds"
    }


def _history_table(history: list[dict[str, Any]]) -> str:
    if not history:
        return "_no epochs run_"
    columns = list(dict.fromkeys(key for row in history for key in row))
    shown = history[-HISTORY_ROWS_SHOWN:]
    rows = [[_cell(row.get(c)) for c in columns] for row in shown]
    note = f"last {len(shown)} of {len(history)} epochs\n\n" if len(shown) < len(history) else ""
    return note + markdown_table(columns, rows)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}{k}": float(v) for k, v in metrics.items()}


def checkpoint_asset(family: str) -> dg.AssetsDefinition:
    """The checkpoint asset of one model family: train on a dataset's shards, register the final checkpoint."""

    @dg.asset(
        name=f"{family}_checkpoint",
        partitions_def=datasets_partitions,
        group_name=TRAINING_GROUP,
        kinds={"pytorch", "ray"},
        deps=[dataset_shards],
        pool=TRAINING_POOL,
        description=f"{family} trained on the dataset's shards (Ray Train) and registered in model_registry.",
    )
    def _checkpoint(
        context: dg.AssetExecutionContext, config: TrainingConfig, paths: PathsResource, ray: RayResource
    ) -> dg.MaterializeResult:
        from models.registry import latest_model, model_version, register_model, weights_sha256
        from models.training.driver import train
        from models.training.family import get_family

        dataset = context.partition_key
        home = paths.vton_home()
        folder = shard_dir(home, dataset)
        dataset_version = _dataset_version(folder, dataset)
        overrides: dict[str, Any] = {}
        if config.epochs is not None:
            overrides["epochs"] = config.epochs
        if config.max_steps is not None:
            overrides["max_steps"] = config.max_steps
        try:
            settings = get_family(family).config_class.preset(config.preset, **overrides)
        except ValueError as exc:
            raise dg.Failure(description=f"{family} on dataset {dataset!r}: {exc}") from None
        run_dir = training_run_dir(home, family, dataset, config.preset, dataset_version)

        def on_epoch(row: dict) -> None:
            shown = ", ".join(f"{k} {_cell(v)}" for k, v in row.items())
            context.log.info(f"{family} on {dataset}: {shown}")

        try:
            with training_lock(home, family, dataset):
                result = train(
                    family,
                    settings,
                    [folder],
                    run_dir,
                    preset=config.preset,
                    workers=config.workers,
                    use_gpu=config.use_gpu,
                    resume=config.resume,
                    on_epoch=on_epoch,
                )
        except TrainingInProgress as exc:
            raise dg.Failure(description=str(exc)) from None
        except (ValueError, RuntimeError, FileNotFoundError) as exc:  # the driver's errors name the fix
            raise dg.Failure(description=f"{family} on dataset {dataset!r}: {exc}") from None
        version = model_version(
            family, settings.config_hash(), dataset_version, weights_sha256(result.final_checkpoint)
        )
        previous = latest_model(home, family, dataset)
        if previous is None:
            parent = None
        elif previous["model_version"] == version:  # a finished run launched again: the same checkpoint
            parent = previous["parent_version"]
            context.log.info(f"{family} on {dataset}: nothing new to train; {version} stays the latest")
        else:
            parent = previous["model_version"]
        version = register_model(
            home,
            family=family,
            preset=config.preset,
            checkpoint=result.final_checkpoint,
            train_dataset=dataset,
            dataset_version=dataset_version,
            config_hash=settings.config_hash(),
            metrics=result.metrics,
            parent_version=parent,
        )
        best = _best_metrics(result.best_checkpoint)
        metadata: dict[str, Any] = {
            "family": family,
            "dataset": dataset,
            "dataset_version": dataset_version,
            "preset": config.preset,
            "config_hash": settings.config_hash(),
            "model_version": version,
            "parent_version": parent or "",
            "epochs": result.epochs_run,
            "steps": result.steps,
            "workers": config.workers,
            "stopped_early": result.stopped_early,
            "resumed_from": str(result.resumed_from or ""),
            **_prefixed("final_", result.metrics),
            **_prefixed("best_", best),
            "checkpoint": dg.MetadataValue.path(str(result.final_checkpoint)),
            "best_checkpoint": dg.MetadataValue.path(str(result.best_checkpoint)),
            "run_dir": dg.MetadataValue.path(str(result.run_dir)),
            "history": dg.MetadataValue.md(_history_table(result.history)),
        }
        plot = Path(result.run_dir) / LOSS_PLOT
        if plot.is_file():
            encoded = base64.b64encode(plot.read_bytes()).decode()
            metadata["loss_plot"] = dg.MetadataValue.path(str(plot))
            metadata["loss_curve"] = dg.MetadataValue.md(f"![{family} loss](data:image/png;base64,{encoded})")
        return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(version))

    return _checkpoint


autoarm_checkpoint = checkpoint_asset("autoarm")
CHECKPOINT_ASSETS = {"autoarm": autoarm_checkpoint}

defs = dg.Definitions(assets=list(CHECKPOINT_ASSETS.values()))
