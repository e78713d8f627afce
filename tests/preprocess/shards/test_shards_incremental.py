"""Incremental builds: re-annotate only changed inputs or bumped annotators; rewrite only affected shards."""

from __future__ import annotations

import hashlib

import pyarrow.parquet as pq
from shard_fakes import VERSIONS, FakeAnnotate

from preprocess.shards import build_shards, iter_samples, plan_build, read_index


def _digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("shard-*.tar"))}


def _shard_of(folder) -> dict[str, str]:
    index = read_index(folder).to_pylist()
    return {r["sample_id"]: r["shard"] for r in index}


def test_no_change_rerun_annotates_nothing_and_writes_nothing(synth_rows, tmp_path):
    out = tmp_path / "s"
    build_shards(out, synth_rows.rows, FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=4)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*.tar")}
    again = FakeAnnotate(synth_rows.root)
    result = build_shards(out, synth_rows.rows, again, VERSIONS, samples_per_shard=4)
    assert again.calls == [] and result.shards_written == [] and result.unchanged == len(synth_rows.rows)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*.tar")} == before


def test_changed_content_hash_reannotates_one_sample_and_rewrites_its_shard(synth_rows, tmp_path):
    out = tmp_path / "s"
    build_shards(out, synth_rows.rows, FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=4)
    before, shard_of = _digests(out), _shard_of(out)
    rows = [dict(r) for r in synth_rows.rows]
    target = rows[5]["sample_id"]
    rows[5]["content_hash"] = "0" * 64
    annotate = FakeAnnotate(synth_rows.root)
    result = build_shards(out, rows, annotate, VERSIONS, samples_per_shard=4)
    assert annotate.calls == [target]
    assert result.shards_written == [shard_of[target]]
    after = _digests(out)
    assert [n for n in before if before[n] != after[n]] == [shard_of[target]]
    assert _shard_of(out) == shard_of
    meta = {s["__key__"]: s["meta"] for s in iter_samples(out, decode=True)}
    assert meta[target]["content_hash"] == "0" * 64


def test_version_bump_reannotates_every_sample_it_feeds(synth_rows, tmp_path):
    out = tmp_path / "s"

    def versions(parser: str):
        def per_row(row):  # test-split rows are parsed by a learned parser, train rows use the shipped maps
            name = ("schp", parser) if row["split"] == "test" else ("provided", "1")
            return VERSIONS | {"parse": name}

        return per_row

    build_shards(out, synth_rows.rows, FakeAnnotate(synth_rows.root), versions("1"), samples_per_shard=4)
    annotate = FakeAnnotate(synth_rows.root)
    result = build_shards(out, synth_rows.rows, annotate, versions("2"), samples_per_shard=4)
    test_ids = sorted(r["sample_id"] for r in synth_rows.rows if r["split"] == "test")
    assert 0 < len(test_ids) < len(synth_rows.rows) and sorted(annotate.calls) == test_ids
    metas = {s["__key__"]: s["meta"] for s in iter_samples(out, decode=True)}
    assert {metas[sid]["annotators"]["parse"]["version"] for sid in test_ids} == {"2"}
    assert result.changed == len(test_ids) and result.unchanged == len(synth_rows.rows) - len(test_ids)


def test_removed_samples_leave_and_new_ones_fill_the_last_shard(synth_rows, tmp_path):
    out = tmp_path / "s"
    rows = synth_rows.rows
    build_shards(out, rows[:-1], FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=4)
    assert _digests(out).keys() == {"shard-000000.tar", "shard-000001.tar", "shard-000002.tar"}
    gone = rows[0]["sample_id"]
    annotate = FakeAnnotate(synth_rows.root)
    result = build_shards(out, rows[1:], annotate, VERSIONS, samples_per_shard=4)
    assert annotate.calls == [rows[-1]["sample_id"]]
    assert result.removed == 1 and result.shards_written == ["shard-000000.tar", "shard-000002.tar"]
    keys = [s["__key__"] for s in iter_samples(out)]
    assert gone not in keys and sorted(keys) == sorted(r["sample_id"] for r in rows[1:])
    assert _shard_of(out)[rows[-1]["sample_id"]] == "shard-000002.tar"


def test_quarantine_accounting_and_rejects_are_not_annotated_again(synth_rows, tmp_path):
    out = tmp_path / "s"
    bad = synth_rows.rows[2]["sample_id"]
    result = build_shards(
        out, synth_rows.rows, FakeAnnotate(synth_rows.root, reject=(bad,)), VERSIONS, samples_per_shard=4
    )
    assert result.samples == len(synth_rows.rows) - 1 and result.quarantined == 1
    assert result.quarantine[0].stage == "annotate" and result.quarantine[0].sample_id == bad
    table = pq.read_table(out / "quarantine.parquet").to_pylist()
    assert [(q["sample_id"], q["reason"]) for q in table] == [(bad, "fake: no person")]
    shard_samples = read_index(out).num_rows
    assert shard_samples + synth_rows.manifest_quarantine + len(table) == synth_rows.candidates
    again = FakeAnnotate(synth_rows.root, reject=(bad,))
    assert build_shards(out, synth_rows.rows, again, VERSIONS, samples_per_shard=4).quarantined == 1
    assert again.calls == []


def test_plan_build_classifies_samples():
    index_old = [
        {"sample_id": "a", "shard": "shard-000000.tar", "fields_hash": None},
        {"sample_id": "b", "shard": "shard-000000.tar", "fields_hash": "stale"},
        {"sample_id": "gone", "shard": "shard-000000.tar", "fields_hash": "x"},
    ]
    rows = [{"sample_id": s, "content_hash": "h" + s} for s in ("a", "b", "c")]
    from preprocess.shards import fields_hash

    index_old[0]["fields_hash"] = fields_hash("ha", VERSIONS)
    plan = plan_build(index_old, rows, VERSIONS)
    assert [p.sample_id for p in plan.unchanged] == ["a"]
    assert [p.sample_id for p in plan.changed] == ["b"]
    assert [p.sample_id for p in plan.new] == ["c"]
    assert [p.sample_id for p in plan.removed] == ["gone"]
    assert plan.dirty_shards() == {"shard-000000.tar"}
