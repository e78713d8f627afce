"""Bad pair/list-level input: every case ends as a sample, a quarantine row with a precise reason, or a warning."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest
from trees import touch, vitonhd_tree, write_lines

from preprocess.formats import read_dataset
from preprocess.samples import QUARANTINE_SCHEMA


def _vitonhd(tmp_path, lines: list[str], ids=("00006_00", "00008_00")):
    vitonhd_tree(tmp_path, {"test": [(i, i) for i in ids]})
    write_lines(tmp_path, "test_pairs.txt", lines)
    result = read_dataset(tmp_path, "bad", layout="vitonhd")
    result.check_accounting()
    pa.Table.from_pylist([r.as_dict() for r in result.quarantine], schema=QUARANTINE_SCHEMA)  # storable as-is
    return result


def _only_row(result):
    (row,) = result.quarantine
    assert row.stage == "read" and row.dataset == "bad"
    return row


@pytest.mark.parametrize(
    ("line", "expected", "samples"),
    [
        # the line is quarantined, but its person still gets the paired row with the same-name cloth
        (
            "00006_00.jpg 09999_00.jpg",
            "cloth file test/cloth/09999_00.jpg does not exist; restore the file",
            ["test__00008_00", "test__00006_00"],
        ),
        (
            "09999_00.jpg 00006_00.jpg",
            "person file test/image/09999_00.jpg does not exist; restore the file",
            ["test__00008_00"],
        ),
    ],
)
def test_pair_line_naming_a_missing_file(tmp_path, line, expected, samples):
    result = _vitonhd(tmp_path, ["00008_00.jpg 00008_00.jpg", line])
    row = _only_row(result)
    assert row.path == "test_pairs.txt:2" and expected in row.reason
    assert row.reason.startswith("test_pairs.txt:2: ")
    assert [s.sample_id for s in result.samples] == samples


def test_duplicate_id_quarantines_the_second_occurrence_naming_the_first(tmp_path):
    result = _vitonhd(
        tmp_path, ["00006_00.jpg 00006_00.jpg", "00008_00.jpg 00008_00.jpg", "00006_00.jpg 00006_00.jpg"]
    )
    row = _only_row(result)
    assert (row.path, row.sample_id) == ("test_pairs.txt:3", "test__00006_00")
    assert "duplicate sample id 'test__00006_00', first seen at test_pairs.txt:1" in row.reason
    assert "remove the repeated entry" in row.reason
    assert len(result.samples) == 2


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("../../../etc/passwd 00006_00.jpg", "'../../../etc/passwd' climbs out of the dataset root"),
        ("/etc/passwd 00006_00.jpg", "'/etc/passwd' is an absolute path"),
        ("00006_00.jpg ../../../outside.jpg", "the cloth path '../../../outside.jpg' climbs out"),
        ("C:\\data\\x.jpg 00006_00.jpg", "is an absolute path"),
    ],
)
def test_pair_line_escaping_the_root(tmp_path, line, expected):
    touch(tmp_path.parent, "outside.jpg")
    row = _only_row(_vitonhd(tmp_path, [line]))
    assert row.path == "test_pairs.txt:1" and expected in row.reason
    assert "pair files must name files inside the dataset root" in row.reason


def test_dotdot_that_stays_inside_the_root_is_allowed(tmp_path):
    result = _vitonhd(tmp_path, ["../image/00006_00.jpg 00006_00.jpg"])
    assert not result.quarantine and result.samples[0].person_path == "test/image/00006_00.jpg"


@pytest.mark.parametrize(("line", "found"), [("00006_00.jpg", 1), ("00006_00.jpg 00006_00.jpg extra", 3)])
def test_pair_line_with_the_wrong_number_of_columns(tmp_path, line, found):
    row = _only_row(_vitonhd(tmp_path, [line]))
    assert row.path == "test_pairs.txt:1" and row.sample_id is None
    assert f"expected 2 columns like '00006_00.jpg 00006_00.jpg', found {found}" in row.reason
    assert row.reason.endswith("fix the line")


def test_non_utf8_byte_in_a_pair_file_line(tmp_path):
    vitonhd_tree(tmp_path, {"test": [("00006_00", "00006_00")]})
    touch(tmp_path, "test_pairs.txt", b"00006_00.jpg 00006_00.jpg\ncaf\xe9.jpg 00006_00.jpg\n")
    result = read_dataset(tmp_path, "bad")
    result.check_accounting()
    row = _only_row(result)
    assert row.path == "test_pairs.txt:2"
    assert "byte 0xe9 at column 4 is not UTF-8" in row.reason and "caf\\\\xe9.jpg" in row.reason
    assert "re-save the pair file as UTF-8" in row.reason
    pa.Table.from_pylist([row.as_dict()], schema=QUARANTINE_SCHEMA)


def test_non_utf8_filename_on_disk_is_quarantined_with_the_name_escaped(tmp_path):
    touch(tmp_path, "person/ok.jpg")
    fd = os.open(os.fsencode(tmp_path / "person") + b"/caf\xe9.jpg", os.O_CREAT | os.O_WRONLY)
    os.close(fd)
    result = read_dataset(tmp_path, "bad", layout="folder")
    result.check_accounting()
    assert [s.sample_id for s in result.samples] == ["person__ok"]
    row = _only_row(result)
    assert row.path == "person/caf\\xe9.jpg"
    assert "the name 'person/caf\\\\xe9.jpg' is not valid UTF-8; rename the file" in row.reason
    pa.Table.from_pylist([row.as_dict()], schema=QUARANTINE_SCHEMA)


def test_non_utf8_frame_name_quarantines_its_clip(tmp_path):
    from trees import vvt_tree

    vvt_tree(tmp_path, {"test": {"clip-01": 2}})
    os.close(
        os.open(os.fsencode(tmp_path / "test/test_frames/clip-01") + b"/\xff.png", os.O_CREAT | os.O_WRONLY)
    )
    result = read_dataset(tmp_path, "bad", layout="vvt")
    result.check_accounting()
    row = _only_row(result)
    assert (
        row.sample_id == "test__clip-01"
        and "\\xff.png: the frame name is not valid UTF-8; rename the file" in row.reason
    )


def test_empty_pairs_file_gives_zero_samples_and_a_warning(tmp_path):
    vitonhd_tree(tmp_path, {"test": [("00006_00", "00006_00")]})
    touch(tmp_path, "test_pairs.txt", b"")
    result = read_dataset(tmp_path, "bad")
    result.check_accounting()
    assert result.samples == [] and result.quarantine == [] and result.candidates == 0
    assert any("test_pairs.txt is empty: zero samples from it" in w for w in result.warnings)


def test_missing_pairs_file_for_a_split_is_a_warning(tmp_path):
    vitonhd_tree(tmp_path, {"test": [("00006_00", "00006_00")]})
    os.remove(tmp_path / "test_pairs.txt")
    result = read_dataset(tmp_path, "bad")
    result.check_accounting()
    assert result.candidates == 0
    assert result.warnings == [
        "test_pairs.txt is missing: nothing is read from it; add the pairs file to read that part of the dataset"
    ]


def test_blank_lines_crlf_bom_and_trailing_whitespace_are_normalised_silently(tmp_path):
    vitonhd_tree(tmp_path, {"test": [("00006_00", "00006_00"), ("00008_00", "00008_00")]})
    touch(
        tmp_path,
        "test_pairs.txt",
        b"\xef\xbb\xbf00006_00.jpg 00006_00.jpg  \r\n\r\n   \n\t00008_00.jpg\t00008_00.jpg\r\n\n",
    )
    result = read_dataset(tmp_path, "bad")
    result.check_accounting()
    assert result.candidates == 2 and not result.quarantine and not result.warnings
    assert [s.source_line for s in result.samples] == ["test_pairs.txt:1", "test_pairs.txt:4"]


def test_symlink_to_a_file_outside_the_root_is_quarantined(tmp_path):
    root = tmp_path / "root"
    vitonhd_tree(root, {"test": [("00006_00", "00006_00"), ("00008_00", "00008_00")]})
    secret = touch(tmp_path, "secret.jpg")
    os.remove(root / "test/image/00008_00.jpg")
    os.symlink(secret, root / "test/image/00008_00.jpg")
    os.symlink(root / "test/image/00006_00.jpg", root / "test/image/inside.jpg")
    write_lines(
        root,
        "test_pairs.txt",
        ["00006_00.jpg 00006_00.jpg", "00008_00.jpg 00008_00.jpg", "inside.jpg 00006_00.jpg"],
    )
    result = read_dataset(root, "bad")
    result.check_accounting()
    assert sorted(s.sample_id for s in result.samples) == ["test__00006_00", "test__inside__00006_00"]
    row = _only_row(result)
    assert row.path == "test_pairs.txt:2"
    assert (
        "test/image/00008_00.jpg is a symlink leading outside the dataset root; copy the file" in row.reason
    )


def test_linked_folder_leading_outside_the_root_is_not_read(tmp_path):
    from trees import vvt_tree

    root = tmp_path / "root"
    vvt_tree(root, {"test": {"clip-01": 2}})
    vvt_tree(tmp_path / "elsewhere", {"test": {"clip-02": 2}})
    os.symlink(tmp_path / "elsewhere/test/test_frames/clip-02", root / "test/test_frames/clip-02")
    result = read_dataset(root, "bad", layout="vvt")
    result.check_accounting()
    assert [s.sample_id for s in result.samples] == ["test__clip-01"]
    row = _only_row(result)
    assert row.sample_id == "test__clip-02" and "symlink leading outside the dataset root" in row.reason

    touch(root, "person/p1.jpg")
    os.symlink(tmp_path / "elsewhere", root / "person/linked")
    photos = read_dataset(root / "person", "bad", layout="folder")
    photos.check_accounting()
    assert [s.person_path for s in photos.samples] == ["p1.jpg"]
    assert photos.warnings == ["linked/ links to a folder outside the dataset root; not read (copy it in)"]
