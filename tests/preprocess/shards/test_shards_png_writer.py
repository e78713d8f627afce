"""The shard codec's own PNG writer: lossless and readable by PIL and OpenCV, grey and RGB, any size."""

from __future__ import annotations

from io import BytesIO

import cv2
import numpy as np
import pytest
from PIL import Image

from preprocess.shards.codec import decode_sample, encode_png, encode_sample


def _maps(shape: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(sum(shape))
    noise = rng.integers(0, 256, shape, dtype=np.uint8)
    runs = np.zeros(shape, np.uint8)
    runs[shape[0] // 3 :, : shape[1] // 2] = 7
    runs[-1, -1] = 255
    return [noise, runs]


@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (64, 48), (5, 3, 3), (33, 17, 3)])
def test_png_round_trips_through_pil_and_opencv(shape):
    for array in _maps(shape):
        data = encode_png(array)
        with Image.open(BytesIO(data)) as image:
            image.verify()  # checks chunk CRCs
        with Image.open(BytesIO(data)) as image:
            assert image.mode == ("RGB" if array.ndim == 3 else "L")
            assert np.array_equal(np.asarray(image), array)
        flags = cv2.IMREAD_UNCHANGED
        read = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
        assert np.array_equal(read[..., ::-1] if array.ndim == 3 else read, array)
        assert encode_png(array) == data  # deterministic


def test_png_writer_accepts_strided_views_and_compresses_runs():
    iuv = np.zeros((96, 64, 3), np.uint8)
    iuv[20:70, 10:50, 0] = 14
    channel = iuv[..., 0]  # a non-contiguous view, as agnostic code passes DensePose's I channel
    with Image.open(BytesIO(encode_png(channel))) as image:
        assert np.array_equal(np.asarray(image), channel)
    assert len(encode_png(iuv)) < iuv.nbytes // 20


def test_encoded_sample_masks_decode_exactly():
    mask = np.zeros((40, 30), np.uint8)
    mask[5:30, 4:20] = 255
    parse = (np.arange(40 * 30).reshape(40, 30) % 20).astype(np.uint8)
    members = encode_sample("s1", {"agnostic_mask": mask, "parse": parse}, {"height": 40, "width": 30})
    decoded = decode_sample(members)
    assert np.array_equal(decoded["agnostic_mask"], mask)
    assert np.array_equal(decoded["parse"], parse)
