"""Parse label tables: every source label maps into LIP-20, the choices match their names, bad labels fail."""

from __future__ import annotations

import numpy as np
import pytest

from preprocess.annotators.label_maps import (
    ATR_LABELS,
    ATR_TO_LIP,
    CIHP_LABELS,
    CIHP_TO_LIP,
    GROUPS7,
    LIP_LABELS,
    LIP_TO_GROUPS7,
    lip_to_groups7,
    to_lip,
)
from preprocess.synthetic import labels as synth


@pytest.mark.parametrize(
    ("source", "names"), [("cihp", CIHP_LABELS), ("atr", ATR_LABELS), ("lip", LIP_LABELS)]
)
def test_every_source_label_maps_to_a_lip_label(source, names):
    every = np.arange(len(names), dtype=np.uint8).reshape(1, -1)
    mapped = to_lip(every, source)
    assert mapped.shape == every.shape and mapped.dtype == np.uint8
    assert mapped.max() < len(LIP_LABELS)


def test_cihp_is_lip_except_the_neck_label():
    for index, name in enumerate(CIHP_LABELS):
        expected = "Face" if name == "Torso-skin" else name
        assert LIP_LABELS[CIHP_TO_LIP[index]] == expected
    assert CIHP_LABELS[10] == "Torso-skin" and LIP_LABELS[10] == "Jumpsuits"


def test_atr_labels_map_to_the_same_named_lip_label():
    renamed = {"head": "Face", "belt": "Pants", "bag": "Background"}
    for index, name in enumerate(ATR_LABELS):
        lip_name = LIP_LABELS[ATR_TO_LIP[index]]
        if name in renamed:
            assert lip_name == renamed[name]
        else:
            assert lip_name.lower().replace("-", "_") == name, (name, lip_name)


def test_the_generator_label_sets_agree_after_mapping():
    """The same render in CIHP (VITON-HD) and ATR (Dress Code) maps to its LIP view (VVT)."""
    sem = np.arange(len(synth.SEM_TO_LIP), dtype=np.uint8)
    lip = synth.parse_for("lip", sem)
    assert np.array_equal(to_lip(synth.parse_for("cihp", sem), "cihp"), lip)
    assert np.array_equal(to_lip(synth.parse_for("atr", sem), "atr"), lip)


def test_labels_outside_the_set_name_the_file():
    with pytest.raises(ValueError, match=r"x_4\.png.*20.*ATR"):
        to_lip(np.array([[0, 20]], np.uint8), "atr", "x_4.png")
    with pytest.raises(ValueError, match="choose one of"):
        to_lip(np.zeros((2, 2), np.uint8), "pascal")
    with pytest.raises(ValueError, match="integers"):
        to_lip(np.zeros((2, 2), np.float32), "lip")


def test_groups7_are_the_papers_groups():
    assert GROUPS7 == (
        "background",
        "hair",
        "face",
        "upper_body_skin",
        "upper_garment",
        "lower_garment",
        "thigh",
    )
    assert len(LIP_TO_GROUPS7) == len(LIP_LABELS) and set(LIP_TO_GROUPS7.tolist()) == set(range(7))
    by_name = {name: GROUPS7[g] for name, g in zip(LIP_LABELS, LIP_TO_GROUPS7, strict=True)}
    assert by_name["Upper-clothes"] == by_name["Coat"] == "upper_garment"
    assert by_name["Pants"] == by_name["Skirt"] == "lower_garment"
    assert by_name["Left-arm"] == by_name["Right-arm"] == "upper_body_skin"
    assert by_name["Left-leg"] == by_name["Right-shoe"] == "thigh"
    assert by_name["Face"] == "face" and by_name["Hair"] == "hair" and by_name["Background"] == "background"
    parse = np.array([[0, 2, 13], [5, 9, 14], [16, 12, 19]], np.uint8)
    assert lip_to_groups7(parse).tolist() == [[0, 1, 2], [4, 5, 3], [6, 5, 6]]
    with pytest.raises(ValueError, match="LIP"):
        lip_to_groups7(np.array([[25]], np.uint8))
