"""Writer: byte-identical shards for the same samples, clean tar headers, atomic names, shard sizing."""

from __future__ import annotations

import tarfile

from shard_fakes import VERSIONS, FakeAnnotate

from preprocess.shards import build_shards, iter_samples
from preprocess.shards.writer import ShardWriter, clean_temp_files, list_shard_files, write_shard


def test_same_input_gives_byte_identical_shards(synth_rows, tmp_path):
    for name in ("a", "b"):
        build_shards(
            tmp_path / name, synth_rows.rows, FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=4
        )
    names = list_shard_files(tmp_path / "a")
    assert names == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    assert names == list_shard_files(tmp_path / "b")
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    with tarfile.open(tmp_path / "a" / names[0]) as tar:
        infos = tar.getmembers()
    assert all(i.mtime == 0 and i.uid == 0 and i.gid == 0 and i.uname == "" for i in infos)
    keys = [i.name.split(".", 1)[0] for i in infos]
    assert keys == sorted(keys) and len(set(keys)) == 4
    first = [i.name for i in infos if i.name.startswith(keys[0] + ".")]
    assert first == sorted(first)


def test_shard_size_by_count_and_by_bytes(synth_rows, tmp_path):
    by_count = build_shards(
        tmp_path / "n", synth_rows.rows, FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=3
    )
    assert by_count.shards == 4
    sizes = [
        sum(len(v) for k, v in s.items() if not k.startswith("__")) for s in iter_samples(tmp_path / "n")
    ]
    limit = 2 * max(sizes) + 1
    by_bytes = build_shards(
        tmp_path / "b", synth_rows.rows, FakeAnnotate(synth_rows.root), VERSIONS, max_shard_bytes=limit
    )
    per_shard: dict[str, int] = {}
    for sample in iter_samples(tmp_path / "b"):
        per_shard[sample["__shard__"]] = per_shard.get(sample["__shard__"], 0) + 1
    assert by_bytes.shards == len(per_shard) >= 4 and max(per_shard.values()) <= 2


def test_unfinished_shard_is_only_a_temp_file(tmp_path):
    writer = ShardWriter(tmp_path, "shard-000000.tar")
    writer.add("a", {"meta.json": b"{}"})
    assert list_shard_files(tmp_path) == [] and writer.temp.name.startswith(".")
    writer._fh.flush()  # as a killed process leaves it
    assert clean_temp_files(tmp_path) == [writer.temp.name]
    info = write_shard(tmp_path, "shard-000001.tar", {"b": {"meta.json": b"{}"}, "a": {"meta.json": b"[]"}})
    assert info.samples == 2 and list_shard_files(tmp_path) == ["shard-000001.tar"]
