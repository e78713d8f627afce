"""VVT reader on hand-made frame-folder trees in the published naming."""

from __future__ import annotations

import os

from trees import touch, vvt_tree

from preprocess.formats import read_dataset

VID = "4he21d00f-g11"


def test_clip_frames_in_numeric_order_with_aligned_annotations(tmp_path):
    vvt_tree(tmp_path, {"test": {VID: 12}, "train": {"a0121d01h-q11": 3}})
    result = read_dataset(tmp_path, "vvt")
    result.check_accounting()
    assert result.layout == "vvt" and result.candidates == 2 and not result.quarantine
    sample = next(s for s in result.samples if s.sample_id == f"test__{VID}")
    assert (sample.kind, sample.split, sample.category, sample.pair_mode) == (
        "video",
        "test",
        "upper",
        "paired",
    )
    assert sample.person_path == f"test/test_frames/{VID}"
    numbers = [int(p.split("@")[1].split("=")[0]) for p in sample.frame_paths]
    assert numbers == list(range(1, 13))  # 2 before 10: numeric, not lexical
    assert sample.frame_paths[0] == f"test/test_frames/{VID}/{VID}@1=person_whole_front.png"
    assert sample.garment_path == f"clothes_person/img/{VID}/{VID}@1=cloth_front.jpg"
    assert sample.annotations == {"garment_mask": f"clothes_person/img/{VID}/{VID}@1=cloth_front_mask.jpg"}
    assert set(sample.annotation_frames) == {"parse", "pose", "densepose"}
    for key, folder, suffix in (
        ("parse", "frames_parsing", "_label.png"),
        ("pose", "frames_keypoint", "_keypoints.json"),
        ("densepose", "frames_densepose", "_IUV.png"),
    ):
        expected = [
            p.replace("test_frames", f"test_{folder}").replace(".png", suffix) for p in sample.frame_paths
        ]
        assert sample.annotation_frames[key] == expected
    assert (sample.parse_labels, sample.pose_format, sample.densepose_format) == (
        "lip",
        "openpose18_legacy",
        "iuv",
    )
    files = sample.files()
    assert len(files) == 12 + 1 + 1 + 3 * 12


def test_partial_frame_annotation_is_left_out_with_a_warning(tmp_path):
    vvt_tree(tmp_path, {"test": {VID: 4}})
    os.remove(tmp_path / f"test/test_frames_parsing/{VID}/{VID}@3=person_whole_front_label.png")
    touch(tmp_path, f"test/test_frames/{VID}/{VID}@5=person_whole_front (copy).png")
    result = read_dataset(tmp_path, "vvt")
    result.check_accounting()
    (sample,) = result.samples
    assert len(sample.frame_paths) == 4
    assert any("1 image(s) not named" in w and "(copy).png" in w for w in result.warnings)
    assert "parse" not in sample.annotation_frames and sample.parse_labels is None
    assert "pose" in sample.annotation_frames
    assert any("parse exists for 3 of 4 frames" in w for w in result.warnings)


def test_clips_without_garment_or_frames_or_with_clashing_numbers_are_quarantined(tmp_path):
    vvt_tree(tmp_path, {"test": {VID: 2, "nogarment-01": 2, "clash-01": 2}})
    os.remove(tmp_path / "clothes_person/img/nogarment-01/nogarment-01@1=cloth_front.jpg")
    touch(tmp_path, "test/test_frames/clash-01/clash-01@01=person_whole_front.png")
    (tmp_path / "test/test_frames/empty-01").mkdir()
    touch(tmp_path, "test/test_frames/empty-01/notes.txt")
    result = read_dataset(tmp_path, "vvt")
    result.check_accounting()
    assert [s.sample_id for s in result.samples] == [f"test__{VID}"]
    reasons = {row.sample_id: row.reason for row in result.quarantine}
    assert "nogarment-01@1=cloth_front.jpg does not exist" in reasons["test__nogarment-01"]
    assert "both have number 1" in reasons["test__clash-01"]
    assert "no frames named empty-01@<n>=person_whole_front.png" in reasons["test__empty-01"]
    assert {row.path for row in result.quarantine} == {
        "test/test_frames/nogarment-01",
        "test/test_frames/clash-01",
        "test/test_frames/empty-01",
    }
