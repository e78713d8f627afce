"""VITON-HD reader on hand-made trees in the published naming."""

from __future__ import annotations

import time

from trees import touch, vitonhd_tree

from preprocess.formats import read_dataset


def test_paired_and_unpaired_lines_with_every_annotation(tmp_path):
    vitonhd_tree(tmp_path, {"train": [("00006_00", "00006_00")], "test": [("00008_00", "01234_00")]})
    result = read_dataset(tmp_path, "vhd", layout="vitonhd")
    result.check_accounting()
    assert result.candidates == 2 and not result.quarantine and not result.warnings
    by_id = {s.sample_id: s for s in result.samples}
    assert set(by_id) == {"train__00006_00", "test__00008_00__01234_00"}

    paired = by_id["train__00006_00"]
    assert (paired.split, paired.category, paired.kind, paired.pair_mode) == (
        "train",
        "upper",
        "image",
        "paired",
    )
    assert paired.person_path == "train/image/00006_00.jpg"
    assert paired.garment_path == "train/cloth/00006_00.jpg"
    assert paired.annotations == {
        "parse": "train/image-parse-v3/00006_00.png",
        "pose": "train/openpose_json/00006_00_keypoints.json",
        "densepose": "train/image-densepose/00006_00.jpg",
        "garment_mask": "train/cloth-mask/00006_00.jpg",
        "agnostic": "train/agnostic-v3.2/00006_00.jpg",
        "skeleton": "train/openpose_img/00006_00_rendered.png",
    }
    assert (paired.parse_labels, paired.pose_format, paired.densepose_format) == (
        "cihp",
        "body25",
        "dp_segm_colormap",
    )
    assert paired.source_line == "train_pairs.txt:1"

    unpaired = by_id["test__00008_00__01234_00"]
    assert unpaired.pair_mode == "unpaired" and unpaired.garment_id == "01234_00"
    assert unpaired.annotations["garment_mask"] == "test/cloth-mask/01234_00.jpg"
    assert unpaired.annotations["parse"] == "test/image-parse-v3/00008_00.png"


def test_test_persons_get_a_paired_row_with_their_same_name_cloth(tmp_path):
    # test_pairs.txt in the release is unpaired; the paired setting takes each person's same-name cloth.
    vitonhd_tree(
        tmp_path,
        {
            "train": [("00001_00", "00002_00"), ("00002_00", "00001_00")],  # read as listed: no extra row
            "test": [
                ("00006_00", "00008_00"),
                ("00008_00", "00006_00"),
                ("00010_00", "00006_00"),  # no test/cloth/00010_00.jpg: no paired row, no quarantine
                ("00012_00", "00006_00"),  # cloth without its mask while cloth-mask/ exists: no row
                ("00014_00", "00006_00"),
                ("00014_00", "00014_00"),  # already listed paired: not added twice
                ("00006_00", "00012_00"),  # a second line of a person: one paired row only
            ],
        },
    )
    (tmp_path / "test/cloth-mask/00012_00.jpg").unlink()  # its cloth is there (line 7 names it)
    result = read_dataset(tmp_path, "vhd", layout="vitonhd")
    result.check_accounting()
    assert not result.quarantine and not result.warnings
    assert result.candidates == 2 + 7 + 2
    modes = {s.sample_id: (s.split, s.pair_mode) for s in result.samples}
    assert modes == {
        "train__00001_00__00002_00": ("train", "unpaired"),
        "train__00002_00__00001_00": ("train", "unpaired"),
        "test__00006_00__00008_00": ("test", "unpaired"),
        "test__00008_00__00006_00": ("test", "unpaired"),
        "test__00010_00__00006_00": ("test", "unpaired"),
        "test__00012_00__00006_00": ("test", "unpaired"),
        "test__00014_00__00006_00": ("test", "unpaired"),
        "test__00014_00": ("test", "paired"),
        "test__00006_00__00012_00": ("test", "unpaired"),
        "test__00006_00": ("test", "paired"),
        "test__00008_00": ("test", "paired"),
    }
    assert [s.sample_id for s in result.samples[-2:]] == [
        "test__00006_00",
        "test__00008_00",
    ]  # first-listed order
    own = result.samples[-2]
    assert (own.person_path, own.garment_path, own.garment_id) == (
        "test/image/00006_00.jpg",
        "test/cloth/00006_00.jpg",
        "00006_00",
    )
    assert own.annotations == {
        "parse": "test/image-parse-v3/00006_00.png",
        "pose": "test/openpose_json/00006_00_keypoints.json",
        "densepose": "test/image-densepose/00006_00.jpg",
        "garment_mask": "test/cloth-mask/00006_00.jpg",
        "agnostic": "test/agnostic-v3.2/00006_00.jpg",
        "skeleton": "test/openpose_img/00006_00_rendered.png",
    }
    assert own.source_line == "test_pairs.txt:1 (person with own cloth)"
    listed = next(s for s in result.samples if s.sample_id == "test__00014_00")
    assert listed.source_line == "test_pairs.txt:6"


def test_paired_test_row_needs_no_mask_when_the_layout_ships_none(tmp_path):
    vitonhd_tree(tmp_path, {"test": [("00006_00", "00008_00"), ("00008_00", "00006_00")]}, annotations=False)
    result = read_dataset(tmp_path, "vhd", layout="vitonhd")
    result.check_accounting()
    paired = sorted(s.sample_id for s in result.samples if s.pair_mode == "paired")
    assert paired == ["test__00006_00", "test__00008_00"] and not result.quarantine
    assert all(s.annotations == {} for s in result.samples)


def test_missing_optional_annotation_leaves_it_out(tmp_path):
    vitonhd_tree(tmp_path, {"test": [("00006_00", "00006_00"), ("00008_00", "00008_00")]})
    (tmp_path / "test/image-parse-v3/00006_00.png").unlink()
    (tmp_path / "test/openpose_json/00006_00_keypoints.json").unlink()
    result = read_dataset(tmp_path, "vhd")
    result.check_accounting()
    assert len(result.samples) == 2 and not result.quarantine
    sample = next(s for s in result.samples if s.sample_id == "test__00006_00")
    assert "parse" not in sample.annotations and sample.parse_labels is None
    assert "pose" not in sample.annotations and sample.pose_format is None
    assert sample.annotations["densepose"] == "test/image-densepose/00006_00.jpg"


def test_cloth_mask_saved_as_png_is_found_by_stem(tmp_path):
    vitonhd_tree(tmp_path, {"test": [("00006_00", "00006_00")]})
    (tmp_path / "test/cloth-mask/00006_00.jpg").unlink()
    touch(tmp_path, "test/cloth-mask/00006_00.png")
    (sample,) = read_dataset(tmp_path, "vhd").samples
    assert sample.annotations["garment_mask"] == "test/cloth-mask/00006_00.png"


def test_split_without_pairs_file_warns_and_reads_the_other(tmp_path):
    vitonhd_tree(tmp_path, {"test": [("00006_00", "00006_00")]})
    assert read_dataset(tmp_path, "vhd").warnings == []  # no train/ folder: nothing to warn about
    touch(tmp_path, "train/image/00001_00.jpg")
    result = read_dataset(tmp_path, "vhd")
    result.check_accounting()
    assert [s.sample_id for s in result.samples] == ["test__00006_00"]
    assert [w.split(":")[0] for w in result.warnings] == ["train_pairs.txt is missing"]


def test_two_thousand_pairs_read_well_under_a_second(tmp_path):
    ids = [f"{i:05d}_00" for i in range(2000)]
    # like the release's test split: unpaired lines (plus some paired), every person with its own cloth
    rows = [(p, p) if i % 4 == 0 else (p, ids[(i + 7) % 2000]) for i, p in enumerate(ids)]
    vitonhd_tree(tmp_path, {"test": rows})
    for person in ids[3::4]:  # the only persons no line names as a cloth
        touch(tmp_path, f"test/cloth/{person}.jpg")
        touch(tmp_path, f"test/cloth-mask/{person}.jpg")
    start = time.perf_counter()
    result = read_dataset(tmp_path, "vhd", layout="vitonhd")
    seconds = time.perf_counter() - start
    result.check_accounting()
    assert len(result.samples) == 2000 + 1500 and not result.quarantine  # 1,500 persons get a paired row
    assert all(len(s.annotations) == 6 for s in result.samples)
    assert seconds < 1.0, f"reading 2,000 pairs took {seconds:.2f}s"
