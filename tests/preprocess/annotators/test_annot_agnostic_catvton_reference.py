"""catvton_mask's fast path (one flag lookup per parse, 0/255 masks, the blur computed over the mask's box
only) must give exactly the mask of CatVTON's rules written out with one boolean map per label group and a
whole-image blur."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from preprocess.annotators.agnostic_catvton import (
    ACCESSORIES,
    ATR,
    BLUR_THRESHOLD,
    CATEGORIES,
    DP_FEET,
    DP_HANDS,
    DP_MASK_PARTS,
    LIMBS,
    LIP,
    MASK_CLOTH,
    PROTECT_BODY,
    PROTECT_CLOTH,
    _blur_at_least,
    _fixed_point_kernel,
    catvton_mask,
    kernel_sizes,
    lip_to_atr,
)


def _in(labels: np.ndarray, names: tuple[str, ...], table: dict[str, int]) -> np.ndarray:
    return np.isin(labels, [table[n] for n in names if n in table])


def _both(lip: np.ndarray, atr: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return _in(lip, names, LIP) | _in(atr, names, ATR)


def _reference_mask(lip: np.ndarray, parts: np.ndarray, category: str, atr: np.ndarray | None) -> np.ndarray:
    """CatVTON's AutoMasker rules (the module docstring), one boolean map per label group."""
    atr = LIP_TO_ATR_REF[lip] if atr is None else atr
    h, w = lip.shape
    dilate_side, blur_side = kernel_sizes(h, w)
    kernel = np.ones((dilate_side, dilate_side), np.uint8)
    hands = cv2.dilate(np.isin(parts, DP_HANDS + DP_FEET).astype(np.uint8), kernel).astype(bool)
    strong_protect = (hands & _both(lip, atr, LIMBS)) | _in(lip, ("Face",), LIP)
    lip_cloth, atr_cloth = PROTECT_CLOTH[category]
    weak_protect = (
        strong_protect
        | _both(lip, atr, PROTECT_BODY[category])
        | _in(lip, lip_cloth, LIP)
        | _in(atr, atr_cloth, ATR)
        | _both(lip, atr, ("Hair",))
        | _both(lip, atr, ACCESSORIES)
    )
    strong_mask = _both(lip, atr, MASK_CLOTH[category])
    background = (lip == LIP["Background"]) & (atr == ATR["Background"])
    dense = np.isin(parts, DP_MASK_PARTS[category]).astype(np.uint8)
    small = cv2.resize(dense, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_NEAREST)
    small = cv2.dilate(small, kernel, iterations=2)
    dense_area = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    area = (~weak_protect & ~background) | dense_area
    contours, _ = cv2.findContours(area.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = np.zeros((h, w), np.uint8)
    for contour in contours:
        cv2.fillPoly(hull, [cv2.convexHull(contour)], 1)
    area = hull.astype(bool) & ~weak_protect
    blurred = cv2.GaussianBlur(area.astype(np.uint8) * 255, (blur_side, blur_side), 0)
    area = ((blurred >= BLUR_THRESHOLD) | strong_mask) & ~strong_protect
    return cv2.dilate(area.astype(np.uint8), kernel) * np.uint8(255)


LIP_TO_ATR_REF = lip_to_atr(np.arange(256, dtype=np.uint8))


def _blobs(rng: np.random.Generator, shape: tuple[int, int], labels: int, count: int) -> np.ndarray:
    """Overlapping random ellipses of random labels on 0: parse- and DensePose-like label maps."""
    out = np.zeros(shape, np.uint8)
    h, w = shape
    for _ in range(count):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(2, w // 3)), int(rng.integers(2, h // 3)))
        cv2.ellipse(out, centre, axes, float(rng.uniform(0, 180)), 0, 360, int(rng.integers(1, labels)), -1)
    return out


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mask_equals_the_rules_written_out(category, seed):
    rng = np.random.default_rng(seed)
    shape = ((320, 240), (256, 256), (130, 97))[seed]
    lip, parts = _blobs(rng, shape, 20, 25), _blobs(rng, shape, 25, 30)
    expected = _reference_mask(lip, parts, category, None)
    assert 0 < (expected > 0).mean() < 1
    assert np.array_equal(catvton_mask(lip, parts, category), expected)
    atr = _blobs(rng, shape, 18, 25)  # an ATR parse of its own, not derived from the LIP one
    assert np.array_equal(catvton_mask(lip, parts, category, atr), _reference_mask(lip, parts, category, atr))
    wide = catvton_mask(lip.astype(np.int32), parts.astype(np.int64), category, atr.astype(np.int16))
    assert np.array_equal(wide, _reference_mask(lip, parts, category, atr))


def test_mask_of_a_strided_densepose_channel_and_an_empty_person():
    rng = np.random.default_rng(5)
    lip = _blobs(rng, (200, 150), 20, 20)
    iuv = np.zeros((200, 150, 3), np.uint8)
    iuv[..., 0] = _blobs(rng, (200, 150), 25, 25)
    assert np.array_equal(
        catvton_mask(lip, iuv[..., 0], "upper"), _reference_mask(lip, iuv[..., 0], "upper", None)
    )
    empty = np.zeros((64, 48), np.uint8)
    assert not catvton_mask(empty, empty, "dresses").any()


@pytest.mark.parametrize("side", [3, 5, 21, 41, 81])
def test_blur_threshold_over_the_box_equals_opencvs_whole_image_blur(side):
    """`_blur_at_least` replays OpenCV's 8-bit fixed-point Gaussian in float32 over the mask's box: it must
    agree pixel for pixel with cv2.GaussianBlur of the whole image at every threshold."""
    rng = np.random.default_rng(side)
    kernel = _fixed_point_kernel(side).ravel()
    assert kernel.sum() == 256 and np.array_equal(
        kernel, kernel[::-1]
    )  # (81 taps: not unimodal, error-diffused)
    for trial in range(40):
        h, w = (int(v) for v in rng.integers(side // 2, 260, 2))
        mask = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 4))):  # boxes that touch, cross or stay clear of the edges
            y, x = int(rng.integers(-20, h)), int(rng.integers(-20, w))
            mask[max(0, y) : y + int(rng.integers(1, 150)), max(0, x) : x + int(rng.integers(1, 150))] = 255
        if trial % 4 == 0:  # speckle: many sums land right at a threshold
            mask = (rng.random((h, w)) < 0.3).astype(np.uint8) * 255
        blurred = cv2.GaussianBlur(mask, (side, side), 0)
        for threshold in (1, BLUR_THRESHOLD, 128, 255):
            expected = cv2.compare(blurred, threshold, cv2.CMP_GE)
            assert np.array_equal(_blur_at_least(mask, side, threshold), expected), (side, trial, threshold)
    assert not _blur_at_least(np.zeros((30, 20), np.uint8), side, BLUR_THRESHOLD).any()
