"""The analyst CLI: `vton warehouse query`, `vton leaderboard` and `vton report` (registered in vton/cli.py)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pyarrow as pa

from vton.home import VtonHome

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("table", "csv", "json")


def _render(table: pa.Table, fmt: str, title: str | None = None) -> None:
    rows = table.to_pylist()
    if fmt == "json":
        click.echo(json.dumps(rows, default=str))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows([["" if row[c] is None else row[c] for c in table.column_names] for row in rows])
        click.echo(buffer.getvalue(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    out = Table(title=title)
    for name in table.column_names:
        out.add_column(name)
    for row in rows:
        out.add_row(
            *[
                "" if row[c] is None else (f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]))
                for c in table.column_names
            ]
        )
    Console(width=max(Console().width, 160)).print(out)
    click.echo(f"{table.num_rows} rows")


@click.group("warehouse")
def warehouse_group() -> None:
    """Query the evaluation warehouse (read-only DuckDB over the Parquet tables)."""


@warehouse_group.command("query")
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def query_command(sql: str, fmt: str) -> None:
    """Run one SELECT over the tables and views (leaderboard, metric_trends, vs_paper, worst_samples, ...)."""
    from warehouse.query import QueryError, ReadOnlyError, run_query

    try:
        table = run_query(sql)
    except (QueryError, ReadOnlyError) as exc:
        raise click.ClickException(str(exc)) from None
    _render(table, fmt)


@click.command("leaderboard")
@click.option("--dataset", default=None, help="Only this dataset (its registered name).")
@click.option("--setting", default=None, help="Only this setting: paired, unpaired, video, mask, ...")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def leaderboard_command(dataset: str | None, setting: str | None, fmt: str) -> None:
    """Latest evaluation of every model per dataset and setting, one column per metric."""
    from warehouse.query import leaderboard

    table = leaderboard(dataset=dataset, setting=setting)
    if table.num_rows == 0 and fmt == "table":
        click.echo("no evaluation results match; run an evaluation first (make demo runs the baselines)")
        return
    if fmt == "table":  # a terminal is narrow: no run ids (csv/json keep them), start times to the minute
        table = table.drop_columns([c for c in ("run_id",) if c in table.column_names])
        if "started_at" in table.column_names:
            index = table.column_names.index("started_at")
            stamps = [t.strftime("%Y-%m-%d %H:%M") if t else None for t in table["started_at"].to_pylist()]
            table = table.set_column(index, "started_at", pa.array(stamps, pa.string()))
    _render(table, fmt, title="leaderboard")


@click.command("report")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write [default: VTON_HOME/reports/report.html].",
)
def report_command(out: Path | None) -> None:
    """Write a self-contained HTML report: leaderboard, trends, ours vs paper, worst-sample gallery."""
    from warehouse.report import write_report

    home = VtonHome.from_env()
    target = out or home.root / "reports" / "report.html"
    write_report(target, home)
    click.echo(f"wrote {target.resolve()} (open it in a browser)")
