"""Fixtures for the Dagster wiring: tiny VITON-HD trees with real JPEGs, registered in a per-test VTON_HOME."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
from tiny_vitonhd import write_vitonhd

from preprocess.dataset_registry import DatasetRegistry


@pytest.fixture()
def make_dataset(vton_home: Path, tmp_path: Path) -> Callable[..., Path]:
    """Write a VITON-HD tree under tmp_path and register it in the test's VTON_HOME; returns its root."""

    def make(name: str, count: int = 3, missing_cloth: tuple[str, ...] = ()) -> Path:
        ids = [f"{n:05d}_00" for n in range(count)]
        root = write_vitonhd(tmp_path / "datasets" / name, ids, missing_cloth=missing_cloth)
        DatasetRegistry().register(name, root, "vitonhd")
        return root

    return make


@pytest.fixture()
def ephemeral_instance(vton_home: Path) -> dg.DagsterInstance:
    """An in-memory Dagster instance whose artifacts land in the test's VTON_HOME."""
    tempdir = vton_home / "dagster-ephemeral"
    tempdir.mkdir(parents=True)
    return dg.DagsterInstance.ephemeral(tempdir=str(tempdir))
