"""StreetTryOn reader on hand-made trees in the benchmark's layout (street photos, image lists, pair CSVs)."""

from __future__ import annotations

from trees import streettryon_tree, touch, write_lines

from preprocess.formats import read_dataset


def test_street_photos_and_street2street_pairs(tmp_path):
    streettryon_tree(
        tmp_path,
        train=["000001", "000002"],
        validation=["000010", "000011", "000012"],
        pair_files={
            "street2street_test_pairs_top.csv": [("000011", "000010")],
            "street2street_test_pairs_dress.csv": [("000012", "000010")],
        },
    )
    result = read_dataset(tmp_path, "street")
    result.check_accounting()
    assert result.layout == "streettryon" and result.candidates == 7 and not result.quarantine
    by_id = {s.sample_id: s for s in result.samples}
    photo = by_id["train__000001"]
    assert (photo.split, photo.person_path, photo.garment_path) == ("train", "train/image/000001.jpg", None)
    assert photo.annotations == {"densepose": "train/densepose/000001.png", "parse": "train/segm/000001.png"}
    assert (photo.parse_labels, photo.densepose_format) == ("atr", "iuv")
    assert by_id["val__000012"].split == "val"

    top = by_id["street2street_top__000010__000011"]
    assert (top.split, top.category, top.pair_mode) == ("test", "upper", "unpaired")
    assert top.person_path == "validation/image/000010.jpg"
    assert top.garment_path == "validation/image/000011.jpg" and top.garment_id == "000011"
    assert top.source_line == "annotations/street2street_test_pairs_top.csv:2"
    assert by_id["street2street_dress__000010__000012"].category == "dresses"


def test_cross_domain_pairs_resolve_in_vitonhd_beside_street_tryon(tmp_path):
    street = tmp_path / "street_tryon"
    streettryon_tree(
        street,
        train=[],
        validation=["000010"],
        pair_files={"shop2street_test_pairs_top.csv": [("00006_00", "000010"), ("00099_00", "000010")]},
    )
    touch(tmp_path, "zalando/test/cloth/00006_00.jpg")
    result = read_dataset(tmp_path, "street")
    result.check_accounting()
    pair = next(s for s in result.samples if s.sample_id == "shop2street_top__000010__00006_00")
    assert pair.garment_path == "zalando/test/cloth/00006_00.jpg"
    assert pair.person_path == "street_tryon/validation/image/000010.jpg"
    assert pair.annotations["densepose"] == "street_tryon/validation/densepose/000010.png"
    (row,) = result.quarantine
    assert "zalando/test/cloth/00099_00.jpg does not exist" in row.reason

    inside = read_dataset(street, "street")
    inside.check_accounting()
    assert len(inside.quarantine) == 2
    assert all(
        "register the folder that holds both street_tryon/ and zalando/" in r.reason
        for r in inside.quarantine
    )


def test_missing_image_list_falls_back_to_the_image_folder(tmp_path):
    streettryon_tree(tmp_path, train=["000001"], validation=["000010"], pair_files={})
    (tmp_path / "annotations/validation_image_list.txt").unlink()
    touch(tmp_path, "validation/image/000011.jpg")
    write_lines(tmp_path, "annotations/notes.csv", ["a,b"])
    result = read_dataset(tmp_path, "street")
    result.check_accounting()
    assert sorted(s.sample_id for s in result.samples) == ["train__000001", "val__000010", "val__000011"]
    assert any("validation_image_list.txt is missing" in w for w in result.warnings)
    assert any("notes.csv is not a known StreetTryOn pairs file" in w for w in result.warnings)
