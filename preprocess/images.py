"""Safe image probing and decoding: raw bytes become (H, W, 3) uint8 RGB or a precise, user-facing error.

`probe_image_bytes` is the cheap check the manifest runs on every file (magic bytes, completeness, PIL
header, EXIF orientation; never a full decode). `decode_image` applies exactly the normalisations the probe
reports; `decode_label_map` returns class indices. Bad input raises `BadImageError` whose `reason` names the
file and the fix (ARCHITECTURE §3: a quarantine reason or a documented normalisation, never a crash).
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, PngImagePlugin

# Largest image (width * height) decoded by default: 80 MP is ~240 MB as RGB, beyond any try-on photo,
# and below PIL's own warning threshold. Larger headers are refused as decompression bombs; PIL's hard
# limit (2 * Image.MAX_IMAGE_PIXELS, ~179 MP) still applies to a higher max_pixels.
DEFAULT_MAX_PIXELS = 80_000_000

# Every normalisation code a probe may report, with what decoding does about it.
NORMALISATION_CODES: dict[str, str] = {
    "exif_transpose:<n>": "EXIF orientation n (2-8) applied, so width/height are as displayed (a corrupt "
    "EXIF block or another value counts as 1, as image viewers do)",
    "cmyk_to_rgb": "CMYK converted to RGB (Adobe inverted polarity, as PIL, OpenCV and browsers assume)",
    "16bit_to_8bit": "16 bits per sample scaled (not clipped) to 8: 0->0, 65535->255",
    "alpha_composited_on_white": "transparency composited on a white background",
    "gray_to_rgb": "single grey channel replicated into R, G and B",
    "palette_to_rgb": "palette indices replaced by their colours",
    "extension_mismatch:<fmt>_as_<ext>": "the bytes are <fmt> although the name ends in .<ext>; decoded as <fmt>",
}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (_PNG_SIGNATURE, "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "GIF": (".gif",),
    "BMP": (".bmp", ".dib"),
    "TIFF": (".tif", ".tiff"),
}
# PIL format names that open for each detected container (MPO: a JPEG with extra pictures appended).
_PIL_FORMATS: dict[str, list[str]] = {"JPEG": ["JPEG", "MPO"]}
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")

# Stored PIL mode -> conversions to RGB, in the order decoding applies them.
_MODE_STEPS: dict[str, tuple[str, ...]] = {
    "RGB": (),
    "RGBA": ("alpha_composited_on_white",),
    "L": ("gray_to_rgb",),
    "1": ("gray_to_rgb",),
    "LA": ("alpha_composited_on_white", "gray_to_rgb"),
    "P": ("palette_to_rgb",),
    "PA": ("palette_to_rgb", "alpha_composited_on_white"),
    "CMYK": ("cmyk_to_rgb",),
    "I;16": ("16bit_to_8bit", "gray_to_rgb"),
    "I;16L": ("16bit_to_8bit", "gray_to_rgb"),
    "I;16B": ("16bit_to_8bit", "gray_to_rgb"),
    "I;16N": ("16bit_to_8bit", "gray_to_rgb"),
}
_LABEL_MODES = ("P", "L", "1", "I;16", "I;16L", "I;16B", "I;16N")

# EXIF orientation -> how to turn the stored pixel array into the displayed one (numpy, H x W [x C]).
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: np.swapaxes(a, 0, 1),
    6: lambda a: np.rot90(a, k=-1),
    7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
    8: lambda a: np.rot90(a, k=1),
}
_EXIF_ORIENTATION_TAG = 0x0112

# What PIL raises on malformed data, at open or at load time (UnidentifiedImageError is an OSError).
_PIL_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,  # e.g. a malformed EXIF makes PIL retry as MPO, a format it cannot find
    struct.error,
    zlib.error,
)

_REDOWNLOAD = "re-export or re-download it"


class BadImageError(ValueError):
    """An image that cannot be used; `reason` is one sentence naming the file, the problem and the fix."""

    def __init__(self, reason: str, name: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.name = name


@dataclass
class ImageInfo:
    """What the cheap probe learned: container format, stored PIL mode, displayed size, normalisations."""

    format: str  # "JPEG", "PNG", "WEBP", ... from the bytes, not the file name
    mode: str  # PIL mode as stored: RGB, CMYK, I;16, RGBA, LA, L, P, ...
    width: int  # after EXIF orientation
    height: int  # after EXIF orientation
    normalisations: list[str] = field(default_factory=list)  # codes from NORMALISATION_CODES


def probe_image_bytes(
    data: bytes, name: str, *, role: str = "image", max_pixels: int = DEFAULT_MAX_PIXELS
) -> ImageInfo:
    """Check an image's bytes cheaply (header only, no pixel decode) and report what decoding will do.

    `name` (the path relative to the dataset root) and `role` ("person image", ...) appear in errors.
    """
    fmt = _precheck(data, name, role)
    if fmt in ("JPEG", "PNG") and not ImageFile.LOAD_TRUNCATED_IMAGES:
        info = _probe_fast(data, fmt, name, role, max_pixels)
        if info is not None:
            return info
    return _probe_pil(data, name, role, max_pixels)


def _probe_pil(
    data: bytes, name: str, role: str = "image", max_pixels: int = DEFAULT_MAX_PIXELS
) -> ImageInfo:
    """The reference probe: PIL opens the header (kept callable so tests can compare the fast path)."""
    return _open_checked(data, name, role, max_pixels)[1]


def decode_image(
    source: Path | bytes,
    name: str | None = None,
    *,
    role: str = "image",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode a file or bytes to (H, W, 3) uint8 RGB as displayed, applying the probe's normalisations."""
    data, name = _read_source(source, name, role)
    image, info = _open_checked(data, name, role, max_pixels)
    _load(image, name, role, info.format)
    rgb = _to_rgb(image, info.normalisations)
    return _orient(rgb, info.normalisations)


def decode_label_map(
    source: Path | bytes,
    name: str | None = None,
    *,
    role: str = "label map",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode a palette or grayscale map of class indices to (H, W) uint8, without any colour conversion."""
    data, name = _read_source(source, name, role)
    image, info = _open_checked(data, name, role, max_pixels)
    if info.mode not in _LABEL_MODES:
        raise BadImageError(
            f"{role} {name!r} is a {info.mode} colour image, not a map of class indices: store label maps "
            "as palette (P) or grayscale (L) PNGs whose pixel values are the class indices",
            name,
        )
    _load(image, name, role, info.format)
    labels = np.asarray(image)
    if labels.dtype == np.bool_:
        labels = labels.astype(np.uint8)
    elif labels.dtype != np.uint8:
        top = int(labels.max(initial=0))
        if top > 255:
            raise BadImageError(
                f"{role} {name!r} holds label values up to {top}, above 255: store class indices below 256 "
                "in an 8-bit palette or grayscale PNG",
                name,
            )
        labels = labels.astype(np.uint8)
    return _orient(labels, info.normalisations)


def check_image(
    source: Path | bytes,
    name: str | None = None,
    *,
    role: str = "image",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[int, int]:
    """Decode a file or bytes as `decode_image` does, failing with the same errors, but build no pixels;
    returns (height, width) as displayed. For callers that only need to know the image is usable.

    A JPEG is decoded at 1/8 scale: every byte of its entropy-coded data is still read and decoded, only
    the inverse DCT and the colour conversion work on fewer pixels.
    """
    data, name = _read_source(source, name, role)
    image, info = _open_checked(data, name, role, max_pixels)
    if info.format == "JPEG":
        image.draft(image.mode, (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
    _load(image, name, role, info.format)
    return info.height, info.width


def _read_source(source: Path | bytes, name: str | None, role: str) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), name or "<in-memory image>"
    path = Path(source)
    label = name or str(path)
    try:
        return path.read_bytes(), label
    except FileNotFoundError:
        raise BadImageError(
            f"{role} {label!r} does not exist: check the path or restore the file", label
        ) from None
    except OSError as exc:
        raise BadImageError(
            f"{role} {label!r} cannot be read ({exc.strerror}): check that it is a readable file", label
        ) from None


def _open_checked(data: bytes, name: str, role: str, max_pixels: int) -> tuple[Image.Image, ImageInfo]:
    """Magic bytes, completeness and header checks; the opened (not loaded) image and what it needs."""
    fmt = _precheck(data, name, role)
    try:
        image = Image.open(BytesIO(data), formats=_PIL_FORMATS.get(fmt, [fmt]))
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else None
        raise BadImageError(_bomb_reason(name, role, pixels, max_pixels), name) from None
    except _PIL_ERRORS as exc:
        raise BadImageError(
            f"{role} {name!r} has a corrupt {fmt} header ({_pil_message(exc)}): {_REDOWNLOAD}", name
        ) from None
    width, height = image.size
    if width * height > max_pixels:
        raise BadImageError(_bomb_reason(name, role, width * height, max_pixels, (width, height)), name)
    if width <= 0 or height <= 0:
        raise BadImageError(f"{role} {name!r} declares a {width}x{height} image: {_REDOWNLOAD}", name)
    transparent = image.mode == "P" and "transparency" in image.info
    orientation = lambda: _orientation(image, data, fmt)  # noqa: E731 - after the mode check, as before
    return image, _info(data, fmt, image.mode, width, height, transparent, orientation, name, role)


def _precheck(data: bytes, name: str, role: str) -> str:
    """Emptiness, magic bytes and completeness; the detected container format."""
    if not data:
        raise BadImageError(f"{role} {name!r} is empty (0 bytes): {_REDOWNLOAD}", name)
    fmt = _detect_format(data)
    if fmt is None:
        raise BadImageError(f"{role} {name!r} is not an image: {_describe_non_image(data)}", name)
    _check_complete(data, fmt, name, role)
    return fmt


def _info(
    data: bytes,
    fmt: str,
    mode: str,
    width: int,
    height: int,
    transparent: bool,
    orientation: Callable[[], int],
    name: str,
    role: str,
) -> ImageInfo:
    """The probe's answer from the header facts, shared by the PIL and the fast path."""
    steps = _MODE_STEPS.get(mode)
    if steps is None:
        raise BadImageError(
            f"{role} {name!r} has pixel mode {mode}, which is not supported: convert it to 8-bit RGB",
            name,
        )
    notes: list[str] = []
    extension = os.path.splitext(name)[1].lower()
    if extension and extension not in _EXTENSIONS[fmt]:
        notes.append(f"extension_mismatch:{fmt.lower()}_as_{extension[1:]}")
    if "16bit_to_8bit" not in steps and fmt == "PNG" and data[12:16] == b"IHDR" and data[24] == 16:
        notes.append("16bit_to_8bit")  # PIL keeps the high byte of 16-bit RGB(A)/LA PNGs
    notes.extend(steps)
    if transparent:
        notes.append("alpha_composited_on_white")
    turn = orientation()
    if turn in _ORIENT:
        notes.append(f"exif_transpose:{turn}")
        if turn >= 5:
            width, height = height, width
    return ImageInfo(fmt, mode, width, height, notes)


def _detect_format(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    return None


def _describe_non_image(data: bytes) -> str:
    head = data[:64]
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "it is a HEIF/HEIC/AVIF photo, which this platform does not decode; convert it to JPEG or PNG"
    if data[4:8] == b"ftyp":
        return "it looks like a video or MP4 container; replace it with the JPEG or PNG picture"
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        return (
            f"it is an HTML/XML page starting {head[:24]!r} (probably a failed download); "
            "download the picture again"
        )
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return f"it is a text file starting {head[:24]!r}; replace it with the JPEG or PNG picture"
    return (
        f"its first bytes {head[:8].hex(' ')} match no supported format (JPEG, PNG, WEBP, GIF, BMP, TIFF); "
        "replace it with a JPEG or PNG picture"
    )


def _check_complete(data: bytes, fmt: str, name: str, role: str) -> None:
    """Refuse files whose end is missing, from the container's own end markers (cheap: no pixel decode)."""
    size = len(data)
    if fmt == "JPEG":
        scan = _jpeg_scan_start(data)
        if scan is None:
            raise BadImageError(
                f"{role} {name!r} is truncated (JPEG ends inside its header after {size} bytes): {_REDOWNLOAD}",
                name,
            )
        # The entropy-coded data cannot contain FF D9, so an EOI after the first scan ends the picture;
        # searching from the end tolerates trailers (e.g. motion-photo videos) appended after it.
        if data.rfind(b"\xff\xd9") < scan:
            raise BadImageError(
                f"{role} {name!r} is truncated (JPEG has no end-of-image marker; {size} of its bytes read): "
                f"{_REDOWNLOAD}",
                name,
            )
    elif fmt == "PNG":
        end = data.rfind(b"IEND", max(0, size - 4096))
        if end < 0 or end + 8 > size:
            raise BadImageError(
                f"{role} {name!r} is truncated (PNG has no IEND chunk at its end; {size} of its bytes read): "
                f"{_REDOWNLOAD}",
                name,
            )
    elif fmt == "WEBP":
        declared = int.from_bytes(data[4:8], "little") + 8
        if size < declared:
            raise BadImageError(
                f"{role} {name!r} is truncated (WEBP declares {declared} bytes, {size} read): {_REDOWNLOAD}",
                name,
            )


def _jpeg_scan_start(data: bytes) -> int | None:
    """Offset of the first start-of-scan marker, walking the header segments; None if the data ends first."""
    pos, size = 2, len(data)
    while pos + 1 < size:
        if data[pos] != 0xFF:
            pos += 1  # junk between segments; PIL skips it too
            continue
        marker = data[pos + 1]
        if marker == 0xDA:
            return pos
        if marker == 0xD9:
            return None  # end of image before any scan: the picture data is missing
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 1 if marker == 0xFF else 2  # fill byte or a marker without a length
            continue
        if pos + 4 > size:
            return None
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def _orientation(image: Image.Image, data: bytes, fmt: str) -> int:
    """EXIF orientation from the header; 1 (as stored) when the EXIF block cannot be parsed."""
    try:
        if fmt == "PNG" and "exif" not in image.info:
            # PIL's PNG getexif() decodes the whole image to reach an eXIf chunk after IDAT; read it directly.
            exif = Image.Exif()
            chunk = _png_chunk(data, b"eXIf")
            if chunk is not None:
                exif.load(chunk)
        else:
            exif = image.getexif()
        value = exif.get(_EXIF_ORIENTATION_TAG, 1)
    except _PIL_ERRORS:
        return 1
    return value if isinstance(value, int) else 1


def _png_chunk(data: bytes, kind: bytes) -> bytes | None:
    """Payload of the first chunk of this type, jumping from chunk to chunk by their lengths (no scanning)."""
    pos, size = 8, len(data)
    while pos + 8 <= size:
        length, found = struct.unpack_from(">I4s", data, pos)
        if found == kind:
            return data[pos + 8 : pos + 8 + length]
        if found == b"IEND":
            return None
        pos += 12 + length
    return None


class _Doubt(Exception):
    """The fast header parser met something it does not reproduce exactly; PIL decides instead."""


def _probe_fast(data: bytes, fmt: str, name: str, role: str, max_pixels: int) -> ImageInfo | None:
    """The probe without PIL for ordinary JPEG and PNG headers; None where PIL must decide.

    Reproduces what `Image.open` reports (PIL 13's JpegImagePlugin and PngImagePlugin) for the headers
    it accepts and hands anything else (junk between segments, unusual markers or chunks, bad checksums,
    malformed EXIF, huge sizes) back to the PIL path, so results and errors are the same either way.
    """
    try:
        if fmt == "JPEG":
            mode, width, height, orientation = _jpeg_header(data)
            transparent = False
        else:
            mode, width, height, transparent, orientation = _png_header(data)
    except _Doubt:
        return None
    limit = Image.MAX_IMAGE_PIXELS
    if width <= 0 or height <= 0 or width * height > max_pixels or (limit and width * height > limit):
        return None  # PIL's own refusals and warnings, and ours, come from the PIL path
    return _info(data, fmt, mode, width, height, transparent, lambda: orientation, name, role)


_JPEG_SOF = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xDE))
_JPEG_SKIP = frozenset((0xC4, 0xCC, 0xDC, 0xDD, 0xDF, 0xFE))  # segments PIL reads past unparsed
_JPEG_LAYER_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(="|>)([0-9])')


def _jpeg_header(data: bytes) -> tuple[str, int, int, int]:
    """(mode, width, height, EXIF orientation) as PIL's JPEG plugin reads them; _Doubt on anything unusual."""
    pos, size = 2, len(data)
    mode, width, height = "", 0, 0
    exif: bytes | None = None
    xmp: bytes | None = None
    dpi = False
    icc: list[bytes] = []
    while True:
        if pos + 4 > size or data[pos] != 0xFF:
            raise _Doubt  # junk between segments or the end of the data
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1  # fill byte
            continue
        if 0xD0 <= marker <= 0xD7:
            pos += 2  # restart marker: no length, PIL steps over it
            continue
        length = (data[pos + 2] << 8) | data[pos + 3]
        end = pos + 2 + length
        if length < 2 or end > size:
            raise _Doubt
        if marker == 0xDA:
            break
        segment = data[pos + 4 : end]
        if marker in _JPEG_SOF:
            if length < 8 or segment[0] != 8 or segment[5] not in _JPEG_LAYER_MODES:
                raise _Doubt  # PIL refuses these; let it word the error
            if icc and len(min(icc)) < 14:
                raise _Doubt  # PIL reads the fragment count of the first ICC fragment here
            icc = []
            mode = _JPEG_LAYER_MODES[segment[5]]
            height = (segment[1] << 8) | segment[2]
            width = (segment[3] << 8) | segment[4]
        elif marker == 0xDB:
            _check_dqt(segment)
        elif 0xE0 <= marker <= 0xEF:
            if marker == 0xE0 and segment.startswith(b"JFIF"):
                if len(segment) < 7:
                    raise _Doubt
                if len(segment) >= 12 and segment[7] in (1, 2):
                    dpi = True
            elif marker == 0xE1 and segment.startswith(b"Exif\0\0"):
                exif = segment if exif is None else exif + segment[6:]
            elif marker == 0xE1 and segment.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
                xmp = segment.split(b"\x00", 1)[1]
            elif marker == 0xE2 and segment.startswith(b"MPF\0"):
                raise _Doubt  # multi-picture (MPO) headers: PIL may open another plugin
            elif marker == 0xE2 and segment.startswith(b"ICC_PROFILE\0"):
                icc.append(segment)
            elif marker == 0xED and segment.startswith(b"Photoshop 3.0\x00"):
                _check_photoshop(segment)
            elif marker == 0xEE and segment.startswith(b"Adobe") and len(segment) < 7:
                raise _Doubt  # PIL reads the Adobe version word (it does not change the mode)
        elif marker not in _JPEG_SKIP:
            raise _Doubt  # SOI, EOI, JPG, JPGn, TEM, reserved: PIL treats these its own way
        pos = end
    if not mode:
        raise _Doubt  # no frame header before the scan
    orientation = 1
    tags = None
    if exif is not None:
        tags = _exif_ifd0(exif)
        if not dpi and tags and 0x0128 in tags and 0x011A in tags:
            # PIL reads the resolution from EXIF while opening; only the usual types are safe to skip
            if tags[0x0128][0] not in (3, 4) or tags[0x011A][:2] != (5, 1):
                raise _Doubt
        if tags and 0x0112 in tags:
            return mode, width, height, _exif_orientation_value(tags[0x0112])
    if xmp is not None:
        found = _XMP_ORIENTATION.search(xmp)
        if found:
            orientation = int(found[2])
    return mode, width, height, orientation


def _check_photoshop(segment: bytes) -> None:
    """PIL's Photoshop resource walk stops quietly on short data, except for a missing name length."""
    offset, size = 14, len(segment)
    while segment[offset : offset + 4] == b"8BIM":
        offset += 4
        if offset + 2 > size:
            return
        code = (segment[offset] << 8) | segment[offset + 1]
        offset += 2
        if offset >= size:
            raise _Doubt
        offset += 1 + segment[offset]
        offset += offset & 1
        if offset + 4 > size:
            return
        length = int.from_bytes(segment[offset : offset + 4], "big")
        offset += 4
        if code == 0x03ED and len(segment[offset : offset + length]) < 14:
            return
        offset += length
        offset += offset & 1


def _check_dqt(segment: bytes) -> None:
    """PIL refuses a quantisation segment whose tables overrun it."""
    while segment:
        need = 65 if segment[0] < 16 else 129
        if len(segment) < need:
            raise _Doubt
        segment = segment[need:]


# TIFF field type -> bytes per value, for the types PIL's IFD reader knows (others are skipped).
_TIFF_UNIT = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}


def _exif_ifd0(blob: bytes) -> dict[int, tuple[int, int, int]] | None:
    """First IFD of an EXIF block as PIL's Exif.load keeps it: tag -> (type, count, single SHORT value).

    None where PIL sees no EXIF at all (an empty block); _Doubt where PIL would warn, raise or read
    out-of-line data that is missing.
    """
    while blob.startswith(b"Exif\0\0"):
        blob = blob[6:]
        if blob.startswith(b"Exif\0\0"):
            raise _Doubt  # PIL strips at most two prefixes
    if not blob:
        return None
    head = blob[:4]
    if len(blob) < 8 or head not in (b"II*\0", b"MM\0*"):
        raise _Doubt
    order = "<" if head[0] == 0x49 else ">"
    size = len(blob)
    (pos,) = struct.unpack_from(order + "L", blob, 4)
    if pos + 2 > size:
        raise _Doubt
    (count,) = struct.unpack_from(order + "H", blob, pos)
    pos += 2
    if pos + 12 * count + 4 > size:
        raise _Doubt  # PIL stops part-way with a warning
    tags: dict[int, tuple[int, int, int]] = {}
    total = 0
    for tag, kind, number, value in struct.iter_unpack(order + "HHL4s", blob[pos : pos + 12 * count]):
        if tag in tags:
            continue
        unit = _TIFF_UNIT.get(kind)
        if unit is None:
            continue
        length = number * unit
        if length > 4:
            (offset,) = struct.unpack(order + "L", value)
            total += length
            if total > size or offset + length > size:
                raise _Doubt
        elif length == 0:
            continue
        short = struct.unpack_from(order + "H", value)[0] if kind == 3 and number == 1 else 0
        tags[tag] = (kind, number, short)
    return tags


def _exif_orientation_value(entry: tuple[int, int, int]) -> int:
    kind, number, value = entry
    if kind != 3 or number != 1:
        raise _Doubt  # PIL would report a tuple, a string or another width: let it
    return value


# PNG chunks PIL reads past (or merely records) without any check that could fail, before the pixels.
_PNG_MIN_LENGTH = {b"gAMA": 4, b"cHRM": 32, b"sRGB": 1, b"pHYs": 9}
_PNG_PIL_CHUNKS = frozenset(
    (b"IHDR", b"IDAT", b"IEND", b"PLTE", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"tEXt", b"zTXt")
    + (b"iTXt", b"iCCP", b"eXIf", b"acTL", b"fcTL", b"fdAT")
)
_PNG_TEXT_KEYS = (b"exif", b"xmp", b"XML:com.adobe.xmp", b"Raw profile type exif", b"transparency")
_PNG_CID = re.compile(rb"\w\w\w\w")


def _png_header(data: bytes) -> tuple[str, int, int, bool, int]:
    """(mode, width, height, palette transparency, EXIF orientation) as PIL's PNG plugin reads them."""
    size = len(data)
    if size < 33 or data[12:16] != b"IHDR" or data[8:12] != b"\0\0\0\r" or data[28] != 0:
        raise _Doubt
    found = PngImagePlugin._MODES.get((data[24], data[25]))
    if found is None:
        raise _Doubt
    mode = found[0]
    width, height = struct.unpack_from(">II", data, 16)
    transparent = False
    exif: bytes | None = None
    pos = 8
    while True:
        if pos + 8 > size:
            raise _Doubt
        length, kind = struct.unpack_from(">I4s", data, pos)
        if not _PNG_CID.match(kind):
            raise _Doubt
        if kind == b"IDAT":
            break
        end = pos + 8 + length
        if end + 4 > size:
            raise _Doubt
        payload = data[pos + 8 : end]
        if zlib.crc32(payload, zlib.crc32(kind)) != int.from_bytes(data[end : end + 4], "big"):
            raise _Doubt  # PIL refuses a bad checksum
        if kind in _PNG_PIL_CHUNKS and pos != 8:
            if kind == b"tRNS":
                if mode == "P":
                    transparent = True
                elif mode in ("1", "L", "I;16", "RGB") and length < (6 if mode == "RGB" else 2):
                    raise _Doubt
            elif kind == b"eXIf":
                exif = payload
            elif kind == b"tEXt":
                key = payload.split(b"\0", 1)[0]
                if key in _PNG_TEXT_KEYS or length > 1_000_000:
                    raise _Doubt
            elif kind in _PNG_MIN_LENGTH:
                if length < _PNG_MIN_LENGTH[kind]:
                    raise _Doubt
            elif kind != b"PLTE":
                raise _Doubt  # a second IHDR, an early IEND, text to inflate, ICC, animation: PIL decides
        pos = end + 4
    if exif is None:
        exif = _png_chunk(data, b"eXIf")  # the PIL path reads a late eXIf chunk the same way
        if exif is None:
            return mode, width, height, transparent, 1
    tags = _exif_ifd0(b"Exif\0\0" + exif)
    orientation = _exif_orientation_value(tags[0x0112]) if tags and 0x0112 in tags else 1
    return mode, width, height, transparent, orientation


def _bomb_reason(
    name: str, role: str, pixels: int | None, limit: int, size: tuple[int, int] | None = None
) -> str:
    declared = f"{size[0]}x{size[1]} = {pixels} pixels" if size else f"{pixels or 'too many'} pixels"
    return (
        f"{role} {name!r} declares {declared}, above the limit of {limit} (a decompression bomb or a "
        "mis-written header): downscale it, or raise max_pixels if the image is genuine"
    )


def _pil_message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _load(image: Image.Image, name: str, role: str, fmt: str) -> None:
    try:
        image.load()
    except _PIL_ERRORS as exc:
        raise BadImageError(
            f"{role} {name!r} is truncated or corrupt ({fmt} decoder: {_pil_message(exc)}): {_REDOWNLOAD}",
            name,
        ) from None


def _to_rgb(image: Image.Image, notes: list[str]) -> np.ndarray:
    """Convert a loaded image to (H, W, 3) uint8 RGB following the probe's codes (before orientation)."""
    mode = image.mode
    if mode.startswith("I;16"):
        wide = np.asarray(image).astype(np.uint32)
        gray = ((wide * 255 + 32767) // 65535).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if "palette_to_rgb" in notes:
        image = image.convert("RGBA" if "alpha_composited_on_white" in notes else "RGB")
    elif mode == "CMYK":
        # PIL reads every CMYK JPEG with Adobe's inverted polarity; convert() then gives the right colours.
        image = image.convert("RGB")
    elif mode in ("L", "1"):
        image = image.convert("L")
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        return np.repeat(pixels[:, :, None], 3, axis=2)
    if pixels.shape[2] == 3:
        return pixels
    colour, alpha = pixels[:, :, :-1].astype(np.uint16), pixels[:, :, -1:].astype(np.uint16)
    blended = ((colour * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
    if blended.shape[2] == 1:  # LA
        return np.repeat(blended, 3, axis=2)
    return blended


def _orient(pixels: np.ndarray, notes: list[str]) -> np.ndarray:
    for note in notes:
        if note.startswith("exif_transpose:"):
            return np.ascontiguousarray(_ORIENT[int(note.split(":", 1)[1])](pixels))
    return np.ascontiguousarray(pixels)
