"""Train, predict and evaluate a model family from Python (the CLI and `make demo`) through Dagster, so every run
shows in its UI: `train_family` executes `<family>_train_job`, `predict_family` `<family>_predict_job` and
`evaluate_family` `<family>_evaluate_job`, in this process for one dataset partition against the persistent
instance, as `orchestration.runs` does for the data jobs. A failed run becomes one readable error.
"""

from __future__ import annotations

import time
from typing import Any

from dagster import DagsterInstance

from assets.evaluation import FAMILY_EVALUATION_ASSETS
from assets.predictions import PREDICTION_ASSETS
from assets.training import CHECKPOINT_ASSETS
from orchestration.jobs import FAMILY_JOBS
from orchestration.runs import ManifestRunError, console_logging, run_dataset_job, run_metadata


class TrainingRunError(ManifestRunError):
    """A family's train, predict or evaluate run failed; the message names the dataset and the failed step."""


def _family(family: str) -> None:
    if family not in FAMILY_JOBS:
        raise TrainingRunError(
            f"unknown model family {family!r}; choose one of: {', '.join(sorted(FAMILY_JOBS))}"
        )


def train_family(
    family: str,
    dataset: str,
    preset: str = "paper",
    workers: int = 1,
    epochs: int | None = None,
    max_steps: int | None = None,
    instance: DagsterInstance | None = None,
    console_log_level: str = "WARNING",
) -> dict[str, Any]:
    """Train `family` on a built dataset through Dagster and register the final checkpoint.

    Returns the checkpoint asset's plain metadata (model_version, epochs, steps, final_*/best_* metrics,
    checkpoint, ...) plus `seconds` and `run_id`. Raises TrainingRunError naming the failed step.
    """
    _family(family)
    config: dict[str, Any] = {"preset": preset, "workers": workers}
    if epochs is not None:
        config["epochs"] = epochs
    if max_steps is not None:
        config["max_steps"] = max_steps
    return _run_family_job(
        FAMILY_JOBS[family].train.name,
        CHECKPOINT_ASSETS[family],
        config,
        dataset,
        instance,
        console_log_level,
        command=f"vton train {family}",
        action=f"training {family} on",
        retry="train",
    )


def predict_family(
    family: str,
    dataset: str,
    model_version: str | None = None,
    device: str = "cpu",
    instance: DagsterInstance | None = None,
    console_log_level: str = "WARNING",
) -> dict[str, Any]:
    """Predict a dataset's test split with the family's newest (or the named) registered model, through Dagster.

    Returns the predictions asset's plain metadata (model_version, predicted, paired, unpaired, predictions
    folder, mask_grid) plus `seconds` and `run_id`. Raises TrainingRunError naming the failed step.
    """
    _family(family)
    asset = PREDICTION_ASSETS[family]
    config: dict[str, Any] = {"device": device}
    if model_version is not None:
        config["model_version"] = model_version
    return _run_family_job(
        FAMILY_JOBS[family].predict.name,
        asset,
        config,
        dataset,
        instance,
        console_log_level,
        command=f"vton predict {family}",
        action=f"predicting {family} on",
        retry="predict",
    )


def _run_family_job(
    job: str,
    asset: Any,
    config: dict[str, Any],
    dataset: str,
    instance: DagsterInstance | None,
    console_log_level: str,
    *,
    command: str,
    action: str,
    retry: str,
) -> dict[str, Any]:
    """Run a family job on one dataset with `config` for `asset`'s op; the asset's plain metadata plus
    `seconds` and `run_id`, or TrainingRunError naming the failed step."""
    run_config = console_logging(console_log_level) | {"ops": {asset.op.name: {"config": config}}}
    started = time.perf_counter()
    result = run_dataset_job(
        job, dataset, instance, run_config, command, action=action, retry=retry, error=TrainingRunError
    )
    summary = run_metadata(result, asset.op.name)
    return summary | {"seconds": round(time.perf_counter() - started, 3), "run_id": result.run_id}


def evaluate_family(
    family: str, dataset: str, instance: DagsterInstance | None = None, console_log_level: str = "WARNING"
) -> list[dict[str, Any]]:
    """Score the family's latest predictions on a dataset (and what it refines) through Dagster.

    Returns each evaluation's plain metadata (model, setting, run_id, matched, metric values), as
    `orchestration.runs.evaluate_dataset` does. Raises TrainingRunError naming the failed step.
    """
    _family(family)
    result = run_dataset_job(
        FAMILY_JOBS[family].evaluate.name,
        dataset,
        instance,
        console_logging(console_log_level),
        f"vton evaluate {family}",
        action=f"evaluating {family} on",
        retry="evaluate",
        error=TrainingRunError,
    )
    return [
        run_metadata(result, asset.op.name) | {"dagster_run_id": result.run_id}
        for asset in FAMILY_EVALUATION_ASSETS[family]
    ]
