"""Pair and list files: read them line by line, normalise harmless noise, and resolve entries to files.

Blank lines, CRLF line ends, a UTF-8 byte-order mark and surrounding whitespace are normalised silently
and are not candidates. Every other line is a candidate: it becomes a sample or a quarantine row whose
reason names `file:line`. A line with bytes that are not UTF-8 is kept (shown with `\\xNN` escapes) so
the reader can quarantine it instead of crashing on the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from preprocess.formats.collector import ResultCollector
from preprocess.formats.listing import FolderIndex
from preprocess.formats.paths import PathEscapeError, confine


@dataclass(frozen=True)
class ListLine:
    """One candidate line of a pair or list file."""

    file: str  # the pair file, relative to the dataset root (or the listed file itself)
    number: int  # 1-based line number in the file; 0 when the candidate came from a folder listing
    text: str  # the stripped line (undecodable bytes as \xNN escapes)
    fields: tuple[str, ...]
    bad_bytes: str | None = None  # why the line is not valid UTF-8, when it is not

    @property
    def where(self) -> str:
        """`file:line` (or the listed file), the location every quarantine reason for this line names."""
        return f"{self.file}:{self.number}" if self.number else self.file

    def problem(self, expected: int, example: str) -> str | None:
        """Why the line cannot be a candidate (bytes not UTF-8, wrong column count), else None."""
        if self.bad_bytes is not None:
            return self.bad_bytes
        if len(self.fields) == expected:
            return None
        return (
            f"{self.where}: expected {expected} columns like {example!r}, found {len(self.fields)} "
            f"in {self.text!r}; fix the line"
        )


def read_list_file(root: Path, rel: str, *, comma_separated: bool = False) -> list[ListLine]:
    """Candidate lines of `root/rel` split on whitespace (or commas for CSV, minus its header row)."""
    data = (Path(root) / rel).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines: list[ListLine] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.strip()
        if not raw:
            continue
        bad: str | None = None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            text = raw.decode("utf-8", "backslashreplace")
            bad = (
                f"{rel}:{number}: byte 0x{raw[err.start]:02x} at column {err.start + 1} is not UTF-8 "
                f"({text!r}); re-save the pair file as UTF-8 and rename any file whose name is not UTF-8"
            )
        fields = tuple(f.strip() for f in text.split(",")) if comma_separated else tuple(text.split())
        lines.append(ListLine(rel, number, text, fields, bad))
    if comma_separated and lines and lines[0].bad_bytes is None and not lines[0].fields[0].isdigit():
        lines.pop(0)  # a CSV header row ("index,garment,person"), not a candidate
    return lines


def read_pairs_file(
    root: Path, rel: str, out: ResultCollector, *, comma_separated: bool = False
) -> list[ListLine]:
    """Candidate lines of one pairs file, announced to `out`; a missing, unreadable or empty file is a warning."""
    path = Path(root) / rel
    if not path.is_file():
        out.warn(
            f"{rel} is missing: nothing is read from it; add the pairs file to read that part of the dataset"
        )
        return []
    try:
        lines = read_list_file(root, rel, comma_separated=comma_separated)
    except OSError as err:
        out.warn(f"{rel} cannot be read ({err.strerror or err}); fix its permissions to read it")
        return []
    if not lines:
        out.warn(f"{rel} is empty: zero samples from it; fill it with pairs or delete it")
    out.announce(len(lines))
    return lines


def resolve(
    index: FolderIndex, folder: str, entry: str, role: str, line: ListLine
) -> tuple[str | None, str | None]:
    """Resolve a pair-file entry against its folder: `(path, None)` when usable, else `(None, reason)`."""
    try:
        rel = confine(folder, entry)
    except PathEscapeError as err:
        return None, (
            f"{line.where}: the {role} path {err}; pair files must name files inside the dataset root "
            f"(relative to {folder or 'the root'}/), fix the line"
        )
    problem = index.problem(rel)
    if problem is not None:
        return None, f"{line.where}: {role} file {problem}"
    return rel, None


def reject_malformed(out: ResultCollector, line: ListLine, expected: int, example: str) -> bool:
    """Quarantine a line that cannot be a candidate (see `ListLine.problem`); True when it was rejected."""
    problem = line.problem(expected, example)
    if problem is not None:
        out.reject(line.where, None, problem)
    return problem is not None


def resolve_or_reject(
    index: FolderIndex,
    out: ResultCollector,
    line: ListLine,
    sample_id: str,
    entries: list[tuple[str, str, str]],
) -> list[str] | None:
    """Resolve `(folder, entry, role)` triples in order: all paths, or None once the first failure has
    quarantined the sample with its reason."""
    paths: list[str] = []
    for folder, entry, role in entries:
        path, reason = resolve(index, folder, entry, role, line)
        if path is None:
            out.reject(line.where, sample_id, reason or "")
            return None
        paths.append(path)
    return paths
