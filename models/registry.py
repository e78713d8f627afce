"""The model registry: every trained checkpoint with its lineage, in the warehouse table `model_registry`.

A row records the family, preset, checkpoint folder, training dataset(s) and their version(s), the config
hash, the code version (`metrics.evaluation.runs.code_version`), the parent version a run continued from and
the checkpoint's metrics (JSON). The version id is a content id,
`<family>-<12 hex of sha256(family, config_hash, dataset_version, weights sha256)>`, so registering the same
checkpoint again replaces its row instead of adding one; the row keeps its first `created_at`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from models.training.checkpoints import EMA_FILE, MODEL_FILE
from vton.home import VtonHome
from warehouse.schemas import table_spec
from warehouse.writer import warehouse_root, write_rows

TABLE = "model_registry"


def _home(home: VtonHome | Path | str | None) -> VtonHome:
    if home is None:
        return VtonHome.from_env()
    return home if isinstance(home, VtonHome) else VtonHome(Path(home))


def _joined(value: str | Sequence[str] | None) -> str | None:
    """One string for one or several datasets (or versions): several are sorted and joined with '+'."""
    if value is None or isinstance(value, str):
        return value
    return "+".join(sorted(str(v) for v in value))


def weights_sha256(checkpoint: Path) -> str:
    """sha256 over the checkpoint's weight files (model, and EMA when present)."""
    checkpoint = Path(checkpoint)
    if not (checkpoint / MODEL_FILE).is_file():
        raise FileNotFoundError(
            f"{checkpoint / MODEL_FILE} does not exist: register a checkpoint folder that train() wrote"
        )
    digest = hashlib.sha256()
    for name in (MODEL_FILE, EMA_FILE):
        path = checkpoint / name
        if path.is_file():
            digest.update(name.encode() + b"\0")
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def model_version(family: str, config_hash: str, dataset_version: str | None, weights_sha: str) -> str:
    """`<family>-<12 hex>`: the content id of a checkpoint."""
    body = "\0".join([family, config_hash, dataset_version or "", weights_sha])
    return f"{family}-{hashlib.sha256(body.encode()).hexdigest()[:12]}"


def register_model(
    home: VtonHome | Path | str | None,
    *,
    family: str,
    preset: str | None,
    checkpoint: Path,
    train_dataset: str | Sequence[str],
    dataset_version: str | Sequence[str] | None,
    config_hash: str,
    metrics: Mapping[str, Any],
    parent_version: str | None = None,
) -> str:
    """Record `checkpoint` in `model_registry` and return its model_version (idempotent, see the module)."""
    from metrics.evaluation.runs import code_version

    vhome = _home(home)
    checkpoint = Path(checkpoint).resolve()
    versions = _joined(dataset_version)
    version = model_version(family, config_hash, versions, weights_sha256(checkpoint))
    earlier = next((row for row in list_models(vhome, family) if row["model_version"] == version), None)
    row = {
        "model_version": version,
        "model": family,
        "family": family,
        "preset": preset,
        "checkpoint": str(checkpoint),
        "train_dataset": _joined(train_dataset),
        "dataset_version": versions,
        "config_hash": config_hash,
        "code_version": code_version(),
        "parent_version": parent_version,
        "metrics": json.dumps(dict(metrics), sort_keys=True, default=float),
        "created_at": earlier["created_at"] if earlier else datetime.now(UTC),
    }
    write_rows(TABLE, [row], home=vhome)
    return version


def list_models(home: VtonHome | Path | str | None = None, family: str | None = None) -> list[dict[str, Any]]:
    """Registered model versions (newest first), optionally of one family; `metrics` parsed back to a dict."""
    root = warehouse_root(_home(home)) / TABLE
    spec = table_spec(TABLE)
    folders = [root / f"model={family}"] if family else sorted(root.glob("model=*"))
    rows: list[dict[str, Any]] = []
    for folder in folders:
        for path in sorted(folder.glob("*.parquet")):
            for row in pq.read_table(path).to_pylist():
                row["model"] = folder.name.partition("=")[2]
                row["metrics"] = json.loads(row["metrics"]) if row.get("metrics") else {}
                rows.append({name: row.get(name) for name in spec.schema.names})
    epoch = datetime.min.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r["created_at"] or epoch, r["model_version"]), reverse=True)
    return rows


def latest_model(
    home: VtonHome | Path | str | None, family: str, train_dataset: str
) -> dict[str, Any] | None:
    """The newest registered version of `family` trained on `train_dataset`, or None."""
    for row in list_models(home, family):
        if row["train_dataset"] == train_dataset:
            return row
    return None
