"""Analyst connections are read-only: write statements are refused by type, and files outside stay unreachable."""

from __future__ import annotations

import pytest

from warehouse.query import QueryError, ReadOnlyError, run_query
from warehouse.views import connect
from warehouse.writer import write_rows


@pytest.fixture()
def one_run(vton_home):
    write_rows(
        "eval_metrics",
        [
            {
                "run_id": "r1",
                "model": "m",
                "dataset": "d1",
                "setting": "paired",
                "category": "all",
                "metric": "ssim",
                "value": 0.5,
                "higher_is_better": True,
            }
        ],
    )
    return vton_home


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("INSERT INTO eval_metrics SELECT * FROM eval_metrics", "INSERT"),
        ("CREATE TABLE stolen AS SELECT * FROM eval_metrics", "CREATE"),
        ("COPY eval_metrics TO '{warehouse}/eval_metrics/dataset=d1/x.parquet' (FORMAT parquet)", "COPY"),
        ("ATTACH '{warehouse}/other.duckdb' AS other", "ATTACH"),
        ("DROP VIEW leaderboard", "DROP"),
        ("SET enable_external_access = true", "SET"),
        ("DELETE FROM eval_metrics", "DELETE"),
    ],
)
def test_write_statements_are_refused_with_a_clear_message(one_run, sql, kind):
    before = sorted(p.relative_to(one_run) for p in one_run.rglob("*"))
    with pytest.raises(
        ReadOnlyError, match=f"refused: {kind} statements are not allowed; the warehouse is read-only"
    ):
        run_query(sql.format(warehouse=one_run / "warehouse"))
    assert sorted(p.relative_to(one_run) for p in one_run.rglob("*")) == before
    assert run_query("SELECT value FROM eval_metrics").to_pylist() == [{"value": 0.5}]


def test_selects_cannot_read_files_outside_the_warehouse(one_run, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(ReadOnlyError, match="file system operations are disabled"):
        run_query(f"SELECT * FROM read_csv('{secret}')")


def test_the_connection_itself_refuses_writes_and_config_changes(one_run, tmp_path):
    con = connect()
    with pytest.raises(Exception, match="disabled by configuration"):
        con.execute(f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'")
    with pytest.raises(Exception, match="configuration has been locked"):
        con.execute("SET enable_external_access = true")
    assert not (tmp_path / "out.csv").exists()


def test_several_statements_and_bad_sql_are_reported(one_run):
    with pytest.raises(QueryError, match="exactly one statement, got 2"):
        run_query("SELECT 1; SELECT 2")
    with pytest.raises(QueryError, match="cannot parse the query"):
        run_query("SELEC 1")
    with pytest.raises(QueryError, match="query failed: .*no_such_table"):
        run_query("SELECT * FROM no_such_table")
