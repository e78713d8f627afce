"""The raw manifest end to end: the whole bad-input corpus, accounting, determinism across core counts."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fixtures.bad_inputs import write_bad_image_corpus
from PIL import Image

from preprocess.formats import read_dataset
from preprocess.manifest import build_manifest


def _jpeg(size=(48, 64), colour=(180, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _good_pair(root: Path, split: str, sid: str, garment_size=(48, 64)) -> None:
    (root / split / "image").mkdir(parents=True, exist_ok=True)
    (root / split / "cloth").mkdir(parents=True, exist_ok=True)
    (root / split / "image" / f"{sid}.jpg").write_bytes(_jpeg())
    (root / split / "cloth" / f"{sid}.jpg").write_bytes(_jpeg(garment_size, (20, 90, 200)))


def _bad_input_tree(root: Path) -> tuple[list[str], dict, dict]:
    """A VITON-HD tree holding every bad-input case; returns pair lines and the expected outcome per case."""
    lines: list[str] = []
    image_cases: dict[str, object] = {}
    line_cases: dict[str, str] = {}
    for i in range(6):
        sid = f"{i:05d}_00"
        _good_pair(root, "train", sid)
        lines.append(f"{sid}.jpg {sid}.jpg")
    # Person and garment of different sizes: kept, and recorded as a size mismatch.
    _good_pair(root, "train", "00100_00", garment_size=(96, 128))
    lines.append("00100_00.jpg 00100_00.jpg")
    line_cases["size_mismatch"] = "00100_00"
    # Every image-level case of the corpus, as a person image with a good garment.
    corpus = write_bad_image_corpus(root / "corpus_src")
    for n, case in enumerate(corpus):
        sid = f"{200 + n:05d}_00"
        name = f"{sid}{case.path.suffix}"
        (root / "train" / "image" / name).write_bytes(case.path.read_bytes())
        (root / "train" / "cloth" / f"{sid}.jpg").write_bytes(_jpeg())
        lines.append(f"{name} {sid}.jpg")
        image_cases[sid] = case
    shutil.rmtree(root / "corpus_src")
    # Pair-line cases.
    lines.append("09000_00.jpg 09000_00.jpg")  # names a missing person file
    line_cases["missing_file"] = "09000_00"
    lines.append("00001_00.jpg 00001_00.jpg")  # duplicate id
    line_cases["duplicate"] = "00001_00"
    (root.parent / "outside.jpg").write_bytes(_jpeg())
    lines.append("../../../outside.jpg 00002_00.jpg")  # escapes the root from train/image
    lines.append(f"{root.parent / 'outside.jpg'} 00002_00.jpg")  # absolute path
    lines.append("00003_00.jpg")  # one column
    raw = ("\n".join(lines) + "\n").encode()
    # A non-UTF-8 file name, listed in the pairs file by its raw bytes.
    bad_name = b"caf\xe9_00.jpg"
    (root / "train" / "image").joinpath(os.fsdecode(bad_name)).write_bytes(_jpeg())
    raw += bad_name + b" 00004_00.jpg\n"
    (root / "train_pairs.txt").write_bytes(raw)
    (root / "test").mkdir()
    (root / "test_pairs.txt").write_bytes(b"")  # an empty pairs file
    return lines, image_cases, line_cases


def test_bad_input_corpus_every_case_normalised_or_quarantined(tmp_path, capsys):
    root = tmp_path / "vitonhd_bad"
    lines, image_cases, line_cases = _bad_input_tree(root)
    result = build_manifest(root, "bad", tmp_path / "out", "vitonhd", use_ray=False)
    n_pair_lines = len(lines) + 1  # + the non-UTF-8 line
    assert result.samples + result.quarantined == result.candidates == n_pair_lines

    manifest = {r["sample_id"]: r for r in pq.read_table(result.manifest).to_pylist()}
    quarantine = pq.read_table(result.quarantine).to_pylist()
    by_path = {q["path"]: q for q in quarantine}
    table = []
    for sid, case in image_cases.items():
        sample_id = f"train__{sid}"
        if case.expected == "normalise":
            assert sample_id in manifest, f"{case.name} should be kept, got {by_path}"
            assert f"person:{case.expect}" in manifest[sample_id]["normalisations"], case.name
            table.append((case.name, "normalised", case.expect))
        elif case.caught_by == "decode":
            # Cheap probing cannot see it (the file ends properly); decoding at the annotation stage does.
            assert sample_id in manifest
            table.append((case.name, "kept; quarantined at decode", case.expect))
        else:
            rows = [q for q in quarantine if q["sample_id"] == sample_id]
            assert len(rows) == 1, f"{case.name}: {rows}"
            assert rows[0]["stage"] == "probe"
            assert case.expect.lower() in rows[0]["reason"].lower(), (case.name, rows[0]["reason"])
            assert f"{sid}" in rows[0]["reason"], "the reason names the file"
            table.append((case.name, "quarantined", rows[0]["reason"]))

    mismatch = manifest["train__00100_00"]["normalisations"]
    assert any(n.startswith("size_mismatch:") for n in mismatch)
    table.append(("person/garment sizes differ", "normalised", mismatch[-1]))

    reasons = [q["reason"] for q in quarantine if q["stage"] == "read"]
    expectations = {
        "pair line naming a missing file": "09000_00",
        "duplicate id": "duplicate",
        "'../' escaping the root": "climbs out of the dataset root",
        "absolute path": "absolute",
        "wrong column count": "column",
        "non-UTF-8 file name": "utf-8",
    }
    for case, needle in expectations.items():
        hits = [r for r in reasons if needle.lower() in r.lower()]
        assert hits, f"{case}: no quarantine reason mentions {needle!r}: {reasons}"
        table.append((case, "quarantined", hits[0]))
    assert any("empty" in w.lower() for w in result.warnings), result.warnings
    table.append(("empty pairs file", "warning, 0 samples", next(w for w in result.warnings if "empty" in w)))

    with capsys.disabled():
        print("\n\nbad-input corpus through the manifest:")
        for case, outcome, detail in table:
            print(f"  {case:32s} {outcome:30s} {detail}")


def test_manifest_identical_on_one_and_two_cores(tmp_path, ray_local):
    root = tmp_path / "ds"
    for i in range(40):
        _good_pair(root, "train" if i % 5 else "test", f"{i:05d}_00")
    for split in ("train", "test"):
        ids = sorted(p.stem for p in (root / split / "image").iterdir())
        (root / f"{split}_pairs.txt").write_text("".join(f"{s}.jpg {s}.jpg\n" for s in ids))
    one = build_manifest(root, "ds", tmp_path / "one", "vitonhd", use_ray=False)
    two = build_manifest(root, "ds", tmp_path / "two", "vitonhd", use_ray=True, chunk_size=3)
    assert ray_local["cpus"] == 2
    assert one.samples == two.samples == 40
    assert Path(one.manifest).read_bytes() == Path(two.manifest).read_bytes()
    assert one.dataset_version == two.dataset_version

    # Idempotent: a re-run gives the same bytes; changing one file changes that sample's hash only.
    again = build_manifest(root, "ds", tmp_path / "one", "vitonhd", use_ray=False)
    assert Path(again.manifest).read_bytes() == Path(two.manifest).read_bytes()
    before = {r["sample_id"]: r["content_hash"] for r in pq.read_table(one.manifest).to_pylist()}
    (root / "train" / "cloth" / "00001_00.jpg").write_bytes(_jpeg(colour=(1, 2, 3)))
    changed = build_manifest(root, "ds", tmp_path / "one", "vitonhd", use_ray=False)
    after = {r["sample_id"]: r["content_hash"] for r in pq.read_table(changed.manifest).to_pylist()}
    assert {k for k in before if before[k] != after[k]} == {"train__00001_00"}
    assert changed.dataset_version != one.dataset_version


def test_manifest_of_real_photos(tmp_path, realdata):
    result = build_manifest(realdata, "real", tmp_path / "out", "folder", use_ray=False)
    read = read_dataset(realdata, "real", "folder")
    assert result.candidates == read.candidates == 20
    assert result.samples == 20 and result.quarantined == 0
    rows = pq.read_table(result.manifest).to_pylist()
    for r in rows:
        with Image.open(realdata / (r["person_path"] or r["garment_path"])) as im:
            assert (r["width"], r["height"]) == im.size
    assert {r["category"] for r in rows if r["person_path"] is None} == {"upper", "dresses"}


@pytest.mark.parametrize("layout", ["vitonhd", "dresscode", "vvt"])
def test_manifest_of_synthetic_layouts(tmp_path, layout):
    from preprocess.synthetic import generate_dataset

    root = tmp_path / layout
    generate_dataset(layout, 6, root, seed=3, size=(64, 48))
    result = build_manifest(root, layout, tmp_path / "out", "auto", use_ray=False)
    assert result.layout == layout
    assert result.quarantined == 0, pq.read_table(result.quarantine).to_pylist()
    assert result.samples == result.candidates >= 6
    rows = pq.read_table(result.manifest).to_pylist()
    assert all(len(r["content_hash"]) == 64 for r in rows)
    assert all(r["annotations"] for r in rows), "synthetic datasets ship annotations for every sample"
