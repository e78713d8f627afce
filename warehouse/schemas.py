"""Explicit pyarrow schemas of the warehouse tables (ARCHITECTURE §3), with each table's partition and replace key.

Every writer goes through these schemas, so a missing column or a wrong type fails at write time with the
table and column named, not later inside an analyst's query. Values in `eval_metrics.value` are stored in
the metric's natural units (KID unscaled); the `protocol` JSON records the scale a paper would print.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class TableSpec:
    """A warehouse table: its schema, the hive partition columns and the column whose value a write replaces."""

    name: str
    schema: pa.Schema
    partition_by: tuple[str, ...]
    key: str
    description: str

    @property
    def file_schema(self) -> pa.Schema:
        """The columns stored inside each Parquet file (partition columns live in the directory names)."""
        return pa.schema([f for f in self.schema if f.name not in self.partition_by])


EVAL_RUNS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("checkpoint", pa.string()),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("dataset_version", pa.string()),
        pa.field(
            "benchmark", pa.string()
        ),  # the paper dataset this test set stands for (vitonhd, dresscode, ...)
        pa.field("config_hash", pa.string()),
        pa.field("code_version", pa.string()),
        pa.field("device", pa.string()),
        pa.field("started_at", TS, nullable=False),
        pa.field("finished_at", TS),
    ]
)

EVAL_METRICS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("setting", pa.string(), nullable=False),  # paired / unpaired / video / mask / efficiency
        pa.field("category", pa.string(), nullable=False),  # upper / lower / dresses / all
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("n", pa.int64()),
        pa.field("higher_is_better", pa.bool_(), nullable=False),
        pa.field(
            "protocol", pa.string()
        ),  # JSON of the protocol options (metrics.protocols.Protocol.as_dict)
    ]
)

SAMPLE_METRICS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("setting", pa.string()),
        pa.field("sample_id", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("higher_is_better", pa.bool_()),
        pa.field("person_path", pa.string()),  # input person image, for the report's gallery
        pa.field("garment_path", pa.string()),  # input in-shop garment
        pa.field("prediction_path", pa.string()),  # the model's output
        pa.field("target_path", pa.string()),  # ground truth, where the setting has one
    ]
)

DATASET_VERSIONS = pa.schema(
    [
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("dataset_version", pa.string(), nullable=False),
        pa.field("layout", pa.string()),
        pa.field("root", pa.string()),
        pa.field("samples", pa.int64()),
        pa.field("quarantined", pa.int64()),
        pa.field("content_hash", pa.string()),
        pa.field("created_at", TS, nullable=False),
    ]
)

ANNOTATION_STATS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("dataset_version", pa.string()),
        pa.field("annotator", pa.string(), nullable=False),
        pa.field("annotator_version", pa.string()),
        pa.field("field", pa.string()),
        pa.field("stat", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("created_at", TS),
    ]
)

QUALITY_RESULTS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("dataset_version", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("check_name", pa.string(), nullable=False),
        pa.field("passed", pa.bool_(), nullable=False),
        pa.field("severity", pa.string()),  # blocking / warning
        pa.field("observed", pa.string()),  # JSON of what the check saw
        pa.field("checked_at", TS),
    ]
)

MODEL_REGISTRY = pa.schema(
    [
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("family", pa.string()),
        pa.field("preset", pa.string()),
        pa.field("checkpoint", pa.string()),
        pa.field("train_dataset", pa.string()),
        pa.field("dataset_version", pa.string()),
        pa.field("config_hash", pa.string()),
        pa.field("code_version", pa.string()),
        pa.field("parent_version", pa.string()),
        pa.field("metrics", pa.string()),  # JSON of the checkpoint's metrics ({"val_loss": ..., ...})
        pa.field("created_at", TS),
    ]
)

PAPER_RESULTS = pa.schema(
    [
        pa.field("seed", pa.string(), nullable=False),  # the paper (seed file) the number comes from
        pa.field("source_table", pa.string()),  # "Table 1", "Sec 5.5", ...
        pa.field("dataset", pa.string(), nullable=False),  # platform vocabulary (see warehouse.paper_results)
        pa.field("setting", pa.string(), nullable=False),
        pa.field("method", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),  # as printed in the paper
        pa.field("scale", pa.float64()),  # printed = natural × scale (1000 for KID×1e3); NULL when unstated
        pa.field("value_natural", pa.float64()),  # value / scale; NULL when the scale is unknown
        pa.field("resolution", pa.string()),  # "512x384" where the paper states one per setting
        pa.field("higher_is_better", pa.bool_()),
        pa.field("dataset_raw", pa.string()),
        pa.field("setting_raw", pa.string()),
        pa.field("method_raw", pa.string()),
        pa.field("metric_raw", pa.string()),
        pa.field("note", pa.string()),
    ]
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("eval_runs", EVAL_RUNS, ("dataset",), "run_id", "one row per evaluation run"),
        TableSpec("eval_metrics", EVAL_METRICS, ("dataset",), "run_id", "aggregate metric values, long form"),
        TableSpec("sample_metrics", SAMPLE_METRICS, ("dataset",), "run_id", "per-sample values (drill-down)"),
        TableSpec(
            "dataset_versions",
            DATASET_VERSIONS,
            ("dataset",),
            "dataset_version",
            "each manifest version built",
        ),
        TableSpec(
            "annotation_stats", ANNOTATION_STATS, ("dataset",), "run_id", "annotator coverage and stats"
        ),
        TableSpec("quality_results", QUALITY_RESULTS, ("dataset",), "run_id", "asset-check outcomes"),
        TableSpec(
            "model_registry", MODEL_REGISTRY, ("model",), "model_version", "model versions and lineage"
        ),
        TableSpec(
            "paper_results", PAPER_RESULTS, (), "seed", "published numbers of the seed papers (package data)"
        ),
    )
}

# Tables written as Parquet under VTON_HOME/warehouse; paper_results ships with the package instead.
WRITABLE_TABLES = tuple(name for name in TABLES if name != "paper_results")


def table_spec(name: str) -> TableSpec:
    """The spec of table `name`; an unknown name is an error listing the known tables."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(f"unknown warehouse table {name!r}; known tables: {', '.join(TABLES)}") from None
