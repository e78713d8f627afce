"""Rendering of synthetic people and flat garments, with every label map taken from the same render.

A person is a list of pieces (body parts from the skeleton plus garment pieces) drawn far-to-near into
one piece-index map with exact (non anti-aliased) edges. Everything else is a lookup on that map: the
semantic parse, the DensePose part index and U/V (from each piece's surface frame), the colours
(skin, hair, fabric texture, shading), the garment region, and whether each garment landmark is
visible. Only the final colour image gets anti-aliased edges and face details.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from preprocess.synthetic import labels as L
from preprocess.synthetic import skeleton as S
from preprocess.synthetic.garments import GarmentBuild, GarmentSpec, build_garment, shop_sleeve_angle
from preprocess.synthetic.pieces import (
    Camera,
    Circle,
    Piece,
    Poly,
    box_frame,
    draw_shapes,
    ellipse_points,
    limb_shapes,
    painter_order,
    segment_frame,
    shapes_bbox,
)
from preprocess.synthetic.render_measures import RenderMeasures, measure_render
from preprocess.synthetic.scenes import shop_background
from preprocess.synthetic.textures import Stamp, Texture, fabric_colours, make_stamp
from preprocess.synthetic.truth import SIDE_VIEW_YAW

ARM_DEPTH_BIAS = 0.35  # arms hang beside and in front of the torso
LEG_DEPTH_BIAS = -0.6  # legs start behind the pelvis (and stay behind it: half their depth is used)
HEAD_DEPTH = 0.4
HAIR_FRONT_DEPTH = 0.3
HEAD_RZ = 0.43  # half depth of the head, head units
SHOE_COLOURS = ((30, 30, 32), (240, 240, 236), (92, 58, 36), (150, 30, 30), (40, 50, 90))


@dataclass(frozen=True)
class Material:
    """How a piece is coloured: flat skin/hair/shoe colour, or a fabric texture (and chest print)."""

    kind: str  # skin | hair | shoe | cloth
    colour: tuple[int, int, int] = (0, 0, 0)
    texture: Texture | None = None
    stamp: Stamp | None = None
    shade: float = 0.25  # darkening toward the sides of a part (cylindrical shading)


def person_materials(
    body: S.BodyShape, dims: S.Dims, garments: dict[str, GarmentSpec], shoe: tuple[int, int, int]
) -> dict[str, Material]:
    """Materials of a dressed person: skin, hair, shoes, and each garment role with and without its print."""
    mats = {
        "skin": Material("skin", body.skin, shade=0.3),
        "hair": Material("hair", body.hair_colour, shade=0.25),
        "shoe": Material("shoe", shoe, shade=0.35),
    }
    for role, spec in garments.items():
        mats.update(garment_materials(role, spec, dims, shade=0.28))
    return mats


def garment_materials(role: str, spec: GarmentSpec, dims: S.Dims, shade: float) -> dict[str, Material]:
    """The two materials of a garment: plain fabric, and fabric with the chest print (torso panel)."""
    chest_v = dims.y_chest - dims.y_sho + 0.3
    return {
        role: Material("cloth", texture=spec.texture, shade=shade),
        f"{role}_print": Material(
            "cloth", texture=spec.texture, stamp=make_stamp(spec.texture, chest_v), shade=shade
        ),
    }


def group_depths(skel: S.PosedSkeleton) -> dict[str, float]:
    """Painter's depth of each piece group for this pose and view (bigger = nearer the camera)."""
    z = skel.depth
    return {
        "hair_back": -10.0,
        "leg_l": 0.5 * float(z[[S.LHIP, S.LKNE, S.LANK]].mean()) + LEG_DEPTH_BIAS,
        "leg_r": 0.5 * float(z[[S.RHIP, S.RKNE, S.RANK]].mean()) + LEG_DEPTH_BIAS,
        "torso": 0.0,
        "hair_front": HAIR_FRONT_DEPTH,
        "arm_l": float(z[[S.LSHO, S.LELB, S.LWRI]].mean()) + ARM_DEPTH_BIAS,
        "arm_r": float(z[[S.RSHO, S.RELB, S.RWRI]].mean()) + ARM_DEPTH_BIAS,
        "head": HEAD_DEPTH + float(z[S.HEAD]),
    }


def _clip_x(points: np.ndarray, x: float, keep_right: bool) -> np.ndarray:
    """Clip a polygon to the half-plane right (or left) of the vertical line at x (Sutherland-Hodgman)."""
    sign = 1.0 if keep_right else -1.0
    inside = (points[:, 0] - x) * sign >= 0
    out = []
    for k in range(len(points)):
        p, q = points[k], points[(k + 1) % len(points)]
        p_in, q_in = inside[k], inside[(k + 1) % len(points)]
        if p_in:
            out.append(p)
        if p_in != q_in:
            t = (x - p[0]) / (q[0] - p[0])
            out.append(p + (q - p) * t)
    return np.array(out) if len(out) >= 3 else np.zeros((0, 2))


def _split(points: np.ndarray, x: float) -> tuple[np.ndarray, np.ndarray]:
    """An outline cut at the vertical line x: (part left of x, part right of x) in the image."""
    return _clip_x(points, x, keep_right=False), _clip_x(points, x, keep_right=True)


# Per side: tag, joints (shoulder, elbow, wrist, hand tip), label, DensePose parts (upper, lower, hand).
_ARMS = (
    (
        "l",
        (S.LSHO, S.LELB, S.LWRI, S.LHAND),
        L.SEM_LEFT_ARM,
        (L.DP_LEFT_UPPER_ARM, L.DP_LEFT_LOWER_ARM, L.DP_LEFT_HAND),
    ),
    (
        "r",
        (S.RSHO, S.RELB, S.RWRI, S.RHAND),
        L.SEM_RIGHT_ARM,
        (L.DP_RIGHT_UPPER_ARM, L.DP_RIGHT_LOWER_ARM, L.DP_RIGHT_HAND),
    ),
)
# Per side: tag, joints (hip, knee, ankle, big toe, small toe), leg and shoe labels, DensePose parts.
_LEGS = (
    (
        "l",
        (S.LHIP, S.LKNE, S.LANK, S.LBTOE, S.LSTOE),
        (L.SEM_LEFT_LEG, L.SEM_LEFT_SHOE),
        (L.DP_LEFT_UPPER_LEG, L.DP_LEFT_LOWER_LEG, L.DP_LEFT_FOOT),
    ),
    (
        "r",
        (S.RHIP, S.RKNE, S.RANK, S.RBTOE, S.RSTOE),
        (L.SEM_RIGHT_LEG, L.SEM_RIGHT_SHOE),
        (L.DP_RIGHT_UPPER_LEG, L.DP_RIGHT_LOWER_LEG, L.DP_RIGHT_FOOT),
    ),
)


def _limb_piece(
    name: str,
    sem: int,
    dp: int,
    ends: tuple,
    radii: tuple[float, float],
    length: float,
    group: str,
    layer: float,
    material: str = "skin",
) -> Piece:
    """A tapered limb segment between two view points, with its surface frame."""
    (p0, p1), (r0, r1) = ends, radii
    frame = segment_frame(p0, p1, (r0 + r1) / 2, length)
    return Piece(name, sem, dp, material, frame, group, layer, limb_shapes(p0, p1, r0, r1))


def body_pieces(skel: S.PosedSkeleton, body: S.BodyShape) -> list[Piece]:
    """Skin, head, hair and shoe pieces of a posed body."""
    d, v = skel.dims, skel.view
    (top,), _ = skel.to_view(np.array([[0, d.y_sho, 0]]))
    (bottom,), _ = skel.to_view(np.array([[0, d.y_hip, 0]]))
    torso_frame = segment_frame(top, bottom, skel.extent(d.chest_a, d.chest_b), d.y_hip - d.y_sho)
    outline_l = [
        (skel.extent(d.neck_a, 0.2), d.y_neck + 0.02),
        (skel.extent(d.sho_x, 0.3), d.y_sho - 0.9 * d.arm_r[0]),
    ]
    outline_l += [(skel.extent(a, b), y) for y, a, b in d.torso_levels()]
    outline = outline_l + [(0.0, d.y_crotch + 0.06)] + [(-x, y) for x, y in reversed(outline_l)]
    neck_top, _ = skel.to_view(np.array([[-d.neck_a, 0.85, 0], [d.neck_a, 0.85, 0]]))
    neck_bottom, _ = skel.to_view(np.array([[-d.neck_a * 1.2, d.y_sho, 0], [d.neck_a * 1.2, d.y_sho, 0]]))
    neck = np.array([neck_top[0], neck_top[1], neck_bottom[1], neck_bottom[0]])
    pieces = [
        Piece(
            "torso", L.SEM_NECK, L.DP_TORSO_FRONT, "skin", torso_frame, "torso", 0, [Poly(np.array(outline))]
        ),
        Piece("neck", L.SEM_NECK, L.DP_TORSO_FRONT, "skin", torso_frame, "torso", 0.1, [Poly(neck)]),
    ]
    r_sh, r_el, r_wr = d.arm_r
    for tag, (sho, elb, wri, hand), sem, dps in _ARMS:
        group = f"arm_{tag}"
        pieces += [
            _limb_piece(
                f"arm_{tag}_upper", sem, dps[0], (v[sho], v[elb]), (r_sh, r_el), d.upper_arm, group, 0
            ),
            _limb_piece(f"arm_{tag}_lower", sem, dps[1], (v[elb], v[wri]), (r_el, r_wr), d.forearm, group, 0),
            _limb_piece(
                f"hand_{tag}", sem, dps[2], (v[wri], v[hand]), (r_wr * 1.25, r_wr * 0.95), d.hand, group, 0.2
            ),
        ]
    r_hip, r_kne, r_ank = d.leg_r
    for tag, (hip, kne, ank, big, small), (sem, shoe_sem), dps in _LEGS:
        group = f"leg_{tag}"
        heel = v[ank] + np.array([0.0, 0.07])
        toe = (v[big] + v[small]) / 2
        pieces += [
            _limb_piece(f"leg_{tag}_upper", sem, dps[0], (v[hip], v[kne]), (r_hip, r_kne), d.thigh, group, 0),
            _limb_piece(f"leg_{tag}_lower", sem, dps[1], (v[kne], v[ank]), (r_kne, r_ank), d.shin, group, 0),
            _limb_piece(
                f"shoe_{tag}", shoe_sem, dps[2], (heel, toe), (r_ank * 1.3, 0.13), 0.45, group, 0.5, "shoe"
            ),
        ]
    pieces.extend(_head_pieces(skel, body))
    return pieces


def _head_pieces(skel: S.PosedSkeleton, body: S.BodyShape) -> list[Piece]:
    d, v = skel.dims, skel.view
    c = v[S.HEAD]
    rx = skel.extent(d.head_rx, HEAD_RZ)
    ry = d.head_ry
    frame = box_frame(c, rx, ry, 2 * rx, 2 * ry)
    nose_x = float(np.clip(v[S.NOSE][0], c[0] - 0.8 * rx, c[0] + 0.8 * rx))
    face = ellipse_points(c, rx, ry)
    right, left = _split(face, nose_x)
    pieces = [
        Piece("face_r", L.SEM_FACE, L.DP_RIGHT_HEAD, "skin", frame, "head", 0, [Poly(right)]),
        Piece("face_l", L.SEM_FACE, L.DP_LEFT_HEAD, "skin", frame, "head", 0, [Poly(left)]),
    ]
    style = body.hair_style
    t = math.radians(skel.yaw)
    back_x = c[0] - 0.3 * math.sin(t)  # the back of the head, where long hair falls from
    if style in ("long", "bob"):
        bottom = d.y_sho + 0.9 if style == "long" else 1.1
        width = rx * (1.3 if style == "long" else 1.22)
        outline = ellipse_points(np.array([back_x, c[1]]), width, ry * 1.06)
        outline = outline[outline[:, 1] <= c[1]]
        outline = np.vstack([outline, [[back_x + width * 1.04, bottom], [back_x - width * 1.04, bottom]]])
        pieces.append(Piece("hair_back", L.SEM_HAIR, 0, "hair", frame, "hair_back", 0, [Poly(outline)]))
    grow = 1.03 if style == "cropped" else 1.08
    cap = ellipse_points(c + np.array([0.0, -0.04]), rx * grow, ry * 1.02 + 0.02)
    base = -0.26 if style == "cropped" else -0.18
    fringe = c[1] + base + 0.32 * ((cap[:, 0] - nose_x) / (rx * grow)) ** 2
    cap = np.column_stack([cap[:, 0], np.minimum(cap[:, 1], fringe)])
    cap_r, cap_l = _split(cap, nose_x)
    pieces.append(Piece("hair_r", L.SEM_HAIR, L.DP_RIGHT_HEAD, "hair", frame, "head", 1, [Poly(cap_r)]))
    pieces.append(Piece("hair_l", L.SEM_HAIR, L.DP_LEFT_HEAD, "hair", frame, "head", 1, [Poly(cap_l)]))
    if style == "bun":
        bun = Circle(np.array([back_x, c[1] - ry * 0.95]), 0.2)
        pieces.append(Piece("hair_bun", L.SEM_HAIR, 0, "hair", frame, "head", 1, [bun]))
    if style == "long" and body.hair_front:
        near = 1.0 if skel.yaw <= 0 else -1.0
        sides = (1.0, -1.0) if abs(skel.yaw) < 35 else (near,)
        for side in sides:
            top = np.array([c[0] + side * rx * 0.75, c[1] + 0.1])
            low, _ = skel.to_view(np.array([[side * (d.neck_a + 0.3), d.y_sho + 0.75, d.chest_b]]))
            strand = limb_shapes(top, low[0], 0.16, 0.1)
            tag = "l" if side > 0 else "r"
            pieces.append(Piece(f"hair_front_{tag}", L.SEM_HAIR, 0, "hair", frame, "hair_front", 0, strand))
    return pieces


def rasterise(ordered: list[Piece], camera: Camera, size: tuple[int, int]) -> np.ndarray:
    """Piece-index map (H, W) uint8: 0 background, k = ordered[k - 1], drawn far to near."""
    canvas = np.zeros(size, np.uint8)
    for index, piece in enumerate(ordered, start=1):
        draw_shapes(canvas, piece.shapes, index, camera)
    return canvas


@dataclass
class _Coords:
    """Pixels covered by pieces and their surface coordinates."""

    flat: np.ndarray  # linear pixel indices
    piece: np.ndarray  # piece index per pixel (1-based)
    across: np.ndarray
    along: np.ndarray


def _coords(piece_map: np.ndarray, frames: np.ndarray) -> _Coords:
    """Surface coordinates from per-piece image->frame affines `frames` (n+1, 2, 3)."""
    w = piece_map.shape[1]
    flat = np.flatnonzero(piece_map)
    pid = piece_map.ravel()[flat]
    ys = (flat // w).astype(np.float32)
    xs = (flat % w).astype(np.float32)
    f = frames.astype(np.float32)
    across = f[:, 0, 0][pid] * xs + f[:, 0, 1][pid] * ys + f[:, 0, 2][pid]
    along = f[:, 1, 0][pid] * xs + f[:, 1, 1][pid] * ys + f[:, 1, 2][pid]
    return _Coords(flat, pid, across, along)


def _frame_table(ordered: list[Piece], camera: Camera, dense: bool) -> np.ndarray:
    table = np.zeros((len(ordered) + 1, 2, 3))
    for k, piece in enumerate(ordered, start=1):
        frame = piece.dp_frame if dense and piece.dp_frame is not None else piece.frame
        table[k] = frame.to_image(camera.scale, camera.tx, camera.ty)
    return table


def compose(
    piece_map: np.ndarray,
    ordered: list[Piece],
    materials: dict[str, Material],
    camera: Camera,
    background: np.ndarray,
) -> np.ndarray:
    """Colour image (H, W, 3) uint8 RGB: background, then every piece's material, shaded, edges smoothed."""
    co = _coords(piece_map, _frame_table(ordered, camera, dense=False))
    keys = sorted(materials)
    mat_of_piece = np.array([0] + [keys.index(p.material) for p in ordered], np.int16)
    span_a = np.array([0.0] + [p.frame.span_across for p in ordered], np.float32)
    span_b = np.array([0.0] + [p.frame.span_along for p in ordered], np.float32)
    offset = np.array([0.0] + [p.frame.along_offset for p in ordered], np.float32)
    mat = mat_of_piece[co.piece]
    colours = np.empty((len(co.flat), 3), np.float32)
    side = np.clip(co.across, 0.0, 1.0) * 2 - 1
    for index, key in enumerate(keys):
        sel = np.flatnonzero(mat == index)
        if not len(sel):
            continue
        m = materials[key]
        if m.kind == "cloth":
            pid = co.piece[sel]
            u = (co.across[sel] - 0.5) * span_a[pid]
            v = co.along[sel] * span_b[pid] + offset[pid]
            rgb = fabric_colours(m.texture, u, v)
            if m.stamp is not None:
                rgb = m.stamp.apply(rgb, u, v)
        elif m.kind == "hair":
            streak = 0.88 + 0.12 * np.sin(co.across[sel] * 55.0 + co.along[sel] * 7.0)
            rgb = np.asarray(m.colour, np.float32)[None] * streak[:, None]
        else:
            rgb = np.broadcast_to(np.asarray(m.colour, np.float32), (len(sel), 3))
        shade = 1.0 - m.shade * side[sel] ** 2
        colours[sel] = rgb * shade[:, None]
    out = background.reshape(-1, 3).copy()
    out[co.flat] = np.clip(colours, 0, 255).astype(np.uint8)
    out = out.reshape(background.shape)
    edges = np.zeros(piece_map.shape, bool)
    horiz = piece_map[:, 1:] != piece_map[:, :-1]
    vert = piece_map[1:, :] != piece_map[:-1, :]
    edges[:, 1:] |= horiz
    edges[:, :-1] |= horiz
    edges[1:, :] |= vert
    edges[:-1, :] |= vert
    blurred = cv2.blur(out, (3, 3))
    out[edges] = blurred[edges]
    return out


def densepose(
    piece_map: np.ndarray, ordered: list[Piece], camera: Camera
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DensePose part index I (uint8) and U, V (float32 in [0, 1]; U across, V along each part)."""
    dp_of_piece = np.array([0] + [p.dp for p in ordered], np.uint8)
    parts = dp_of_piece[piece_map]
    co = _coords(piece_map, _frame_table(ordered, camera, dense=True))
    has = dp_of_piece[co.piece] > 0
    u = np.zeros(piece_map.size, np.float32)
    v = np.zeros(piece_map.size, np.float32)
    u[co.flat[has]] = np.clip(co.across[has], 0, 1)
    v[co.flat[has]] = np.clip(co.along[has], 0, 1)
    return parts, u.reshape(piece_map.shape), v.reshape(piece_map.shape)


def _draw_face(rgb: np.ndarray, skel: S.PosedSkeleton, body: S.BodyShape, camera: Camera) -> None:
    """Eyes, brows and mouth on the colour image (they carry no label of their own)."""
    s = camera.scale
    if s < 12:
        return
    eye_normals = np.array([[0.35, 0, 0.94], [-0.35, 0, 0.94]])
    facing = skel.facing(eye_normals, threshold=0.1)
    dark = tuple(int(c * 0.35) for c in body.skin)
    for joint, visible in zip((S.LEYE, S.REYE), facing, strict=True):
        if not visible:
            continue
        p = camera.apply(skel.view[joint])
        axes = (max(1, int(round(0.06 * s))), max(1, int(round(0.035 * s))))
        cv2.ellipse(rgb, (int(round(p[0])), int(round(p[1]))), axes, 0, 0, 360, (30, 25, 25), -1, cv2.LINE_AA)
        brow = p + np.array([0, -0.09 * s])
        cv2.line(
            rgb,
            (int(round(brow[0] - 0.07 * s)), int(round(brow[1]))),
            (int(round(brow[0] + 0.07 * s)), int(round(brow[1]))),
            tuple(int(c) for c in body.hair_colour),
            max(1, int(round(0.025 * s))),
            cv2.LINE_AA,
        )
    if skel.facing(np.array([[0, 0, 1.0]]), threshold=0.3)[0]:
        nose = camera.apply(skel.view[S.NOSE])
        mouth = nose + np.array([0, 0.17 * s])
        half = 0.09 * s
        cv2.ellipse(
            rgb,
            (int(round(mouth[0])), int(round(mouth[1]))),
            (max(1, int(round(half))), max(1, int(round(0.03 * s)))),
            0,
            0,
            180,
            dark,
            max(1, int(round(0.02 * s))),
            cv2.LINE_AA,
        )


@dataclass
class PersonImage:
    """A rendered person and everything derived from the same render (image pixel coordinates)."""

    rgb: np.ndarray  # (H, W, 3) uint8 RGB
    sem: np.ndarray  # (H, W) uint8 internal semantic labels
    dp_parts: np.ndarray  # (H, W) uint8 DensePose I
    dp_u: np.ndarray | None  # (H, W) float32, when asked for
    dp_v: np.ndarray | None
    target_region: np.ndarray  # (H, W) bool: visible pixels of the target garment
    measures: RenderMeasures  # key-feature occlusion and visible proportions (the labels' measurements)
    keypoints: np.ndarray  # (25, 3) BODY_25 x, y, confidence (0, 0, 0 when outside the image)
    landmarks: np.ndarray  # (K, 3) x, y, visibility (2 visible, 1 hidden, 0 outside the image)
    placements: list[str]
    landmarks_occluded: int  # landmarks hidden by another piece (not by facing away)
    touches_border: bool  # the target garment reaches the image border


def keypoints_of(
    skel: S.PosedSkeleton, camera: Camera, size: tuple[int, int], rng: np.random.Generator
) -> np.ndarray:
    """BODY_25 keypoints in pixels with OpenPose-like confidences; unseen joints are (0, 0, 0)."""
    h, w = size
    pts = camera.apply(skel.view[:25])
    conf = rng.uniform(0.62, 0.95, 25)
    normals = np.zeros((25, 3))
    normals[:, 2] = 1.0
    normals[S.LEYE] = (0.35, 0, 0.94)
    normals[S.REYE] = (-0.35, 0, 0.94)
    normals[S.LEAR] = (0.95, 0, 0.3)
    normals[S.REAR] = (-0.95, 0, 0.3)
    thresholds = np.full(25, -1.0)
    thresholds[[S.LEYE, S.REYE]] = 0.0
    thresholds[[S.LEAR, S.REAR]] = -0.3
    thresholds[S.NOSE] = -0.1
    t = math.radians(skel.yaw)
    facing = (-normals[:, 0] * math.sin(t) + normals[:, 2] * math.cos(t)) > thresholds
    inside = (pts[:, 0] >= 0) & (pts[:, 0] <= w - 1) & (pts[:, 1] >= 0) & (pts[:, 1] <= h - 1)
    seen = facing & inside
    out = np.zeros((25, 3))
    out[seen, :2] = pts[seen]
    out[seen, 2] = conf[seen]
    return out


def _landmarks(
    build: GarmentBuild, skel: S.PosedSkeleton, camera: Camera, piece_map: np.ndarray, ordered: list[Piece]
) -> tuple[np.ndarray, list[str], int]:
    """Landmarks in pixels with visibility from the render: outside, facing away, covered, or visible."""
    h, w = piece_map.shape
    points3d = np.array([m.point for m in build.landmarks])
    view, _ = skel.to_view(points3d)
    px = camera.apply(view)
    out = np.zeros((len(build.landmarks), 3))
    out[:, :2] = px
    covered: set[tuple[int, int]] = set()
    for k, mark in enumerate(build.landmarks):
        x, y = int(round(px[k, 0])), int(round(px[k, 1]))
        if not (0 <= x < w and 0 <= y < h):
            continue
        if mark.normal is not None and not skel.facing(np.array([mark.normal]))[0]:
            out[k, 2] = 1
            continue
        on = ordered[piece_map[y, x] - 1] if piece_map[y, x] else None
        if on is not None and on.name in mark.pieces:
            out[k, 2] = 2
        else:
            out[k, 2] = 1
            if on is not None and not (on.garment == "target" and on.main):  # own panel: the view hides it
                covered.add((x, y))  # points placed together (elbow and wrist at a sleeve end) count once
    return out, [m.placement for m in build.landmarks], len(covered)


def render_person(
    skel: S.PosedSkeleton,
    body: S.BodyShape,
    builds: dict[str, GarmentBuild],
    materials: dict[str, Material],
    background: np.ndarray,
    camera: Camera,
    rng: np.random.Generator,
    with_uv: bool,
) -> PersonImage:
    """Draw a dressed person; labels, DensePose, keypoints and landmark visibility come from this render."""
    size = background.shape[:2]
    pieces = body_pieces(skel, body)
    for build in builds.values():
        pieces.extend(build.pieces)
    ordered = painter_order(pieces, group_depths(skel))
    piece_map = rasterise(ordered, camera, size)
    rgb = compose(piece_map, ordered, materials, camera, background)
    _draw_face(rgb, skel, body, camera)
    sem = np.array([0] + [p.sem for p in ordered], np.uint8)[piece_map]
    if with_uv:
        parts, u, v = densepose(piece_map, ordered, camera)
    else:
        parts, u, v = np.array([0] + [p.dp for p in ordered], np.uint8)[piece_map], None, None
    target_ids = np.array([k for k, p in enumerate(ordered, start=1) if p.garment == "target"])
    main = [p for p in ordered if p.garment == "target" and p.main]
    region = np.isin(piece_map, target_ids)
    spec = builds["target"].spec
    measures = measure_render(piece_map, ordered, skel, camera, spec.category, spec.kind, SIDE_VIEW_YAW)
    border = bool(region[0].any() or region[-1].any() or region[:, 0].any() or region[:, -1].any())
    landmarks, placements, occluded = _landmarks(builds["target"], skel, camera, piece_map, ordered)
    return PersonImage(
        rgb=rgb,
        sem=sem,
        dp_parts=parts,
        dp_u=u,
        dp_v=v,
        target_region=region,
        measures=measures,
        keypoints=keypoints_of(skel, camera, size, rng),
        landmarks=landmarks,
        placements=placements,
        landmarks_occluded=occluded,
        touches_border=border or _outside(main, camera, size),
    )


def _outside(main: list[Piece], camera: Camera, size: tuple[int, int]) -> bool:
    """True when the target's main panels extend past the image (their drawn area was clipped)."""
    if not main:
        return False
    x0, y0, x1, y1 = shapes_bbox(main)
    (px0, py0), (px1, py1) = camera.apply(np.array([[x0, y0], [x1, y1]]))
    h, w = size
    return bool(px0 < 0 or py0 < 0 or px1 > w - 1 or py1 > h - 1)


TRUNCATIONS = ("bottom", "side", "zoom")


def frame_person(
    skel: S.PosedSkeleton,
    pieces: list[Piece],
    size: tuple[int, int],
    framing: str,
    truncate: bool,
    rng: np.random.Generator,
) -> Camera:
    """Place the figure in the image: upper-body or full-length framing; keep the target garment inside
    the frame, or (truncate) push it across a border."""
    h, w = size
    d = skel.dims
    v = skel.view
    head_top = float(v[S.HEAD, 1] - d.head_ry)
    if framing == "upper":
        top_px, low_px = h * rng.uniform(0.03, 0.09), h * rng.uniform(0.72, 0.8)
        low = float(v[S.MIDHIP, 1])
    else:
        top_px, low_px = h * rng.uniform(0.02, 0.05), h * rng.uniform(0.94, 0.98)
        low = float(v[[S.LHEEL, S.RHEEL, S.LBTOE, S.RBTOE], 1].max()) + 0.06
    scale = (low_px - top_px) / (low - head_top)
    centre = float(v[S.MIDHIP, 0] + v[S.NECK, 0]) / 2
    x0, _, x1, _ = shapes_bbox(pieces)
    scale = min(scale, 0.98 * w / (x1 - x0)) if framing != "upper" else scale
    cam = Camera(scale, w / 2 + w * rng.uniform(-0.04, 0.04) - scale * centre, top_px - scale * head_top)
    target = [p for p in pieces if p.garment == "target"]
    tx0, ty0, tx1, ty1 = shapes_bbox(target)
    margin = 2.0
    if not truncate:
        for _ in range(8):
            (px0, py0), (px1, py1) = cam.apply(np.array([[tx0, ty0], [tx1, ty1]]))
            if px0 >= margin and py0 >= margin and px1 <= w - 1 - margin and py1 <= h - 1 - margin:
                break
            fit = min(1.0, (w - 2 * margin - 2) / (px1 - px0), (h - 2 * margin - 2) / (py1 - py0))
            s = cam.scale * fit * (0.97 if fit < 1 else 1.0)
            gx, gy = (tx0 + tx1) / 2, (ty0 + ty1) / 2
            cx, cy = cam.apply(np.array([gx, gy]))
            half_w, half_h = s * (tx1 - tx0) / 2, s * (ty1 - ty0) / 2
            cx = min(max(cx, half_w + margin + 1), w - 1 - margin - half_w - 1)
            cy = min(max(cy, half_h + margin + 1), h - 1 - margin - half_h - 1)
            cam = Camera(s, cx - s * gx, cy - s * gy)
        return cam
    mode = str(rng.choice(TRUNCATIONS, p=[0.4, 0.35, 0.25]))
    (px0, py0), (px1, py1) = cam.apply(np.array([[tx0, ty0], [tx1, ty1]]))
    bw, bh = px1 - px0, py1 - py0
    if mode == "bottom":
        return Camera(cam.scale, cam.tx, cam.ty + (h + rng.uniform(0.1, 0.3) * bh) - py1)
    if mode == "side":
        if rng.random() < 0.5:
            return Camera(cam.scale, cam.tx - px0 - rng.uniform(0.1, 0.3) * bw, cam.ty)
        return Camera(cam.scale, cam.tx + (w + rng.uniform(0.1, 0.3) * bw) - px1, cam.ty)
    zoom = max(rng.uniform(1.3, 1.7), 1.15 * min(w / bw, h / bh))
    gx, gy = (tx0 + tx1) / 2, (ty0 + ty1) / 2
    s = cam.scale * zoom
    return Camera(s, w / 2 - s * gx, h * rng.uniform(0.4, 0.6) - s * gy)


@dataclass
class ShopImage:
    """An in-shop garment photo: colour image, mask and landmarks (pixels, all visible)."""

    rgb: np.ndarray
    mask: np.ndarray  # (H, W) uint8 0/255
    landmarks: np.ndarray  # (K, 3)
    placements: list[str]


def render_shop(
    spec: GarmentSpec, dims: S.Dims, size: tuple[int, int], rng: np.random.Generator
) -> ShopImage:
    """The garment laid flat, front view, centred on a near-white background."""
    h, w = size
    kind = "pants" if spec.kind in ("pants", "shorts") else spec.kind
    skel = S.pose_skeleton(dims, S.mannequin_pose(kind, shop_sleeve_angle(spec)))
    build = build_garment(spec, skel, "target")
    ordered = painter_order(build.pieces, group_depths(skel))
    x0, y0, x1, y1 = shapes_bbox(ordered)
    margin = rng.uniform(0.07, 0.13)
    scale = min(w * (1 - 2 * margin) / (x1 - x0), h * (1 - 2 * margin) / (y1 - y0))
    cam = Camera(scale, w / 2 - scale * (x0 + x1) / 2, h / 2 - scale * (y0 + y1) / 2)
    piece_map = rasterise(ordered, cam, size)
    mats = garment_materials("target", spec, dims, shade=0.08)
    rgb = compose(piece_map, ordered, mats, cam, shop_background(rng, size))
    landmarks, placements, _ = _landmarks(build, skel, cam, piece_map, ordered)
    return ShopImage(
        rgb=rgb,
        mask=np.where(piece_map > 0, 255, 0).astype(np.uint8),
        landmarks=landmarks,
        placements=placements,
    )


def shoe_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    """A shoe colour from a small catalogue."""
    return SHOE_COLOURS[int(rng.integers(len(SHOE_COLOURS)))]
