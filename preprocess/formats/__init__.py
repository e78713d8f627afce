"""Dataset readers: one per published layout, each turning a dataset root into canonical samples.

`READERS` maps a layout name to its reader, in detection order (the plain-folder reader last, since almost
any tree holds images). `read_dataset` picks the layout (or takes the forced one) and returns a ReadResult
whose samples and quarantine rows account for every candidate the dataset announced.
"""

from __future__ import annotations

from pathlib import Path

from preprocess.formats.dresscode import DressCodeReader
from preprocess.formats.errors import LayoutError
from preprocess.formats.folder import FolderReader
from preprocess.formats.reader import Reader
from preprocess.formats.streettryon import StreetTryOnReader
from preprocess.formats.vitonhd import VitonHDReader
from preprocess.formats.vivid import ViViDReader
from preprocess.formats.vvt import VVTReader
from preprocess.samples import ReadResult

READERS: dict[str, Reader] = {
    reader.name: reader
    for reader in (
        VitonHDReader(),
        DressCodeReader(),
        VVTReader(),
        ViViDReader(),
        StreetTryOnReader(),
        FolderReader(),
    )
}

__all__ = ["READERS", "LayoutError", "Reader", "detect_layout", "read_dataset"]


def _require_folder(root: Path) -> None:
    if not root.exists():
        raise LayoutError(f"dataset root {root} does not exist; check the path")
    if not root.is_dir():
        raise LayoutError(
            f"dataset root {root} is a file, not a folder; give the folder that holds the dataset"
        )


def detect_layout(root: Path) -> str:
    """The name of the first layout whose reader recognises `root`; LayoutError naming what was looked for."""
    root = Path(root)
    _require_folder(root)
    for name, reader in READERS.items():
        if reader.detect(root):
            return name
    looked = "\n".join(f"  - {name}: {reader.looks_for}" for name, reader in READERS.items())
    raise LayoutError(
        f"no known dataset layout found in {root}. Looked for:\n{looked}\n"
        f"If the files are there under other names, force a layout with --layout {{{','.join(READERS)}}}."
    )


def read_dataset(root: Path, dataset: str, layout: str = "auto") -> ReadResult:
    """Read a dataset root with its layout's reader (detected when `layout` is "auto") into a ReadResult."""
    root = Path(root)
    _require_folder(root)
    if layout == "auto":
        layout = detect_layout(root)
    elif layout not in READERS:
        raise LayoutError(f"unknown layout {layout!r}; use --layout with one of: auto, {', '.join(READERS)}")
    reader = READERS[layout]
    result = reader.read(root, dataset)
    if not reader.detect(root):
        result.warnings.insert(
            0, f"--layout {layout} was forced but {root} does not look like it (expected {reader.looks_for})"
        )
    result.check_accounting()
    return result
