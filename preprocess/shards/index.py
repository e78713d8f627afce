"""The shard folder's index: which sample lives in which shard, with the hashes that decide re-annotation.

Files beside the shards, each written atomically after the shards they describe:
- `index.parquet` (INDEX_SCHEMA): one row per sample in a shard, with `fields_hash` = hash of the
  sample's `content_hash` and the (field, annotator name, version) of every annotator that fed it;
- `quarantine.parquet` (QUARANTINE_SCHEMA): samples the annotation stage rejected, with reasons;
- `shards.json`: counts, per-shard records (samples, payload bytes, size, sha256, mtime), annotator
  versions, dataset_version, and the fields_hash of each quarantined sample (so an unchanged reject is
  not annotated again).
`load_state` trusts a shard's index rows only while the file's size and mtime match its record; any other
shard file (left by a killed run, or with no record) is re-indexed from its own `meta.json` members, so the
state always describes what is really on disk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from preprocess.annotators.agnostic_video import clip_field_versions
from preprocess.annotators.base import Annotator
from preprocess.samples import QUARANTINE_SCHEMA
from preprocess.shards.codec import META_MEMBER
from preprocess.shards.reader import SHARDS_JSON, iter_tar
from preprocess.shards.writer import list_shard_files, shard_name, write_shard
from vton import atomic_files

INDEX_FILE = "index.parquet"
QUARANTINE_FILE = "quarantine.parquet"
INDEX_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("shard", pa.string()),
        ("split", pa.string()),
        ("category", pa.string()),
        ("content_hash", pa.string()),
        ("fields_hash", pa.string()),
        ("bytes", pa.int64()),  # payload bytes of the sample's members
    ]
)

# field -> (annotator name, version); either one mapping for every row or a function of the manifest row
FieldVersions = Mapping[str, tuple[str, str]]
AnnotatorVersions = FieldVersions | Callable[[Mapping[str, Any]], FieldVersions]


def versions_of(annotators: Iterable[Annotator]) -> dict[str, tuple[str, str]]:
    """The field -> (name, version) map of a set of annotators (each fills its `outputs`)."""
    out: dict[str, tuple[str, str]] = {}
    for annotator in annotators:
        for field in annotator.outputs:
            if field in out:
                raise ValueError(
                    f"field {field!r} is filled by both {out[field][0]} and {annotator.name}; keep one"
                )
            out[field] = (annotator.name, annotator.version)
    return out


def row_versions(versions: AnnotatorVersions, row: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """The annotators that feed one manifest row; a video clip's agnostic masks, made per frame, carry their
    own version (`agnostic_video.clip_field_versions`)."""
    return clip_field_versions(versions(row) if callable(versions) else versions, row)


def fields_hash(content_hash: str, versions: FieldVersions) -> str:
    """Hash of the input bytes and of every (field, annotator, version) behind the sample's shard fields."""
    digest = hashlib.sha256(content_hash.encode() + b"\n")
    for field in sorted(versions):
        name, version = versions[field]
        digest.update(f"{field}\0{name}\0{version}\n".encode())
    return digest.hexdigest()


def load_state(folder: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Entries of the samples on disk (shard rows, and quarantined rows with `shard` None) and the records
    of the shard files, reconciled with the files themselves (see the module docstring)."""
    folder = Path(folder)
    summary = _read_json(folder / SHARDS_JSON)
    records = {rec["name"]: rec for rec in summary.get("shards", [])}
    indexed: dict[str, list[dict[str, Any]]] = {}
    try:
        for row in pq.read_table(folder / INDEX_FILE).to_pylist():
            indexed.setdefault(row["shard"], []).append(row)
    except (OSError, pa.ArrowInvalid, KeyError):
        indexed = {}  # missing or unreadable index: every shard is re-indexed from its tar below
    entries: list[dict[str, Any]] = []
    trusted: dict[str, dict[str, Any]] = {}
    for name in list_shard_files(folder):
        stat = (folder / name).stat()
        rec = records.get(name)
        if (
            rec
            and rec.get("size") == stat.st_size
            and rec.get("mtime_ns") == stat.st_mtime_ns
            and name in indexed
        ):
            entries.extend(indexed[name])
            trusted[name] = rec
        else:
            rows, rec = scan_shard(folder, name)
            entries.extend(rows)
            trusted[name] = rec
    for q in summary.get("quarantined", []):
        entries.append({**q, "shard": None})
    return entries, trusted


def scan_shard(folder: Path, name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Index rows and the record of one shard, read from the tar itself (its `meta.json` members)."""
    path = Path(folder) / name
    rows = []
    for key, members in iter_tar(path):
        meta = json.loads(members[META_MEMBER]) if META_MEMBER in members else {}
        rows.append(
            {
                "sample_id": key,
                "shard": name,
                "split": meta.get("split"),
                "category": meta.get("category"),
                "content_hash": meta.get("content_hash"),
                "fields_hash": meta.get("fields_hash", ""),  # unknown provenance: annotated again
                "bytes": sum(len(v) for v in members.values()),
            }
        )
    data = path.read_bytes()
    stat = path.stat()
    rec = {
        "name": name,
        "samples": len(rows),
        "bytes": sum(r["bytes"] for r in rows),
        "size": stat.st_size,
        "sha256": hashlib.sha256(data).hexdigest(),
        "mtime_ns": stat.st_mtime_ns,
    }
    return rows, rec


def write_state(
    folder: Path,
    entries: list[dict[str, Any]],
    quarantine: list[dict[str, Any]],
    records: list[dict[str, Any]],
    summary: Mapping[str, Any],
) -> None:
    """Write quarantine.parquet, index.parquet, then shards.json, each atomically (call after the shards)."""
    folder = Path(folder)
    quarantine = sorted(quarantine, key=lambda q: (q["sample_id"] or "", q["path"], q["reason"]))
    atomic_files.write_parquet(
        folder / QUARANTINE_FILE,
        pa.Table.from_pylist(
            [{k: q[k] for k in QUARANTINE_SCHEMA.names} for q in quarantine], schema=QUARANTINE_SCHEMA
        ),
    )
    rows = sorted(entries, key=lambda e: e["sample_id"])
    atomic_files.write_parquet(
        folder / INDEX_FILE,
        pa.Table.from_pylist([{k: e[k] for k in INDEX_SCHEMA.names} for e in rows], schema=INDEX_SCHEMA),
    )
    body = dict(summary) | {
        "shards": sorted(records, key=lambda r: r["name"]),
        "quarantined": [
            {
                k: q[k]
                for k in ("sample_id", "fields_hash", "content_hash", "dataset", "path", "stage", "reason")
            }
            for q in quarantine
        ],
    }
    atomic_files.write_json(folder / SHARDS_JSON, body)


def read_index(folder: Path) -> pa.Table:
    """The index of a built shard folder (INDEX_SCHEMA)."""
    path = Path(folder) / INDEX_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: build the shards first (vton data build)")
    return pq.read_table(path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_shard_folder(
    folder: Path,
    samples: Mapping[str, Mapping[str, bytes]],
    *,
    per_shard: int,
    summary: Mapping[str, Any],
) -> Path:
    """Write already-encoded samples (`{key: members}`) as a complete shard folder: shards in key order,
    `per_shard` samples each, then the index, an empty quarantine and shards.json (`summary` is its extra
    fields, e.g. `dataset_version`). For samples made outside the annotation pipeline (tests, predictions)."""
    keys = sorted(samples)
    rows: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for number, start in enumerate(range(0, len(keys), per_shard)):
        name = shard_name(number)
        write_shard(folder, name, {k: samples[k] for k in keys[start : start + per_shard]})
        shard_rows, record = scan_shard(folder, name)
        rows += shard_rows
        records.append(record)
    write_state(folder, rows, [], records, summary)
    return Path(folder)
