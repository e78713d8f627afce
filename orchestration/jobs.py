"""Jobs: `ingest_job` builds one dataset's raw manifest and runs its blocking checks; `build_job` goes on to
annotate, shard and curate it; `evaluate_job` runs the baseline evaluation assets on it; per trained model
family, `<family>_train_job`, `<family>_predict_job` and `<family>_evaluate_job` (all partitioned by dataset).
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from assets.curation import hqft_subset
from assets.evaluation import EVALUATION_ASSETS, FAMILY_EVALUATION_ASSETS, paper_results
from assets.predictions import PREDICTION_ASSETS
from assets.shards import dataset_shards
from assets.sources import raw_manifest
from assets.training import CHECKPOINT_ASSETS, TRAINING_TAG

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

# The training-free baselines plus the papers' reference numbers; trained families have their own jobs.
evaluate_job = dg.define_asset_job(
    "evaluate_job",
    selection=dg.AssetSelection.assets(*EVALUATION_ASSETS, paper_results),
    description="Predict with each baseline, score it against the dataset's ground truth and write "
    "eval_runs, eval_metrics and sample_metrics; refresh paper_results.",
)


@dataclass(frozen=True)
class FamilyJobs:
    """The three jobs of one trained model family."""

    train: dg.UnresolvedAssetJobDefinition
    predict: dg.UnresolvedAssetJobDefinition
    evaluate: dg.UnresolvedAssetJobDefinition


def _family_jobs(family: str) -> FamilyJobs:
    # The training tag (value: the family) marks every training run, so a schedule or sensor can see one
    # already queued or running for the same family and dataset (dagster/partition) and not add another.
    return FamilyJobs(
        train=dg.define_asset_job(
            f"{family}_train_job",
            selection=dg.AssetSelection.assets(CHECKPOINT_ASSETS[family]),
            tags={TRAINING_TAG: family},
            description=f"Train {family} on a dataset's shards (Ray Train) and register the final checkpoint.",
        ),
        predict=dg.define_asset_job(
            f"{family}_predict_job",
            selection=dg.AssetSelection.assets(PREDICTION_ASSETS[family]),
            description=f"Predict the test split of a dataset with its newest registered {family} model.",
        ),
        evaluate=dg.define_asset_job(
            f"{family}_evaluate_job",
            selection=dg.AssetSelection.assets(*FAMILY_EVALUATION_ASSETS[family]),
            description=f"Score {family}'s latest predictions (and the inputs it refines) into the warehouse.",
        ),
    )


FAMILY_JOBS = {family: _family_jobs(family) for family in CHECKPOINT_ASSETS}
ALL_JOBS = [
    ingest_job,
    build_job,
    evaluate_job,
    *(job for jobs in FAMILY_JOBS.values() for job in (jobs.train, jobs.predict, jobs.evaluate)),
]
