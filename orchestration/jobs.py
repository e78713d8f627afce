"""Jobs: `ingest_job` builds one dataset's raw manifest and runs its blocking checks (partitioned by dataset)."""

from __future__ import annotations

import dagster as dg

from assets.sources import raw_manifest

# AssetSelection.assets includes the asset's checks, so every ingest run validates what it wrote.
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets(raw_manifest),
    description="Build a dataset's raw manifest (Ray) and run its blocking great-expectations checks.",
)
