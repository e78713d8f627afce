"""decode_dp_segm classifies only the box around non-dark pixels: the result must equal the whole-image
classification, wherever the person sits in the frame (touching an edge, or in a wide black margin)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from preprocess.annotators import densepose_codec
from preprocess.annotators.densepose_codec import decode_dp_segm, encode_dp_segm


def _whole_image_decode(image: np.ndarray) -> np.ndarray:
    """The same rules run on every pixel, with no box (the reference the crop must reproduce)."""
    labels, confident = densepose_codec._classify_pixels(np.ascontiguousarray(image))
    if confident.all():
        return labels
    rows, cols = np.nonzero(~confident)
    return densepose_codec._decide_borders(labels, rows, cols, image)


def _jpeg_person(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A blob of random parts (dp_segm colours) on black, passed through JPEG at quality 90."""
    h, w = shape
    centres = rng.uniform((0, 0), shape, (10, 2))
    yy, xx = np.mgrid[:h, :w]
    parts = rng.integers(1, 25, 10)[
        ((yy[..., None] - centres[:, 0]) ** 2 + (xx[..., None] - centres[:, 1]) ** 2).argmin(-1)
    ]
    inside = ((yy - h / 2) / (0.45 * h)) ** 2 + ((xx - w / 2) / (0.4 * w)) ** 2 < 1
    rgb = encode_dp_segm(np.where(inside, parts, 0).astype(np.uint8))
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1].copy(), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


@pytest.mark.parametrize("pad", [(0, 0, 0, 0), (1, 0, 2, 0), (37, 5, 0, 61), (80, 80, 80, 80)])
def test_box_decode_equals_whole_image_decode(pad):
    rng = np.random.default_rng(sum(pad))
    person = _jpeg_person(rng, (120, 90))
    top, bottom, left, right = pad
    image = np.zeros((120 + top + bottom, 90 + left + right, 3), np.uint8)
    image[top : top + 120, left : left + 90] = person
    decoded = decode_dp_segm(image)
    assert np.array_equal(decoded, _whole_image_decode(image))
    assert np.array_equal(decoded[top : top + 120, left : left + 90], decode_dp_segm(person))
    assert not decoded[:top].any() and not decoded[:, :left].any()


def test_dark_threshold_keeps_every_darker_colour_background():
    v = densepose_codec._DARK_CHANNEL
    assert 10 < v < 60  # the darkest part colour (I = 1) is far brighter
    cube = (
        np.stack(np.meshgrid(*[np.arange(v + 1)] * 3, indexing="ij"), -1).reshape(1, -1, 3).astype(np.uint8)
    )
    assert not decode_dp_segm(cube).any()
    assert not _whole_image_decode(cube).any()


def test_all_black_image_decodes_to_background():
    assert not decode_dp_segm(np.zeros((16, 12, 3), np.uint8)).any()
