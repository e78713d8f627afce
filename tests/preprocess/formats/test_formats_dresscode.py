"""Dress Code reader on hand-made trees in the published naming."""

from __future__ import annotations

from trees import dresscode_tree, touch, write_lines

from preprocess.formats import read_dataset


def _full_tree(root):
    return dresscode_tree(
        root,
        {
            "upper_body": {
                "train_pairs.txt": [("000001_0", "000001_1")],
                "test_pairs_paired.txt": [("013563_0", "013563_1")],
                "test_pairs_unpaired.txt": [("013563_0", "048392_1")],
            },
            "lower_body": {"test_pairs_paired.txt": [("020000_0", "020000_1")]},
            "dresses": {"test_pairs_paired.txt": [("030000_0", "030000_1")]},
        },
    )


def test_categories_splits_pair_modes_and_annotations(tmp_path):
    _full_tree(tmp_path)
    result = read_dataset(tmp_path, "dc")
    result.check_accounting()
    assert result.layout == "dresscode" and not result.quarantine
    by_id = {s.sample_id: s for s in result.samples}
    assert set(by_id) == {
        "upper__train__000001_0",
        "upper__test__013563_0",
        "upper__test__013563_0__048392_1",
        "lower__test__020000_0",
        "dresses__test__030000_0",
    }
    assert by_id["lower__test__020000_0"].category == "lower"
    assert by_id["dresses__test__030000_0"].category == "dresses"
    assert by_id["upper__train__000001_0"].split == "train"

    paired = by_id["upper__test__013563_0"]
    assert paired.pair_mode == "paired"
    assert paired.person_path == "upper_body/images/013563_0.jpg"
    assert paired.garment_path == "upper_body/images/013563_1.jpg"
    assert paired.annotations == {
        "pose": "upper_body/keypoints/013563_2.json",
        "parse": "upper_body/label_maps/013563_4.png",
        "skeleton": "upper_body/skeletons/013563_5.jpg",
        "densepose": "upper_body/dense/013563_5.png",
        "densepose_uv": "upper_body/dense/013563_5_uv.npz",
        "garment_mask": "upper_body/masks/013563_1.png",
    }
    assert (paired.parse_labels, paired.pose_format, paired.densepose_format) == ("atr", "coco18", "dp_index")

    unpaired = by_id["upper__test__013563_0__048392_1"]
    assert unpaired.pair_mode == "unpaired" and unpaired.garment_id == "048392_1"
    assert unpaired.annotations["garment_mask"] == "upper_body/masks/048392_1.png"
    assert unpaired.annotations["pose"] == "upper_body/keypoints/013563_2.json"
    assert unpaired.source_line == "upper_body/test_pairs_unpaired.txt:1"


def test_cloth_mask_folder_variant_and_missing_annotations(tmp_path):
    dresscode_tree(tmp_path, {"upper_body": {"test_pairs_paired.txt": [("013563_0", "013563_1")]}})
    (tmp_path / "upper_body/masks/013563_1.png").unlink()
    touch(tmp_path, "upper_body/cloth_mask/013563_1.png")
    (tmp_path / "upper_body/dense/013563_5_uv.npz").unlink()
    result = read_dataset(tmp_path, "dc")
    result.check_accounting()
    (sample,) = result.samples
    assert sample.annotations["garment_mask"] == "upper_body/cloth_mask/013563_1.png"
    assert "densepose_uv" not in sample.annotations
    assert sum("upper_body/train_pairs.txt is missing" in w for w in result.warnings) == 1


def test_root_level_pair_files_with_category_column(tmp_path):
    dresscode_tree(tmp_path, {"upper_body": {}, "dresses": {}})
    for stem in ("013563_0", "013563_1"):
        touch(tmp_path, f"upper_body/images/{stem}.jpg")
    for stem in ("030000_0", "030000_1"):
        touch(tmp_path, f"dresses/images/{stem}.jpg")
    write_lines(
        tmp_path,
        "test_pairs_paired.txt",
        ["013563_0.jpg 013563_1.jpg 0", "030000_0.jpg 030000_1.jpg 2", "030000_0.jpg 030000_1.jpg 7"],
    )
    result = read_dataset(tmp_path, "dc")
    result.check_accounting()
    assert sorted(s.sample_id for s in result.samples) == ["dresses__test__030000_0", "upper__test__013563_0"]
    (row,) = result.quarantine
    assert row.path == "test_pairs_paired.txt:3"
    assert "category column '7' must be 0 (upper_body), 1 (lower_body) or 2 (dresses)" in row.reason


def test_category_pair_files_take_precedence_over_root_level(tmp_path):
    dresscode_tree(tmp_path, {"upper_body": {"test_pairs_paired.txt": [("013563_0", "013563_1")]}})
    write_lines(tmp_path, "test_pairs_paired.txt", ["013563_0.jpg 013563_1.jpg 0"])
    result = read_dataset(tmp_path, "dc")
    result.check_accounting()
    assert [s.sample_id for s in result.samples] == ["upper__test__013563_0"]
    assert any("root-level test_pairs_paired.txt set aside" in w for w in result.warnings)


def test_pair_mode_follows_the_test_file_even_when_ids_match(tmp_path):
    dresscode_tree(
        tmp_path,
        {
            "dresses": {
                "test_pairs_paired.txt": [("030000_0", "030000_1")],
                "test_pairs_unpaired.txt": [("030000_0", "030000_1")],
            }
        },
    )
    result = read_dataset(tmp_path, "dc")
    result.check_accounting()
    assert not result.quarantine
    modes = {s.sample_id: s.pair_mode for s in result.samples}
    assert modes == {"dresses__test__030000_0": "paired", "dresses__test__030000_0__030000_1": "unpaired"}
