"""A tiny synthetic VITON-HD dataset and its manifest rows, built once for the shard tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from preprocess.manifest import build_manifest
from preprocess.synthetic import generate_dataset


@dataclass
class SynthRows:
    root: Path
    rows: list[dict]
    candidates: int
    manifest_quarantine: int


@pytest.fixture(scope="session")
def synth_rows(tmp_path_factory) -> SynthRows:
    base = tmp_path_factory.mktemp("shards-synth")
    root = base / "data"
    generate_dataset("vitonhd", 10, root, seed=7, size=(128, 96))
    result = build_manifest(root, "tiny", base / "manifest", use_ray=False)
    rows = pq.read_table(result.manifest).to_pylist()
    return SynthRows(root, rows, result.candidates, result.quarantined)
