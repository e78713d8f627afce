"""What every asset module shows Dagster the same way: Markdown tables, progress logs, check results."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import dagster as dg
import pyarrow.parquet as pq

from vton.home import VtonHome
from warehouse.writer import warehouse_root, write_rows


class CheckOutcome(Protocol):
    """A great-expectations check result from quality/ (manifest or shard checks)."""

    name: str
    passed: bool
    description: str
    rows: int
    unexpected_count: int
    examples: Any
    expectations: Sequence[Any]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def progress_logger(context: dg.AssetExecutionContext, dataset: str, verb: str) -> Callable[[int, int], None]:
    """A progress callback that logs each tenth of the samples once (not every chunk)."""
    logged = {-1}

    def log(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth not in logged:
            logged.add(tenth)
            context.log.info(f"{dataset}: {verb} {done}/{total} samples")

    return log


def check_partition(context: dg.AssetCheckExecutionContext, asset: str) -> str:
    """The dataset a partitioned check runs for; a clear failure when launched without a partition."""
    if not context.has_partition_key:
        raise dg.Failure(description=f"{asset} checks run per dataset: launch them for one dataset partition")
    return context.partition_key


def check_result(result: CheckOutcome, asset_key: dg.AssetKey, dataset: str) -> dg.AssetCheckResult:
    """A quality/ check result as a blocking-severity Dagster AssetCheckResult with its expectations table."""
    expectations = markdown_table(
        ["expectation", "column", "passed", "unexpected"],
        [[e.expectation, e.column, e.success, e.unexpected_count] for e in result.expectations],
    )
    return dg.AssetCheckResult(
        check_name=result.name,
        asset_key=asset_key,
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=result.description,
        metadata={
            "dataset": dataset,
            "rows": result.rows,
            "unexpected_count": result.unexpected_count,
            "examples": dg.MetadataValue.json(result.examples),
            "expectations": dg.MetadataValue.md(expectations),
        },
    )


def store_quality_results(
    home: VtonHome,
    run_id: str,
    dataset: str,
    dataset_version: str | None,
    stage: str,
    results: Sequence[CheckOutcome],
) -> None:
    """Store check outcomes in the warehouse `quality_results` table (one row per check).

    The table's key is run_id, so rows this run stored for other stages (same dataset) are kept.
    """
    now = datetime.now(UTC)
    rows = [
        {
            "run_id": run_id,
            "dataset": dataset,
            "dataset_version": dataset_version,
            "stage": stage,
            "check_name": result.name,
            "passed": bool(result.passed),
            "severity": "blocking",
            "observed": json.dumps(
                {
                    "rows": result.rows,
                    "unexpected_count": result.unexpected_count,
                    "examples": result.examples,
                }
            ),
            "checked_at": now,
        }
        for result in results
    ]
    earlier = warehouse_root(home) / "quality_results" / f"dataset={dataset}" / f"{run_id}.parquet"
    if earlier.is_file():
        rows = [r for r in pq.read_table(earlier).to_pylist() if r.get("stage") != stage] + rows
        for row in rows:
            row["dataset"] = dataset  # the partition column is not stored in the file
    write_rows("quality_results", rows, home)
