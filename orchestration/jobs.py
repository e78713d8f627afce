"""Jobs: `ingest_job` builds one dataset's raw manifest and runs its blocking checks; `build_job` goes on to
annotate, shard and curate it; `evaluate_job` runs every evaluation asset on it (all partitioned by dataset)."""

from __future__ import annotations

import dagster as dg

from assets.curation import hqft_subset
from assets.evaluation import EVALUATION_GROUP
from assets.shards import dataset_shards
from assets.sources import raw_manifest

# AssetSelection.assets includes the asset's checks, so every ingest run validates what it wrote.
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets(raw_manifest),
    description="Build a dataset's raw manifest (Ray) and run its blocking great-expectations checks.",
)

# Blocking checks stop the run at the first failing stage: a bad manifest never reaches the shards, and
# shards that fail their checks never reach the curated subset.
build_job = dg.define_asset_job(
    "build_job",
    selection=dg.AssetSelection.assets(raw_manifest, dataset_shards, hqft_subset),
    description="Ingest -> annotate and shard (Ray Data) -> curate the IGR fine-tune subset, each stage "
    "gated by its blocking great-expectations checks.",
)

# Every evaluation asset (baselines now, each model family's later) plus the papers' reference numbers.
evaluate_job = dg.define_asset_job(
    "evaluate_job",
    selection=dg.AssetSelection.groups(EVALUATION_GROUP),
    description="Predict with each evaluated model, score it against the dataset's ground truth and write "
    "eval_runs, eval_metrics and sample_metrics; refresh paper_results.",
)
