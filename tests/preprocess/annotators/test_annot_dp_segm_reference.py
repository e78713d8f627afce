"""decode_dp_segm's fast paths (colour table, packed colour codes, label bit sets ORed over the vote window)
must give exactly what the rules give spelled out pixel by pixel: nearest part colour in Lab for every pixel,
flatness from its 3x3 channel range, and the border vote by dilating each label's confident pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from preprocess.annotators import densepose_codec as codec
from preprocess.annotators.densepose_codec import decode_dp_segm, encode_dp_segm


def _reference_decode(image: np.ndarray) -> np.ndarray:
    """The decoding rules (module docstring and constants) with no table, crop or bit sets."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    codes = (image[..., 0].astype(np.int64) << 16) | (image[..., 1].astype(np.int64) << 8) | image[..., 2]
    unique, inverse = np.unique(codes.ravel(), return_inverse=True)
    flags = codec._classify_colours(unique)[inverse].reshape(height, width)
    labels = (flags & 0x1F).astype(np.uint8)
    padded = np.pad(image.astype(np.int64), ((1, 1), (1, 1), (0, 0)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(0, 1))
    spread = (windows.max(axis=(-2, -1)) - windows.min(axis=(-2, -1))).sum(axis=-1)
    confident = ((flags & 0x20) > 0) & (spread <= codec.FLAT_RGB) | ((flags & 0x40) > 0)
    if confident.all():
        return labels
    rows, cols = np.nonzero(~confident)
    pixels = codec._lab(image[rows, cols].reshape(-1, 1, 3)).reshape(-1, 3) * codec.BORDER_WEIGHTS
    palette = codec._palette_lab() * codec.BORDER_WEIGHTS
    kernel = np.ones((codec.VOTE_WINDOW, codec.VOTE_WINDOW), np.uint8)
    voters = np.where(confident, labels, 255).astype(np.uint8)
    chosen = labels[rows, cols]
    best = np.full(len(rows), np.inf, np.float32)
    for label in np.unique(voters[voters != 255]):
        near = cv2.dilate((voters == label).astype(np.uint8), kernel)[rows, cols] > 0
        dist = (pixels[:, 0] - palette[label, 0]) ** 2
        dist += (pixels[:, 1] - palette[label, 1]) ** 2
        dist += (pixels[:, 2] - palette[label, 2]) ** 2
        closer = near & (dist < best)
        chosen[closer] = label
        best[closer] = dist[closer]
    out = labels.copy()
    out[rows, cols] = chosen
    return out


def _person(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Random part regions (every part index, thin ones included) inside a body-like ellipse on black."""
    h, w = shape
    centres = rng.uniform((0, 0), shape, (cells, 2))
    yy, xx = np.mgrid[:h, :w]
    parts = rng.integers(1, 25, cells)[
        ((yy[..., None] - centres[:, 0]) ** 2 + (xx[..., None] - centres[:, 1]) ** 2).argmin(-1)
    ]
    inside = ((yy - h / 2) / (0.45 * h)) ** 2 + ((xx - w / 2) / (0.38 * w)) ** 2 < 1
    return np.where(inside, parts, 0).astype(np.uint8)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


@pytest.mark.parametrize(("quality", "cells", "seed"), [(90, 12, 0), (95, 30, 1), (75, 60, 2), (95, 200, 3)])
def test_jpeg_decoding_equals_the_per_pixel_rules(quality, cells, seed):
    rng = np.random.default_rng(seed)
    image = _jpeg(encode_dp_segm(_person(rng, (240, 180), cells)), quality)
    expected = _reference_decode(image)
    assert np.array_equal(decode_dp_segm(image), expected)
    assert (expected != expected[0, 0]).any(), "the case must exercise the border vote"


def test_lossless_and_noisy_images_equal_the_per_pixel_rules():
    rng = np.random.default_rng(7)
    clean = encode_dp_segm(_person(rng, (96, 64), 20))
    assert np.array_equal(decode_dp_segm(clean), _reference_decode(clean))
    noisy = np.clip(clean.astype(int) + rng.integers(-12, 13, clean.shape), 0, 255).astype(np.uint8)
    assert np.array_equal(decode_dp_segm(noisy), _reference_decode(noisy))
    colours = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)  # no structure at all
    assert np.array_equal(decode_dp_segm(colours), _reference_decode(colours))
