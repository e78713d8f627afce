"""Layout detection: each published layout is recognised; anything else gets an error that says what to do."""

from __future__ import annotations

import pytest
from trees import dresscode_tree, streettryon_tree, touch, vitonhd_tree, vivid_tree, vvt_tree

from preprocess.formats import READERS, LayoutError, detect_layout, read_dataset

BUILDERS = {
    "vitonhd": lambda root: vitonhd_tree(root, {"test": [("00006_00", "00006_00")]}),
    "dresscode": lambda root: dresscode_tree(
        root, {"upper_body": {"test_pairs_paired.txt": [("013563_0", "013563_1")]}}
    ),
    "vvt": lambda root: vvt_tree(root, {"test": {"4he21d00f-g11": 2}}),
    "vivid": lambda root: vivid_tree(root, {"upper_body": {"test_pairs.txt": [("upper1", "00057_00")]}}),
    "streettryon": lambda root: streettryon_tree(root, ["000001"], ["000002"], {}),
    "folder": lambda root: touch(root, "person/p1.jpg"),
}


def test_every_reader_has_a_tree_here():
    assert set(BUILDERS) == set(READERS)


@pytest.mark.parametrize("layout", sorted(BUILDERS))
def test_each_layout_is_detected_and_reads_with_full_accounting(tmp_path, layout):
    BUILDERS[layout](tmp_path)
    assert detect_layout(tmp_path) == layout
    result = read_dataset(tmp_path, "d")
    result.check_accounting()
    assert result.layout == layout and len(result.samples) >= 1 and not result.quarantine


def test_streettryon_is_detected_one_level_up(tmp_path):
    streettryon_tree(tmp_path / "street_tryon", ["000001"], [], {})
    assert detect_layout(tmp_path) == "streettryon"


def test_unknown_tree_raises_a_helpful_layout_error(tmp_path):
    touch(tmp_path, "readme.txt")
    touch(tmp_path, "data/table.csv")
    with pytest.raises(LayoutError) as err:
        detect_layout(tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and "--layout" in message
    for name, reader in READERS.items():
        assert f"- {name}: {reader.looks_for}" in message


def test_missing_root_unknown_layout_and_forced_mismatch(tmp_path):
    with pytest.raises(LayoutError, match="does not exist; check the path"):
        read_dataset(tmp_path / "nope", "d")
    touch(tmp_path, "a.jpg")
    with pytest.raises(
        LayoutError, match="unknown layout 'vitonhd2'; use --layout with one of: auto, vitonhd"
    ):
        read_dataset(tmp_path, "d", layout="vitonhd2")
    with pytest.raises(LayoutError, match="is a file, not a folder"):
        detect_layout(tmp_path / "a.jpg")
    forced = read_dataset(tmp_path, "d", layout="vitonhd")
    forced.check_accounting()
    assert forced.samples == [] and forced.warnings[0].startswith("--layout vitonhd was forced but")
