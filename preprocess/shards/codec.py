"""Encode one sample's canonical annotations into WebDataset members and back (ARCHITECTURE §3 shard contract).

A shard sample is the tar members `<sample_id>.<member>`; this module works on the member part only:

| member                    | encoding                                                                     |
|---------------------------|------------------------------------------------------------------------------|
| `person.jpg`, `garment.jpg` | the source JPEG bytes when usable as is (`source_jpeg`), else RGB JPEG q95  |
| `parse.png`               | L-mode PNG of LIP-20 label indices                                           |
| `densepose.png`           | RGB PNG: part index I (0-24), U, V                                           |
| `pose.json`               | `Pose.to_json()`                                                             |
| `garment_mask.png`, `agnostic_mask.png` | L-mode PNG, values {0, 255}                                    |
| `garment_landmarks.json`  | `GarmentLandmarks.to_json()`                                                 |
| `skeleton.png`            | RGB PNG, the OpenPose-coloured pose render                                   |
| `meta.json`               | the manifest row, the annotator (name, version) behind each field, fields_hash |

Video samples keep one member per frame, prefixed by the frame index: `f0000.person.jpg`,
`f0000.parse.png`, `f0001.person.jpg`, ... (per-clip fields such as `garment.jpg` stay unprefixed). We chose
per-frame members over one `frames.npz` so frames stay JPEG-compressed, a loader can read a window of
frames without inflating the clip, and WebDataset keeps seeing one key per clip (the key has no dots, so
`f0000.person.jpg` is the member's extension). Frame indices have four digits, so a clip holds at most
10,000 frames. Every encoding is deterministic: the same arrays always give the same bytes.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Mapping
from io import BytesIO
from typing import Any

import numpy as np
from PIL import Image

from preprocess.annotators.base import GarmentLandmarks, Pose
from preprocess.shards.png_runs import zlib_stream_from_runs

JPEG_QUALITY = 95
PNG_COMPRESS_LEVEL = 1  # fast; label maps and masks compress well at any level
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_FRAMES = 10_000
LIP_CLASSES = 20
DENSEPOSE_PARTS = 25

# field name -> member name, for the fields a sample (or a video frame) may carry
MEMBERS: dict[str, str] = {
    "person": "person.jpg",
    "garment": "garment.jpg",
    "parse": "parse.png",
    "densepose": "densepose.png",
    "pose": "pose.json",
    "garment_mask": "garment_mask.png",
    "garment_landmarks": "garment_landmarks.json",
    "agnostic_mask": "agnostic_mask.png",
    "skeleton": "skeleton.png",
}
FIELDS = {member: field for field, member in MEMBERS.items()}
META_MEMBER = "meta.json"
FRAME_FIELDS = ("person", "parse", "densepose", "pose", "agnostic_mask", "skeleton")
_PERSON_SIZED = ("person", "parse", "densepose", "agnostic_mask", "skeleton")
_GARMENT_SIZED = ("garment", "garment_mask")
_FRAME_RE = re.compile(r"^f(\d{4})\.(.+)$")
_JPEG_MAGIC = b"\xff\xd8\xff"


class SampleEncodingError(ValueError):
    """A field that does not follow the canonical encoding; `reason` names the sample, the field and the fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode_sample(sample_id: str, fields: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, bytes]:
    """Members (`person.jpg`, `parse.png`, ..., `meta.json`) of one shard sample from canonical values.

    `fields` maps names of `MEMBERS` to canonical values (`preprocess/annotators/base.py`); `person` and
    `garment` may be ready JPEG bytes (see `source_jpeg`) or (H, W, 3) uint8 arrays. A video sample puts its
    per-frame fields in `fields["frames"]`, a list of dicts. Sizes are checked against `meta` (width,
    height, garment_width, garment_height) where it gives them.
    """
    members: dict[str, bytes] = {}
    for name, value in fields.items():
        if name == "frames":
            if len(value) > MAX_FRAMES:
                raise SampleEncodingError(
                    f"sample {sample_id}: {len(value)} frames, more than the {MAX_FRAMES} a shard sample "
                    "holds; split the clip into shorter clips"
                )
            for index, frame in enumerate(value):
                for frame_field, frame_value in frame.items():
                    if frame_field not in FRAME_FIELDS:
                        raise SampleEncodingError(
                            f"sample {sample_id} frame {index}: {frame_field!r} is not a per-frame field "
                            f"({', '.join(FRAME_FIELDS)}); put clip-level fields beside `frames`"
                        )
                    label = f"{sample_id} frame {index}"
                    members[f"f{index:04d}.{MEMBERS[frame_field]}"] = _encode_field(
                        label, frame_field, frame_value, meta
                    )
            continue
        if name not in MEMBERS:
            raise SampleEncodingError(
                f"sample {sample_id}: unknown field {name!r}; shard fields are {', '.join(MEMBERS)} and frames"
            )
        members[MEMBERS[name]] = _encode_field(sample_id, name, value, meta)
    members[META_MEMBER] = encode_json(dict(meta) | {"sample_id": sample_id})
    return members


def decode_sample(members: Mapping[str, bytes]) -> dict[str, Any]:
    """Canonical values from a sample's members (the inverse of `encode_sample`); `meta` holds meta.json.

    Accepts members keyed by member name (`parse.png`) as `encode_sample` and WebDataset give them;
    WebDataset's own keys (`__key__`, `__url__`, ...) are passed through unchanged.
    """
    out: dict[str, Any] = {}
    frames: dict[int, dict[str, Any]] = {}
    for name, data in members.items():
        if name.startswith("__"):
            out[name] = data
            continue
        if name == META_MEMBER:
            out["meta"] = json.loads(data)
            continue
        found = _FRAME_RE.match(name)
        member = found.group(2) if found else name
        if member not in FIELDS:
            raise SampleEncodingError(
                f"member {name!r} is not part of the shard contract ({', '.join(FIELDS)})"
            )
        value = _decode_field(FIELDS[member], data)
        if found:
            frames.setdefault(int(found.group(1)), {})[FIELDS[member]] = value
        else:
            out[FIELDS[member]] = value
    if frames:
        out["frames"] = [frames[i] for i in sorted(frames)]
    return out


def source_jpeg(data: bytes, row: Mapping[str, Any], role: str, name: str | None = None) -> bytes:
    """The `person.jpg`/`garment.jpg` member for a source image: its own bytes when they are an RGB JPEG with
    no normalisation (no re-compression loss), else the decoded, normalised image re-encoded at quality 95.

    `role` is "person" or "garment"; `row` is the manifest row (its `normalisations` and `person_format`).
    """
    from preprocess.images import decode_image  # heavy only when re-encoding is needed

    notes = [n for n in (row.get("normalisations") or []) if n.startswith(f"{role}:")]
    is_jpeg = data[:3] == _JPEG_MAGIC
    if role == "person":
        is_jpeg = is_jpeg and row.get("person_format") == "JPEG"
    if is_jpeg and not notes:
        return data
    return _jpeg(decode_image(data, name, role=f"{role} image"))


def encode_json(obj: Any) -> bytes:
    """Deterministic compact JSON (sorted keys; numpy scalars and arrays become plain numbers and lists)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(
        f"{type(value).__name__} is not JSON serialisable; store plain numbers, strings and lists"
    )


def _encode_field(label: str, name: str, value: Any, meta: Mapping[str, Any]) -> bytes:
    if name in ("person", "garment") and isinstance(value, bytes | bytearray):
        if bytes(value[:3]) != _JPEG_MAGIC:
            raise SampleEncodingError(
                f"sample {label}: {name} bytes are not a JPEG; pass the decoded (H, W, 3) uint8 array or "
                "use source_jpeg() to convert the source file"
            )
        return bytes(value)
    if name == "pose":
        obj = value.to_json() if isinstance(value, Pose) else value
        if not isinstance(obj, Mapping) or "body" not in obj:
            raise SampleEncodingError(f"sample {label}: pose must be a Pose or its to_json() dict")
        return encode_json(obj)
    if name == "garment_landmarks":
        obj = value.to_json() if isinstance(value, GarmentLandmarks) else value
        if not isinstance(obj, Mapping) or "points" not in obj:
            raise SampleEncodingError(
                f"sample {label}: garment_landmarks must be GarmentLandmarks or its to_json() dict"
            )
        return encode_json(obj)
    array = np.asarray(value)
    channels = 3 if name in ("person", "garment", "densepose", "skeleton") else None
    _check_array(label, name, array, channels, meta)
    if name in ("person", "garment"):
        return _jpeg(array)
    if name == "parse" and int(array.max(initial=0)) >= LIP_CLASSES:
        raise SampleEncodingError(
            f"sample {label}: parse holds label {int(array.max())}, outside LIP-20 (0-19); map the parser's "
            "labels to LIP indices first (see preprocess/annotators)"
        )
    if name == "densepose" and int(array[..., 0].max(initial=0)) >= DENSEPOSE_PARTS:
        raise SampleEncodingError(
            f"sample {label}: densepose part index {int(array[..., 0].max())} is outside 0-24; channel 0 "
            "must hold the DensePose part index I"
        )
    if name in ("garment_mask", "agnostic_mask") and bool(((array != 0) & (array != 255)).any()):
        raise SampleEncodingError(
            f"sample {label}: {name} holds values other than 0 and 255; threshold it (mask > 0) * 255"
        )
    return encode_png(array)


def _check_array(
    label: str, name: str, array: np.ndarray, channels: int | None, meta: Mapping[str, Any]
) -> None:
    expected = "(H, W, 3)" if channels else "(H, W)"
    if array.dtype != np.uint8 or array.ndim != (3 if channels else 2) or (channels and array.shape[2] != 3):
        raise SampleEncodingError(
            f"sample {label}: {name} is a {array.dtype} array of shape {array.shape}; "
            f"the canonical encoding is a {expected} uint8 array"
        )
    size = None
    if name in _PERSON_SIZED and meta.get("kind") != "video":
        size = (meta.get("height"), meta.get("width"))
    elif name in _GARMENT_SIZED:
        size = (meta.get("garment_height"), meta.get("garment_width"))
    if size and None not in size and tuple(array.shape[:2]) != size:
        raise SampleEncodingError(
            f"sample {label}: {name} is {array.shape[0]}x{array.shape[1]} but the "
            f"{'garment' if name in _GARMENT_SIZED else 'person'} image is {size[0]}x{size[1]}; "
            "annotate at the source image size"
        )


def _decode_field(name: str, data: bytes) -> Any:
    if name == "pose":
        return Pose.from_json(json.loads(data))
    if name == "garment_landmarks":
        obj = json.loads(data)
        return GarmentLandmarks(
            category=obj["category"],
            names=tuple(obj["names"]),
            points=np.asarray(obj["points"], dtype=np.float32).reshape(-1, 3),
            method=obj.get("method", ""),
        )
    with Image.open(BytesIO(data)) as image:
        mode = "RGB" if name in ("person", "garment", "densepose", "skeleton") else "L"
        if image.mode != mode:
            raise SampleEncodingError(f"member {MEMBERS[name]} is a {image.mode} image, expected {mode}")
        return np.asarray(image)


def _jpeg(rgb: np.ndarray) -> bytes:
    buf = BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, "JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def encode_png(array: np.ndarray) -> bytes:
    """8-bit grey (H, W) or RGB (H, W, 3) PNG, rows unfiltered. Lossless: any PNG reader gives back `array`.

    Written directly rather than through PIL: PIL tries every PNG row filter per row, which costs more
    than the compression and gains nothing on label maps, masks and skeleton renders. Such run-heavy
    images get their zlib stream built from their runs (`png_runs`, faster than zlib on them);
    others are compressed by zlib at level `PNG_COMPRESS_LEVEL`, grey maps with its run-length strategy.
    """
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    idat = zlib_stream_from_runs(array)
    if idat is None:
        rows = np.zeros((height, width * channels + 1), np.uint8)  # column 0: filter type 0 (none) per row
        rows[:, 1:] = array.reshape(height, width * channels)
        strategy = zlib.Z_RLE if channels == 1 else zlib.Z_DEFAULT_STRATEGY
        packer = zlib.compressobj(PNG_COMPRESS_LEVEL, zlib.DEFLATED, 15, 9, strategy)
        idat = packer.compress(rows.data) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0 if channels == 1 else 2, 0, 0, 0)
    return b"".join(
        [_PNG_SIGNATURE, _png_chunk(b"IHDR", header), _png_chunk(b"IDAT", idat), _png_chunk(b"IEND", b"")]
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def sample_meta(row: Mapping[str, Any], annotators: Mapping[str, tuple[str, str]], fields_hash: str) -> dict:
    """`meta.json` content: the manifest row (annotation paths as a dict), the annotator (name, version)
    behind each field, and the fields_hash the incremental build compares."""
    meta = dict(row)
    if isinstance(meta.get("annotations"), list):
        meta["annotations"] = dict(meta["annotations"])
    meta["annotators"] = {f: {"name": n, "version": v} for f, (n, v) in sorted(annotators.items())}
    meta["fields_hash"] = fields_hash
    return meta
