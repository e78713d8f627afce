"""The PNG image data built from runs: a valid zlib stream (checksum included) of exactly the filtered rows,
read back identically by zlib, PIL and OpenCV; noisy images are left to zlib."""

from __future__ import annotations

import zlib
from io import BytesIO

import cv2
import numpy as np
import pytest
from PIL import Image

from preprocess.shards import png_runs
from preprocess.shards.codec import encode_png
from preprocess.shards.png_runs import MIN_MEAN_RUN, zlib_stream_from_runs


def _filtered_rows(array: np.ndarray) -> bytes:
    """What a PNG's IDAT inflates to with filter 0 on every row."""
    height = array.shape[0]
    flat = np.ascontiguousarray(array).reshape(height, -1)
    return np.concatenate([np.zeros((height, 1), np.uint8), flat], axis=1).tobytes()


def _run_image(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Up to three rectangles of random values (any byte value) on a random background."""
    image = np.empty(shape, np.uint8)
    image[...] = rng.integers(0, 256, shape[2:] or None)
    h, w = shape[:2]
    for _ in range(int(rng.integers(0, 4))):
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        image[y : y + int(rng.integers(1, 90)), x : x + int(rng.integers(1, 700))] = rng.integers(
            0, 256, shape[2:] or None
        )
    return image


def _assert_reads_back(array: np.ndarray, stream: bytes) -> None:
    inflater = zlib.decompressobj()
    assert inflater.decompress(stream) == _filtered_rows(array)  # zlib also checks the Adler-32
    assert inflater.eof and not inflater.unused_data
    data = encode_png(array)
    with Image.open(BytesIO(data)) as image:
        assert np.array_equal(np.asarray(image), array)
    read = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(read[..., ::-1] if array.ndim == 3 else read, array)


@pytest.mark.parametrize("channels", [1, 3])
def test_run_images_inflate_to_their_filtered_rows(channels):
    rng = np.random.default_rng(channels)
    wide = 7 * MIN_MEAN_RUN[channels]  # at most 7 runs a row: long enough runs on average
    shapes = [(1, wide), (1, wide + 258), (3, wide + 1), (2, 2 * wide + 3), (64, wide + 5), (250, 3 * wide)]
    for shape in shapes * 4:
        array = _run_image(rng, shape if channels == 1 else (*shape, 3))
        stream = zlib_stream_from_runs(array)
        assert stream is not None, shape
        _assert_reads_back(array, stream)
    for shape in [(1, 1), (700, 1), (40, MIN_MEAN_RUN[channels] - 1)]:  # too short runs: zlib's
        array = _run_image(rng, shape if channels == 1 else (*shape, 3))
        assert zlib_stream_from_runs(array) is None
        with Image.open(BytesIO(encode_png(array))) as image:
            assert np.array_equal(np.asarray(image), array)


def test_runs_of_every_length_and_value():
    lengths = np.arange(1, 800)  # every match split: 258 * k plus remainders 0, 1, 2, 3, ...
    grey = np.repeat(np.arange(len(lengths)) % 256, lengths).astype(np.uint8).reshape(1, -1)
    _assert_reads_back(grey, zlib_stream_from_runs(grey))
    rgb = np.stack([grey[0], 255 - grey[0], grey[0] // 2], axis=-1)[None]
    _assert_reads_back(rgb, zlib_stream_from_runs(rgb))


def test_strided_views_read_back():
    iuv = np.zeros((120, 900, 3), np.uint8)
    iuv[30:100, 100:800] = (7, 3, 250)
    channel = iuv[..., 0]  # a grey view with a 3-byte pixel stride
    _assert_reads_back(channel, zlib_stream_from_runs(channel))
    flipped = iuv[:, ::-1]  # an RGB view with a negative stride
    _assert_reads_back(flipped, zlib_stream_from_runs(flipped))


def test_noisy_images_are_left_to_zlib_and_still_read_back():
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)
    assert zlib_stream_from_runs(noise) is None
    assert zlib_stream_from_runs(noise[..., 0]) is None
    assert zlib_stream_from_runs(np.zeros((4, 4, 4), np.uint8)) is None  # RGBA: not a shard encoding
    with Image.open(BytesIO(encode_png(noise))) as image:
        assert np.array_equal(np.asarray(image), noise)


def test_label_maps_compress_well_and_deterministically():
    labels = np.zeros((1024, 768), np.uint8)
    cv2.ellipse(labels, (384, 512), (200, 400), 0, 0, 360, 5, -1)
    cv2.rectangle(labels, (100, 100), (300, 900), 14, -1)
    stream = zlib_stream_from_runs(labels)
    assert len(stream) < labels.nbytes // 100
    assert zlib_stream_from_runs(labels.copy()) == stream


def test_code_lengths_stay_within_the_limit_and_form_complete_codes():
    fibonacci = [1, 1]
    while len(fibonacci) < 30:
        fibonacci.append(fibonacci[-1] + fibonacci[-2])
    for frequencies in (np.array(fibonacci), np.array([0, 5, 0, 0]), np.array([0, 0, 0]), np.ones(286)):
        lengths = png_runs._code_lengths(frequencies, 15)
        assert lengths.max() <= 15 and (lengths[frequencies > 0] > 0).all()
        assert np.sum(2.0 ** -lengths[lengths > 0]) == 1.0  # Kraft: a complete prefix code
        codes = png_runs._canonical_codes(lengths)
        words = {format(int(c), f"0{int(n)}b")[::-1] for c, n in zip(codes, lengths, strict=True) if n}
        assert not any(a != b and b.startswith(a) for a in words for b in words)  # prefix-free
