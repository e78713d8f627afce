"""ViViD reader on hand-made trees in the released layout (category folders of mp4 videos and garments)."""

from __future__ import annotations

import os

from trees import vivid_tree

from preprocess.formats import read_dataset


def test_video_samples_with_agnostic_densepose_and_garment_mask(tmp_path):
    vivid_tree(
        tmp_path,
        {
            "upper_body": {
                "train_pairs.txt": [("upper1", "00057_00")],
                "test_pairs.txt": [("upper2", "00126_00")],
            },
            "lower_body": {"test_pairs.txt": [("lower1", "051985_1"), ("lower1", "051990_1")]},
        },
    )
    result = read_dataset(tmp_path, "vivid")
    result.check_accounting()
    assert result.layout == "vivid" and result.candidates == 4 and not result.quarantine
    by_id = {s.sample_id: s for s in result.samples}
    assert set(by_id) == {
        "upper__train__upper1__00057_00",
        "upper__test__upper2__00126_00",
        "lower__test__lower1__051985_1",
        "lower__test__lower1__051990_1",
    }
    sample = by_id["upper__test__upper2__00126_00"]
    assert (sample.kind, sample.category, sample.split, sample.pair_mode) == (
        "video",
        "upper",
        "test",
        "paired",
    )
    assert sample.person_path == "upper_body/videos/upper2.mp4" and sample.frame_paths == []
    assert sample.garment_path == "upper_body/images/00126_00.jpg"
    assert sample.annotations == {
        "agnostic": "upper_body/agnostic/upper2.mp4",
        "densepose": "upper_body/densepose/upper2.mp4",
        "garment_mask": "upper_body/cloth_mask/00126_00.jpg",
    }
    assert sample.densepose_format == "dp_segm_colormap"
    assert by_id["lower__test__lower1__051990_1"].category == "lower"
    assert any("lower_body/train_pairs.txt is missing" in w for w in result.warnings)


def test_missing_video_is_quarantined_and_missing_densepose_is_not(tmp_path):
    vivid_tree(tmp_path, {"dresses": {"test_pairs.txt": [("d1", "c1"), ("d2", "c2")]}})
    os.remove(tmp_path / "dresses/videos/d1.mp4")
    os.remove(tmp_path / "dresses/densepose/d2.mp4")
    result = read_dataset(tmp_path, "vivid")
    result.check_accounting()
    (sample,) = result.samples
    assert sample.sample_id == "dresses__test__d2__c2" and "densepose" not in sample.annotations
    (row,) = result.quarantine
    assert row.path == "dresses/test_pairs.txt:1" and row.sample_id == "dresses__test__d1__c1"
    assert "video file dresses/videos/d1.mp4 does not exist" in row.reason
