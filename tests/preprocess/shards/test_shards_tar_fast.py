"""The shard writer's own ustar headers and the reader's memory-mapped parse: byte for byte what `tarfile`
writes, member for member what `tarfile` reads (its errors included), with `tarfile` taking over for anything
that is not a plain ustar file (pax records, GNU extensions, damage)."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from preprocess.shards.reader import iter_tar
from preprocess.shards.writer import ShardWriter


def _tarfile_shard(samples: dict[str, dict[str, bytes]]) -> bytes:
    """The shard as `tarfile.addfile` writes it, with the writer's fixed header fields."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for key in sorted(samples):
            for member in sorted(samples[key]):
                data = samples[key][member]
                info = tarfile.TarInfo(f"{key}.{member}")
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _tarfile_samples(path: Path) -> list[tuple[str, dict[str, bytes]]]:
    """iter_tar's grouping over plain `tarfile` iteration (the reader before its fast path)."""
    out: list[tuple[str, dict[str, bytes]]] = []
    with tarfile.open(path, mode="r:") as tar:
        for info in tar:
            sample, _, member = info.name.rpartition("/")[2].partition(".")
            if not info.isfile() or not member:
                continue
            if not out or out[-1][0] != sample:
                out.append((sample, {}))
            out[-1][1][member] = tar.extractfile(info).read()  # type: ignore[union-attr]
    return out


def _samples(rng: np.random.Generator) -> dict[str, dict[str, bytes]]:
    sizes = [0, 1, 511, 512, 513, 1024, 5000]
    long_key = "k" * 95  # key.member names past 100 characters need pax records
    keys = [f"s{i:03d}" for i in range(6)] + [long_key]
    return {
        key: {
            f"{name}": rng.integers(0, 256, int(rng.choice(sizes)), dtype=np.uint8).tobytes()
            for name in ("person.jpg", "parse.png", "meta.json", "f0001.skeleton.png")
        }
        for key in keys
    }


def test_shards_are_byte_identical_to_tarfiles(tmp_path):
    samples = _samples(np.random.default_rng(0))
    with ShardWriter(tmp_path, "shard-000000.tar") as writer:
        for key in sorted(samples):
            writer.add(key, samples[key])
        info = writer.close()
    data = (tmp_path / "shard-000000.tar").read_bytes()
    assert data == _tarfile_shard(samples)
    assert info.size == len(data) and info.samples == len(samples)
    assert info.sha256 == hashlib.sha256(data).hexdigest()


def test_reader_matches_tarfile_on_plain_pax_and_gnu_tars(tmp_path):
    samples = _samples(np.random.default_rng(1))
    plain = tmp_path / "plain.tar"
    plain.write_bytes(_tarfile_shard(samples))
    assert list(iter_tar(plain)) == _tarfile_samples(plain) == sorted(samples.items())
    gnu = tmp_path / "gnu.tar"
    with tarfile.open(gnu, "w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in [("a.x", b"1"), ("d" * 150 + ".y", b"22"), ("b.z", b"333")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        folder = tarfile.TarInfo("folder")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
    assert list(iter_tar(gnu)) == _tarfile_samples(gnu) and len(_tarfile_samples(gnu)) == 3


def _outcome(read, path: Path) -> tuple[str, object]:
    try:
        return "ok", read(path)
    except tarfile.TarError as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("damage", ["empty", "cut_header", "cut_data", "no_end_blocks", "bad_checksum"])
def test_damaged_tars_read_as_tarfile_reads_them(tmp_path, damage):
    data = bytes(_tarfile_shard(_samples(np.random.default_rng(2))))
    last = len(data) - 2 * tarfile.BLOCKSIZE
    first_size = int(data[124:135], 8)
    second = tarfile.BLOCKSIZE * (1 + -(-first_size // tarfile.BLOCKSIZE))  # the 2nd member's header
    damaged = {
        "empty": b"",
        "cut_header": data[:100],
        "cut_data": data[: len(data) // 2 + 7],
        "no_end_blocks": data[: last - last % tarfile.BLOCKSIZE],
        "bad_checksum": data[: second + 148] + b"0000001\x00" + data[second + 156 :],
    }[damage]
    path = tmp_path / "damaged.tar"
    path.write_bytes(bytes(damaged))
    assert _outcome(lambda p: list(iter_tar(p)), path) == _outcome(_tarfile_samples, path)
