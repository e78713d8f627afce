"""Read-only queries for analysts and the CLI: one SELECT at a time on a `warehouse.views.connect()` connection.

Statements are classified by DuckDB's own parser; anything but SELECT/EXPLAIN (INSERT, CREATE, COPY, ATTACH,
SET, PRAGMA, ...) is refused with a message saying how results are written instead. The connection itself
cannot reach files outside the warehouse, as a second line of defence.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from vton.home import VtonHome
from warehouse.views import connect
from warehouse.vocabulary import HIGHER_IS_BETTER

_KEYS = {"model", "dataset", "setting", "category", "run_id", "started_at", "checkpoint"}
_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class ReadOnlyError(PermissionError):
    """A statement that would change something: the warehouse is read-only to queries."""


class QueryError(ValueError):
    """A query DuckDB could not parse or run; the message is DuckDB's, prefixed with what to check."""


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise ReadOnlyError unless `sql` is exactly one SELECT (or EXPLAIN) statement."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"cannot parse the query: {exc}") from None
    if len(statements) != 1:
        raise QueryError(f"give exactly one statement, got {len(statements)}")
    kind = statements[0].type
    if kind not in _ALLOWED:
        raise ReadOnlyError(
            f"refused: {kind.name} statements are not allowed; the warehouse is read-only here. "
            "Only SELECT queries run; results are written by the evaluation assets (warehouse.writer)."
        )


def run_query(
    sql: str, home: VtonHome | None = None, con: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Run one read-only SELECT over the warehouse views and return its rows."""
    con = con or connect(home)
    check_read_only(con, sql)
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.PermissionException as exc:
        raise ReadOnlyError(f"refused: {exc}") from None
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {exc}") from None


def leaderboard(
    dataset: str | None = None, setting: str | None = None, home: VtonHome | None = None
) -> pa.Table:
    """The leaderboard view, optionally for one dataset and/or setting; metric columns with no value are dropped."""
    con = connect(home)
    where, params = [], []
    for column, value in (("dataset", dataset), ("setting", setting)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT * FROM leaderboard{clause} ORDER BY dataset, setting, category, model"
    result = con.sql(sql, params=params).to_arrow_table()
    keep = [
        name for name in result.column_names if result[name].null_count < result.num_rows or name in _KEYS
    ]
    return result.select(keep)


def worst_samples(
    run_id: str,
    metric: str,
    k: int = 10,
    setting: str | None = None,
    home: VtonHome | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """The k worst samples of one run for `metric` (lowest if higher is better, else highest), worst first."""
    con = con or connect(home)
    direction = con.execute(
        "SELECT coalesce(any_value(higher_is_better), ?) FROM sample_metrics WHERE run_id = ? AND metric = ?",
        [HIGHER_IS_BETTER.get(metric, True), run_id, metric],
    ).fetchall()[0][0]
    order = "ASC" if direction else "DESC"
    setting_clause = " AND setting = ?" if setting is not None else ""
    params = [run_id, metric] + ([setting] if setting is not None else []) + [k]
    return con.sql(
        "SELECT run_id, model, dataset, setting, sample_id, metric, value, person_path, garment_path, "
        "prediction_path, target_path FROM sample_metrics WHERE run_id = ? AND metric = ?"
        f"{setting_clause} ORDER BY value {order} NULLS FIRST, sample_id LIMIT ?",
        params=params,
    ).to_arrow_table()
