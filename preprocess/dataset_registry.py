"""Registered datasets (name -> root folder and layout), kept in VTON_HOME/datasets.json.

Registration is what the Dagster sensor watches: each registered dataset becomes a dynamic partition.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from vton import atomic_files
from vton.home import VtonHome

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")


class DatasetRegistryError(ValueError):
    """A registration request the user must fix (bad name, missing root, unknown dataset)."""


@dataclass(frozen=True)
class RegisteredDataset:
    name: str
    root: str  # absolute path
    layout: str  # a reader name, or "auto"
    registered_at: str


def check_dataset_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise DatasetRegistryError(
            f"dataset name {name!r} is not usable: use letters, digits, '_' or '-' (max 64), "
            "starting with a letter or digit"
        )
    return name


class DatasetRegistry:
    """Read and update the registry file; every write is atomic."""

    def __init__(self, home: VtonHome | None = None) -> None:
        self.home = home or VtonHome.from_env()
        self.path = self.home.datasets_file

    def all(self) -> dict[str, RegisteredDataset]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text())
        except json.JSONDecodeError as exc:
            raise DatasetRegistryError(
                f"{self.path} is not valid JSON ({exc}); fix or delete it and register the datasets again"
            ) from None
        return {name: RegisteredDataset(**entry) for name, entry in raw.get("datasets", {}).items()}

    def get(self, name: str) -> RegisteredDataset:
        datasets = self.all()
        if name not in datasets:
            known = ", ".join(sorted(datasets)) or "none"
            raise DatasetRegistryError(
                f"dataset {name!r} is not registered (registered: {known}); run: vton data register {name} ROOT"
            )
        return datasets[name]

    def register(self, name: str, root: Path, layout: str = "auto") -> RegisteredDataset:
        """Record (or update) a dataset. Re-registering the same name and root keeps the original date."""
        check_dataset_name(name)
        root = Path(root).expanduser().resolve()
        if not root.is_dir():
            raise DatasetRegistryError(f"dataset root {root} is not a folder; pass the dataset's top folder")
        datasets = self.all()
        old = datasets.get(name)
        if old and old.root == str(root) and old.layout == layout:
            return old
        entry = RegisteredDataset(name, str(root), layout, datetime.now(UTC).isoformat(timespec="seconds"))
        datasets[name] = entry
        atomic_files.write_json(self.path, {"datasets": {k: asdict(v) for k, v in sorted(datasets.items())}})
        return entry
