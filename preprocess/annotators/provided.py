"""The `provided` backend: read the annotations a dataset ships and convert them to the canonical encodings.

For each sample the manifest row names the shipped files (`annotations`: key -> path relative to the
root) and their formats (`parse_labels`, `pose_format`, `densepose_format`). Conversions:

- parse: label map -> LIP-20 (`label_maps.to_lip`);
- pose: OpenPose BODY_25 / legacy / Dress Code JSON -> `Pose` (`pose_formats`);
- densepose: dp_segm colour map, IUV PNG, or Dress Code part-index PNG + UV npz -> I, U, V
  (`densepose_codec`; U and V are 0 where only I is shipped);
- garment_mask: any grey or colour mask image -> {0, 255} at 128 (0/1-valued PNG masks at 1).

What a sample does not ship is left out of its result (never invented). A shipped map whose size differs
from its image but has the same aspect ratio (within 1 %) is resized with nearest neighbour, as Dress
Code's own loader does; any other mismatch, or an unreadable file, raises `AnnotationError` naming the
file. Video samples (VVT) read per-frame files from the row's `annotation_frames` (the reader's
`CanonicalSample.annotation_frames`) and return them as `{"frames": [{"parse": ..., "pose": ...,
"densepose": ...}, ...]}` beside the clip-level `garment_mask`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from preprocess.annotators.base import AnnotationError, AnnotationInput
from preprocess.annotators.densepose_codec import (
    combine_index_uv,
    decode_dp_segm,
    decode_iuv,
    read_uv_npz,
)
from preprocess.annotators.label_maps import to_lip
from preprocess.annotators.pose_formats import PoseFileError, pose_from_file_json
from preprocess.images import BadImageError, decode_image, decode_label_map, probe_image_bytes

ASPECT_TOLERANCE = 0.01
FRAME_KEYS = ("parse", "pose", "densepose")
DENSEPOSE_FORMATS = ("dp_segm_colormap", "iuv", "dp_index")

Size = tuple[int, int] | None


def _as_dict(value: Any) -> dict[str, Any]:
    """A manifest map column as a dict: pyarrow gives a list of (key, value) pairs, readers a dict."""
    if value is None:
        return {}
    return dict(value)


def _fit(array: np.ndarray, size: Size, rel: str, what: str) -> np.ndarray:
    """`array` at (H, W) `size`: unchanged, resized (nearest) when only the scale differs, else an error."""
    if size is None or tuple(array.shape[:2]) == size:
        return array
    (h, w), (th, tw) = array.shape[:2], size
    if abs((w / h) / (tw / th) - 1.0) > ASPECT_TOLERANCE:
        raise AnnotationError(
            f"{what} {rel!r} is {w}x{h} but its image is {tw}x{th} (another aspect ratio): the file belongs to "
            "another image or was cropped; re-export it at the image's size"
        )
    return cv2.resize(array, (tw, th), interpolation=cv2.INTER_NEAREST)


class ProvidedAnnotator:
    """Annotator "provided": the dataset's own parse, pose, DensePose and garment mask, canonicalised."""

    name = "provided"
    version = "1"
    outputs = ("parse", "pose", "densepose", "garment_mask")
    needs: tuple[str, ...] = ()

    def __call__(self, batch: list[AnnotationInput]) -> list[dict[str, Any]]:
        """One dict per sample holding the canonical value of every annotation it ships and lacks so far."""
        return [self._one(item) for item in batch]

    def _one(self, item: AnnotationInput) -> dict[str, Any]:
        row = item.row
        person_size = _size(item.person, row.get("height"), row.get("width"))
        garment_size = _size(item.garment, row.get("garment_height"), row.get("garment_width"))
        files = _as_dict(row.get("annotations"))
        out: dict[str, Any] = {}
        try:
            if row.get("kind") == "video":
                frames = _as_dict(row.get("annotation_frames"))
                if any(key in frames for key in FRAME_KEYS):
                    out["frames"] = self._frames(item.root, row, frames, person_size)
            else:
                for key in FRAME_KEYS:  # fields already filled (a person side kept by a memo) are not read
                    if key in files and key not in item.outputs:
                        out[key] = READERS[key](item.root, files[key], row, person_size, files)
            if "garment_mask" in files and "garment_mask" not in item.outputs:
                out["garment_mask"] = _garment_mask(item.root, files["garment_mask"], garment_size)
        except AnnotationError as exc:
            raise AnnotationError(f"sample {item.sample_id}: {exc.reason}", item.sample_id) from None
        return out

    def _frames(
        self, root: Path, row: dict[str, Any], frames: dict[str, list[str]], size: Size
    ) -> list[dict[str, Any]]:
        count = max(len(paths) for key, paths in frames.items() if key in FRAME_KEYS)
        out: list[dict[str, Any]] = [{} for _ in range(count)]
        for key in FRAME_KEYS:
            paths = frames.get(key)
            if not paths:
                continue
            if len(paths) != count:
                raise AnnotationError(
                    f"{key} has {len(paths)} frame files but another annotation has {count}; "
                    "every per-frame annotation needs one file per frame"
                )
            for index, rel in enumerate(paths):
                out[index][key] = READERS[key](root, rel, row, size, {})
        return out


def _size(image: np.ndarray | None, height: Any, width: Any) -> Size:
    if image is not None:
        return int(image.shape[0]), int(image.shape[1])
    if height and width:
        return int(height), int(width)
    return None


def _image(root: Path, rel: str, role: str, label_map: bool = False) -> np.ndarray:
    try:
        if label_map:
            return decode_label_map(root / rel, rel, role=role)
        return decode_image(root / rel, rel, role=role)
    except BadImageError as exc:
        raise AnnotationError(exc.reason) from None


def _parse(root: Path, rel: str, row: dict[str, Any], size: Size, _files: dict[str, Any]) -> np.ndarray:
    labels = row.get("parse_labels")
    if labels is None:
        raise AnnotationError(
            f"parse map {rel!r} is shipped but its label set is unknown (parse_labels is empty); "
            "set it to cihp, atr or lip in the dataset's reader"
        )
    raw = _image(root, rel, "parse map", label_map=True)
    try:
        lip = to_lip(raw, labels, rel)
    except ValueError as exc:
        raise AnnotationError(str(exc)) from None
    return _fit(lip, size, rel, "parse map")


def _pose(root: Path, rel: str, row: dict[str, Any], size: Size, _files: dict[str, Any]) -> Any:
    pose_format = row.get("pose_format")
    try:
        obj = json.loads((root / rel).read_bytes())
    except FileNotFoundError:
        raise AnnotationError(
            f"keypoint file {rel!r} does not exist: restore it or re-run the ingest"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnnotationError(f"keypoint file {rel!r} is not valid JSON ({exc}); re-export it") from None
    except OSError as exc:
        raise AnnotationError(
            f"keypoint file {rel!r} cannot be read ({exc.strerror}); check its permissions"
        ) from None
    if pose_format == "coco18" and size is None:
        raise AnnotationError(
            f"keypoint file {rel!r} is in Dress Code's 384x512 space and the image size is unknown; "
            "pass the person image or a manifest row with width and height"
        )
    try:
        return pose_from_file_json(obj, str(pose_format), size or (0, 0), rel)
    except PoseFileError as exc:
        raise AnnotationError(str(exc)) from None


def _densepose(root: Path, rel: str, row: dict[str, Any], size: Size, files: dict[str, Any]) -> np.ndarray:
    kind = row.get("densepose_format")
    try:
        if kind == "dp_segm_colormap":
            iuv = combine_index_uv(decode_dp_segm(_image(root, rel, "DensePose image"), rel), None, rel)
        elif kind == "iuv":
            iuv = decode_iuv(_image(root, rel, "DensePose IUV image"), rel)
        elif kind == "dp_index":
            parts = _image(root, rel, "DensePose part-index map", label_map=True)
            uv_rel = files.get("densepose_uv")
            uv = None if uv_rel is None else read_uv_npz(root / uv_rel, uv_rel)
            if uv is not None and uv.shape[1:] != parts.shape:
                uv = np.stack([_fit(channel, parts.shape, uv_rel, "DensePose UV array") for channel in uv])
            iuv = combine_index_uv(parts, uv, rel)
        else:
            raise AnnotationError(
                f"DensePose file {rel!r} has format {kind!r}; expected one of {', '.join(DENSEPOSE_FORMATS)}"
            )
    except ValueError as exc:
        if isinstance(exc, AnnotationError):
            raise
        raise AnnotationError(str(exc)) from None
    return _fit(iuv, size, rel, "DensePose file")


def _brightest_channel(root: Path, rel: str, role: str) -> np.ndarray:
    """Per pixel the largest of R, G and B as `decode_image` gives them (image.max(axis=2), but faster).

    A grey (L) file is decoded straight to its values, which decode_image would copy into R, G and B.
    """
    try:
        data = (root / rel).read_bytes()
    except OSError:
        return _image(root, rel, role)[..., 0]  # raises decode_image's own error for the path
    try:
        if probe_image_bytes(data, rel, role=role).mode == "L":
            return decode_label_map(data, rel, role=role)
        red, green, blue = cv2.split(decode_image(data, rel, role=role))
    except BadImageError as exc:
        raise AnnotationError(exc.reason) from None
    return cv2.max(cv2.max(red, green), blue)


def _garment_mask(root: Path, rel: str, size: Size) -> np.ndarray:
    grey = _brightest_channel(root, rel, "garment mask")
    lossless_binary = rel.lower().endswith(".png") and int(grey.max(initial=0)) <= 1
    threshold = 1 if lossless_binary else 128
    mask = cv2.threshold(grey, threshold - 1, 255, cv2.THRESH_BINARY)[1]  # 255 where grey >= threshold
    return _fit(mask, size, rel, "garment mask")


READERS: dict[str, Callable[[Path, str, dict[str, Any], Size, dict[str, Any]], Any]] = {
    "parse": _parse,
    "pose": _pose,
    "densepose": _densepose,
}
