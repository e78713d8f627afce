"""The reader protocol every layout module implements (a registry maps layout names to readers)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from preprocess.samples import ReadResult


class Reader(Protocol):
    """Turns one dataset root of a known layout into canonical samples and quarantine rows."""

    name: str  # the layout name, as `--layout` takes it
    looks_for: str  # what `detect` checks, quoted in the error when no layout matches

    def detect(self, root: Path) -> bool:
        """Cheap check of a few folder and file names: does `root` look like this layout?"""
        ...

    def read(self, root: Path, dataset: str) -> ReadResult:
        """List files and parse pair/list files (never decoding images) into a ReadResult."""
        ...
