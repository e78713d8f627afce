"""`vton models ...`: the model registry from the command line (registered in vton/cli.py)."""

from __future__ import annotations

import json

import click


@click.group("models")
def models_group() -> None:
    """Trained model versions and their lineage (the warehouse table model_registry)."""


@models_group.command("list")
@click.option("--family", default=None, help="Only this model family (e.g. autoarm).")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as one JSON list.")
def list_models_command(family: str | None, as_json: bool) -> None:
    """Registered model versions, newest first."""
    from models.registry import list_models

    rows = list_models(None, family)
    if as_json:
        click.echo(json.dumps(rows, sort_keys=True, default=str))
        return
    if not rows:
        click.echo("no registered models" + (f" of family {family}" if family else "") + "; train one first")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="model registry")
    columns = (
        "model_version",
        "preset",
        "train_dataset",
        "dataset_version",
        "metrics",
        "created_at",
        "checkpoint",
    )
    for column in columns:
        table.add_column(column)
    for row in rows:
        metrics = ", ".join(
            f"{k}={v:.4g}" for k, v in sorted(row["metrics"].items()) if isinstance(v, int | float)
        )
        created = row["created_at"].strftime("%Y-%m-%d %H:%M") if row["created_at"] else ""
        table.add_row(
            row["model_version"],
            row["preset"] or "",
            row["train_dataset"] or "",
            row["dataset_version"] or "",
            metrics,
            created,
            row["checkpoint"] or "",
        )
    Console(width=max(Console().width, 160)).print(table)
    click.echo(f"{len(rows)} model versions")
