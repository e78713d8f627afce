"""Path rules every reader shares: entries of pair files stay inside the dataset root, names print safely.

Pair and list files name files relative to a folder of the dataset; an absolute path or a `..` that
climbs out of the root is refused, never followed. Filenames that are not valid UTF-8 reach Python as
surrogate escapes (PEP 383); they are shown with `\\xNN` escapes and never enter a manifest.
"""

from __future__ import annotations

import posixpath
import re

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


class PathEscapeError(ValueError):
    """A path named in a pair or list file points outside the dataset root."""


def display_name(name: str) -> str:
    """A filename as printable text: bytes that are not UTF-8 appear as `\\xNN` escapes."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def is_utf8_name(name: str) -> bool:
    """True when a name read from disk is valid UTF-8 (no surrogate escapes), so a manifest can store it."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def confine(folder: str, entry: str) -> str:
    """Join a pair-file entry to the root-relative `folder` it is read against; raise PathEscapeError if it leaves the root."""
    if entry.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(entry):
        raise PathEscapeError(f"{entry!r} is an absolute path")
    joined = posixpath.normpath(posixpath.join(folder, entry)) if folder else posixpath.normpath(entry)
    if joined == ".." or joined.startswith("../") or joined == ".":
        raise PathEscapeError(f"{entry!r} climbs out of the dataset root")
    return joined


def stem(name: str) -> str:
    """The file name without its directory and last extension: `test/image/00006_00.jpg` -> `00006_00`."""
    base = posixpath.basename(name)
    dot = base.rfind(".")
    return base[:dot] if dot > 0 else base
