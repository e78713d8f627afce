"""Plain-folder reader: real photographs from ../shared and hand-made folders."""

from __future__ import annotations

from collections import Counter

from trees import touch

from preprocess.formats import detect_layout, read_dataset


def test_real_photos_twenty_samples_with_categories_from_folder_names(realdata):
    assert detect_layout(realdata) == "folder"
    result = read_dataset(realdata, "real")
    result.check_accounting()
    assert result.candidates == 20 and len(result.samples) == 20 and not result.quarantine
    roles = Counter(
        (s.person_path.split("/")[0] if s.person_path else s.garment_path.split("/")[0], s.category)
        for s in result.samples
    )
    assert roles == {
        ("person", "upper"): 8,
        ("person_wearing", "upper"): 4,
        ("garment_upper", "upper"): 4,
        ("garment_overall", "dresses"): 4,
    }
    for sample in result.samples:
        folder = (sample.person_path or sample.garment_path).split("/")[0]
        if folder.startswith("garment"):
            assert sample.person_path is None and sample.garment_id
        else:
            assert sample.garment_path is None
        assert sample.sample_id.startswith(f"{folder}__") and "." not in sample.sample_id


def test_flat_folder_is_person_photos_and_non_images_are_not_candidates(tmp_path):
    for name in ("a.jpg", "b.PNG", "c.webp", "notes.txt", ".DS_Store", "._a.jpg"):
        touch(tmp_path, name)
    result = read_dataset(tmp_path, "flat")
    result.check_accounting()
    assert result.layout == "folder" and result.candidates == 3
    assert sorted(s.sample_id for s in result.samples) == ["a", "b", "c"]
    assert all(s.person_path and s.garment_path is None and s.split == "test" for s in result.samples)


def test_nested_role_category_and_split_words(tmp_path):
    touch(tmp_path, "train/models/p1.jpg")
    touch(tmp_path, "train/clothes/bottoms/g1.jpg")
    touch(tmp_path, "val/Skirts/g2.png")
    touch(tmp_path, "Dresses-2024/g3.jpg")
    touch(tmp_path, "misc/p2.jpg")
    result = read_dataset(tmp_path, "nested", layout="folder")
    result.check_accounting()
    got = {
        s.sample_id: (s.split, s.category, bool(s.person_path), bool(s.garment_path)) for s in result.samples
    }
    assert got == {
        "train__models__p1": ("train", "upper", True, False),
        "train__clothes__bottoms__g1": ("train", "lower", False, True),
        "val__Skirts__g2": ("val", "lower", False, True),
        "Dresses-2024__g3": ("test", "dresses", False, True),
        "misc__p2": ("test", "upper", True, False),
    }


def test_same_stem_with_two_extensions_keeps_the_first(tmp_path):
    touch(tmp_path, "person/p1.jpg")
    touch(tmp_path, "person/p1.png")
    result = read_dataset(tmp_path, "dup")
    result.check_accounting()
    assert [s.person_path for s in result.samples] == ["person/p1.jpg"]
    (row,) = result.quarantine
    assert row.path == "person/p1.png"
    assert "duplicate sample id 'person__p1', first seen at person/p1.jpg" in row.reason
