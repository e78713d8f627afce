"""What the truth labels are measured on: the rendered person, not the scenario that asked for it.

A scenario may ask for an occluding arm that ends up beside the garment, or an extreme body that the
view hides; so the occlusion and proportion labels of `truth` are decided from these measurements of
the exact render (piece map, projected joints, camera), all in image pixels:

- key-feature occlusion: the garment's key features sit on the central band of the torso (KEY_BAND:
  the middle half between the shoulder joints, across the axis from the shoulder midpoint to the hip
  midpoint, extended down the legs). The garment's extent on that band (its main panels drawn alone,
  from the top of the panels on the torso, so a trouser leg's top inside the waistband does not count)
  is cut into three equal slabs: the collar / neckline (waistband), the chest with its print or logo
  (the front and crotch; a dress's waist) and the hem. A slab's hidden share is the part of the garment
  drawn there that another piece covers in the render: arms and hands, hair, the other garment, the
  garment's own sleeves (the torso's skin never counts: where it shows, the garment piece is an inner
  part). Slabs under MIN_SLAB_PIXELS (or outside the image) are not measured.
- body proportions (frontal views with the nose, shoulders and hips inside the image): the torso length
  (shoulder midpoint to hip midpoint) in head heights, and the build: the geometric mean of the
  shoulder and hip joint spans in head heights, relative to the average figure's (1.0).
- garment proportions (frontal views whose garment is not cut by the top or bottom of the frame,
  measured on the main panels drawn alone): `ease` is how far the garment stands out from the body on
  each side at the natural waist (the hips for lower garments), per torso length; `hem` is how far a
  top's hem lies below (+) or above (-) the hips, per torso length; `flare` is a skirt's or dress's
  widening per unit of drop from the hips to just above its hem.

The measurements use the same frame a pose estimate gives (shoulder and hip joints), so the HQFT filter
(`preprocess.filters.hqft_measures`) can estimate each one from a parse and a pose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from preprocess.synthetic import skeleton as S
from preprocess.synthetic.pieces import Camera, Piece, draw_shapes

KEY_SLABS = {
    "upper": ("collar", "chest", "hem"),
    "lower": ("waistband", "front", "hem"),
    "dresses": ("neckline", "waist", "hem"),
}
KEY_BAND = (0.25, 0.75)  # across the torso: where the collar, the print and the hem's centre are
MIN_SLAB_PIXELS = 12
# Shoulder and hip joint spans of the average figure (width, shoulder and hip factors 1), head heights.
AVERAGE_SPANS = (1.56, 0.8)


@dataclass
class RenderMeasures:
    """Label measurements of one rendered person (NaN where the render does not show the quantity)."""

    facing: bool  # the figure turns less than the side-view yaw from the camera
    slabs_hidden: dict[str, float] = field(default_factory=dict)  # key slab -> hidden share
    torso_heads: float = math.nan
    build: float = math.nan
    ease: float = math.nan
    hem: float = math.nan
    flare: float = math.nan

    @property
    def key_hidden(self) -> float:
        """Hidden share of the worst key slab (0 when none is measurable)."""
        return max(self.slabs_hidden.values(), default=0.0)


def _torso_axes(skel: S.PosedSkeleton, camera: Camera) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Shoulder midpoint, unit down-axis (toward the hip midpoint), torso length and half the shoulder
    joints' span (px): the same frame a pose estimate gives."""
    v = camera.apply(skel.view)
    top = (v[S.RSHO] + v[S.LSHO]) / 2
    bottom = (v[S.RHIP] + v[S.LHIP]) / 2
    axis = bottom - top
    length = float(np.hypot(*axis))
    return top, axis / max(length, 1e-6), length, float(np.hypot(*(v[S.LSHO] - v[S.RSHO]))) / 2


def _slabs(
    piece_map: np.ndarray,
    ordered: list[Piece],
    skel: S.PosedSkeleton,
    camera: Camera,
    category: str,
    bounds: tuple[float, float],
) -> dict[str, float]:
    """Hidden share of each key slab of the target garment on the band `bounds` (module docstring)."""
    main = [p for p in ordered if p.garment == "target" and p.main]
    # The torso's own skin never covers a garment worn over it: where the drawing shows it, the
    # garment piece is an inner part.
    keep = {id(p) for p in main} | {id(p) for p in ordered if p.name in ("torso", "neck")}
    shown = np.array([k for k, p in enumerate(ordered, start=1) if id(p) in keep])
    full = np.zeros(piece_map.shape, np.uint8)
    for piece in main:  # 2: the panels on the torso (top, bodice, pelvis, skirt), 1: trouser legs
        draw_shapes(full, piece.shapes, 2 if piece.group == "torso" else 1, camera)
    top, down, length, half = _torso_axes(skel, camera)
    side = np.array([-down[1], down[0]])
    ys, xs = np.nonzero(full)
    rel = np.stack([xs - top[0], ys - top[1]], axis=1)
    across = 0.5 + (rel @ side) / (2 * half)
    along = rel @ down
    band = (across >= bounds[0]) & (across <= bounds[1])
    panel = band & (full[ys, xs] == 2)
    if not panel.any():
        return {}
    band &= along >= along[panel].min()  # a trouser leg's top inside the waistband is no garment front
    ys, xs, along = ys[band], xs[band], along[band]
    visible = np.isin(piece_map[ys, xs], shown)
    edges = np.linspace(along.min(), along.max(), 4)
    out = {}
    for k, name in enumerate(KEY_SLABS[category]):
        sel = (along >= edges[k]) & ((along < edges[k + 1]) if k < 2 else (along <= edges[k + 1]))
        if sel.sum() >= MIN_SLAB_PIXELS:
            out[name] = float(1.0 - visible[sel].mean())
    return out


def _row_span(mask: np.ndarray, y: float) -> float:
    """Width (px) from the leftmost to the rightmost pixel of row y; NaN when the row is empty, outside
    the image, or the mask touches a side of the image on it (cut by the frame)."""
    h, w = mask.shape
    row = int(round(y))
    if not 0 <= row < h:
        return math.nan
    xs = np.flatnonzero(mask[row])
    if not len(xs) or xs[0] == 0 or xs[-1] == w - 1:
        return math.nan
    return float(xs[-1] - xs[0] + 1)


def _inside(points: np.ndarray, size: tuple[int, int]) -> bool:
    h, w = size
    return bool(
        ((points[:, 0] >= 0) & (points[:, 0] <= w - 1) & (points[:, 1] >= 0) & (points[:, 1] <= h - 1)).all()
    )


def measure_render(
    piece_map: np.ndarray,
    ordered: list[Piece],
    skel: S.PosedSkeleton,
    camera: Camera,
    category: str,
    kind: str,
    side_view_yaw: float,
) -> RenderMeasures:
    """Key-slab occlusion and visible proportions of one rendered person (definitions: module docstring)."""
    size = piece_map.shape
    facing = abs(skel.yaw) < side_view_yaw
    out = RenderMeasures(
        facing=facing,
        slabs_hidden=_slabs(piece_map, ordered, skel, camera, category, KEY_BAND),
    )
    if not facing:
        return out
    v = camera.apply(skel.view)
    _, _, length, _ = _torso_axes(skel, camera)
    if _inside(v[[S.NOSE, S.RSHO, S.LSHO, S.RHIP, S.LHIP]], size):
        out.torso_heads = length / camera.scale
        spans = [
            float(np.hypot(*(v[a] - v[b]))) / camera.scale for a, b in ((S.RSHO, S.LSHO), (S.RHIP, S.LHIP))
        ]
        out.build = math.sqrt(spans[0] * spans[1] / (AVERAGE_SPANS[0] * AVERAGE_SPANS[1]))
    garment = np.zeros(size, np.uint8)
    for piece in ordered:
        if piece.garment == "target" and piece.main:
            draw_shapes(garment, piece.shapes, 1, camera)
    body = np.zeros(size, np.uint8)
    for piece in ordered:
        if piece.name == "torso":
            draw_shapes(body, piece.shapes, 1, camera)
    rows = np.flatnonzero(garment.any(axis=1))
    if not len(rows) or rows[0] == 0 or rows[-1] == size[0] - 1:
        return out  # the garment's top or hem is cut by the frame
    d = skel.dims
    hip_y = float(v[S.RHIP, 1] + v[S.LHIP, 1]) / 2
    hem_y = float(rows[-1])
    level_y = hip_y if category == "lower" else float(camera.apply(np.array([[0.0, d.y_waist]]))[0, 1])
    if hem_y > level_y + 0.05 * length:  # a top cropped above the waist has no waist to measure
        out.ease = (_row_span(garment, level_y) - _row_span(body, level_y)) / 2 / length
    if category == "upper":
        out.hem = (hem_y - hip_y) / length
    elif kind in ("skirt", "dress"):
        low = hem_y - 0.04 * length
        if low - hip_y > 0.2 * length:
            out.flare = (_row_span(garment, low) - _row_span(garment, hip_y)) / 2 / (low - hip_y)
    return out
