"""A cheap fingerprint of a dataset folder: changes when any file is added, removed, resized or touched.

The Dagster sensor compares it between ticks to decide which manifests to rebuild, so it must be fast on
100k files: it reads only directory entries and `stat` results (never file bytes) and hashes the sorted
(relative path, size, mtime_ns) triples. Hidden entries (names starting with '.') are skipped: they are
editor, OS and temp files (atomic writes use hidden temp names), never dataset content.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


class FingerprintError(OSError):
    """The dataset root cannot be fingerprinted (missing, not a folder, unreadable)."""


@dataclass(frozen=True)
class TreeFingerprint:
    """What a fingerprint covers: the digest the sensor compares, plus counts for its log lines."""

    digest: str  # sha256 hex of the sorted (relative path, size, mtime_ns) triples
    files: int
    bytes: int


def _scan(root: Path) -> list[tuple[str, int, int]]:
    """Every non-hidden file under root as (relative POSIX path, size, mtime_ns); follows symlinks once."""
    entries: list[tuple[str, int, int]] = []
    seen_dirs: set[tuple[int, int]] = set()
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            folder_stat = os.stat(folder)
            with os.scandir(folder) as it:
                listing = list(it)
        except FileNotFoundError:
            continue  # removed while we walked: the next tick sees the new state
        if (folder_stat.st_dev, folder_stat.st_ino) in seen_dirs:
            continue  # a symlink loop or a folder linked twice: count its files once
        seen_dirs.add((folder_stat.st_dev, folder_stat.st_ino))
        for entry in listing:
            if entry.name.startswith("."):
                continue
            rel = f"{prefix}{entry.name}"
            try:
                if entry.is_dir():
                    stack.append((entry.path, rel + "/"))
                    continue
                st = entry.stat()
            except FileNotFoundError:
                entries.append((rel, -1, 0))  # a broken symlink: fixing it changes the fingerprint
                continue
            entries.append((rel, st.st_size, st.st_mtime_ns))
    entries.sort()
    return entries


def fingerprint_tree(root: Path) -> TreeFingerprint:
    """Fingerprint every file under `root` from its name, size and modification time (no file reads)."""
    root = Path(root)
    if not root.is_dir():
        raise FingerprintError(f"dataset root {root} is missing or not a folder; re-register the dataset")
    try:
        entries = _scan(root)
    except PermissionError as exc:
        raise FingerprintError(
            f"cannot list {exc.filename} under {root}: permission denied; fix its permissions"
        ) from None
    digest = hashlib.sha256()
    total = 0
    for rel, size, mtime_ns in entries:
        digest.update(os.fsencode(rel) + b"\0" + f"{size}\0{mtime_ns}\n".encode())
        total += max(size, 0)
    return TreeFingerprint(digest=digest.hexdigest(), files=len(entries), bytes=total)


def fingerprint_dataset(root: Path, layout: str) -> TreeFingerprint:
    """`fingerprint_tree` of a registered dataset, also covering its registration (resolved root, layout).

    Re-registering a name with another root or layout counts as a change, like a changed file.
    """
    tree = fingerprint_tree(root)
    registration = f"{Path(root).resolve()}\0{layout}\0{tree.digest}".encode("utf-8", "surrogateescape")
    return TreeFingerprint(
        digest=hashlib.sha256(registration).hexdigest(), files=tree.files, bytes=tree.bytes
    )
