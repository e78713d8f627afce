"""Rough try-on masks (CatVTON and HR-VITON rules) on synthetic Dress Code samples with exact ground truth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from preprocess.annotators.agnostic_catvton import kernel_sizes, lip_to_atr
from preprocess.annotators.agnostic_mask import STRATEGIES, agnostic_mask
from preprocess.annotators.agnostic_score import score_agnostic, synthetic_inputs
from preprocess.synthetic import generate_dataset, read_truth

SIZE = (192, 144)
UPPER_CLOTH_LIP = (5, 7)
LEGS_LIP = (16, 17)


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """Inputs of 24 synthetic Dress Code samples (8 per category), read back from their files."""
    root = tmp_path_factory.mktemp("agnostic") / "dresscode"
    generate_dataset("dresscode", 24, root, seed=11, size=SIZE)
    return [dict(synthetic_inputs(root, r), truncated=r["truncated"], id=r["id"]) for r in read_truth(root)]


def _mask(strategy, s, **kw):
    return agnostic_mask(strategy, s["category"], s["parse"], s["pose"], s["densepose"], **kw)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_masks_are_binary_and_of_image_size(samples, strategy):
    for s in samples[:9]:
        mask = _mask(strategy, s)
        assert mask.dtype == np.uint8 and mask.shape == s["parse"].shape
        assert set(np.unique(mask)) <= {0, 255}
        assert 0.02 < (mask > 0).mean() < 0.8, s["id"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_upper_masks_cover_the_garment_and_spare_the_face(samples, strategy):
    scores = [score_agnostic(_mask(strategy, s), s["garment_region"], s["parse"], s["densepose"])
              for s in samples if s["category"] == "upper"]  # fmt: skip
    coverage = [sc["coverage"] for sc in scores]
    face = [sc["face_spill"] for sc in scores if np.isfinite(sc["face_spill"])]
    assert len(scores) == 8 and face
    assert np.mean(coverage) >= 0.9 and min(coverage) >= 0.8, coverage
    assert max(face) <= 0.05, face


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_category_masks_its_own_body_region(samples, strategy):
    for s in samples:
        if s["truncated"]:
            continue
        mask = _mask(strategy, s) > 0
        top = np.isin(s["parse"], UPPER_CLOTH_LIP)
        legs = np.isin(s["parse"], LEGS_LIP)
        if s["category"] == "lower" and top.sum() > 20:  # the chest (the top worn above) stays
            assert (mask & top).sum() / top.sum() < 0.15, s["id"]
        if s["category"] == "upper" and legs.sum() > 20:  # legs stay
            assert (mask & legs).sum() / legs.sum() < 0.25, s["id"]
        if s["category"] == "dresses":
            assert score_agnostic(mask, s["garment_region"], s["parse"])["coverage"] >= 0.9, s["id"]


def test_hrviton_spills_onto_hands_where_catvton_protects_them(samples):
    upper = [s for s in samples if s["category"] == "upper" and not s["truncated"]]
    hand = {k: np.nanmean([score_agnostic(_mask(k, s), s["garment_region"], s["parse"], s["densepose"])["hand_spill"]
                           for s in upper]) for k in STRATEGIES}  # fmt: skip
    assert hand["catvton"] < 0.2 < hand["hrviton"], hand


def test_kernels_scale_with_the_image_size():
    assert kernel_sizes(1024, 768) == (5, 41)
    assert kernel_sizes(128, 96) == (1, 5)
    assert kernel_sizes(512, 384) == (3, 21)
    for side in (100, 333, 1000, 2048):
        assert all(k % 2 == 1 for k in kernel_sizes(side, side // 2))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_masks_grow_in_proportion_to_the_image(samples, strategy):
    s = next(x for x in samples if x["category"] == "upper" and not x["truncated"])
    big = {
        "category": "upper",
        "parse": cv2.resize(s["parse"], None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST),
        "densepose": cv2.resize(s["densepose"], None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST),
        "pose": type(s["pose"])(body=s["pose"].body * np.array([4, 4, 1], np.float32)),
    }
    garment = np.isin(s["parse"], UPPER_CLOTH_LIP)
    garment_big = np.isin(big["parse"], UPPER_CLOTH_LIP)
    small_mask, big_mask = _mask(strategy, s) > 0, _mask(strategy, big) > 0
    small_margin = (small_mask & ~garment).mean()
    big_margin = (big_mask & ~garment_big).mean()
    assert small_margin > 0 and 0.7 < big_margin / small_margin < 1.3, (small_margin, big_margin)


def test_catvton_with_a_real_atr_parse_agrees_with_the_one_derived_from_lip(samples):
    for s in samples[:9]:
        derived = _mask("catvton", s) > 0
        given = _mask("catvton", s, parse_atr=s["parse_atr"]) > 0
        assert (derived & given).sum() / max((derived | given).sum(), 1) > 0.95, s["id"]
    assert np.array_equal(lip_to_atr(s["parse"]), s["parse_atr"])  # exact for these label sets
