"""The local weights store: files a user imported once, verified, and handed to components by name.

Layout under the store root (VTON_WEIGHTS, default VTON_HOME/weights): `<name>/<filename>` (a file or a
folder) and beside it `<name>/record.json`, what the import verified (digests, sizes, mtime). Imports
copy to a temp name inside `<name>/` and rename, so a killed import never leaves a half file under the
final name. `path(name)` is cheap (it compares sizes and mtimes with the record); `verify(name)`
re-hashes and re-runs the loadability check. Files a pip package ships (`entry.bundled`) are used from
the installed package when the store has no copy. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vton.atomic_files import write_json
from vton.home import VtonHome
from vton.weights.catalog import CATALOG, WeightsEntry
from vton.weights.errors import MissingWeightsError, WeightsCheckError, WeightsError
from vton.weights.loadability import check_loadable

log = logging.getLogger(__name__)

RECORD_FILE = "record.json"
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class EntryStatus:
    """Where one catalog entry stands: present (in the store or bundled), its path, verified, and why."""

    entry: WeightsEntry
    present: bool
    path: Path | None
    verified: bool
    note: str
    bundled: bool = False  # found inside an installed pip package rather than in the store

    @property
    def state(self) -> str:
        if not self.present:
            return "missing"
        where = " (bundled)" if self.bundled else ""
        return ("verified" if self.verified else "present, not verified") + where

    def as_dict(self) -> dict:
        e = self.entry
        return {
            "name": e.name,
            "filename": e.filename,
            "kind": e.kind,
            "sha256": e.sha256,
            "sha256_prefix": e.sha256_prefix,
            "size_bytes": e.size_bytes,
            "check": e.check,
            "used_by": list(e.used_by),
            "source": e.source,
            "present": self.present,
            "verified": self.verified,
            "state": self.state,
            "path": str(self.path) if self.path else None,
            "bundled": self.bundled,
            "note": self.note,
        }


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(src: Path, dst: Path) -> str:
    """Copy src to dst in one pass, fsync it, and return the sha256 of the bytes written."""
    digest = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            digest.update(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return digest.hexdigest()


def _folder_files(folder: Path) -> Iterator[Path]:
    """Files of a folder in a fixed order, following symlinks (HF cache snapshots), skipping hidden names."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if not fn.startswith("."):
                yield Path(dirpath) / fn


def _hash_folder(folder: Path) -> dict[str, dict]:
    return {
        p.relative_to(folder).as_posix(): {"sha256": sha256_file(p), "size": p.stat().st_size}
        for p in _folder_files(folder)
    }


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


class WeightsStore:
    """Imported weights under one root, checked against a catalog (the real one unless a test injects one)."""

    def __init__(self, root: Path, catalog: Iterable[WeightsEntry] = CATALOG) -> None:
        self.root = Path(root)
        self.catalog: dict[str, WeightsEntry] = {}
        for entry in catalog:
            if entry.name in self.catalog:
                raise ValueError(f"weights catalog names {entry.name!r} twice")
            self.catalog[entry.name] = entry

    @classmethod
    def from_env(cls) -> WeightsStore:
        """The store at VTON_WEIGHTS, else VTON_HOME/weights, with the real catalog."""
        return cls(VtonHome.from_env().weights)

    # -- lookup -------------------------------------------------------------------------------------

    def entry(self, name: str) -> WeightsEntry:
        """The catalog entry called `name`; an unknown name is a one-line WeightsError listing the known ones."""
        try:
            return self.catalog[name]
        except KeyError:
            raise WeightsError(
                f"unknown weights name {name!r}; known names: {', '.join(sorted(self.catalog))}"
            ) from None

    def _final(self, entry: WeightsEntry) -> Path:
        return self.root / entry.name / entry.filename

    def _record_path(self, entry: WeightsEntry) -> Path:
        return self.root / entry.name / RECORD_FILE

    def _read_record(self, entry: WeightsEntry) -> dict | None:
        try:
            return json.loads(self._record_path(entry).read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def _bundled_path(self, entry: WeightsEntry) -> Path | None:
        if not entry.bundled:
            return None
        package, rel = entry.bundled.split(":", 1)
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        for base in spec.submodule_search_locations:
            candidate = Path(base) / rel
            if candidate.is_file():
                return candidate
        return None

    # -- what is there ------------------------------------------------------------------------------

    def _record_problem(self, entry: WeightsEntry, final: Path) -> str | None:
        """Why the installed copy can't be trusted without re-verifying (None when the record matches)."""
        record = self._read_record(entry)
        if record is None:
            return f"not imported through vton (no record): run vton weights verify {entry.name}"
        if entry.kind == "file":
            st = final.stat()
            if (st.st_size, st.st_mtime_ns) != (record.get("size_bytes"), record.get("mtime_ns")):
                return f"changed since import: run vton weights verify {entry.name}"
            expected_problem = self._digest_problem(entry, record.get("sha256", ""))
            if expected_problem:
                return f"recorded digest no longer matches the catalog ({expected_problem})"
            return None
        recorded = record.get("files") or {}
        for rel, info in recorded.items():
            p = final / rel
            if not p.is_file() or p.stat().st_size != info.get("size"):
                return f"changed since import ({rel}): run vton weights verify {entry.name}"
        return None

    def status(self) -> list[EntryStatus]:
        """Every catalog entry with where it stands; cheap (no hashing of imported files)."""
        return [self._status(entry) for entry in self.catalog.values()]

    def _status(self, entry: WeightsEntry) -> EntryStatus:
        final = self._final(entry)
        if final.exists():
            problem = self._record_problem(entry, final)
            if problem:
                return EntryStatus(entry, True, final, False, problem)
            record = self._read_record(entry) or {}
            return EntryStatus(entry, True, final, True, f"verified {record.get('verified_at', '')}".strip())
        bundled = self._bundled_path(entry)
        if bundled is not None:
            package = entry.bundled.split(":", 1)[0]
            actual = sha256_file(bundled)
            problem = self._digest_problem(entry, actual)
            if problem:
                return EntryStatus(
                    entry, True, bundled, False, f"bundled with {package}, but {problem}", True
                )
            return EntryStatus(
                entry, True, bundled, True, f"bundled with the installed {package} package", True
            )
        return EntryStatus(entry, False, None, False, entry.import_command)

    def path(self, name: str) -> Path:
        """The verified file or folder for `name`; fails fast with one line naming the file and the fix."""
        entry = self.entry(name)
        st = self._status(entry)
        if not st.present:
            raise self._missing(entry)
        if not st.verified:
            raise WeightsCheckError(f"weights {entry.name!r} at {st.path} cannot be trusted: {st.note}")
        assert st.path is not None
        return st.path

    def sha256(self, name: str) -> str:
        """The sha256 of what `path(name)` gives: the digest recorded at import (no re-hash), a bundled
        file's own hash, or for a folder the hash of its recorded per-file digests. Components fold it into
        their version, so new weights re-annotate what they fed."""
        path = self.path(name)
        entry = self.entry(name)
        record = self._read_record(entry) if path == self._final(entry) else None
        if entry.kind == "folder":
            files = (record or {}).get("files") or _hash_folder(path)
            return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
        return (record or {}).get("sha256") or sha256_file(path)

    @staticmethod
    def _missing(entry: WeightsEntry) -> MissingWeightsError:
        return MissingWeightsError(
            f"missing weights {entry.name!r} ({entry.filename}, {entry.used_by_text}): "
            f"get it from {entry.source}, then run: {entry.import_command}"
        )

    # -- checks -------------------------------------------------------------------------------------

    @staticmethod
    def _digest_problem(entry: WeightsEntry, actual: str) -> str | None:
        if entry.sha256 and actual != entry.sha256:
            return f"sha256 mismatch: expected {entry.sha256}, got {actual}"
        if entry.sha256_prefix and not actual.startswith(entry.sha256_prefix):
            return f"sha256 mismatch: expected a digest starting {entry.sha256_prefix}, got {actual}"
        return None

    def _check_file_digest(self, entry: WeightsEntry, path: Path, actual: str) -> None:
        problem = self._digest_problem(entry, actual)
        if problem:
            raise WeightsCheckError(
                f"refused {path}: {problem} for {entry.name} ({entry.filename}); "
                f"the file is corrupt or a different one: get it from {entry.source}"
            )

    def _check_size(self, entry: WeightsEntry, path: Path) -> None:
        size = path.stat().st_size
        if entry.size_bytes is not None and size != entry.size_bytes:
            raise WeightsCheckError(
                f"refused {path}: {size} bytes, {entry.name} ({entry.filename}) has {entry.size_bytes}; "
                f"the download is incomplete or a different file: get it from {entry.source}"
            )

    def verify(self, name: str) -> EntryStatus:
        """Re-hash and re-check the copy `path(name)` would give, refresh its record, return its status."""
        entry = self.entry(name)
        final = self._final(entry)
        if not final.exists():
            bundled = self._bundled_path(entry)
            if bundled is None:
                raise self._missing(entry)
            self._check_size(entry, bundled)
            self._check_file_digest(entry, bundled, sha256_file(bundled))
            check_loadable(bundled, entry)
            return self._status(entry)
        if entry.kind == "file":
            if not final.is_file():
                raise WeightsCheckError(f"{final} should be a file for {entry.name}; remove it and re-import")
            self._check_size(entry, final)
            actual = sha256_file(final)
            self._check_file_digest(entry, final, actual)
            recorded = (self._read_record(entry) or {}).get("sha256")
            if recorded is not None and recorded != actual:  # matters where the catalog knows no digest
                raise WeightsCheckError(
                    f"{entry.name} at {final} differs from what was imported (sha256 {recorded} at import, "
                    f"now {actual}); re-import it: {entry.import_command}"
                )
            check_loadable(final, entry)
            self._write_file_record(entry, final, actual)
        else:
            check_loadable(final, entry)
            files = _hash_folder(final)
            recorded = (self._read_record(entry) or {}).get("files")
            if recorded is not None and recorded != files:
                changed = ", ".join(_diff(recorded, files)[:5])
                raise WeightsCheckError(
                    f"{entry.name} at {final} differs from what was imported ({changed}); "
                    f"re-import it: {entry.import_command}"
                )
            self._write_folder_record(entry, files)
        return self._status(entry)

    # -- import -------------------------------------------------------------------------------------

    def _identify(self, src: Path, name: str | None) -> tuple[WeightsEntry, str | None]:
        """The entry a source is imported as (by name, else file name, else sha256); and its digest if computed."""
        if name is not None:
            return self.entry(name), None
        by_filename = [e for e in self.catalog.values() if e.filename == src.name]
        if len(by_filename) == 1:
            return by_filename[0], None
        if len(by_filename) > 1:
            names = ", ".join(e.name for e in by_filename)
            raise WeightsError(f"{src.name} is the file name of several entries ({names}): pass --name")
        if src.is_file():
            actual = sha256_file(src)
            by_hash = [e for e in self.catalog.values() if e.sha256 == actual]
            if by_hash:
                return by_hash[0], actual
        raise WeightsError(
            f"{src} matches no known weights entry by file name or sha256; run `vton weights list` "
            "and pass --name NAME to import it as one of them"
        )

    def import_file(
        self, path: Path, name: str | None = None, report: Callable[[str], None] | None = None
    ) -> Path:
        """Verify `path` (hash/prefix/size, then loadability) and install it atomically; return the store path.

        Importing an identical copy again is a no-op. `report` receives one line saying what happened.
        """
        say = report or log.info
        src = Path(path).expanduser()
        if not src.exists():
            raise WeightsError(f"{src} does not exist; pass the path of the downloaded file or folder")
        entry, digest = self._identify(src, name)
        if entry.kind == "file" and not src.is_file():
            raise WeightsError(f"{src} is not a file; {entry.name} is the file {entry.filename}")
        if entry.kind == "folder" and not src.is_dir():
            raise WeightsError(f"{src} is not a folder; {entry.name} is the folder {entry.filename}")
        (self.root / entry.name).mkdir(parents=True, exist_ok=True)
        if entry.kind == "file":
            return self._import_one_file(entry, src, digest, say)
        return self._import_folder(entry, src, say)

    def _already_installed(self, entry: WeightsEntry, matches: Callable[[dict], bool]) -> bool:
        final = self._final(entry)
        record = self._read_record(entry)
        return (
            final.exists()
            and record is not None
            and self._record_problem(entry, final) is None
            and matches(record)
        )

    def _import_one_file(
        self, entry: WeightsEntry, src: Path, digest: str | None, say: Callable[[str], None]
    ) -> Path:
        self._check_size(entry, src)
        actual = digest or sha256_file(src)
        self._check_file_digest(entry, src, actual)
        final = self._final(entry)
        if self._already_installed(entry, lambda rec: rec.get("sha256") == actual):
            say(f"{entry.name}: already installed at {final} (same sha256 {actual[:12]}), nothing to do")
            return final
        tmp = final.with_name(f".{entry.filename}.{secrets.token_hex(4)}.tmp")
        try:
            copied = _copy_hashing(src, tmp)
            if copied != actual:
                raise WeightsCheckError(f"{src} changed while it was being imported; import it again")
            what = check_loadable(tmp, entry, label=str(src))
            os.replace(tmp, final)
        finally:
            _remove(tmp)
        self._write_file_record(entry, final, actual)
        how = (
            "sha256" if entry.sha256 else ("sha256 prefix" if entry.sha256_prefix else "size and loadability")
        )
        say(f"{entry.name}: installed {final} (verified by {how}; {what})")
        return final

    def _import_folder(self, entry: WeightsEntry, src: Path, say: Callable[[str], None]) -> Path:
        check_loadable(
            src, entry, label=str(src)
        )  # cheap structural check first: refuse before copying gigabytes
        files = _hash_folder(src)
        final = self._final(entry)
        if self._already_installed(entry, lambda rec: rec.get("files") == files):
            say(f"{entry.name}: already installed at {final} (same {len(files)} files), nothing to do")
            return final
        tmp = final.with_name(f".{entry.filename}.{secrets.token_hex(4)}.tmp")
        old = final.with_name(f".{entry.filename}.{secrets.token_hex(4)}.old")
        try:
            tmp.mkdir()
            for rel, info in files.items():
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if _copy_hashing(src / rel, target) != info["sha256"]:
                    raise WeightsCheckError(f"{src / rel} changed while it was being imported; import again")
            what = check_loadable(tmp, entry, label=str(src))
            if final.exists():
                os.replace(final, old)
            os.replace(tmp, final)
        finally:
            _remove(tmp)
            _remove(old)
        self._write_folder_record(entry, files)
        say(f"{entry.name}: installed {final} ({len(files)} files; {what})")
        return final

    # -- records ------------------------------------------------------------------------------------

    def _write_file_record(self, entry: WeightsEntry, final: Path, actual: str) -> None:
        st = final.stat()
        write_json(
            self._record_path(entry),
            {
                "name": entry.name,
                "filename": entry.filename,
                "kind": entry.kind,
                "sha256": actual,
                "size_bytes": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "verified_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )

    def _write_folder_record(self, entry: WeightsEntry, files: dict[str, dict]) -> None:
        write_json(
            self._record_path(entry),
            {
                "name": entry.name,
                "filename": entry.filename,
                "kind": entry.kind,
                "files": files,
                "verified_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )


def _diff(recorded: dict[str, dict], files: dict[str, dict]) -> list[str]:
    """Relative paths added, removed or changed between two folder digests."""
    return sorted(k for k in set(recorded) | set(files) if recorded.get(k) != files.get(k))
