"""Schedules: each trained family's retraining on a cron (`<family>_retrain_schedule`), stopped by default.

A tick asks for one training run per dataset the family has a registered model for, with the preset of its
newest model, and leaves out a dataset whose training is already queued or running (run tags
`vton/training=<family>` and `dagster/partition=<dataset>`), so a slow run is never doubled. Start a
schedule in the Dagster UI (Automation) or give it `default_status` RUNNING in code; set its cron per family
with VTON_RETRAIN_CRON_<FAMILY> (e.g. VTON_RETRAIN_CRON_AUTOARM="0 2 * * *"). `make demo` never starts it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import dagster as dg

from assets.training import CHECKPOINT_ASSETS, TRAINING_TAG
from orchestration.jobs import FAMILY_JOBS
from orchestration.partitions import datasets_partitions
from orchestration.resources import PathsResource
from vton.home import VtonHome

# Family -> default cron (Sunday 03:00); VTON_RETRAIN_CRON_<FAMILY> overrides it.
RETRAIN_CRONS = {"autoarm": "0 3 * * 0"}
PARTITION_TAG = "dagster/partition"
ACTIVE_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def retrain_cron(family: str) -> str:
    """The family's retraining cron: VTON_RETRAIN_CRON_<FAMILY>, else RETRAIN_CRONS."""
    return os.environ.get(f"VTON_RETRAIN_CRON_{family.upper()}") or RETRAIN_CRONS[family]


def training_in_progress(instance: dg.DagsterInstance, family: str, dataset: str) -> str | None:
    """The id of a queued or running training run of `family` on `dataset`, None when there is none."""
    records = instance.get_run_records(
        dg.RunsFilter(tags={TRAINING_TAG: family, PARTITION_TAG: dataset}, statuses=ACTIVE_STATUSES), limit=1
    )
    return records[0].dagster_run.run_id if records else None


def trained_datasets(home: VtonHome, family: str) -> dict[str, str]:
    """Dataset -> preset of the newest registered model of `family` trained on it."""
    from models.registry import latest_model, list_models

    datasets = sorted({str(row["train_dataset"]) for row in list_models(home, family)})
    newest = {name: latest_model(home, family, name) for name in datasets}
    return {name: str(row["preset"]) for name, row in newest.items() if row is not None}


def retrain_requests(
    instance: dg.DagsterInstance,
    family: str,
    datasets: Iterable[tuple[str, str, str | None]],
    trigger: str,
    log: Any | None = None,
) -> list[dg.RunRequest]:
    """One training RunRequest per (dataset, preset, run key) whose dataset is a known partition and is not
    being trained by `family` right now."""
    known = set(instance.get_dynamic_partitions(datasets_partitions.name))
    op_name = CHECKPOINT_ASSETS[family].op.name
    requests = []
    for dataset, preset, run_key in datasets:
        if dataset not in known:
            continue
        running = training_in_progress(instance, family, dataset)
        if running is not None:
            if log is not None:
                log.info(
                    f"{family} on {dataset}: training run {running} is still in progress; not adding another"
                )
            continue
        requests.append(
            dg.RunRequest(
                partition_key=dataset,
                run_key=run_key,
                run_config={"ops": {op_name: {"config": {"preset": preset}}}},
                tags={"vton/trigger": trigger},
            )
        )
    return requests


def retrain_schedule(family: str) -> dg.ScheduleDefinition:
    """The family's cron retraining of every dataset it was trained on; stopped until someone starts it."""
    name = f"{family}_retrain_schedule"

    @dg.schedule(
        name=name,
        cron_schedule=retrain_cron(family),
        job=FAMILY_JOBS[family].train,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Retrain {family} on every dataset it has a model for, with that model's preset.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, paths: PathsResource) -> dg.SkipReason | list:
        trained = trained_datasets(paths.vton_home(), family)
        tick = context.scheduled_execution_time
        wanted = [
            (dataset, preset, f"{name}:{dataset}:{tick.isoformat()}" if tick else None)
            for dataset, preset in sorted(trained.items())
        ]
        requests = retrain_requests(context.instance, family, wanted, name, log=context.log)
        if not requests:
            reason = (
                "every dataset it was trained on is training now or no longer registered"
                if trained
                else f"no {family} model is registered yet"
            )
            return dg.SkipReason(f"nothing to retrain: {reason}")
        return requests

    return _schedule


RETRAIN_SCHEDULES = [retrain_schedule(family) for family in CHECKPOINT_ASSETS]
