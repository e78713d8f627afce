"""Rows that share a person (VITON-HD's paired and unpaired test rows) annotate the person side once: the
members equal those of annotating every row afresh, and any difference on the person side is a miss."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import preprocess.annotation_pipeline as pipeline
from preprocess.annotation_pipeline import PipelineConfig, annotate_row, build_dataset_shards, make_annotators
from preprocess.manifest import build_manifest
from preprocess.person_side_memo import PersonSideMemo, person_side_fields
from preprocess.shards.reader import iter_samples
from preprocess.synthetic import generate_dataset


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> tuple[Path, Path, list[dict]]:
    root = tmp_path_factory.mktemp("memo") / "vitonhd"
    generate_dataset("vitonhd", 12, root, seed=4, size=(128, 96))
    manifest = Path(build_manifest(root, "memo", root.parent / "manifest", "vitonhd", use_ray=False).manifest)
    rows = sorted(pq.read_table(manifest).to_pylist(), key=lambda r: r["sample_id"])
    for row in rows:
        row["annotations"] = dict(row["annotations"] or [])
        row["annotation_frames"] = dict(row["annotation_frames"] or [])
    return root, manifest, rows


def _repeats(rows: list[dict]) -> int:
    """Rows whose person an earlier row (in sample-id order) already had."""
    seen: set[str] = set()
    count = 0
    for row in rows:
        count += row["person_path"] in seen
        seen.add(row["person_path"])
    return count


class _Needs:
    def __init__(self, name: str, outputs: tuple[str, ...], needs: tuple[str, ...]) -> None:
        self.name, self.version, self.outputs, self.needs = name, "1", outputs, needs


def test_person_side_fields_follow_the_chains_needs():
    assert person_side_fields(make_annotators(PipelineConfig())) == {
        "parse",
        "pose",
        "densepose",
        "skeleton",
        "agnostic_mask",
    }
    chain = [
        _Needs("provided", ("parse", "pose", "densepose", "garment_mask"), ()),
        _Needs("dwpose", ("pose",), ("person", "weights:dw.onnx")),
        _Needs("warp", ("warped",), ("garment", "parse")),  # reads the garment: garment side
        _Needs("after_warp", ("blend",), ("warped",)),
    ]
    assert person_side_fields(chain) == {"parse", "pose", "densepose"}


def test_memo_gives_the_members_of_fresh_annotation(shared):
    root, _, rows = shared
    repeats = _repeats(rows)
    assert repeats >= 2, "the generated set should list some test persons twice (paired and unpaired)"
    annotators = make_annotators(PipelineConfig())
    fresh = [annotate_row(row, root, annotators) for row in rows]
    memo = PersonSideMemo(annotators)
    assert [annotate_row(row, root, annotators, memo) for row in rows] == fresh
    assert memo.hits == repeats


def test_a_changed_person_file_or_person_value_is_a_miss(shared, tmp_path):
    root, _, rows = shared
    annotators = make_annotators(PipelineConfig())
    first, second = next(
        (a, b) for a, b in zip(rows, rows[1:], strict=False) if a["person_path"] == b["person_path"]
    )
    memo = PersonSideMemo(annotators)
    key = memo.key(first, root)
    assert key is not None and memo.key(second, root) == key  # only garment-side values differ
    assert memo.key(dict(second, category="dresses"), root) != key
    assert memo.key(dict(second, normalisations=["person:exif_rotated"]), root) != key
    assert memo.key(dict(second, normalisations=["garment:exif_rotated"]), root) == key
    assert memo.key(dict(second, kind="video"), root) is None
    assert memo.key(dict(second, person_path="missing.jpg"), root) is None

    annotate_row(first, root, annotators, memo)
    person = root / first["person_path"]
    original = person.read_bytes()
    stat = person.stat()
    try:  # the same person path, other bytes (a re-exported photo): annotated afresh
        person.write_bytes(original + b"\0")
        os.utime(person, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        assert annotate_row(second, root, annotators, memo) == annotate_row(second, root, annotators)
        assert memo.hits == 0
    finally:
        person.write_bytes(original)
        os.utime(person, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_memo_keeps_the_last_few_persons_only(shared):
    root, _, rows = shared
    annotators = make_annotators(PipelineConfig())
    memo = PersonSideMemo(annotators, size=1)
    distinct = list({row["person_path"]: row for row in rows}.values())
    for row in distinct[:2]:
        annotate_row(row, root, annotators, memo)
    annotate_row(distinct[0], root, annotators, memo)  # pushed out by the second person
    assert memo.hits == 0
    annotate_row(distinct[0], root, annotators, memo)
    assert memo.hits == 1


def test_in_process_build_with_the_memo_writes_what_row_by_row_annotation_gives(shared, tmp_path):
    root, manifest, rows = shared
    annotators = make_annotators(PipelineConfig())
    build_dataset_shards(manifest, root, tmp_path / "shards", use_ray=False)
    built = {s["__key__"]: s for s in iter_samples(tmp_path / "shards", decode=False)}
    for row in rows:
        members = annotate_row(row, root, annotators)
        assert isinstance(members, dict)
        stored = built[row["sample_id"]]
        for name, data in members.items():
            if name != "meta.json":  # the builder adds versions and hashes to meta.json
                assert stored[name] == data, (row["sample_id"], name)


def test_a_small_update_annotates_each_person_once_in_its_threads(shared):
    root, _, rows = shared
    annotators = make_annotators(PipelineConfig())
    runs = pipeline._same_person_runs(rows)
    assert [row for run in runs for row in run] == rows
    assert len(rows) - len(runs) == _repeats(rows)  # the rows sharing a person sit next to each other
    assert all(len({row["person_path"] for row in run}) == 1 for run in runs)
    ahead = pipeline._AnnotationsAhead(rows, root, annotators)
    try:
        got = ahead(rows[:5]) + ahead(rows[5:])
    finally:
        ahead.close()
    assert got == [annotate_row(row, root, annotators) for row in rows]
