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
    generate_dataset(layout, 4, root, seed=3, size=(64, 48))
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
