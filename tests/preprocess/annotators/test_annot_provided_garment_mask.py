"""The provided garment mask reads a grey (L) file straight to its values: for every file mode the brightest
channel and the mask equal those of the RGB decode (decode_image, then the maximum over R, G and B)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from preprocess.annotators.base import AnnotationError
from preprocess.annotators.provided import _brightest_channel, _garment_mask
from preprocess.images import decode_image


def _soft_mask(rng: np.random.Generator) -> np.ndarray:
    """A garment-like blob with soft, noisy edges and every grey level present."""
    yy, xx = np.mgrid[:96, :72]
    blob = 255 - np.hypot((yy - 48) / 40, (xx - 36) / 28) * 200
    return np.clip(blob + rng.normal(0, 20, blob.shape), 0, 255).astype(np.uint8)


def _write(root: Path, name: str, grey: np.ndarray, mode: str) -> str:
    image = Image.fromarray(grey, "L")
    if mode == "RGB":
        image = Image.fromarray(np.stack([grey, grey // 2, 255 - grey], axis=-1), "RGB")
    elif mode in ("P", "LA", "1"):
        image = image.convert(mode)
    image.save(root / name, quality=90) if name.endswith(".jpg") else image.save(root / name)
    return name


@pytest.mark.parametrize(
    ("name", "mode"),
    [("m.jpg", "L"), ("m.png", "L"), ("m.jpg", "RGB"), ("m.png", "P"), ("m.png", "LA"), ("m.png", "1")],
)
def test_grey_and_colour_masks_match_the_rgb_decode(tmp_path, name, mode):
    rel = _write(tmp_path, name, _soft_mask(np.random.default_rng(len(mode))), mode)
    rgb = decode_image(tmp_path / rel, rel)
    assert np.array_equal(_brightest_channel(tmp_path, rel, "garment mask"), rgb.max(axis=2))
    mask = _garment_mask(tmp_path, rel, (96, 72))
    grey = rgb.max(axis=2)
    threshold = 1 if name.endswith(".png") and grey.max() <= 1 else 128
    assert np.array_equal(mask, np.where(grey >= threshold, 255, 0).astype(np.uint8))


def test_missing_and_broken_masks_name_the_file(tmp_path):
    with pytest.raises(AnnotationError, match=r"gone\.jpg.*does not exist"):
        _garment_mask(tmp_path, "gone.jpg", None)
    (tmp_path / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    with pytest.raises(AnnotationError, match=r"cut\.jpg"):
        _garment_mask(tmp_path, "cut.jpg", None)
