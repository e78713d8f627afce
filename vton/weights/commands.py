"""`vton weights ...`: list the known files, import one, verify what is installed, print a path.

User errors end with one line and exit code 1, never a traceback. Tests pass a `WeightsStore` as the
click context object to run the commands against a temporary store and catalog.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from vton.weights.errors import WeightsError
from vton.weights.store import EntryStatus, WeightsStore


def _store(ctx: click.Context) -> WeightsStore:
    return ctx.obj if isinstance(ctx.obj, WeightsStore) else WeightsStore.from_env()


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@click.group("weights")
def weights_group() -> None:
    """Pretrained weights: nothing is downloaded at run time; import each file once, checked by hash."""


@weights_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list instead of the table.")
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """Show every known weights file: hash, users, public source, and whether it is present and verified."""
    store = _store(ctx)
    statuses: list[EntryStatus] = store.status()
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in statuses], indent=2))
        return
    rows = [["name", "filename", "sha256", "used by", "source", "status"]]
    for s in statuses:
        e = s.entry
        rows.append([e.name, e.filename, e.digest_text, "; ".join(e.used_by), e.source_url, s.state])
    click.echo(_table(rows))
    missing = sum(not s.present for s in statuses)
    click.echo(
        f"\nstore: {store.root}  ({len(statuses) - missing} of {len(statuses)} present)\n"
        "Download a file from its source, then run: vton weights import /path/to/FILE "
        "(folders, or files with another name: add --name NAME)"
    )


@weights_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Catalog name to import as (default: by file name, then sha256).")
@click.pass_context
def import_command(ctx: click.Context, file: Path, name: str | None) -> None:
    """Verify FILE (sha256 or prefix, size, loadability) and install it in the weights store."""
    try:
        _store(ctx).import_file(file, name=name, report=click.echo)
    except WeightsError as exc:
        raise click.ClickException(str(exc)) from None


@weights_group.command("verify")
@click.argument("name", required=False)
@click.pass_context
def verify_command(ctx: click.Context, name: str | None) -> None:
    """Re-hash and re-check NAME (default: every present entry); exit 1 if any check fails."""
    store = _store(ctx)
    if name:
        try:
            store.entry(name)
        except WeightsError as exc:
            raise click.ClickException(str(exc)) from None
    names = [name] if name else [s.entry.name for s in store.status() if s.present]
    if not names:
        click.echo("no weights present to verify; see: vton weights list")
        return
    failed = 0
    for n in names:
        try:
            st = store.verify(n)
            click.echo(f"ok      {n}: {st.path}")
        except WeightsError as exc:
            failed += 1
            click.echo(f"FAILED  {n}: {exc}")
    if failed:
        raise click.ClickException(f"{failed} of {len(names)} weights failed verification")


@weights_group.command("path")
@click.argument("name")
@click.pass_context
def path_command(ctx: click.Context, name: str) -> None:
    """Print the verified path of NAME (for scripts); exit 1 with the import command if it is missing."""
    try:
        click.echo(str(_store(ctx).path(name)))
    except WeightsError as exc:
        raise click.ClickException(str(exc)) from None
