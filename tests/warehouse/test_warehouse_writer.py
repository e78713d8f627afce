"""Schemas are enforced at write time; writes replace one run's rows only; concurrent writers both land."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context

import pyarrow as pa
import pytest

from warehouse.schemas import TABLES, WRITABLE_TABLES
from warehouse.views import connect
from warehouse.writer import WarehouseWriteError, delete_key, write_rows


def _metric_rows(run_id: str, dataset: str, values: dict[str, float], model: str = "m") -> list[dict]:
    return [
        {
            "run_id": run_id,
            "model": model,
            "dataset": dataset,
            "setting": "paired",
            "category": "all",
            "metric": metric,
            "value": value,
            "n": 4,
            "higher_is_better": metric == "ssim",
        }
        for metric, value in values.items()
    ]


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_unknown_column_is_refused_with_its_name(vton_home):
    rows = _metric_rows("r1", "d1", {"ssim": 0.5})
    rows[0]["vaule"] = 1.0
    with pytest.raises(WarehouseWriteError, match=r"eval_metrics: unknown columns \['vaule'\]"):
        write_rows("eval_metrics", rows)


def test_missing_required_column_is_refused(vton_home):
    table = pa.table({"run_id": ["r1"], "model": ["m"], "dataset": ["d"], "setting": ["paired"]})
    with pytest.raises(WarehouseWriteError, match="required column 'category' is missing"):
        write_rows("eval_metrics", table)


def test_null_in_required_column_is_refused(vton_home):
    rows = _metric_rows("r1", "d1", {"ssim": 0.5})
    rows[0]["metric"] = None
    with pytest.raises(WarehouseWriteError, match="column 'metric' is required"):
        write_rows("eval_metrics", rows)


def test_wrong_type_is_refused(vton_home):
    table = pa.table(
        {
            "run_id": ["r1"],
            "model": ["m"],
            "dataset": ["d"],
            "setting": ["paired"],
            "category": ["all"],
            "metric": ["ssim"],
            "value": ["not a number"],
            "higher_is_better": [True],
        }
    )
    with pytest.raises(WarehouseWriteError, match="column 'value' of type string cannot be stored as double"):
        write_rows("eval_metrics", table)


def test_arrow_input_is_cast_to_the_schema_and_read_back_typed(vton_home):
    table = pa.table(
        {
            "run_id": ["r1"],
            "model": ["m"],
            "dataset": ["d1"],
            "setting": ["paired"],
            "category": ["all"],
            "metric": ["fid"],
            "value": pa.array([12], pa.int32()),  # widened to float64
            "higher_is_better": [False],
        }
    )
    write_rows("eval_metrics", table)
    con = connect()
    types = dict(_rows(con, "SELECT column_name, column_type FROM (DESCRIBE eval_metrics)"))
    assert types["value"] == "DOUBLE" and types["n"] == "BIGINT" and types["dataset"] == "VARCHAR"
    assert _rows(con, "SELECT value, n, protocol FROM eval_metrics") == [(12.0, None, None)]


def test_unsafe_names_and_mixed_runs_are_refused(vton_home):
    with pytest.raises(WarehouseWriteError, match="run_id '../evil' cannot name a file"):
        write_rows("eval_metrics", _metric_rows("../evil", "d1", {"ssim": 0.5}))
    with pytest.raises(WarehouseWriteError, match="dataset 'a/b' cannot name a file or partition"):
        write_rows("eval_metrics", _metric_rows("r1", "a/b", {"ssim": 0.5}))
    with pytest.raises(WarehouseWriteError, match="write one run_id at a time, got 2"):
        write_rows(
            "eval_metrics", _metric_rows("r1", "d", {"ssim": 0.5}) + _metric_rows("r2", "d", {"ssim": 0.5})
        )
    with pytest.raises(WarehouseWriteError, match="package data"):
        write_rows("paper_results", [])


def test_every_table_round_trips_with_its_declared_columns(vton_home):
    stamp = datetime(2026, 1, 2, tzinfo=UTC)
    samples = {
        "eval_runs": {"run_id": "r1", "model": "m", "dataset": "d1", "started_at": stamp},
        "eval_metrics": _metric_rows("r1", "d1", {"ssim": 0.5})[0],
        "sample_metrics": {
            "run_id": "r1",
            "model": "m",
            "dataset": "d1",
            "sample_id": "s1",
            "metric": "ssim",
        },
        "dataset_versions": {"dataset": "d1", "dataset_version": "v1", "created_at": stamp},
        "annotation_stats": {"run_id": "a1", "dataset": "d1", "annotator": "dwpose", "stat": "coverage"},
        "quality_results": {"run_id": "q1", "dataset": "d1", "check_name": "unique_ids", "passed": True},
        "model_registry": {"model_version": "igr-1", "model": "igr"},
    }
    assert set(samples) == set(WRITABLE_TABLES)
    for name, row in samples.items():
        write_rows(name, [row])
    con = connect()
    for name in WRITABLE_TABLES:
        columns = [r[0] for r in _rows(con, f"SELECT column_name FROM (DESCRIBE {name})")]
        assert columns == TABLES[name].schema.names
        assert _rows(con, f"SELECT count(*) FROM {name}") == [(1,)]
    assert (vton_home / "warehouse" / "model_registry" / "model=igr" / "igr-1.parquet").is_file()


def test_rewriting_a_run_replaces_its_rows_only(vton_home):
    write_rows("eval_metrics", _metric_rows("r1", "d1", {"ssim": 0.5, "fid": 30.0}))
    write_rows("eval_metrics", _metric_rows("r1", "d2", {"ssim": 0.6}))  # r1 moves to dataset d2 only
    write_rows("eval_metrics", _metric_rows("r2", "d1", {"ssim": 0.7}))
    write_rows("eval_metrics", _metric_rows("r1", "d2", {"ssim": 0.65}))  # re-run: same partition
    con = connect()
    got = _rows(con, "SELECT run_id, dataset, metric, value FROM eval_metrics ORDER BY run_id, metric")
    assert got == [("r1", "d2", "ssim", 0.65), ("r2", "d1", "ssim", 0.7)]
    files = sorted(p.relative_to(vton_home / "warehouse").as_posix() for p in vton_home.rglob("*.parquet"))
    assert files == ["eval_metrics/dataset=d1/r2.parquet", "eval_metrics/dataset=d2/r1.parquet"]
    assert delete_key("eval_metrics", "r1") == 1
    assert _rows(connect(), "SELECT DISTINCT run_id FROM eval_metrics") == [("r2",)]


def _write_run(args: tuple[str, int, int]) -> int:
    """Worker: write one run of `n` rows `repeats` times (each a full replace) into the shared dataset partition."""
    run_id, n, repeats = args
    rows = pa.table(
        {
            "run_id": [run_id] * n,
            "model": ["m"] * n,
            "dataset": ["shared"] * n,
            "sample_id": [f"s{i}" for i in range(n)],
            "metric": ["ssim"] * n,
            "value": [float(i) for i in range(n)],
        }
    )
    for _ in range(repeats):
        write_rows("sample_metrics", rows)
    return n


def test_two_processes_writing_at_once_both_land_whole(vton_home):
    jobs = [("run_a", 50_000, 4), ("run_b", 30_000, 4)]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        assert list(pool.map(_write_run, jobs)) == [50_000, 30_000]
    con = connect()
    counts = _rows(
        con, "SELECT run_id, count(*), sum(value) FROM sample_metrics GROUP BY run_id ORDER BY run_id"
    )
    assert counts == [("run_a", 50_000, sum(range(50_000))), ("run_b", 30_000, sum(range(30_000)))]
    assert not [p for p in (vton_home / "warehouse").rglob("*") if p.name.endswith(".tmp")]
