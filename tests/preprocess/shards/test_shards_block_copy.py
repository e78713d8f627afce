"""Rewriting a shard with a changed sample copies its unchanged samples' tar blocks from the old file: the
ranges match tarfile's own offsets, the result equals a from-scratch build byte for byte (index too), and
an old shard whose headers are not the writer's own is decoded and re-added to the same bytes."""

from __future__ import annotations

import hashlib
import tarfile
from io import BytesIO

import pytest
from shard_fakes import VERSIONS, FakeAnnotate

import preprocess.shards.incremental as incremental
from preprocess.shards import build_shards, read_index
from preprocess.shards.reader import iter_tar
from preprocess.shards.writer import ShardWriter, list_shard_files, sample_blocks, write_shard


def _digests(folder) -> dict[str, str]:
    return {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in list_shard_files(folder)
    }


def _changed_rows(rows: list[dict], positions: tuple[int, ...]) -> list[dict]:
    out = [dict(r) for r in rows]
    for pos in positions:
        out[pos]["content_hash"] = f"{pos:064d}"
    return out


def test_sample_blocks_are_the_tar_offsets_of_each_sample(tmp_path):
    samples = {
        "b": {"person.jpg": b"x" * 700, "meta.json": b"{}"},
        "a": {"f0000.parse.png": b"", "f0001.parse.png": b"p" * 512, "meta.json": b"{}"},
    }
    write_shard(tmp_path, "shard-000000.tar", samples)
    data = (tmp_path / "shard-000000.tar").read_bytes()
    spans: dict[str, list[int]] = {}
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        for info in tar:
            end = info.offset_data + info.size + (-info.size % tarfile.BLOCKSIZE)
            spans.setdefault(info.name.split(".", 1)[0], []).extend((info.offset, end))
    blocks = sample_blocks(data)
    assert blocks is not None and list(blocks) == ["a", "b"]
    for key, span in spans.items():
        assert (blocks[key].start, blocks[key].end) == (min(span), max(span))
        assert blocks[key].payload == sum(len(v) for v in samples[key].values())
    # the copied blocks make the same shard again
    with ShardWriter(tmp_path, "shard-000001.tar") as writer:
        for key, where in blocks.items():
            writer.add_blocks(key, data[where.start : where.end], where.payload)
        writer.close()
    assert (tmp_path / "shard-000001.tar").read_bytes() == data


@pytest.mark.parametrize(
    "damage",
    ["pax_name", "mtime", "cut", "members_unsorted"],
)
def test_sample_blocks_refuses_tars_the_writer_did_not_write(tmp_path, damage):
    if damage == "pax_name":  # a name over 100 characters: the writer itself adds pax records
        write_shard(tmp_path, "shard-000000.tar", {"k" * 95: {"person.jpg": b"1"}})
        data = (tmp_path / "shard-000000.tar").read_bytes()
    elif damage == "cut":
        write_shard(tmp_path, "shard-000000.tar", {"a": {"person.jpg": b"1" * 2000}})
        data = (tmp_path / "shard-000000.tar").read_bytes()[:1024]
    else:
        buf = BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            names = ["a.person.jpg", "a.meta.json"] if damage == "members_unsorted" else ["a.person.jpg"]
            for name in names:
                info = tarfile.TarInfo(name)
                info.size, info.mtime = 3, (7 if damage == "mtime" else 0)
                info.uname = info.gname = ""
                tar.addfile(info, BytesIO(b"abc"))
        data = buf.getvalue()
    assert sample_blocks(data) is None


def test_any_changed_header_byte_makes_the_shard_foreign(tmp_path):
    write_shard(tmp_path, "shard-000000.tar", {"s_1": {"f0000.person.jpg": b"x" * 100}})
    data = (tmp_path / "shard-000000.tar").read_bytes()
    assert sample_blocks(data) is not None
    refused = 0
    for pos in range(tarfile.BLOCKSIZE):
        changed = bytearray(data)
        changed[pos] = (changed[pos] + 1) % 256
        refused += sample_blocks(bytes(changed)) is None
    assert refused == tarfile.BLOCKSIZE


def test_rewritten_shards_copy_blocks_and_equal_a_fresh_build(synth_rows, tmp_path, monkeypatch):
    out, fresh = tmp_path / "incremental", tmp_path / "fresh"
    ten = sorted(synth_rows.rows, key=lambda r: r["sample_id"])[:10]
    build_shards(out, ten[:9], FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=4)
    before = _digests(out)
    # one sample changed in each of the two full shards, and a new one for the partial last shard
    rows = _changed_rows(ten, (1, 6))

    def no_decoding(path):
        raise AssertionError(f"{path} was decoded: its unchanged samples should be copied as tar blocks")

    monkeypatch.setattr(incremental, "iter_tar", no_decoding)
    annotate = FakeAnnotate(synth_rows.root)
    result = build_shards(out, rows, annotate, VERSIONS, samples_per_shard=4)
    monkeypatch.undo()
    assert sorted(annotate.calls) == sorted(rows[p]["sample_id"] for p in (1, 6, 9))
    assert result.shards_written == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    after = _digests(out)
    assert after.keys() == before.keys() and all(after[n] != before[n] for n in after)

    build_shards(fresh, rows, FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=4)
    assert after == _digests(fresh)
    assert read_index(out).equals(read_index(fresh))
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_foreign_old_shard_is_decoded_and_rewritten_as_a_fresh_build(synth_rows, tmp_path):
    out, fresh = tmp_path / "incremental", tmp_path / "fresh"
    build_shards(out, synth_rows.rows, FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=4)
    # the same samples written by another tool (tarfile, a non-zero mtime), as an older writer might have
    old = out / "shard-000000.tar"
    samples = list(iter_tar(old))
    with tarfile.open(old, "w", format=tarfile.PAX_FORMAT) as tar:
        for key, members in samples:
            for member, data in members.items():
                info = tarfile.TarInfo(f"{key}.{member}")
                info.size, info.mtime = len(data), 1_700_000_000
                tar.addfile(info, BytesIO(data))
    assert sample_blocks(old.read_bytes()) is None
    rows = _changed_rows(synth_rows.rows, (2,))
    annotate = FakeAnnotate(synth_rows.root)
    result = build_shards(out, rows, annotate, VERSIONS, samples_per_shard=4)
    assert annotate.calls == [rows[2]["sample_id"]] and result.shards_written == ["shard-000000.tar"]
    build_shards(fresh, rows, FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=4)
    assert _digests(out) == _digests(fresh)
    assert read_index(out).equals(read_index(fresh))
