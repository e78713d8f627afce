"""Hive-partitioned Parquet writes under VTON_HOME/warehouse, atomic and idempotent per run id.

Layout: `<warehouse>/<table>/<col>=<value>/<key>.parquet`, one file per (key, partition), where the key is
the table's replace column (run_id for the evaluation tables). A write renames complete files into place
(vton.atomic_files), so readers never see half a file; re-writing a key replaces only that key's files, and
two writers with different keys touch disjoint files, so concurrent evaluations both land whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vton.atomic_files import write_parquet
from vton.home import VtonHome
from warehouse.schemas import WRITABLE_TABLES, TableSpec, table_spec

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]*$")


class WarehouseWriteError(ValueError):
    """Rows that do not fit a table's schema or naming rules; the message names the table, column and fix."""


def warehouse_root(home: VtonHome | None = None) -> Path:
    """The warehouse folder of `home` (default: VTON_HOME from the environment)."""
    return (home or VtonHome.from_env()).warehouse


def _conform(spec: TableSpec, rows: pa.Table | Sequence[Mapping[str, Any]]) -> pa.Table:
    """Cast rows to the table's schema: unknown columns, missing required columns, bad types and nulls fail."""
    if not isinstance(rows, pa.Table):
        rows = list(rows)
        unknown = sorted({k for row in rows for k in row} - set(spec.schema.names))
        if unknown:
            raise WarehouseWriteError(
                f"{spec.name}: unknown columns {unknown}; the schema has {spec.schema.names}"
            )
        try:
            return _check_nulls(spec, pa.Table.from_pylist(rows, schema=spec.schema))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise WarehouseWriteError(f"{spec.name}: rows do not match the schema ({exc})") from None
    unknown = sorted(set(rows.column_names) - set(spec.schema.names))
    if unknown:
        raise WarehouseWriteError(
            f"{spec.name}: unknown columns {unknown}; the schema has {spec.schema.names}"
        )
    columns = []
    for field in spec.schema:
        if field.name not in rows.column_names:
            if not field.nullable:
                raise WarehouseWriteError(f"{spec.name}: required column {field.name!r} is missing")
            columns.append(pa.nulls(rows.num_rows, field.type))
            continue
        try:
            columns.append(rows[field.name].cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise WarehouseWriteError(
                f"{spec.name}: column {field.name!r} of type {rows[field.name].type} "
                f"cannot be stored as {field.type} ({exc})"
            ) from None
    return _check_nulls(spec, pa.Table.from_arrays(columns, schema=spec.schema))


def _check_nulls(spec: TableSpec, table: pa.Table) -> pa.Table:
    for field in spec.schema:
        if not field.nullable and table[field.name].null_count:
            raise WarehouseWriteError(
                f"{spec.name}: column {field.name!r} is required but {table[field.name].null_count} rows have none"
            )
    return table


def _safe(spec: TableSpec, column: str, value: object) -> str:
    text = str(value)
    if not _SAFE_NAME.match(text):
        raise WarehouseWriteError(
            f"{spec.name}: {column} {text!r} cannot name a file or partition; "
            "use letters, digits, '_', '-' and '.' (not first)"
        )
    return text


def write_rows(
    table: str, rows: pa.Table | Sequence[Mapping[str, Any]], home: VtonHome | None = None
) -> list[Path]:
    """Replace the rows of one key (e.g. one run_id) in `table` with `rows`; return the files now holding them.

    All rows must share one key value. Files of that key in partitions the new rows no longer touch are
    removed after the new files are in place; rows of every other key are left alone.
    """
    spec = table_spec(table)
    if table not in WRITABLE_TABLES:
        raise WarehouseWriteError(
            f"{table} is package data, not written under VTON_HOME (see warehouse.paper_results)"
        )
    data = _conform(spec, rows)
    if data.num_rows == 0:
        raise WarehouseWriteError(f"{table}: nothing to write (0 rows); to remove a run use delete_key")
    keys = pc.unique(data[spec.key]).to_pylist()
    if len(keys) != 1:
        raise WarehouseWriteError(f"{table}: write one {spec.key} at a time, got {len(keys)}: {keys[:5]}")
    key = _safe(spec, spec.key, keys[0])
    root = warehouse_root(home) / table
    written: list[Path] = []
    partitions = data.group_by(list(spec.partition_by)).aggregate([]) if spec.partition_by else None
    groups = partitions.to_pylist() if partitions is not None else [{}]
    for values in groups:
        folder = root
        mask = None
        for column in spec.partition_by:
            folder = folder / f"{column}={_safe(spec, column, values[column])}"
            match = pc.equal(data[column], values[column])
            mask = match if mask is None else pc.and_(mask, match)
        part = data.filter(mask) if mask is not None else data
        final = folder / f"{key}.parquet"
        write_parquet(final, part.select(spec.file_schema.names).cast(spec.file_schema))
        written.append(final)
    keep = set(written)
    for stale in root.glob(f"**/{key}.parquet"):
        if stale not in keep:
            stale.unlink(missing_ok=True)
    return written


def delete_key(table: str, key: str, home: VtonHome | None = None) -> int:
    """Remove every file of `key` (e.g. a run_id) from `table`; return how many files went."""
    spec = table_spec(table)
    root = warehouse_root(home) / table
    files = list(root.glob(f"**/{_safe(spec, spec.key, key)}.parquet"))
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)
