"""Safe image probing and decoding against the bad-input corpus, hand-made edge cases and real photographs."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
import pytest
from fixtures.bad_inputs import QUADRANT_COLOURS, BadCase, reference_rgb, write_bad_image_corpus
from PIL import Image, ImageFile, ImageOps

from preprocess.images import (
    NORMALISATION_CODES,
    BadImageError,
    decode_image,
    decode_label_map,
    probe_image_bytes,
)

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[BadCase]:
    return write_bad_image_corpus(tmp_path_factory.mktemp("bad_inputs"))


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _documented(code: str) -> bool:
    if code in NORMALISATION_CODES:
        return True
    head = code.split(":", 1)[0]
    return any(key.startswith(head + ":<") for key in NORMALISATION_CODES)


def test_corpus_names_are_unique_and_outcomes_valid(corpus):
    assert len({case.name for case in corpus}) == len(corpus)
    assert {case.expected for case in corpus} == {"quarantine", "normalise"}
    for case in corpus:
        assert case.path.is_file()
        assert (case.display is not None) == (case.expected == "normalise"), case.name


def test_probe_gives_documented_outcome(corpus):
    for case in corpus:
        data = case.path.read_bytes()
        if case.expected == "quarantine" and case.caught_by == "probe":
            with pytest.raises(BadImageError) as caught:
                probe_image_bytes(data, f"train/image/{case.path.name}")
            reason = caught.value.reason
            assert case.expect in reason, (case.name, reason)
            assert f"'train/image/{case.path.name}'" in reason, reason  # names the file
            assert ": " in reason and len(reason) < 300, reason  # one sentence ending in the fix
            continue
        info = probe_image_bytes(data, case.path.name)
        assert all(_documented(code) for code in info.normalisations), (case.name, info.normalisations)
        if case.expected == "normalise":
            assert case.expect in info.normalisations, (case.name, info.normalisations)
            assert (info.width, info.height) == case.size, case.name


def test_decode_gives_documented_outcome(corpus):
    for case in corpus:
        if case.expected == "quarantine":
            with pytest.raises(BadImageError) as caught:
                decode_image(case.path, case.path.name)
            assert case.expect in caught.value.reason, (case.name, caught.value.reason)
            assert case.path.name in caught.value.reason
            continue
        pixels = decode_image(case.path)
        assert pixels.dtype == np.uint8 and pixels.shape == case.display.shape, (case.name, pixels.shape)
        error = np.abs(pixels.astype(int) - case.display.astype(int))
        # Lossless cases match exactly; JPEG ones only blur the quadrant edges (chroma subsampling).
        assert error.mean() < 3.0, (case.name, error.mean())
        assert np.median(error) <= 2, case.name


def test_probe_and_decode_agree_on_size(corpus):
    for case in corpus:
        if case.expected == "quarantine" and case.caught_by == "probe":
            continue
        data = case.path.read_bytes()
        info = probe_image_bytes(data, case.path.name)
        try:
            pixels = decode_image(data, case.path.name)
        except BadImageError:
            assert case.caught_by == "decode", case.name
            continue
        assert pixels.shape == (info.height, info.width, 3), case.name


def test_cmyk_decodes_close_to_rgb_original(corpus):
    cmyk_cases = [case for case in corpus if case.expect == "cmyk_to_rgb"]
    assert len(cmyk_cases) == 2
    original = reference_rgb()
    h, w = original.shape[0] // 2, original.shape[1] // 2
    for case in cmyk_cases:
        pixels = decode_image(case.path)
        quadrants = [pixels[:h, :w], pixels[:h, w:], pixels[h:, :w], pixels[h:, w:]]
        for quadrant, colour in zip(quadrants, QUADRANT_COLOURS, strict=True):
            assert np.abs(quadrant.reshape(-1, 3).mean(axis=0) - colour).max() < 6, case.name
        # OpenCV's libjpeg path is an independent decoder: both must show the same colours.
        other = cv2.imdecode(np.frombuffer(case.path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
        assert np.abs(other.astype(int) - pixels.astype(int)).mean() < 3, case.name


def test_adobe_marker_presence_is_what_distinguishes_the_two_cmyk_cases(corpus):
    with_marker = next(case for case in corpus if case.name == "cmyk_adobe_jpg").path.read_bytes()
    without = next(case for case in corpus if case.name == "cmyk_no_app14_jpg").path.read_bytes()
    assert b"Adobe" in with_marker and b"Adobe" not in without
    assert Image.open(BytesIO(with_marker)).info.get("adobe") is not None
    assert Image.open(BytesIO(without)).info.get("adobe") is None


def test_16bit_is_scaled_not_clipped():
    values = np.array([[0, 65535, 128 * 257, 257, 1000, 65534]], np.uint16)
    data = _encode(Image.fromarray(values), "PNG")
    info = probe_image_bytes(data, "depth16.png")
    assert info.mode.startswith("I;16") and "16bit_to_8bit" in info.normalisations
    gray = decode_image(data, "depth16.png")[0, :, 0]
    assert gray[0] == 0 and gray[1] == 255 and gray[2] == 128 and gray[3] == 1
    assert gray[4] <= 4  # clipping would give 255
    assert gray[5] == 255
    assert (decode_image(data)[0, :, 0] == decode_image(data)[0, :, 2]).all()


def test_rgb_16bit_png_is_reported_from_its_header():
    ramp = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)
    ok, encoded = cv2.imencode(".png", np.dstack([ramp, ramp, np.full_like(ramp, 65535)]))
    assert ok
    info = probe_image_bytes(encoded.tobytes(), "rgb16.png")
    assert info.mode == "RGB" and info.normalisations == ["16bit_to_8bit"]
    pixels = decode_image(encoded.tobytes(), "rgb16.png")
    assert (pixels[:, :, 0] == 255).all()  # OpenCV wrote BGR: the constant channel is red
    assert (pixels[:, :, 2].ravel() == np.arange(256)).all()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pil_exif_transpose(orientation):
    stored = np.random.default_rng(orientation).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _encode(Image.fromarray(stored), "PNG", exif=exif.tobytes())
    info = probe_image_bytes(data, "o.png")
    expected = np.asarray(ImageOps.exif_transpose(Image.open(BytesIO(data))).convert("RGB"))
    assert (info.height, info.width) == expected.shape[:2]
    assert (f"exif_transpose:{orientation}" in info.normalisations) == (orientation != 1)
    assert np.array_equal(decode_image(data, "o.png"), expected)


def test_png_exif_after_image_data_is_read_without_decoding(monkeypatch):
    exif = Image.Exif()
    exif[0x0112] = 8
    plain = _encode(Image.fromarray(reference_rgb(20, 10)), "PNG")
    iend = plain.rindex(b"IEND") - 4
    data = plain[:iend] + _png_chunk(b"eXIf", exif.tobytes()) + plain[iend:]
    assert data.index(b"eXIf") > data.index(b"IDAT")
    monkeypatch.setattr(ImageFile.ImageFile, "load", _refuse_decode)
    info = probe_image_bytes(data, "late_exif.png")
    assert info.normalisations == ["exif_transpose:8"] and (info.width, info.height) == (10, 20)


def test_corrupt_exif_counts_as_orientation_1():
    plain = _encode(Image.fromarray(reference_rgb(20, 10)), "PNG")
    iend = plain.rindex(b"IEND") - 4
    data = plain[:iend] + _png_chunk(b"eXIf", b"garbage, not a TIFF header") + plain[iend:]
    info = probe_image_bytes(data, "bad_exif.png")
    assert info.normalisations == [] and (info.width, info.height) == (20, 10)
    assert np.array_equal(decode_image(data, "bad_exif.png"), reference_rgb(20, 10))


def _refuse_decode(self, *args, **kwargs):
    raise AssertionError("the probe decoded pixel data")


def test_probe_never_decodes_pixels(corpus, monkeypatch, realdata_or_none):
    monkeypatch.setattr(ImageFile.ImageFile, "load", _refuse_decode)
    monkeypatch.setattr(Image.Image, "load", _refuse_decode)
    files = [
        case.path for case in corpus if not (case.expected == "quarantine" and case.caught_by == "probe")
    ]
    files += realdata_or_none
    for path in files:
        probe_image_bytes(path.read_bytes(), path.name)
    with pytest.raises(AssertionError, match="decoded pixel data"):  # the patch is effective
        decode_image(files[0])


@pytest.fixture()
def realdata_or_none() -> list[Path]:
    photos = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata" / "photos"
    if not photos.is_dir():
        return []
    return sorted(p for p in photos.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)


def test_real_photos_probe_and_decode_to_probed_size(realdata):
    photos = sorted(p for p in realdata.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    assert photos, f"no photographs under {realdata}"
    for path in photos:
        info = probe_image_bytes(path.read_bytes(), path.name)
        pixels = decode_image(path)
        assert pixels.dtype == np.uint8 and pixels.shape == (info.height, info.width, 3), path
        reference = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
        assert np.array_equal(pixels, reference), path


def test_jpeg_trailer_after_end_marker_is_accepted():
    jpeg = _encode(Image.fromarray(reference_rgb()), "JPEG")
    trailer = bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8)).replace(b"\xff\xd9", b"")
    info = probe_image_bytes(jpeg + b"ftypmp42" + trailer, "motion_photo.jpg")
    assert (info.width, info.height) == (96, 64)


def test_end_marker_inside_header_does_not_hide_truncation():
    noisy = np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    jpeg = _encode(Image.fromarray(noisy), "JPEG")
    # A comment segment holding an embedded thumbnail's end marker, as EXIF thumbnails do.
    comment = b"\xff\xfe" + struct.pack(">H", 2 + 6) + b"\xff\xd8\x00\x00\xff\xd9"
    with_thumbnail = jpeg[:2] + comment + jpeg[2:]
    assert probe_image_bytes(with_thumbnail, "ok.jpg").width == 64
    with pytest.raises(BadImageError, match="no end-of-image marker"):
        probe_image_bytes(with_thumbnail[: len(with_thumbnail) // 2], "cut.jpg")
    with pytest.raises(BadImageError, match="ends inside its header"):
        probe_image_bytes(jpeg[:40], "header_cut.jpg")


def test_pixel_limit_is_configurable():
    data = _encode(Image.fromarray(reference_rgb(100, 60)), "PNG")
    assert probe_image_bytes(data, "a.png").width == 100
    for call in (
        lambda: probe_image_bytes(data, "a.png", max_pixels=5000),
        lambda: decode_image(data, max_pixels=5000),
    ):
        with pytest.raises(BadImageError, match=r"100x60 = 6000 pixels, above the limit of 5000"):
            call()


def test_role_and_missing_file_are_named(tmp_path):
    with pytest.raises(BadImageError, match=r"^garment image 'cloth/x\.jpg' is empty"):
        probe_image_bytes(b"", "cloth/x.jpg", role="garment image")
    with pytest.raises(BadImageError, match="does not exist") as caught:
        decode_image(tmp_path / "gone.jpg", "gone.jpg")
    assert caught.value.name == "gone.jpg"


def test_heic_and_unknown_bytes_get_specific_reasons():
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40
    with pytest.raises(BadImageError, match="HEIF/HEIC"):
        probe_image_bytes(heic, "IMG_0001.jpg")
    with pytest.raises(BadImageError, match="match no supported format"):
        probe_image_bytes(b"\x00\x01\x02\x03\xfe\xfd" * 10, "blob.png")


def test_label_map_keeps_palette_indices():
    indices = (np.arange(20 * 12) % 20).reshape(12, 20).astype(np.uint8)
    palette_map = Image.fromarray(indices, "P")
    palette_map.putpalette(np.random.default_rng(0).integers(0, 256, 768, dtype=np.uint8).tobytes())
    data = _encode(palette_map, "PNG")
    assert np.array_equal(decode_label_map(data, "parse.png"), indices)
    assert np.array_equal(decode_label_map(_encode(Image.fromarray(indices), "PNG"), "l.png"), indices)
    small16 = _encode(Image.fromarray(indices.astype(np.uint16)), "PNG")
    assert np.array_equal(decode_label_map(small16, "l16.png"), indices)


def test_label_map_refuses_colour_and_wide_values():
    colour = _encode(Image.fromarray(reference_rgb(8, 8)), "PNG")
    with pytest.raises(BadImageError, match="RGB colour image, not a map of class indices"):
        decode_label_map(colour, "parse/0001.png")
    wide = _encode(Image.fromarray(np.full((4, 4), 300, np.uint16)), "PNG")
    with pytest.raises(BadImageError, match="label values up to 300"):
        decode_label_map(wide, "parse/0002.png")


# --- fast header path: identical to the PIL path on every input ---------------------------------------


def _outcome(probe, data: bytes, name: str, **options):
    try:
        return probe(data, name, **options)
    except BadImageError as exc:
        return ("error", exc.reason)
    except Exception as exc:  # noqa: BLE001 - whatever the PIL path does, the fast path must do too
        return (type(exc).__name__, str(exc))


def _assert_paths_agree(data: bytes, name: str, *, expect_fast: bool | None = None, **options) -> None:
    from preprocess.images import _probe_fast, _probe_pil

    assert _outcome(probe_image_bytes, data, name, **options) == _outcome(
        _probe_pil, data, name, **options
    ), name
    if expect_fast is not None and (data[:3] == b"\xff\xd8\xff" or data[:4] == b"\x89PNG"):
        fmt = "JPEG" if data[:1] == b"\xff" else "PNG"
        try:
            fast = _probe_fast(data, fmt, name, "image", options.get("max_pixels", 80_000_000))
        except BadImageError:
            fast = "error"
        if expect_fast:
            assert fast is not None, f"{name}: the fast path handed back an ordinary header"


def _exif_blob(
    order: str, entries: list[tuple[int, int, int, bytes]], prefix: bytes = b"Exif\x00\x00"
) -> bytes:
    head = (b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "L", 8)
    body = struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack(order + "HHL", tag, kind, count) + value.ljust(4, b"\x00")
    return prefix + head + body + b"\x00\x00\x00\x00"


def _jpeg_with_segments(segments: list[bytes], *, mode: str = "RGB", size=(40, 30), **options) -> bytes:
    plain = _encode(Image.new(mode, size, "white" if mode != "CMYK" else (0, 0, 0, 0)), "JPEG", **options)
    return plain[:2] + b"".join(segments) + plain[2:]


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def test_fast_probe_matches_pil_on_the_bad_input_corpus(corpus):
    for case in corpus:
        data = case.path.read_bytes()
        for name in (case.path.name, f"train/image/{case.path.name}", "x.png", "x.jpg"):
            _assert_paths_agree(data, name)
            _assert_paths_agree(data, name, max_pixels=1000)


def test_fast_probe_matches_pil_on_real_photos(realdata_or_none):
    if not realdata_or_none:
        pytest.skip("no real photographs under shared/realdata/photos")
    for path in realdata_or_none:
        _assert_paths_agree(path.read_bytes(), path.name)


@pytest.mark.parametrize("dataset", ["vitonhd", "dresscode"])
def test_fast_probe_matches_pil_on_synthetic_datasets(tmp_path, dataset):
    from preprocess.synthetic import generate_dataset

    generate_dataset(dataset, 6, tmp_path / "v", size=(128, 96))
    files = sorted(p for p in (tmp_path / "v").rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    assert files
    for path in files:
        _assert_paths_agree(path.read_bytes(), path.name, expect_fast=True)


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("value", [0, 1, 2, 5, 6, 8, 9, 65535])
def test_fast_probe_reads_exif_orientation_like_pil(order, value):
    short = struct.pack(order + "H", value)
    exif = _exif_blob(order, [(0x010F, 2, 4, b"abc\x00"), (0x0112, 3, 1, short)])
    data = _jpeg_with_segments([_segment(0xE1, exif)])
    _assert_paths_agree(data, "o.jpg", expect_fast=True)
    png = _encode(Image.new("RGB", (40, 30)), "PNG", exif=exif)
    _assert_paths_agree(png, "o.png", expect_fast=True)


@pytest.mark.parametrize(
    "segments",
    [
        [_segment(0xE1, _exif_blob("<", [(0x0112, 4, 1, struct.pack("<L", 6))]))],  # LONG orientation
        [_segment(0xE1, _exif_blob("<", [(0x0112, 3, 2, struct.pack("<HH", 6, 6))]))],  # two values
        [_segment(0xE1, _exif_blob("<", [(0x0112, 3, 1, struct.pack("<H", 6))] * 2))],  # duplicate tag
        [
            _segment(
                0xE1, _exif_blob("<", [(0x010F, 2, 40, struct.pack("<L", 9999)), (0x0112, 3, 1, b"\x06")])
            )
        ],
        [_segment(0xE1, _exif_blob("<", [(0x0112, 99, 1, b"\x06"), (0x0112, 3, 1, b"\x08")]))],  # odd type
        [_segment(0xE1, _exif_blob("<", [(0x0112, 3, 1, b"\x06")], prefix=b"Exif\x00\x00" * 2))],
        [_segment(0xE1, _exif_blob("<", [(0x0112, 3, 1, b"\x06")], prefix=b"Exif\x00\x00" * 3))],
        [_segment(0xE1, b"Exif\x00\x00")],  # empty EXIF
        [_segment(0xE1, b"Exif\x00\x00XX*\x00\x08\x00\x00\x00")],  # not a TIFF header
        [_segment(0xE1, b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00")],  # truncated IFD
        [_segment(0xE1, b"Exif\x00\x00II*\x00\xff\x00\x00\x00")],  # IFD beyond the block
        [_segment(0xE1, b'http://ns.adobe.com/xap/1.0/\x00<x tiff:Orientation="6"/>')],  # XMP only
        [
            _segment(0xE1, _exif_blob("<", [(0x010F, 2, 4, b"abc\x00")])),
            _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<tiff:Orientation>8</tiff:Orientation>"),
        ],
        [  # resolution in EXIF, read while PIL opens the file
            _segment(
                0xE1,
                _exif_blob(
                    ">",
                    [
                        (0x0112, 3, 1, b"\x00\x03"),
                        (0x011A, 5, 1, b"\x00\x00\x00\x00"),
                        (0x0128, 3, 1, b"\x00\x02"),
                    ],
                ),
            )
        ],
        [_segment(0xE1, _exif_blob("<", [(0x0128, 3, 1, b"\x02"), (0x011A, 1, 1, b"\x05")]))],  # PIL error
        [_segment(0xE0, b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00")],  # JFIF with dpi
        [_segment(0xE0, b"JFIF\x00")],  # JFIF cut short
        [_segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01")],
        [_segment(0xEE, b"Adobe")],
        [_segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + b"\x00" * 20)],
        [_segment(0xE2, b"ICC_PROFILE\x00")],  # too short for PIL's fragment count
        [_segment(0xE2, b"MPF\x00II*\x00")],
        [_segment(0xED, b"Photoshop 3.0\x00" + b"8BIM\x03\xed\x00\x00\x00\x00\x00\x10" + b"\x00" * 16)],
        [_segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04")],  # no name length
        [_segment(0xFE, b"a comment"), b"\xff\xff", _segment(0xDD, b"\x00\x10")],  # fill byte
        [b"\xff\xd0"],  # restart marker in the header
        [b"\xff\x01"],  # TEM: PIL finds no marker
        [b"\x00\x00"],  # junk between segments
        [b"\xff\xd8"],  # a second SOI
        [_segment(0xDB, b"\x00" + b"\x01" * 10)],  # short quantisation table
        [_segment(0xC0, b"\x08\x00\x10\x00\x10\x02\x01\x11\x00\x02\x11\x00")],  # 2-layer frame first
        [_segment(0xC0, b"\x0c\x00\x10\x00\x10\x01\x01\x11\x00")],  # 12-bit frame
        [_segment(0xF0, b"")],  # JPG0
    ],
)
def test_fast_probe_matches_pil_on_unusual_jpeg_headers(segments):
    data = _jpeg_with_segments(segments)
    for name in ("u.jpg", "u.png"):
        _assert_paths_agree(data, name)


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("L", {}),
        ("RGB", {"progressive": True}),
        ("CMYK", {}),
        ("RGB", {"dpi": (300, 300)}),
        ("L", {"quality": 5}),
    ],
)
def test_fast_probe_handles_ordinary_jpeg_modes(mode, options):
    for size in ((40, 30), (1, 1), (3000, 17)):
        _assert_paths_agree(
            _jpeg_with_segments([], mode=mode, size=size, **options), "m.jpg", expect_fast=True
        )


def _png_modes() -> list[tuple[int, int]]:
    from PIL import PngImagePlugin

    return sorted(PngImagePlugin._MODES)


@pytest.mark.parametrize(("depth", "colour"), _png_modes())
def test_fast_probe_maps_every_png_mode_like_pil(depth, colour):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    width, height = 7, 5
    row = b"\x00" + bytes((depth * channels * width + 7) // 8)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    chunks = [_png_chunk(b"IHDR", ihdr)]
    if colour == 3:
        chunks.append(_png_chunk(b"PLTE", bytes(range(48))))
    tail = [_png_chunk(b"IDAT", zlib.compress(row * height)), _png_chunk(b"IEND", b"")]
    plain = b"\x89PNG\r\n\x1a\n" + b"".join(chunks + tail)
    _assert_paths_agree(plain, "p.png", expect_fast=True)
    trns = {0: b"\x00\x01", 2: b"\x00\x01\x00\x01\x00\x01", 3: b"\x00\xff"}.get(colour, b"\x00")
    for extra in (
        [_png_chunk(b"tRNS", trns)],
        [_png_chunk(b"tRNS", b"\x00")],  # short for grey and colour
        [_png_chunk(b"gAMA", struct.pack(">I", 45455)), _png_chunk(b"pHYs", b"\x00" * 8 + b"\x01")],
        [_png_chunk(b"tEXt", b"Software\x00test"), _png_chunk(b"prVt", b"private")],
        [_png_chunk(b"gAMA", b"\x00")],  # short gAMA: PIL refuses
        [_png_chunk(b"tEXt", b"exif\x00nonsense")],
        [_png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"x"))],
        [_png_chunk(b"IHDR", ihdr)],  # second header
        [_png_chunk(b"eXIf", _exif_blob(">", [(0x0112, 3, 1, b"\x00\x06")], prefix=b""))],
        [_png_chunk(b"eXIf", b"")],
        [_png_chunk(b"sRGB", b"\x00")[:-1] + b"\x00"],  # bad checksum
        [b"\x00\x00\x00\x00b@d!\x00\x00\x00\x00"],  # not a chunk name
    ):
        data = b"\x89PNG\r\n\x1a\n" + b"".join(chunks + extra + tail)
        for name in ("p.png", "p.jpg"):
            _assert_paths_agree(data, name)
    late = b"\x89PNG\r\n\x1a\n" + b"".join(
        chunks
        + tail[:1]
        + [_png_chunk(b"eXIf", _exif_blob("<", [(0x0112, 3, 1, b"\x08")], prefix=b""))]
        + tail[1:]
    )
    _assert_paths_agree(late, "late.png", expect_fast=True)


def test_fast_probe_defers_huge_and_empty_sizes_to_pil():
    for width, height in ((0, 10), (10, 0), (20_000, 20_000)):
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        data = (
            b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", b"")
            + _png_chunk(b"IEND", b"")
        )
        _assert_paths_agree(data, "big.png")
        _assert_paths_agree(data, "big.png", max_pixels=10**10)
    jpeg = bytearray(_jpeg_with_segments([]))
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", 30_000, 30_000)
    _assert_paths_agree(bytes(jpeg), "big.jpg")
    _assert_paths_agree(bytes(jpeg), "big.jpg", max_pixels=10**10)
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", 0, 30)
    _assert_paths_agree(bytes(jpeg), "zero.jpg")
