"""Write WebDataset tar shards atomically and byte-deterministically.

A shard is written under a temporary name starting with "." in its final folder and renamed to
`shard-NNNNNN.tar` only when complete and fsynced, so a killed build never leaves a partial shard under a
final name; `clean_temp_files` removes such leftovers on the next run. Tar headers carry no time, owner or
host data (mtime 0, uid/gid 0, empty user/group names, mode 0644) and samples are added in ascending key
order with their members sorted, so the same samples always give the same bytes. Because of that, a sample
of an older shard whose headers are exactly these (`sample_blocks` finds them) can be copied into a new
shard as its raw tar blocks (`ShardWriter.add_blocks`) and give the bytes `add` would give.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from preprocess.samples import is_valid_sample_id

SHARD_PATTERN = re.compile(r"^shard-(\d{6})\.tar$")
TEMP_SUFFIX = ".tmp"
_MEMBER_RE = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)+$")


def shard_name(number: int) -> str:
    """`shard-000042.tar` for 42."""
    return f"shard-{number:06d}.tar"


def shard_number(name: str) -> int:
    """42 for `shard-000042.tar`; ValueError for any other name."""
    found = SHARD_PATTERN.match(name)
    if not found:
        raise ValueError(f"{name!r} is not a shard name (shard-NNNNNN.tar)")
    return int(found.group(1))


def list_shard_files(folder: Path) -> list[str]:
    """Names of the complete shards in `folder` (final names only), in shard order."""
    if not Path(folder).is_dir():
        return []
    return sorted(p.name for p in Path(folder).iterdir() if SHARD_PATTERN.match(p.name))


def clean_temp_files(folder: Path) -> list[str]:
    """Remove temporary files (".<name>....tmp") a killed run left in `folder`; returns their names."""
    removed = []
    if Path(folder).is_dir():
        for path in sorted(Path(folder).iterdir()):
            if path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX) and path.is_file():
                path.unlink()
                removed.append(path.name)
    return removed


@dataclass(frozen=True)
class SampleBlocks:
    """Where one sample lies in a shard file: bytes [start, end) hold the header, data and padding of each of
    its members; `payload` is their data bytes."""

    start: int
    end: int
    payload: int


@dataclass(frozen=True)
class ShardInfo:
    """What was written: file name, sample count, payload bytes (member data only), tar size, sha256."""

    name: str
    samples: int
    bytes: int
    size: int
    sha256: str


class _HashingFile:
    """A write-only file wrapper that hashes what passes through it (the shard's sha256 at no extra read)."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._digest = hashlib.sha256()
        self._pos = 0

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        self._pos += len(data)
        return self._fh.write(data)

    def tell(self) -> int:
        return self._pos

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class ShardWriter:
    """Stream samples into one shard: `add(key, members)` in ascending key order, then `close()` renames the
    finished tar into place. Used as a context manager, an exception discards the temporary file."""

    def __init__(self, folder: Path, name: str) -> None:
        shard_number(name)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.final = self.folder / name
        self.temp = self.folder / f".{name}.{os.getpid()}{TEMP_SUFFIX}"
        self._fh = open(self.temp, "wb")  # closed in close() or discard()
        self._hashing = _HashingFile(self._fh)
        self._tar = tarfile.open(fileobj=self._hashing, mode="w", format=tarfile.PAX_FORMAT)  # type: ignore[arg-type]
        self._last_key: str | None = None
        self.samples = 0
        self.bytes = 0

    def add(self, key: str, members: Mapping[str, bytes]) -> int:
        """Append one sample (`members` maps `person.jpg`, ... to bytes); returns its payload bytes."""
        if not is_valid_sample_id(key):
            raise ValueError(f"sample key {key!r} must match [A-Za-z0-9_-]+ (no dots): fix the sample_id")
        if self._last_key is not None and key <= self._last_key:
            raise ValueError(
                f"shard {self.name}: key {key!r} added after {self._last_key!r}; add keys in order"
            )
        if not members:
            raise ValueError(f"sample {key!r} has no members")
        size = 0
        for member in sorted(members):
            if not _MEMBER_RE.match(member):
                raise ValueError(
                    f"sample {key!r}: member name {member!r} must look like `person.jpg` or `f0000.parse.png`"
                )
            data = members[member]
            name = f"{key}.{member}"
            header = _ustar_header(name, len(data))
            if header is None:  # a name or size a plain ustar header cannot hold: tarfile adds pax records
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = 0
                info.mode = 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                self._tar.addfile(info, BytesIO(data))
            else:  # the bytes tarfile.addfile writes for this member, without its per-member overhead
                block = b"".join((header, data, bytes(-len(data) % tarfile.BLOCKSIZE)))
                self._hashing.write(block)
                self._tar.offset += len(block)
            size += len(data)
        self._last_key = key
        self.samples += 1
        self.bytes += size
        return size

    def add_blocks(self, key: str, blocks: bytes | memoryview, payload: int) -> int:
        """Append one sample as the tar blocks `add` wrote for it into another shard (`sample_blocks` says
        where they lie; their headers were checked there); `payload` is its member data bytes, returned."""
        if not is_valid_sample_id(key):
            raise ValueError(f"sample key {key!r} must match [A-Za-z0-9_-]+ (no dots): fix the sample_id")
        if self._last_key is not None and key <= self._last_key:
            raise ValueError(
                f"shard {self.name}: key {key!r} added after {self._last_key!r}; add keys in order"
            )
        if not blocks or len(blocks) % tarfile.BLOCKSIZE:
            raise ValueError(
                f"sample {key!r}: {len(blocks)} bytes are not whole tar blocks; pass a range from sample_blocks"
            )
        self._hashing.write(blocks)
        self._tar.offset += len(blocks)
        self._last_key = key
        self.samples += 1
        self.bytes += payload
        return payload

    def close(self) -> ShardInfo:
        """Finish the tar, fsync it and rename it to its final name."""
        self._tar.close()
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self.temp, self.final)
        return ShardInfo(
            self.name, self.samples, self.bytes, self.final.stat().st_size, self._hashing.hexdigest()
        )

    def discard(self) -> None:
        """Drop the unfinished temporary file."""
        self._fh.close()
        self.temp.unlink(missing_ok=True)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.discard()


def _ustar_header(name: str, size: int) -> bytes | None:
    """The 512-byte header `tarfile` (PAX format) writes for a regular file named `name` with our fixed
    fields (mode 0644, uid/gid 0, mtime 0, empty user and group), or None when it would add pax records
    (a name over 100 characters or not ASCII, a size of 8 GiB or more)."""
    if len(name) > 100 or size >= 8**11 or not name.isascii():
        return None
    header = bytearray(tarfile.BLOCKSIZE)
    header[: len(name)] = name.encode("ascii")
    header[100:156] = b"0000644\x000000000\x000000000\x00%011o\x0000000000000\x00        " % size
    header[156:157] = tarfile.REGTYPE
    header[257:265] = tarfile.POSIX_MAGIC
    header[148:155] = b"%06o\x00" % sum(header)  # checksum: byte sum with the field as 8 spaces
    return bytes(header)


def sample_blocks(data: bytes | mmap.mmap) -> dict[str, SampleBlocks] | None:
    """Where each sample of a shard's bytes lies, from one pass over its headers, when the whole tar is what
    `ShardWriter` writes: every header exactly `add`'s own for its name and size, valid key and member names,
    keys ascending with their members contiguous and sorted, then only zero blocks. Otherwise None (pax
    records, headers written by another tool, a cut or damaged file): decode and re-add those samples."""
    size = len(data)
    found: dict[str, SampleBlocks] = {}
    key = b""
    member = b""
    start = payload = pos = 0
    while pos + tarfile.BLOCKSIZE <= size:
        header = data[pos : pos + tarfile.BLOCKSIZE]
        if header == _ZERO_BLOCK:
            break
        parsed = _canonical_header(header)
        if parsed is None:
            return None
        this_key, this_member, length = parsed
        end = pos + tarfile.BLOCKSIZE + length + (-length % tarfile.BLOCKSIZE)
        if end > size:
            return None
        if this_key != key:
            if key:
                if this_key <= key:
                    return None
                found[key.decode()] = SampleBlocks(start, pos, payload)
            key, start, payload = this_key, pos, 0
        elif this_member <= member:
            return None
        member = this_member
        payload += length
        pos = end
    if pos == size or data[pos:size].count(0) != size - pos:
        return None  # no end-of-archive block, or something after it
    if key:
        found[key.decode()] = SampleBlocks(start, pos, payload)
    return found


_ZERO_BLOCK = bytes(tarfile.BLOCKSIZE)
# The parts of `_ustar_header` that do not depend on the name and size, and their share of the checksum.
_TEMPLATE = _ustar_header("a", 0)
assert _TEMPLATE is not None
_MODE_IDS, _MTIME, _TAIL = _TEMPLATE[100:124], _TEMPLATE[136:148], _TEMPLATE[156:]
_CHECKSUM_BASE = sum(_MODE_IDS) + sum(_MTIME) + sum(_TAIL) + 8 * 32
_TAR_NAME_RE = re.compile(rb"([A-Za-z0-9_\-]+)\.([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)+)")
_SIZE_RE = re.compile(rb"[0-7]{11}\0")


def _canonical_header(header: bytes) -> tuple[bytes, bytes, int] | None:
    """(key, member, size) when `header` is exactly what `_ustar_header` makes for a valid `key.member`
    name; else None. Checked field by field (a few slice compares), as a scan meets thousands of them."""
    name_end = header.find(0, 0, 100)
    name_end = 100 if name_end < 0 else name_end
    name = _TAR_NAME_RE.fullmatch(header, 0, name_end)
    size_field = header[124:136]
    if (
        name is None
        or header[100:124] != _MODE_IDS
        or header[136:148] != _MTIME
        or header[156:] != _TAIL
        or header.count(0, name_end, 100) != 100 - name_end
        or not _SIZE_RE.fullmatch(size_field)
        or header[148:156] != b"%06o\x00 " % (sum(header[:name_end]) + sum(size_field) + _CHECKSUM_BASE)
    ):
        return None
    return name.group(1), name.group(2), int(size_field[:11], 8)


def write_shard(folder: Path, name: str, samples: Mapping[str, Mapping[str, bytes]]) -> ShardInfo:
    """Write a whole shard from `{key: members}` (any order; written sorted by key)."""
    with ShardWriter(folder, name) as writer:
        for key in sorted(samples):
            writer.add(key, samples[key])
        return writer.close()
