"""DensePose codecs: the dp_segm colour map inverts exactly from PNG and to >= 99 % from JPEG; IUV; Dress Code."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest

from preprocess.annotators.densepose_codec import (
    combine_index_uv,
    decode_dp_segm,
    decode_iuv,
    dp_segm_colours,
    encode_dp_segm,
    encode_iuv,
    read_uv_npz,
)
from preprocess.images import decode_image


def _smooth_parts(rng: np.random.Generator, shape=(256, 192), cells=12) -> np.ndarray:
    """A random Voronoi map of part indices: large regions with straight borders, background included."""
    centres = rng.uniform((0, 0), shape, (cells, 2))
    labels = np.concatenate([[0], rng.permutation(np.arange(1, 25))[: cells - 1]])
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    dist = (yy[..., None] - centres[:, 0]) ** 2 + (xx[..., None] - centres[:, 1]) ** 2
    return labels[dist.argmin(axis=-1)].astype(np.uint8)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return decode_image(buf.tobytes(), "densepose.jpg")


def test_colours_are_detectron2s_parula_scale_with_black_background():
    colours = dp_segm_colours().astype(int)
    assert colours.shape == (25, 3) and not colours[0].any()
    scaled = (np.arange(1, 25) * (255.0 / 24)).astype(np.uint8).reshape(-1, 1)
    parula_rgb = cv2.applyColorMap(scaled, cv2.COLORMAP_PARULA).reshape(-1, 3)[:, ::-1]
    assert np.array_equal(colours[1:], parula_rgb)
    distances = np.linalg.norm(colours[:, None] - colours[None], axis=-1) + np.eye(25) * 999
    assert distances.min() > 10, "every part index has its own colour"


def test_png_round_trip_is_exact():
    rng = np.random.default_rng(1)
    for _ in range(3):
        parts = _smooth_parts(rng)
        assert np.array_equal(decode_dp_segm(encode_dp_segm(parts)), parts)
    noise = rng.integers(0, 25, (64, 48)).astype(np.uint8)  # every pixel its own region
    assert np.array_equal(decode_dp_segm(encode_dp_segm(noise)), noise)


@pytest.mark.parametrize("quality", [90, 95])
def test_jpeg_round_trip_recovers_at_least_99_percent(quality):
    rng = np.random.default_rng(quality)
    for _ in range(3):
        parts = _smooth_parts(rng)
        decoded = decode_dp_segm(_jpeg(encode_dp_segm(parts), quality))
        assert (decoded == parts).mean() >= 0.99
        assert (decoded[parts == 0] == 0).mean() >= 0.99, "background decided by darkness"


def test_bad_part_maps_and_images_are_refused():
    with pytest.raises(ValueError, match="outside DensePose"):
        encode_dp_segm(np.full((2, 2), 25, np.uint8))
    with pytest.raises(ValueError, match=r"dp\.jpg.*\(H, W, 3\)"):
        decode_dp_segm(np.zeros((4, 4), np.uint8), "dp.jpg")


def test_iuv_png_channel_order_and_round_trip():
    rng = np.random.default_rng(2)
    iuv = np.stack(
        [rng.integers(0, 25, (8, 6)), rng.integers(0, 256, (8, 6)), rng.integers(0, 256, (8, 6))], -1
    )
    iuv = iuv.astype(np.uint8)
    ok, buf = cv2.imencode(".png", iuv)  # cv2 writes the (I, U, V) array as B, G, R, as VVT did
    assert ok
    rgb = decode_image(buf.tobytes(), "f_IUV.png")
    assert np.array_equal(decode_iuv(rgb), iuv)
    assert np.array_equal(encode_iuv(iuv), rgb)
    with pytest.raises(ValueError, match=r"f_IUV\.png.*blue"):
        decode_iuv(np.full((2, 2, 3), 200, np.uint8), "f_IUV.png")


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def test_dresscode_index_and_uv_combine():
    parts = np.array([[0, 3], [24, 1]], np.uint8)
    uv = np.stack([np.array([[0.0, 0.5], [1.0, 0.25]]), np.array([[0.0, 1.0], [0.2, 0.0]])]).astype(
        np.float32
    )
    read = read_uv_npz(_npz(uv=uv), "000001_5_uv.npz")
    iuv = combine_index_uv(parts, read)
    assert iuv[..., 0].tolist() == parts.tolist()
    assert iuv[..., 1].tolist() == [[0, 128], [255, 64]]
    assert iuv[..., 2].tolist() == [[0, 255], [51, 0]]
    assert not combine_index_uv(parts, None)[..., 1:].any(), "no UV file: U and V are 0"
    with pytest.raises(ValueError, match="same DensePose run"):
        combine_index_uv(parts, np.zeros((2, 3, 3), np.float32))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "cannot be read"),
        (_npz(iuv=np.zeros((2, 2, 2), np.float32)), "no 'uv' array"),
        (_npz(uv=np.zeros((3, 2, 2), np.float32)), r"float \(2, H, W\)"),
    ],
)
def test_bad_uv_files_name_the_file(data, message):
    with pytest.raises(ValueError, match=message) as info:
        read_uv_npz(data, "dense/000001_5_uv.npz")
    assert "000001_5_uv.npz" in str(info.value)
