"""check_image refuses exactly what decode_image refuses, with the same reason, and reports the displayed size
decode_image gives; JPEGs are checked at 1/8 scale (every entropy-coded byte still decoded)."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
from fixtures.bad_inputs import write_bad_image_corpus
from PIL import Image

from preprocess.images import BadImageError, check_image, decode_image


def _outcome(read, data: bytes, name: str) -> tuple[str, object]:
    try:
        return "ok", read(data, name)
    except BadImageError as exc:
        return "bad", exc.reason


def test_bad_input_corpus_gets_the_same_verdicts(tmp_path):
    cases = write_bad_image_corpus(tmp_path)
    decode_refused = 0
    for case in cases:
        data = case.path.read_bytes()
        checked = _outcome(check_image, data, case.path.name)
        decoded = _outcome(lambda d, n: decode_image(d, n).shape[:2], data, case.path.name)
        assert checked == decoded, case.name
        decode_refused += case.caught_by == "decode" and decoded[0] == "bad"
    assert decode_refused, "the corpus must hold a file only a full decode refuses"


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
def test_jpegs_of_any_size_and_mode_report_the_decoded_size(mode):
    rng = np.random.default_rng(len(mode))
    for width, height in [(1, 1), (7, 9), (17, 33), (768, 1024)]:
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        buffer = BytesIO()
        Image.fromarray(pixels).convert(mode).save(buffer, "JPEG", quality=90, progressive=width > 100)
        data = buffer.getvalue()
        assert check_image(data, "x.jpg") == decode_image(data, "x.jpg").shape[:2] == (height, width)
        cut = data[: len(data) // 2]
        refused = _outcome(check_image, cut, "x.jpg")
        assert refused[0] == "bad" and refused == _outcome(decode_image, cut, "x.jpg")
