"""DensePose file encodings <-> the canonical (H, W, 3) uint8 I, U, V array (I: part 0-24, U, V: 0-255).

Datasets ship DensePose three ways:

- `dp_segm` colour map (VITON-HD `image-densepose/*.jpg`, ViViD): detectron2's fine-segmentation
  visualiser feeds I * 255 / 24 (truncated to 8 bits) through cv2.COLORMAP_PARULA and leaves the
  background black; VITON-HD saved it as JPEG. `decode_dp_segm` inverts it robustly to JPEG noise:
  background where the pixel is dark (CIE L* below `DARK_L`, far below the darkest part colour), else
  the nearest part colour in CIE Lab; a pixel far from every part colour (JPEG ringing and chroma
  blur at part borders) takes the label most of its confidently decoded neighbours carry. The colour
  map holds I only, so U and V are 0.
- IUV PNG (VVT, StreetTryOn): DensePose's I, U, V written by cv2 in its channel order, i.e. blue = I,
  green = U, red = V in the file; `decode_iuv` takes the RGB-decoded pixels.
- Dress Code: `dense/*_5.png` holds I as an 8-bit label map and `*_5_uv.npz` the key "uv", float32
  (2, H, W) in [0, 1]; `combine_index_uv` joins them (U, V scaled to 0-255 and rounded).
"""

from __future__ import annotations

import io
import zipfile
from functools import cache
from pathlib import Path

import cv2
import numpy as np

DENSEPOSE_PARTS = 24  # part indices 1..24; 0 is background
DARK_L = 15.0  # L* below this is background: black is 0, the darkest part colour (I=1) is about 30
# Decoding a JPEG: a pixel is "confident" when its 3x3 neighbourhood is flat (summed RGB range up to
# FLAT_RGB) and its colour lies within AMBIGUOUS_LAB of a part colour in CIE Lab (part colours are 8-12
# apart), or when it matches a part colour exactly (EXACT_LAB: lossless files decode exactly). JPEG keeps
# flat areas nearly exact. Other pixels (part borders, where ringing and 4:2:0 chroma blur mix colours)
# choose among the labels of confident pixels in a VOTE_WINDOW square (JPEG artefacts stay within its
# 8x8 / 16x16 blocks), by a Lab distance that weights L* by BORDER_WEIGHTS[0], since luma is stored at
# full resolution while chroma is subsampled. Tuned on random part maps at JPEG quality 90 and 95.
FLAT_RGB = 30
AMBIGUOUS_LAB = 2.0
EXACT_LAB = 0.5
VOTE_WINDOW = 11
BORDER_WEIGHTS = np.array([3.0, 1.0, 1.0], np.float32)
_NEAR, _EXACT, _UNKNOWN = 0x20, 0x40, 0xFF  # flag bits of the colour table; labels use the low 5 bits
_LABEL_BITS = np.zeros(256, np.int32)  # label -> its bit in a set of labels; _UNKNOWN (no vote) -> 0
_LABEL_BITS[: DENSEPOSE_PARTS + 1] = 1 << np.arange(DENSEPOSE_PARTS + 1)
# Widths whose chained ORs of shifted copies cover VOTE_WINDOW columns: 1+1 -> 2, +2 -> 4, +4 -> 8, +3 -> 11.
_WINDOW_STEPS = (1, 2, 4, VOTE_WINDOW - 8)


def _scaled_parts() -> np.ndarray:
    """Part index -> the 8-bit value detectron2 feeds the colour map (I * 255 / 24, truncated)."""
    values = np.arange(DENSEPOSE_PARTS + 1, dtype=np.float32) * (255.0 / DENSEPOSE_PARTS)
    return values.clip(0, 255).astype(np.uint8)


@cache
def dp_segm_colours() -> np.ndarray:
    """(25, 3) uint8 RGB colour of each part index in the dp_segm rendering; index 0 (background) black."""
    colours = cv2.applyColorMap(_scaled_parts().reshape(-1, 1), cv2.COLORMAP_PARULA).reshape(-1, 3)[:, ::-1]
    colours = colours.copy()
    colours[0] = 0
    colours.setflags(write=False)
    return colours


def encode_dp_segm(parts: np.ndarray) -> np.ndarray:
    """Render a part-index map (H, W) with values 0..24 as detectron2's dp_segm does: (H, W, 3) uint8 RGB."""
    parts = _check_parts(np.asarray(parts), "part-index map")
    return dp_segm_colours()[parts]


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32) / 255.0, cv2.COLOR_RGB2Lab)


@cache
def _palette_lab() -> np.ndarray:
    return _lab(dp_segm_colours().reshape(-1, 1, 3)).reshape(-1, 3)


def _darkest_bright_channel() -> int:
    """The largest channel value v such that every colour in [0, v]^3 is background (L* < DARK_L).

    L* grows with each channel, so the brightest colour of that cube is the grey (v, v, v).
    """
    greys = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1).reshape(-1, 1, 3)
    return int(np.flatnonzero(_lab(greys)[:, 0, 0] < DARK_L).max())


_DARK_CHANNEL = _darkest_bright_channel()


@cache
def _colour_table() -> np.ndarray:
    """Per 24-bit RGB colour: nearest part label and flags, filled lazily as colours are met (16 MiB)."""
    return np.full(1 << 24, _UNKNOWN, np.uint8)


def _classify_colours(codes: np.ndarray) -> np.ndarray:
    """Label and flags of packed RGB colours: nearest part in Lab, dark ones background."""
    rgb = np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=-1).astype(np.uint8)
    lab = _lab(rgb.reshape(-1, 1, 3)).reshape(-1, 3)
    dist = ((lab[:, None, :] - _palette_lab()[None, 1:, :]) ** 2).sum(axis=2)
    label = dist.argmin(axis=1).astype(np.uint8) + 1
    nearest = dist.min(axis=1)
    dark = lab[:, 0] < DARK_L
    out = np.where(dark, 0, label).astype(np.uint8)
    out[dark | (nearest <= AMBIGUOUS_LAB**2)] |= _NEAR
    out[dark | (nearest <= EXACT_LAB**2)] |= _EXACT
    return out


def decode_dp_segm(image: np.ndarray, name: str | None = None) -> np.ndarray:
    """Recover the part-index map (H, W) uint8 from a dp_segm colour-mapped RGB image (PNG or JPEG)."""
    image = np.ascontiguousarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            f"{name or 'DensePose image'}: expected an (H, W, 3) uint8 colour image, got {image.shape} "
            f"{image.dtype}; decode it with preprocess.images.decode_image"
        )
    height, width = image.shape[:2]
    labels = np.zeros((height, width), np.uint8)
    # Pixels with every channel <= _DARK_CHANNEL are background and confident whatever their neighbours:
    # classify only the box around the others, grown by the 3x3 flatness window.
    bright = cv2.threshold(image.reshape(height, width * 3), _DARK_CHANNEL, 255, cv2.THRESH_BINARY)[1]
    x, y, box_width, box_height = cv2.boundingRect(bright)
    if box_width == 0:
        return labels
    top, bottom = max(0, y - 1), min(height, y + box_height + 1)
    left, right = max(0, x // 3 - 1), min(width, (x + box_width - 1) // 3 + 2)
    box = np.ascontiguousarray(image[top:bottom, left:right])
    labels[top:bottom, left:right], confident = _classify_pixels(box)
    unconfident = cv2.findNonZero(cv2.compare(confident.view(np.uint8), 0, cv2.CMP_EQ))
    if unconfident is None:
        return labels
    cols, rows = unconfident.reshape(-1, 2).T
    return _decide_borders(labels, rows + top, cols + left, image)


def _classify_pixels(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: the colour table's label, and whether it is confident (see FLAT_RGB, AMBIGUOUS_LAB)."""
    height, width = image.shape[:2]
    # Packed 0xRRGGBB codes: BGRA bytes read as little-endian 32-bit words, alpha (255) masked off.
    codes = cv2.cvtColor(image, cv2.COLOR_RGB2BGRA).view("<u4").reshape(height, width)
    np.bitwise_and(codes, 0xFFFFFF, out=codes)
    table = _colour_table()
    looked_up = np.take(table, codes)
    unknown = np.flatnonzero(looked_up == _UNKNOWN)
    if len(unknown):
        pending = codes.ravel()[unknown]
        new = np.unique(pending)
        table[new] = _classify_colours(new)
        looked_up.ravel()[unknown] = table[pending]
    kernel = np.ones((3, 3), np.uint8)
    red, green, blue = cv2.split(cv2.subtract(cv2.dilate(image, kernel), cv2.erode(image, kernel)))
    # Summed over the channels; saturating at 255 keeps every comparison with FLAT_RGB (< 255) exact.
    flat = cv2.compare(cv2.add(cv2.add(red, green), blue), FLAT_RGB, cv2.CMP_LE)
    near = cv2.compare(cv2.bitwise_and(looked_up, _NEAR), 0, cv2.CMP_NE)
    exact = cv2.compare(cv2.bitwise_and(looked_up, _EXACT), 0, cv2.CMP_NE)
    confident = cv2.bitwise_and(cv2.bitwise_or(cv2.bitwise_and(near, flat), exact), 1)  # 0/255 -> 0/1
    return cv2.bitwise_and(looked_up, 0x1F), confident.view(bool)


def _decide_borders(labels: np.ndarray, rows: np.ndarray, cols: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Each unconfident pixel (`rows`, `cols`) takes the nearest colour among the labels confident pixels
    near it carry.

    JPEG blurs colour across part borders, so a border pixel can land on a third part's colour; the
    true label is one of the parts around it. Pixels with no confident neighbour keep their own label.
    The labels near a pixel are a bit set (bit k: label k) ORed over the VOTE_WINDOW square (along rows,
    then down columns, over the box around the unconfident pixels); candidates are compared in ascending
    label order and a strictly nearer one wins, so ties go to the lower label.
    """
    half = VOTE_WINDOW // 2
    top, left = max(0, int(rows.min()) - half), max(0, int(cols.min()) - half)
    bottom, right = int(rows.max()) + half + 1, int(cols.max()) + half + 1
    box_labels = labels[top:bottom, left:right].copy()
    box_labels[rows - top, cols - left] = _UNKNOWN  # only confident pixels vote
    bits = cv2.LUT(box_labels, _LABEL_BITS)
    bits = cv2.copyMakeBorder(bits, half, half, half, half, cv2.BORDER_CONSTANT, value=0)
    for step in _WINDOW_STEPS:  # then bits[y, x] ORs the VOTE_WINDOW x VOTE_WINDOW square from (y, x) on
        bits = cv2.bitwise_or(bits[:, :-step], bits[:, step:])
    for step in _WINDOW_STEPS:
        bits = cv2.bitwise_or(bits[:-step], bits[step:])
    near = bits.ravel().take((rows - top) * bits.shape[1] + (cols - left))
    out = labels.copy()
    # One candidate: it wins (nearer than none). None: the pixel keeps its label. Several: by distance.
    one = (near != 0) & ((near & (near - 1)) == 0)
    out[rows[one], cols[one]] = np.bitwise_count(near[one] - 1)  # the index of the only bit set
    several = np.flatnonzero(near & (near - 1))
    if len(several) == 0:
        return out
    rows, cols, near = rows[several], cols[several], near[several]
    colours = image.reshape(-1, 3).take(rows * image.shape[1] + cols, axis=0)
    pixels = _lab(colours.reshape(-1, 1, 3)).reshape(-1, 3) * BORDER_WEIGHTS
    palette = _palette_lab() * BORDER_WEIGHTS
    # The lowest and the highest candidate of each pixel; a third one exists where bits lie between.
    low = np.bitwise_count((near & -near) - 1)
    high = np.bitwise_count(_smear_down(near)) - 1
    low_dist, high_dist = _distance(pixels, palette, low), _distance(pixels, palette, high)
    chosen = np.where(high_dist < low_dist, high, low).astype(np.uint8)
    more = np.flatnonzero(np.bitwise_count(near) > 2)
    if len(more):
        chosen[more] = _nearest_candidate(pixels[more], palette, near[more])
    out[rows, cols] = chosen
    return out


def _smear_down(bits: np.ndarray) -> np.ndarray:
    """Every bit below the highest set bit set too (so its bit count is the highest bit's index + 1)."""
    for shift in (1, 2, 4, 8, 16):
        bits = bits | (bits >> shift)
    return bits


def _distance(pixels: np.ndarray, palette: np.ndarray, label: np.ndarray | int) -> np.ndarray:
    """Squared weighted Lab distance of each pixel to a label's colour, summed in the order
    ((dL + da) + db), as numpy's sum over the last axis does."""
    dist = (pixels[:, 0] - palette[label, 0]) ** 2
    dist += (pixels[:, 1] - palette[label, 1]) ** 2
    dist += (pixels[:, 2] - palette[label, 2]) ** 2
    return dist


def _nearest_candidate(pixels: np.ndarray, palette: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Per pixel, the nearest of the labels in its bit set, trying them in ascending order."""
    chosen = np.zeros(len(near), np.uint8)
    best_dist = np.full(len(near), np.inf, np.float32)
    present = int(np.bitwise_or.reduce(near))
    for label in range(DENSEPOSE_PARTS + 1):
        if not present >> label & 1:
            continue
        at = np.flatnonzero(near & (1 << label))
        dist = _distance(pixels[at], palette, label)
        closer = dist < best_dist[at]
        chosen[at[closer]] = label
        best_dist[at[closer]] = dist[closer]
    return chosen


def _check_parts(parts: np.ndarray, name: str) -> np.ndarray:
    if parts.ndim != 2 or parts.dtype.kind not in "ui":
        raise ValueError(
            f"{name}: expected an (H, W) integer map of part indices, got {parts.shape} {parts.dtype}"
        )
    top = int(parts.max(initial=0))
    if top > DENSEPOSE_PARTS or int(parts.min(initial=0)) < 0:
        raise ValueError(
            f"{name} holds part index {top}, outside DensePose's 0..{DENSEPOSE_PARTS}: "
            "check that it is a DensePose part-index map"
        )
    return parts.astype(np.uint8)


def decode_iuv(image: np.ndarray, name: str | None = None) -> np.ndarray:
    """Canonical I, U, V from the RGB pixels of a cv2-written IUV PNG (file channels B = I, G = U, R = V)."""
    image = np.asarray(image)
    label = name or "IUV image"
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{label}: expected an (H, W, 3) uint8 IUV image, got {image.shape} {image.dtype}")
    iuv = np.ascontiguousarray(image[..., ::-1])
    top = int(iuv[..., 0].max(initial=0))
    if top > DENSEPOSE_PARTS:
        raise ValueError(
            f"{label}: part index channel holds {top} (> {DENSEPOSE_PARTS}); an IUV PNG stores I in the blue "
            "channel as cv2 writes it; re-export it with cv2.imwrite of the (I, U, V) array"
        )
    return iuv


def encode_iuv(iuv: np.ndarray) -> np.ndarray:
    """The RGB pixels of a cv2-written IUV PNG for a canonical I, U, V array (inverse of `decode_iuv`)."""
    return np.ascontiguousarray(np.asarray(iuv, dtype=np.uint8)[..., ::-1])


def read_uv_npz(source: Path | bytes, name: str | None = None) -> np.ndarray:
    """Dress Code's `*_5_uv.npz`: the "uv" array, float32 (2, H, W) in [0, 1]. Errors name the file and fix."""
    label = name or str(source)
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        if not data.startswith(b"PK"):
            raise zipfile.BadZipFile("not an .npz archive")
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            if "uv" not in archive.files:
                raise ValueError(
                    f"DensePose UV file {label!r} has no 'uv' array (found {archive.files}); "
                    "Dress Code stores it as np.savez(..., uv=<(2, H, W) float array>)"
                )
            uv = archive["uv"]
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(
            f"DensePose UV file {label!r} cannot be read ({exc}); re-export or re-download it"
        ) from None
    if uv.ndim != 3 or uv.shape[0] != 2 or uv.dtype.kind != "f":
        raise ValueError(
            f"DensePose UV file {label!r}: expected a float (2, H, W) array, got {uv.shape} {uv.dtype}"
        )
    return uv


def combine_index_uv(parts: np.ndarray, uv: np.ndarray | None, name: str | None = None) -> np.ndarray:
    """Join a part-index map (H, W) and a float UV array (2, H, W) in [0, 1] into canonical I, U, V.

    Without `uv`, U and V are 0 (as for the colour-mapped encoding, which holds I only).
    """
    parts = _check_parts(np.asarray(parts), name or "DensePose part-index map")
    if uv is None and parts.size:
        zeros = np.zeros(parts.shape, np.uint8)
        return cv2.merge([np.ascontiguousarray(parts), zeros, zeros])  # the np.zeros + copy, but faster
    if uv is not None and uv.shape != (2, *parts.shape):
        raise ValueError(
            f"{name or 'DensePose'}: UV array is {uv.shape[1:]} but the part-index map is {parts.shape}; "
            "both must come from the same DensePose run"
        )
    out = np.zeros((*parts.shape, 3), np.uint8)
    out[..., 0] = parts
    if uv is not None:
        out[..., 1:] = np.rint(np.clip(np.moveaxis(uv, 0, -1), 0.0, 1.0) * 255.0).astype(np.uint8)
    return out
