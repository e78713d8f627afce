"""Drawable pieces of a figure: 2D shapes in view coordinates, painter's order, and surface frames.

Every body part and garment panel is a `Piece`: shapes (polygons, circles, ellipses in head units), the
semantic label and DensePose part it stands for, and a `Frame` giving each of its pixels normalised
surface coordinates (across, along). The frames drive texture mapping, shading and DensePose U/V, so
label maps and colours come from one rasterisation of one set of pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

SHIFT = 4  # cv2 sub-pixel bits: coordinates are drawn with 1/16 px precision
_ONE = 1 << SHIFT


@dataclass(frozen=True)
class Frame:
    """Affine map from view coordinates (head units) to normalised (across, along), and world spans."""

    m: np.ndarray  # (2, 3): row 0 -> across (0..1 over the part), row 1 -> along (0..1)
    span_across: float  # world size of the part across, head units (texture scale)
    span_along: float
    along_offset: float = 0.0  # world along-coordinate at along = 0 (keeps patterns continuous)

    def to_image(self, scale: float, tx: float, ty: float) -> np.ndarray:
        """The same map taking image pixels instead of view coordinates."""
        lin = self.m[:, :2] / scale
        return np.concatenate([lin, (self.m[:, 2] - lin @ np.array([tx, ty]))[:, None]], axis=1)


def segment_frame(
    p0: np.ndarray, p1: np.ndarray, half_width: float, length: float, offset: float = 0.0
) -> Frame:
    """Frame of a limb segment from p0 to p1 (view coordinates) of the given half width and 3D length."""
    d = np.asarray(p1, float) - np.asarray(p0, float)
    norm = float(np.hypot(*d))
    floor = max(0.5 * half_width, 1e-3)
    if norm < floor:  # seen end-on: keep a stable frame pointing down the image
        d = d / norm * floor if norm > 1e-9 else np.array([0.0, floor])
        norm = floor
    n = np.array([d[1], -d[0]]) / norm  # across grows to the image right of a downward segment
    m = np.array(
        [
            [n[0] / (2 * half_width), n[1] / (2 * half_width), 0.5 - float(n @ p0) / (2 * half_width)],
            [d[0] / norm**2, d[1] / norm**2, -float(d @ p0) / norm**2],
        ]
    )
    return Frame(m=m, span_across=2.0 * half_width, span_along=float(length), along_offset=offset)


def box_frame(center: np.ndarray, half_x: float, half_y: float, span_x: float, span_y: float) -> Frame:
    """Axis-aligned frame of an ellipse or panel: across = x, along = y from the top edge."""
    cx, cy = float(center[0]), float(center[1])
    m = np.array(
        [[1 / (2 * half_x), 0.0, 0.5 - cx / (2 * half_x)], [0.0, 1 / (2 * half_y), 0.5 - cy / (2 * half_y)]]
    )
    return Frame(m=m, span_across=span_x, span_along=span_y)


@dataclass(frozen=True)
class Poly:
    points: np.ndarray  # (N, 2) view coordinates


@dataclass(frozen=True)
class Circle:
    center: np.ndarray
    radius: float


Shape = Poly | Circle


@dataclass
class Piece:
    """One drawable part: shapes, labels, surface frames and its place in the painter's order."""

    name: str
    sem: int  # internal semantic label (labels.SEM_*)
    dp: int  # DensePose part index 0..24
    material: str  # key into the render's materials
    frame: Frame  # texture and shading coordinates
    group: str  # depth group (torso, arm_l, leg_r, head, ...)
    layer: float  # order inside the group (skin 0, lower garment 1, upper garment 2-3, ...)
    shapes: list[Shape] = field(default_factory=list)
    dp_frame: Frame | None = None  # DensePose U/V frame when it differs from `frame`
    garment: str = ""  # "target", "other" or "" for the body
    main: bool = False  # a main panel of its garment (what occlusion is measured on)


def limb_shapes(
    p0: np.ndarray, p1: np.ndarray, r0: float, r1: float, cap0: bool = True, cap1: bool = True
) -> list:
    """A tapered limb: quad from p0 (radius r0) to p1 (radius r1) with round caps."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    norm = float(np.hypot(*d))
    shapes: list[Shape] = []
    if norm > 1e-6:
        n = np.array([-d[1], d[0]]) / norm
        shapes.append(Poly(np.array([p0 + n * r0, p1 + n * r1, p1 - n * r1, p0 - n * r0])))
    if cap0 or norm <= 1e-6:
        shapes.append(Circle(p0, r0))
    if cap1:
        shapes.append(Circle(p1, r1))
    return shapes


def ellipse_points(center: np.ndarray, rx: float, ry: float, n: int = 48) -> np.ndarray:
    """Boundary points of an axis-aligned ellipse (view coordinates), clockwise from the top."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False) - np.pi / 2
    return np.stack([center[0] + rx * np.cos(t), center[1] + ry * np.sin(t)], axis=1)


@dataclass(frozen=True)
class Camera:
    """Similarity from view coordinates (head units) to image pixels: x_px = scale * x + tx."""

    scale: float
    tx: float
    ty: float

    def apply(self, points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float64)
        return pts * self.scale + np.array([self.tx, self.ty])


def shapes_bbox(pieces: list[Piece]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of all shapes of the pieces, view coordinates."""
    xs0, ys0, xs1, ys1 = [], [], [], []
    for piece in pieces:
        for shape in piece.shapes:
            if isinstance(shape, Poly):
                xs0.append(shape.points[:, 0].min())
                xs1.append(shape.points[:, 0].max())
                ys0.append(shape.points[:, 1].min())
                ys1.append(shape.points[:, 1].max())
            else:
                xs0.append(shape.center[0] - shape.radius)
                xs1.append(shape.center[0] + shape.radius)
                ys0.append(shape.center[1] - shape.radius)
                ys1.append(shape.center[1] + shape.radius)
    return float(min(xs0)), float(min(ys0)), float(max(xs1)), float(max(ys1))


def draw_shapes(canvas: np.ndarray, shapes: list[Shape], value: int, camera: Camera) -> None:
    """Fill shapes into a single-channel canvas with `value` (no anti-aliasing: labels stay exact)."""
    for shape in shapes:
        if isinstance(shape, Poly):
            if len(shape.points) < 3:
                continue
            pts = np.round(camera.apply(shape.points) * _ONE).astype(np.int32)
            cv2.fillPoly(canvas, [pts], int(value), cv2.LINE_8, shift=SHIFT)
        else:
            c = np.round(camera.apply(shape.center[None])[0] * _ONE).astype(np.int32)
            r = int(round(shape.radius * camera.scale * _ONE))
            cv2.circle(canvas, (int(c[0]), int(c[1])), r, int(value), -1, cv2.LINE_8, shift=SHIFT)


def painter_order(pieces: list[Piece], group_depth: dict[str, float]) -> list[Piece]:
    """Pieces sorted far to near: by their group's depth, then layer, then insertion order."""
    keyed = sorted(enumerate(pieces), key=lambda item: (group_depth[item[1].group], item[1].layer, item[0]))
    return [piece for _, piece in keyed]
