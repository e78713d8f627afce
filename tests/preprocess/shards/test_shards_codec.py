"""Codec: canonical values -> members -> canonical values, exactly for PNG/JSON fields, closely for JPEG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from preprocess.annotators.base import GarmentLandmarks, Pose
from preprocess.shards.codec import SampleEncodingError, decode_sample, encode_sample, source_jpeg

META = {"kind": "image", "width": 48, "height": 64, "garment_width": 40, "garment_height": 56}


def _fields(rng: np.random.Generator) -> dict:
    return {
        "person": rng.integers(0, 256, (64, 48, 3), dtype=np.uint8),
        "garment": rng.integers(0, 256, (56, 40, 3), dtype=np.uint8),
        "parse": rng.integers(0, 20, (64, 48), dtype=np.uint8),
        "densepose": np.dstack(
            [rng.integers(0, 25, (64, 48)), rng.integers(0, 256, (64, 48)), rng.integers(0, 256, (64, 48))]
        ).astype(np.uint8),
        "pose": Pose(
            body=rng.random((18, 3), dtype=np.float32) * 40,
            wholebody=rng.random((134, 3), dtype=np.float32),
            source="dwpose",
        ),
        "garment_mask": (rng.random((56, 40)) > 0.5).astype(np.uint8) * 255,
        "garment_landmarks": GarmentLandmarks(
            "upper", ("neck", "l_shoulder"), rng.random((2, 3), dtype=np.float32), "geometric"
        ),
        "agnostic_mask": (rng.random((64, 48)) > 0.3).astype(np.uint8) * 255,
        "skeleton": rng.integers(0, 256, (64, 48, 3), dtype=np.uint8),
    }


def test_round_trip_exact_for_png_and_json_fields():
    fields = _fields(np.random.default_rng(0))
    members = encode_sample("s1", fields, META | {"annotators": {"parse": {"name": "x", "version": "2"}}})
    assert set(members) == {
        "person.jpg", "garment.jpg", "parse.png", "densepose.png", "pose.json", "garment_mask.png",
        "garment_landmarks.json", "agnostic_mask.png", "skeleton.png", "meta.json",
    }  # fmt: skip
    assert Image.open(io.BytesIO(members["parse.png"])).mode == "L"
    back = decode_sample(members)
    for name in ("parse", "densepose", "garment_mask", "agnostic_mask", "skeleton"):
        np.testing.assert_array_equal(back[name], fields[name], err_msg=name)
    np.testing.assert_array_equal(back["pose"].body, fields["pose"].body)
    np.testing.assert_array_equal(back["pose"].wholebody, fields["pose"].wholebody)
    assert back["pose"].source == "dwpose"
    np.testing.assert_array_equal(back["garment_landmarks"].points, fields["garment_landmarks"].points)
    assert back["garment_landmarks"].names == ("neck", "l_shoulder")
    assert back["meta"]["sample_id"] == "s1" and back["meta"]["annotators"]["parse"]["version"] == "2"
    # JPEG is lossy: smooth images survive q95 closely
    smooth = np.broadcast_to(np.linspace(0, 255, 48, dtype=np.uint8)[None, :, None], (64, 48, 3)).copy()
    person = decode_sample(encode_sample("s1", {"person": smooth}, META))["person"]
    assert person.shape == (64, 48, 3) and np.abs(person.astype(int) - smooth).mean() < 2.0


def test_encoding_is_deterministic():
    a = encode_sample("s1", _fields(np.random.default_rng(3)), META)
    b = encode_sample("s1", _fields(np.random.default_rng(3)), META)
    assert a == b


def test_video_frames_use_indexed_members():
    rng = np.random.default_rng(1)
    frames = [
        {"person": rng.integers(0, 256, (32, 24, 3), dtype=np.uint8), "parse": np.full((32, 24), i, np.uint8)}
        for i in range(3)
    ]
    members = encode_sample(
        "clip",
        {"frames": frames, "garment": rng.integers(0, 256, (32, 24, 3), dtype=np.uint8)},
        {"kind": "video"},
    )
    assert {"f0000.person.jpg", "f0002.parse.png", "garment.jpg"} <= set(members)
    back = decode_sample(members)
    assert len(back["frames"]) == 3
    assert [int(f["parse"][0, 0]) for f in back["frames"]] == [0, 1, 2]


def test_source_jpeg_copies_clean_rgb_jpeg_and_reencodes_otherwise():
    buf = io.BytesIO()
    Image.new("RGB", (20, 30), (10, 200, 30)).save(buf, "JPEG", quality=70)
    jpeg = buf.getvalue()
    clean = {"person_format": "JPEG", "normalisations": []}
    assert source_jpeg(jpeg, clean, "person") is jpeg
    assert source_jpeg(jpeg, clean, "garment") is jpeg
    rotated = source_jpeg(jpeg, clean | {"normalisations": ["person:exif_transpose:6"]}, "person")
    assert rotated != jpeg and rotated[:3] == b"\xff\xd8\xff"
    buf = io.BytesIO()
    Image.new("RGBA", (20, 30), (10, 200, 30, 255)).save(buf, "PNG")
    out = source_jpeg(
        buf.getvalue(),
        {"person_format": "PNG", "normalisations": ["person:alpha_composited_on_white"]},
        "person",
        "a.png",
    )
    decoded = np.asarray(Image.open(io.BytesIO(out)))
    assert decoded.shape == (30, 20, 3) and abs(int(decoded[..., 1].mean()) - 200) < 4


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("parse", np.full((64, 48), 25, np.uint8), "outside LIP-20"),
        ("agnostic_mask", np.full((64, 48), 128, np.uint8), "other than 0 and 255"),
        ("parse", np.zeros((60, 48), np.uint8), "annotate at the source image size"),
        ("skeleton", np.zeros((64, 48), np.uint8), "(H, W, 3) uint8"),
        ("densepose", np.full((64, 48, 3), 30, np.uint8), "part index"),
        ("person", b"not a jpeg", "source_jpeg"),
        ("colour", np.zeros(3), "unknown field"),
    ],
)
def test_bad_fields_get_a_reason_naming_sample_and_field(field, value, words):
    with pytest.raises(SampleEncodingError) as err:
        encode_sample("s9", {field: value}, META)
    assert "s9" in err.value.reason and words in err.value.reason
