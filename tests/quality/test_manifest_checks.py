"""The great-expectations manifest checks: each passes on a good manifest and fails on its own defect."""

from __future__ import annotations

import hashlib

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from preprocess.samples import MANIFEST_SCHEMA
from quality.manifest_checks import (
    MANIFEST_CHECKS,
    ManifestSchemaError,
    validate_manifest,
    validate_manifest_file,
)

CHECK_NAMES = [check.name for check in MANIFEST_CHECKS]


def _row(sample_id: str, **overrides) -> dict:
    person = f"train/image/{sample_id}.jpg"
    garment = f"train/cloth/{sample_id}.jpg"
    row = {
        "sample_id": sample_id,
        "split": "train",
        "category": "upper",
        "kind": "image",
        "pair_mode": "paired",
        "person_path": person,
        "garment_path": garment,
        "files": [person, garment],
        "content_hash": hashlib.sha256(sample_id.encode()).hexdigest(),
    }
    row.update(overrides)
    return row


def _frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def _by_name(df: pd.DataFrame, layout: str = "vitonhd") -> dict:
    return {result.name: result for result in validate_manifest(df, layout)}


def _failed(df: pd.DataFrame, layout: str = "vitonhd") -> set[str]:
    return {name for name, result in _by_name(df, layout).items() if not result.passed}


def test_good_manifest_passes_every_check():
    results = _by_name(_frame(_row("00001_00"), _row("00002_00"), _row("00003_00")))
    assert list(results) == CHECK_NAMES
    assert all(r.passed and r.unexpected_count == 0 and not r.examples for r in results.values())
    assert results["manifest_unique_ids"].rows == 3
    assert results["manifest_paths_inside_root"].rows == 12  # person + garment + 2 files per sample


def test_duplicate_sample_id_fails_only_the_id_check():
    results = _by_name(_frame(_row("00001_00"), _row("00001_00"), _row("00002_00")))
    assert {n for n, r in results.items() if not r.passed} == {"manifest_unique_ids"}
    assert results["manifest_unique_ids"].unexpected_count == 2
    assert results["manifest_unique_ids"].examples == ["sample_id='00001_00'"]


def test_sample_id_with_a_dot_fails_the_id_check():
    assert _failed(_frame(_row("00001_00"), _row("a.b"))) == {"manifest_unique_ids"}


@pytest.mark.parametrize(
    "field,value",
    [
        ("person_path", "../outside/00001_00.jpg"),
        ("garment_path", "train/cloth/../../etc/passwd"),
        ("person_path", "/data/vitonhd/train/image/00001_00.jpg"),
        ("garment_path", "C:\\data\\cloth.jpg"),
        ("files", ["train/image/00001_00.jpg", "train/..\\..\\x.png"]),
    ],
)
def test_escaping_paths_fail_the_path_check(field, value):
    bad = _row("00001_00", **{field: value})
    results = _by_name(_frame(bad, _row("00002_00")))
    assert {n for n, r in results.items() if not r.passed} == {"manifest_paths_inside_root"}
    examples = results["manifest_paths_inside_root"].examples
    assert examples and all("sample_id=00001_00" in e for e in examples)


def test_dots_inside_names_are_not_parent_segments():
    ok = _row("00001_00", person_path="train/image/..00001_00.jpg", files=["a/b..c/d.jpg"])
    assert _failed(_frame(ok)) == set()


def test_null_or_empty_garment_fails_required_files_for_a_paired_layout():
    for garment in (None, ""):
        bad = _row("00002_00", garment_path=garment, files=["train/image/00002_00.jpg"])
        results = _by_name(_frame(_row("00001_00"), bad), "vitonhd")
        assert not results["manifest_required_files"].passed
        assert results["manifest_required_files"].examples == ["sample_id=00002_00: garment_path=missing"]


def test_folder_layout_needs_a_person_or_a_garment_but_not_both():
    person_only = _row("p1", garment_path=None, files=["photos/p1.jpg"])
    garment_only = _row("g1", person_path=None, files=["garments/g1.jpg"])
    assert _failed(_frame(person_only, garment_only), "folder") == set()
    neither = _row("n1", person_path=None, garment_path=None, files=[])
    assert _failed(_frame(person_only, neither), "folder") == {"manifest_required_files"}
    # The same person-only sample breaks a paired layout.
    assert _failed(_frame(person_only), "dresscode") == {"manifest_required_files"}


@pytest.mark.parametrize("value", ["abc", "F" * 64, "0" * 63, None])
def test_content_hash_must_be_64_lowercase_hex(value):
    assert _failed(_frame(_row("00001_00", content_hash=value))) == {"manifest_content_hashes"}


@pytest.mark.parametrize(
    "column,value", [("split", "training"), ("category", "shoes"), ("kind", "gif"), ("pair_mode", None)]
)
def test_values_outside_their_sets_fail_allowed_values(column, value):
    results = _by_name(_frame(_row("00001_00", **{column: value})))
    assert {n for n, r in results.items() if not r.passed} == {"manifest_allowed_values"}
    assert column in results["manifest_allowed_values"].examples[0]


def test_unknown_layout_and_missing_columns_are_explained():
    with pytest.raises(ManifestSchemaError, match="layout 'mystery'.*PAIRED_LAYOUTS"):
        validate_manifest(_frame(_row("00001_00")), "mystery")
    with pytest.raises(ManifestSchemaError, match="content_hash"):
        validate_manifest(_frame(_row("00001_00")).drop(columns=["content_hash"]), "vitonhd")


def test_manifest_file_round_trip_through_parquet(tmp_path):
    rows = [_row("00001_00"), _row("00002_00", files=["train/image/00002_00.jpg", "../x.png"])]
    full = [{field.name: r.get(field.name) for field in MANIFEST_SCHEMA} for r in rows]
    path = tmp_path / "manifest.parquet"
    pq.write_table(pa.Table.from_pylist(full, schema=MANIFEST_SCHEMA), path)
    results = {r.name: r for r in validate_manifest_file(path, "vitonhd")}
    assert [n for n, r in results.items() if not r.passed] == ["manifest_paths_inside_root"]
    assert results["manifest_paths_inside_root"].examples == [
        "sample_id=00002_00 field=files: path='../x.png'"
    ]
    with pytest.raises(FileNotFoundError, match="materialize raw_manifest"):
        validate_manifest_file(tmp_path / "absent.parquet", "vitonhd")


def test_empty_manifest_passes(tmp_path):
    empty = pd.DataFrame({column: pd.Series([], dtype=object) for column in _row("x")})
    assert _failed(empty) == set()
