"""Round trip: the synthetic generator writes a published layout and the matching reader reads it back whole."""

from __future__ import annotations

import importlib

import pytest

from preprocess.formats import detect_layout, read_dataset

EXPECTED_ANNOTATIONS = {
    "vitonhd": {"parse", "pose", "densepose", "garment_mask", "agnostic"},
    "dresscode": {"parse", "pose", "densepose", "densepose_uv", "garment_mask", "skeleton"},
}


@pytest.fixture(scope="module")
def generate_dataset():
    module = importlib.import_module("preprocess.synthetic")
    if not hasattr(module, "generate_dataset"):
        pytest.skip(
            "preprocess.synthetic does not export generate_dataset yet (the generator is another module)"
        )
    return module.generate_dataset


@pytest.mark.parametrize("layout", ["vitonhd", "dresscode", "vvt"])
def test_generated_dataset_reads_back_with_full_accounting(tmp_path, generate_dataset, layout):
    root = tmp_path / layout
    samples = 10 if layout == "vitonhd" else 4  # VITON-HD: 10 gives two test persons, so unpaired test lines
    generate_dataset(layout, samples, root, seed=3, size=(64, 48))
    assert detect_layout(root) == layout
    result = read_dataset(root, "synth")
    result.check_accounting()
    assert result.quarantine == [], [row.reason for row in result.quarantine]
    if layout == "vvt":
        assert len(result.samples) == 4
    else:
        assert len(result.samples) >= 4
    for sample in result.samples:
        assert all((root / rel).is_file() for rel in sample.files()), sample.sample_id
        if layout == "vvt":
            assert sample.frame_paths and set(sample.annotation_frames) == {"parse", "pose", "densepose"}
            assert all(len(paths) == len(sample.frame_paths) for paths in sample.annotation_frames.values())
        else:
            assert EXPECTED_ANNOTATIONS[layout] <= set(sample.annotations), sample.sample_id
    if layout == "vitonhd":
        # test_pairs.txt is unpaired; every listed test person also gets its paired row (same-name cloth)
        listed = [line.split() for line in (root / "test_pairs.txt").read_text().splitlines()]
        test_rows = {s.sample_id: s for s in result.samples if s.split == "test"}
        persons = {person.removesuffix(".jpg") for person, _ in listed}
        assert any(person != cloth for person, cloth in listed), "the generator lists unpaired test lines"
        assert {i for i, s in test_rows.items() if s.pair_mode == "paired"} == {f"test__{p}" for p in persons}
        assert sum(s.pair_mode == "unpaired" for s in test_rows.values()) == sum(p != c for p, c in listed)
        assert all(
            (s.person_path, s.garment_path)
            == (f"test/image/{s.garment_id}.jpg", f"test/cloth/{s.garment_id}.jpg")
            for s in test_rows.values()
            if s.pair_mode == "paired"
        )
