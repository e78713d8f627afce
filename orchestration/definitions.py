"""The Definitions object `dagster dev` loads: each domain's assets merged with jobs, sensors and resources.

Run `vton ui` (or `make ui`) rather than bare `dagster dev`, so DAGSTER_HOME points under VTON_HOME.
"""

from __future__ import annotations

import dagster as dg

from assets import curation, evaluation, shards, sources
from orchestration.jobs import build_job, evaluate_job, ingest_job
from orchestration.resources import PathsResource, RayResource
from orchestration.sensors import dataset_files_sensor

defs = dg.Definitions.merge(
    sources.defs,
    shards.defs,
    curation.defs,
    evaluation.defs,
    dg.Definitions(
        jobs=[ingest_job, build_job, evaluate_job],
        sensors=[dataset_files_sensor],
        resources={"ray": RayResource(), "paths": PathsResource()},
    ),
)
