"""Read the samples of a shard folder: plain `tarfile` iteration, or the shard URLs for `webdataset`.

Shards are listed from `shards.json` (what the last complete build wrote), so stray files never leak into
training. Splitting shards across nodes and DataLoader workers is left to the training driver (pass
`shard_urls(...)` to `webdataset.WebDataset` with its `nodesplitter`/`workersplitter`).
"""

from __future__ import annotations

import json
import mmap
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from preprocess.shards.codec import decode_sample

SHARDS_JSON = "shards.json"


def iter_tar(path: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {member: bytes}) for each sample of one tar, in file order (members of a key are contiguous)."""
    key: str | None = None
    members: dict[str, bytes] = {}
    for name, data in _tar_files(Path(path)):
        sample, _, member = name.rpartition("/")[2].partition(".")
        if not member:
            continue
        if key is not None and sample != key:
            yield key, members
            members = {}
        key = sample
        members[member] = data
    if key is not None:
        yield key, members


def _tar_files(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, data) of each regular file of a tar, in file order.

    Plain ustar headers, as `ShardWriter` writes them, are read straight from a memory map (several times
    faster than `tarfile` member by member); from the first other header on (pax records, GNU extensions,
    damage, a cut file) `tarfile` reads the rest, with its own results and errors.
    """
    with open(path, "rb") as fh:
        pos = 0
        size = os.fstat(fh.fileno()).st_size
        if size:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                while (plain := _plain_header(mapped[pos : pos + tarfile.BLOCKSIZE])) is not None:
                    name, length = plain
                    start = pos + tarfile.BLOCKSIZE
                    if start + length > size:
                        break
                    yield name, mapped[start : start + length]
                    pos = start + length + (-length % tarfile.BLOCKSIZE)
                if not any(mapped[pos : pos + tarfile.BLOCKSIZE].ljust(tarfile.BLOCKSIZE, b"\1")):
                    return  # the end-of-archive block
        fh.seek(pos)
        with tarfile.open(fileobj=fh, mode="r:") as tar:
            for info in tar:
                if info.isfile():
                    member = tar.extractfile(info)
                    assert member is not None  # a regular file always has data
                    yield info.name, member.read()


def _plain_header(header: bytes) -> tuple[str, int] | None:
    """(name, size) of a ustar header for a regular file with a plain ASCII name; None for anything else."""
    if len(header) < tarfile.BLOCKSIZE or header[156:157] != tarfile.REGTYPE:
        return None
    if header[257:265] != tarfile.POSIX_MAGIC or header[345] or header[124] & 0x80:
        return None  # not POSIX ustar, a name prefix, or a base-256 size
    try:
        checksum = int(header[148:156].split(b"\0", 1)[0].strip() or b"0", 8)
        size = int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        name = header[:100].split(b"\0", 1)[0].decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    if checksum != sum(header) - sum(header[148:156]) + 8 * 32 or not name or name.endswith("/"):
        return None
    return name, size


def shard_names(shard_dir: Path) -> list[str]:
    """Shard file names the last complete build recorded in `shards.json`, in order."""
    summary = Path(shard_dir) / SHARDS_JSON
    if not summary.is_file():
        raise FileNotFoundError(f"{summary} does not exist: build the shards first (vton data build)")
    return [entry["name"] for entry in json.loads(summary.read_text())["shards"]]


def shard_urls(shard_dir: Path) -> list[str]:
    """Absolute paths of the recorded shards, ready for `webdataset.WebDataset(urls, ...)`."""
    folder = Path(shard_dir).resolve()
    return [str(folder / name) for name in shard_names(folder)]


def iter_samples(shard_dir: Path, *, decode: bool = False) -> Iterator[dict[str, Any]]:
    """Every sample of a shard folder as `{"__key__", "__shard__", member: bytes, ...}`, or with
    `decode=True` as canonical values (`decode_sample`) plus `__key__` and `__shard__`."""
    folder = Path(shard_dir)
    for name in shard_names(folder):
        for key, members in iter_tar(folder / name):
            if decode:
                yield decode_sample(members) | {"__key__": key, "__shard__": name}
            else:
                yield {"__key__": key, "__shard__": name, **members}


def read_sample(shard_dir: Path, sample_id: str) -> dict[str, bytes]:
    """The members of one sample, found through `index.parquet` (for drill-down, not for training loops)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    folder = Path(shard_dir)
    index = pq.read_table(folder / "index.parquet", columns=["sample_id", "shard"])
    hits = index.filter(pc.equal(index["sample_id"], sample_id))["shard"].to_pylist()
    if not hits:
        raise KeyError(f"sample {sample_id!r} is not in the shards of {folder} (see quarantine.parquet)")
    for key, members in iter_tar(folder / hits[0]):
        if key == sample_id:
            return members
    raise KeyError(f"sample {sample_id!r} is indexed in {hits[0]} but missing from it: rebuild the shards")
