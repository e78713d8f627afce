"""DuckDB views over the warehouse Parquet: the base tables plus leaderboard, metric_trends, vs_paper, worst_samples.

`connect()` opens an in-memory DuckDB whose only way to the disk is reading the warehouse folder: views are
built over `read_parquet`, then external access is switched off (except that folder) and the configuration is
locked. A table with no files yet becomes an empty relation of the right types, so every view always works.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from vton.home import VtonHome
from warehouse.paper_results import load_paper_results
from warehouse.schemas import TABLES, WRITABLE_TABLES
from warehouse.vocabulary import HIGHER_IS_BETTER
from warehouse.writer import warehouse_root

DERIVED_VIEWS = ("leaderboard", "metric_trends", "vs_paper", "worst_samples")

# Latest run per model x dataset x setting (ties broken by run_id), over runs that have metrics.
_LATEST_RUNS = """
CREATE VIEW latest_runs AS
SELECT model, dataset, setting, run_id, started_at, checkpoint, benchmark FROM (
    SELECT m.model, m.dataset, m.setting, m.run_id, r.started_at, r.checkpoint, r.benchmark,
           row_number() OVER (PARTITION BY m.model, m.dataset, m.setting
                              ORDER BY r.started_at DESC NULLS LAST, m.run_id DESC) AS recency
    FROM (SELECT DISTINCT run_id, model, dataset, setting FROM eval_metrics) m
    LEFT JOIN eval_runs r USING (run_id)
) WHERE recency = 1
"""

_METRIC_TRENDS = """
CREATE VIEW metric_trends AS
SELECT m.model, m.dataset, m.setting, m.category, m.metric, m.run_id, r.started_at, r.checkpoint, m.value,
       m.value - lag(m.value) OVER (PARTITION BY m.model, m.dataset, m.setting, m.category, m.metric
                                    ORDER BY r.started_at NULLS LAST, m.run_id) AS change,
       m.higher_is_better
FROM eval_metrics m LEFT JOIN eval_runs r USING (run_id)
"""

# Our latest value (category 'all') beside every published number for the same method, dataset, setting and
# metric. Our dataset matches the paper's through eval_runs.benchmark, else by its own name. `difference` is
# ours minus the paper's in the paper's printed units; NULL where the paper does not state its scale.
_VS_PAPER = """
CREATE VIEW vs_paper AS
SELECT l.model, m.dataset, p.dataset AS benchmark, m.setting, m.metric, l.run_id, l.started_at,
       m.value AS ours, p.value AS paper, p.scale AS paper_scale, m.value * p.scale AS ours_as_printed,
       m.value * p.scale - p.value AS difference,
       CASE WHEN p.scale IS NULL THEN NULL
            WHEN m.higher_is_better THEN m.value * p.scale >= p.value
            ELSE m.value * p.scale <= p.value END AS ours_better,
       m.higher_is_better, p.seed AS paper_seed, p.source_table AS paper_table, p.resolution AS paper_resolution,
       p.method_raw AS paper_method, p.note AS paper_note
FROM latest_runs l
JOIN eval_metrics m ON m.run_id = l.run_id AND m.setting = l.setting AND m.category = 'all'
JOIN paper_results p ON p.method = l.model AND p.dataset = coalesce(l.benchmark, m.dataset)
                     AND p.setting = m.setting AND p.metric = m.metric
"""

# Every sample ranked within (run, setting, metric) from worst (rank 1) to best; filter `worst_rank <= k`.
_WORST_SAMPLES = """
CREATE VIEW worst_samples AS
SELECT s.*, coalesce(s.higher_is_better, d.higher_is_better) AS better_high,
       row_number() OVER (
           PARTITION BY s.run_id, s.setting, s.metric
           ORDER BY CASE WHEN coalesce(s.higher_is_better, d.higher_is_better, true) THEN s.value
                         ELSE -s.value END ASC NULLS FIRST, s.sample_id) AS worst_rank
FROM sample_metrics s LEFT JOIN metric_directions d USING (metric)
"""


def _parquet_view(con: duckdb.DuckDBPyConnection, name: str, root: str) -> None:
    spec = TABLES[name]
    hive_types = ", ".join(f"'{c}': '{_duck_type(spec.schema.field(c).type)}'" for c in spec.partition_by)
    columns = ", ".join(_ident(c) for c in spec.schema.names)
    files = _quote(f"{root}/{name}/**/*.parquet")
    con.execute(
        f"CREATE VIEW {name} AS SELECT {columns} FROM read_parquet({files}, "
        f"hive_partitioning = true, union_by_name = true, hive_types = {{{hive_types}}})"
    )


def _duck_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_string(arrow_type):
        return "VARCHAR"
    raise ValueError(f"partition columns must be strings, not {arrow_type}")


def _arrow_view(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register(f"_{name}_arrow", table)
    con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}_arrow")


def _leaderboard_sql(metrics: list[str]) -> str:
    pivots = "".join(
        f", max(m.value) FILTER (WHERE m.metric = {_quote(metric)}) AS {_ident(metric)}" for metric in metrics
    )
    return f"""
CREATE VIEW leaderboard AS
SELECT l.model, l.dataset, l.setting, m.category, l.run_id, l.started_at, l.checkpoint{pivots}
FROM latest_runs l JOIN eval_metrics m ON m.run_id = l.run_id AND m.setting = l.setting
GROUP BY ALL
"""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def connect(home: VtonHome | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with every warehouse table and derived view, unable to touch files outside the warehouse."""
    root = warehouse_root(home).resolve()
    con = duckdb.connect(":memory:")
    for name in WRITABLE_TABLES:
        if any((root / name).glob("**/*.parquet")):
            _parquet_view(con, name, root.as_posix())
        else:
            _arrow_view(con, name, TABLES[name].schema.empty_table())
    _arrow_view(con, "paper_results", load_paper_results())
    directions = pa.table(
        {"metric": list(HIGHER_IS_BETTER), "higher_is_better": list(HIGHER_IS_BETTER.values())}
    )
    _arrow_view(con, "metric_directions", directions)
    con.execute(_LATEST_RUNS)
    metrics = [
        row[0] for row in con.execute("SELECT DISTINCT metric FROM eval_metrics ORDER BY 1").fetchall()
    ]
    con.execute(_leaderboard_sql(metrics))
    con.execute(_METRIC_TRENDS)
    con.execute(_VS_PAPER)
    con.execute(_WORST_SAMPLES)
    con.execute(f"SET allowed_directories = [{_quote(root.as_posix() + '/')}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con
