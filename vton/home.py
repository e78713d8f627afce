"""Where the platform writes: everything lives under VTON_HOME (default `.vton/` in the repository root)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_home() -> Path:
    """`.vton/` beside pyproject.toml when running from a checkout, else `.vton/` in the working directory."""
    if (REPO_ROOT / "pyproject.toml").exists():
        return REPO_ROOT / ".vton"
    return Path.cwd() / ".vton"


@dataclass(frozen=True)
class VtonHome:
    """The folders under VTON_HOME, one per kind of output. Created on first use."""

    root: Path

    @classmethod
    def from_env(cls) -> VtonHome:
        raw = os.environ.get("VTON_HOME")
        return cls(Path(raw).expanduser().resolve() if raw else default_home())

    def _dir(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def datasets_file(self) -> Path:
        """Registry of datasets (name -> root, layout)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / "datasets.json"

    def manifest_dir(self, dataset: str) -> Path:
        return self._dir("manifests", dataset)

    @property
    def raw(self) -> Path:
        """Raw copies the platform makes (e.g. generated demo datasets)."""
        return self._dir("raw")

    @property
    def shards(self) -> Path:
        return self._dir("shards")

    @property
    def checkpoints(self) -> Path:
        return self._dir("checkpoints")

    @property
    def warehouse(self) -> Path:
        return self._dir("warehouse")

    @property
    def dagster(self) -> Path:
        """DAGSTER_HOME: instance config and SQLite storage."""
        return self._dir("dagster")

    @property
    def ray(self) -> Path:
        """Ray's temp and session files."""
        return self._dir("ray")

    @property
    def weights(self) -> Path:
        """The weights store; VTON_WEIGHTS overrides it."""
        raw = os.environ.get("VTON_WEIGHTS")
        path = Path(raw).expanduser().resolve() if raw else self.root / "weights"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def tmp(self) -> Path:
        return self._dir("tmp")
