"""The Definitions object `dagster dev` loads: each domain's assets merged with jobs, schedules, sensors and
resources.

Run `vton ui` (or `make ui`) rather than bare `dagster dev`, so DAGSTER_HOME points under VTON_HOME.
"""

from __future__ import annotations

import dagster as dg

from assets import curation, evaluation, predictions, shards, sources, training
from orchestration.jobs import ALL_JOBS
from orchestration.resources import PathsResource, RayResource
from orchestration.schedules import RETRAIN_SCHEDULES
from orchestration.sensors import NEW_DATA_SENSORS, dataset_files_sensor

defs = dg.Definitions.merge(
    sources.defs,
    shards.defs,
    curation.defs,
    training.defs,
    predictions.defs,
    evaluation.defs,
    dg.Definitions(
        jobs=ALL_JOBS,
        schedules=RETRAIN_SCHEDULES,
        sensors=[dataset_files_sensor, *NEW_DATA_SENSORS],
        resources={"ray": RayResource(), "paths": PathsResource()},
    ),
)
