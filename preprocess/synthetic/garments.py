"""Synthetic garments: specs, their pieces on any posed skeleton, and their landmarks.

One geometry function builds a garment on a posed skeleton; the worn garment uses the person's pose and
the in-shop garment the flat mannequin pose of the same body, so shape, pattern and landmarks correspond
exactly. Landmark sets (person's left/right, in this order):

- upper (9): neck (centre of the neckline), left/right shoulder, left/right elbow, left/right wrist,
  left/right hip. A sleeve that stops before the elbow or wrist puts those points at its end
  (placement "sleeve_end"); a sleeveless top puts them at the armhole ("armhole"); a top that ends
  above the hips puts the hip points at its hem ("hem").
- lower (8): waist_left, waist_centre, waist_right, left/right knee, left/right ankle, crotch. Shorts and
  skirts put knees and ankles at the hem where they end before them ("hem").
- dresses (9): neck, left/right shoulder, left/right elbow (the sleeve end or armhole), waist_left,
  waist_right, hem_left, hem_right.

Each landmark records where it sits on the garment, the pieces it is visible on, and a surface normal so
a side view can tell which points face away from the camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from preprocess.synthetic import labels as L
from preprocess.synthetic import skeleton as S
from preprocess.synthetic.pieces import Frame, Piece, Poly, limb_shapes, segment_frame
from preprocess.synthetic.textures import Texture, sample_texture

UPPER_KINDS = ("tee", "longsleeve", "threequarter", "tank")
LOWER_KINDS = ("pants", "shorts", "skirt")
UPPER_LANDMARKS = (
    "neck",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
)
LOWER_LANDMARKS = (
    "waist_left",
    "waist_centre",
    "waist_right",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "crotch",
)
DRESS_LANDMARKS = (
    "neck",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "waist_left",
    "waist_right",
    "hem_left",
    "hem_right",
)
LANDMARK_NAMES = {"upper": UPPER_LANDMARKS, "lower": LOWER_LANDMARKS, "dresses": DRESS_LANDMARKS}
SEM_OF_KIND = {
    "tee": L.SEM_UPPER,
    "longsleeve": L.SEM_UPPER,
    "threequarter": L.SEM_UPPER,
    "tank": L.SEM_UPPER,
    "pants": L.SEM_PANTS,
    "shorts": L.SEM_PANTS,
    "skirt": L.SEM_SKIRT,
    "dress": L.SEM_DRESS,
}
NECKLINES = {"crew": 0.16, "scoop": 0.38, "v": 0.55}


@dataclass(frozen=True)
class GarmentSpec:
    """What a garment is: kind, fabric and cut (lengths in head units or fractions, see fields)."""

    category: str  # upper | lower | dresses
    kind: str
    texture: Texture
    sleeve: float = 0.0  # sleeve end along the arm: 0 none, 0..1 upper arm, 1..2 forearm
    length: float = (
        0.7  # upper: hem from waist (0) to crotch (1); lower/dress: along the leg, 0 hip 1 knee 2 ankle
    )
    ease: float = 0.08  # added half width (looseness)
    neckline: str = "crew"
    rise: float = 0.2  # lower: waistband below the natural waist
    flare: float = 0.12  # skirts and dresses: widening per head unit below the hip
    tucked: bool = False  # upper worn tucked into the lower garment

    @property
    def extreme(self) -> bool:
        """Garment with an extreme aspect: oversized, tunic-long, cropped high, or a very wide flare."""
        if self.ease >= 0.3 or self.flare >= 0.45:
            return True
        return self.category == "upper" and (self.length >= 1.4 or self.length <= -0.2)


def sample_garment(rng: np.random.Generator, category: str, extreme: bool = False) -> GarmentSpec:
    """A random garment of a category; `extreme` gives it an extreme aspect (see GarmentSpec.extreme)."""
    texture = sample_texture(rng)
    neckline = str(rng.choice(list(NECKLINES), p=[0.55, 0.25, 0.2]))
    if category == "upper":
        kind = str(rng.choice(UPPER_KINDS, p=[0.36, 0.28, 0.14, 0.22]))
        sleeve = {
            "tee": rng.uniform(0.35, 0.65),
            "longsleeve": rng.uniform(1.9, 1.96),
            "threequarter": rng.uniform(1.35, 1.65),
            "tank": 0.0,
        }[kind]
        length, ease = rng.uniform(0.45, 0.95), rng.uniform(0.03, 0.14)
        if extreme:
            mode = rng.choice(["tunic", "cropped", "oversized"])
            if mode == "tunic":
                length = rng.uniform(1.6, 2.2)
            elif mode == "cropped":
                length = rng.uniform(-0.55, -0.3)
            else:
                ease = rng.uniform(0.32, 0.45)
        return GarmentSpec(
            category,
            kind,
            texture,
            sleeve=float(sleeve),
            length=float(length),
            ease=float(ease),
            neckline=neckline,
        )
    if category == "lower":
        kind = str(rng.choice(LOWER_KINDS, p=[0.45, 0.25, 0.3]))
        ease, flare = rng.uniform(0.02, 0.1), rng.uniform(0.05, 0.3)
        if kind == "pants":
            length = rng.uniform(1.9, 1.96)
        elif kind == "shorts":
            length = rng.uniform(0.3, 0.65)
        else:
            length = float(
                rng.choice([rng.uniform(0.35, 0.6), rng.uniform(0.9, 1.15), rng.uniform(1.35, 1.9)])
            )
        if extreme:
            if kind == "skirt":
                flare, length = rng.uniform(0.5, 0.7), rng.uniform(1.4, 1.9)
            else:
                ease = rng.uniform(0.32, 0.42)
        return GarmentSpec(
            category,
            kind,
            texture,
            length=float(length),
            ease=float(ease),
            rise=float(rng.uniform(0.1, 0.35)),
            flare=float(flare),
        )
    if category == "dresses":
        sleeve = float(rng.choice([0.0, rng.uniform(0.3, 0.6), rng.uniform(1.85, 1.95)], p=[0.5, 0.3, 0.2]))
        length, flare = rng.uniform(0.4, 1.9), rng.uniform(0.06, 0.32)
        if extreme:
            length, flare = rng.uniform(1.6, 1.95), rng.uniform(0.5, 0.7)
        return GarmentSpec(
            category,
            "dress",
            texture,
            sleeve=sleeve,
            length=float(length),
            ease=float(rng.uniform(0.03, 0.12)),
            neckline=neckline,
            flare=float(flare),
        )
    raise ValueError(f"unknown garment category {category!r}; choose upper, lower or dresses")


@dataclass(frozen=True)
class Landmark:
    """A garment landmark in body coordinates, the pieces it shows on, and how it was placed."""

    name: str
    point: tuple[float, float, float]
    pieces: tuple[str, ...]
    placement: str  # joint | sleeve_end | armhole | hem
    normal: tuple[float, float, float] | None = None


@dataclass
class GarmentBuild:
    """A garment built on one skeleton: its pieces (painter-ordered later) and its landmarks."""

    spec: GarmentSpec
    pieces: list[Piece]
    landmarks: list[Landmark]


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def _arm_point(j: np.ndarray, sho: int, elb: int, wri: int, t: float) -> np.ndarray:
    """Point at `t` along an arm chain (0 shoulder, 1 elbow, 2 wrist), body coordinates."""
    if t <= 1:
        return j[sho] + (j[elb] - j[sho]) * t
    return j[elb] + (j[wri] - j[elb]) * (t - 1)


def _limb_tube(
    name: str,
    sem: int,
    material: str,
    joints: tuple[np.ndarray, np.ndarray, np.ndarray],
    radii: tuple[float, float, float],
    lengths: tuple[float, float],
    dps: tuple[int, int],
    length: float,
    flare: float,
    group: str,
    layer: float,
    main: bool = False,
) -> list[Piece]:
    """A garment tube over a three-joint limb (sleeve or pant leg), `length` in segments (0..2).

    The upper piece covers `min(length, 1)` of the first segment, flared by `flare` at a hem
    above the middle joint; a lower piece over the second segment follows when `length > 1`.
    """
    a, b, c = joints
    r0, r1, r2 = radii
    len1, len2 = lengths
    t1 = min(length, 1.0)
    end1 = a + (b - a) * t1
    hem_flare = flare if length < 1 else 0.0
    pieces = [
        Piece(
            name=f"{name}_upper",
            sem=sem,
            dp=dps[0],
            material=material,
            frame=segment_frame(a, b, (r0 + r1) / 2, len1),
            group=group,
            layer=layer,
            shapes=limb_shapes(a, end1, r0, _lerp(r0, r1, t1) + hem_flare, cap1=length > 1),
            garment=material,
            main=main,
        )
    ]
    if length > 1:
        end2 = b + (c - b) * (length - 1)
        pieces.append(
            Piece(
                name=f"{name}_lower",
                sem=sem,
                dp=dps[1],
                material=material,
                frame=segment_frame(b, c, (r1 + r2) / 2, len2, offset=len1),
                group=group,
                layer=layer,
                shapes=limb_shapes(b, end2, r1, _lerp(r1, r2, length - 1), cap1=False),
                garment=material,
                main=main,
            )
        )
    return pieces


def _torso_frame(skel: S.PosedSkeleton) -> Frame:
    d = skel.dims
    top, bottom = skel.to_view(np.array([[0, d.y_sho, 0], [0, d.y_hip, 0]]))[0]
    return segment_frame(top, bottom, skel.extent(d.chest_a, d.chest_b), d.y_hip - d.y_sho)


def _front_z(a: float, b: float, x: float) -> float:
    return b * math.sqrt(max(0.0, 1 - (x / a) ** 2)) if a > 0 else b


def _hem_halfwidth(d: S.Dims, y: float, ease: float, flare: float) -> tuple[float, float]:
    a, b = d.torso_at(y)
    if y > d.y_crotch:
        a, b = d.hip_a + flare * (y - d.y_hip), d.hip_b + 0.6 * flare * (y - d.y_hip)
    return a + ease, b + 0.7 * ease


def _upper_body(
    spec: GarmentSpec, skel: S.PosedSkeleton, role: str, sem: int, hem_y: float, layer: float
) -> GarmentBuild:
    """Torso panel and sleeves of a top or of a dress bodice."""
    d = skel.dims
    j = skel.joints
    ease = spec.ease
    tank = spec.sleeve <= 0
    neck_x = d.neck_a + 0.05
    dip = NECKLINES[spec.neckline]
    shoulder_x = d.neck_a + 0.3 if tank else d.sho_a + 0.4 * ease
    shoulder_y = d.y_sho - d.arm_r[0] - 0.02 if not tank else _lerp(d.y_neck, d.y_sho - 0.1, 0.45)
    top = [(-shoulder_x, shoulder_y, 0.0)]
    for t in np.linspace(0, 1, 9):
        x = -neck_x + 2 * neck_x * t
        depth = d.chest_b * 0.75 * math.sqrt(max(0.0, 1 - (2 * t - 1) ** 2))
        drop = dip * (1 - abs(2 * t - 1)) if spec.neckline == "v" else dip * (1 - (2 * t - 1) ** 2)
        top.append((x, d.y_neck + drop, depth))
    top.append((shoulder_x, shoulder_y, 0.0))
    top_view, _ = skel.to_view(np.array(top))
    levels = [d.y_chest - 0.05] + [y for y in (d.y_waist, d.y_hip, d.y_crotch) if y < hem_y - 0.05] + [hem_y]
    sides = []
    for y in levels:
        a, b = _hem_halfwidth(d, y, ease, spec.flare * 0.3)
        sides.append((skel.extent(a, b), y))
    left = [(e, y) for e, y in sides]
    right = [(-e, y) for e, y in reversed(sides)]
    if tank:  # the armhole curves in from each strap down to the armpit
        e_ch = sides[0][0]
        strap_l, strap_r = top_view[-1], top_view[0]
        hole_l = [
            (_lerp(strap_l[0], e_ch, 0.35), _lerp(strap_l[1], d.y_chest, 0.55)),
            (_lerp(strap_l[0], e_ch, 0.75), d.y_chest - 0.12),
        ]
        hole_r = [
            (_lerp(strap_r[0], -e_ch, 0.75), d.y_chest - 0.12),
            (_lerp(strap_r[0], -e_ch, 0.35), _lerp(strap_r[1], d.y_chest, 0.55)),
        ]
    else:
        hole_l, hole_r = [], []
    hem = [(f * sides[-1][0], hem_y + 0.03 * (1 - f * f)) for f in np.linspace(0.6, -0.6, 5)]
    outline = np.array(
        list(map(tuple, top_view)) + hole_l + left + hem[1:-1] + right + hole_r, dtype=np.float64
    )
    torso = Piece(
        name=f"{role}:torso",
        sem=sem,
        dp=L.DP_TORSO_FRONT,
        material=f"{role}_print",
        frame=_torso_frame(skel),
        group="torso",
        layer=layer,
        shapes=[Poly(outline)],
        garment=role,
        main=True,
    )
    pieces = [torso]
    sleeve_pieces = {1.0: [], -1.0: []}
    if not tank:
        for side, sho, elb, wri, dp_up, dp_lo in (
            (1.0, S.LSHO, S.LELB, S.LWRI, L.DP_LEFT_UPPER_ARM, L.DP_LEFT_LOWER_ARM),
            (-1.0, S.RSHO, S.RELB, S.RWRI, L.DP_RIGHT_UPPER_ARM, L.DP_RIGHT_LOWER_ARM),
        ):
            tag = "l" if side > 0 else "r"
            v = skel.view
            r_s = d.arm_r[0] + 0.05 + 0.5 * ease
            r_e = d.arm_r[1] + 0.045 + 0.5 * ease
            r_w = d.arm_r[2] + 0.04 + 0.4 * ease
            tube = _limb_tube(
                f"{role}:sleeve_{tag}",
                sem,
                role,
                (v[sho], v[elb], v[wri]),
                (r_s, r_e, r_w),
                (d.upper_arm, d.forearm),
                (dp_up, dp_lo),
                spec.sleeve,
                flare=0.035,
                group=f"arm_{tag}",
                layer=2,
            )
            pieces.extend(tube)
            sleeve_pieces[side].extend(p.name for p in tube)
    marks = [
        Landmark("neck", (0.0, d.y_neck + dip + 0.07, d.chest_b * 0.8), (torso.name,), "joint", (0, 0, 1))
    ]
    for side, name in ((1.0, "left"), (-1.0, "right")):
        if tank:
            x = neck_x + 0.12
            y = _lerp(d.y_neck, shoulder_y, 0.4) + 0.07
            marks.append(
                Landmark(
                    f"{name}_shoulder", (side * x, y, 0.1), (torso.name,), "joint", (side * 0.3, -0.6, 0.6)
                )
            )
        else:
            allowed = (torso.name, *sleeve_pieces[side][:1])
            marks.append(
                Landmark(
                    f"{name}_shoulder",
                    (side * (d.sho_x - 0.04), d.y_sho - 0.02, 0.05),
                    allowed,
                    "joint",
                    (side * 0.5, -0.6, 0.6),
                )
            )
    for joint, t_joint in (("elbow", 1.0), ("wrist", 2.0)):
        for side, name, sho, elb, wri in (
            (1.0, "left", S.LSHO, S.LELB, S.LWRI),
            (-1.0, "right", S.RSHO, S.RELB, S.RWRI),
        ):
            if tank:
                a_ch, _ = _hem_halfwidth(d, d.y_chest, ease, 0.0)
                point = (side * (a_ch - 0.22), d.y_chest + 0.02, d.chest_b * 0.6)
                marks.append(Landmark(f"{name}_{joint}", point, (torso.name,), "armhole", (side * 0.3, 0, 1)))
                continue
            end = spec.sleeve - 0.05
            placement = "joint" if spec.sleeve >= t_joint - 0.15 else "sleeve_end"
            t = min(t_joint, end)
            point = tuple(float(c) for c in _arm_point(j, sho, elb, wri, t))
            marks.append(Landmark(f"{name}_{joint}", point, tuple(sleeve_pieces[side]), placement))
    return GarmentBuild(spec, pieces, marks)


def _upper(spec: GarmentSpec, skel: S.PosedSkeleton, role: str, waist_y: float | None) -> GarmentBuild:
    d = skel.dims
    hem_y = d.y_waist + (d.y_crotch - d.y_waist) * spec.length
    if spec.tucked and waist_y is not None:
        hem_y = max(waist_y + 0.25, d.y_chest + 0.4)
    build = _upper_body(spec, skel, role, L.SEM_UPPER, hem_y, layer=0.5 if spec.tucked else 3)
    torso = build.pieces[0].name
    for side, name in ((1.0, "left"), (-1.0, "right")):
        a, b = _hem_halfwidth(d, hem_y, spec.ease, spec.flare * 0.3)
        x = min(d.hip_x, a - 0.15)
        placement = "joint" if hem_y - 0.08 >= d.y_hip else "hem"
        y = d.y_hip if placement == "joint" else hem_y - 0.08
        z = _front_z(a, b, x) * 0.95
        build.landmarks.append(
            Landmark(f"{name}_hip", (side * x, y, z), (torso,), placement, (side * x / a, 0, 1))
        )
    return build


def _skirt_pieces(
    spec: GarmentSpec, skel: S.PosedSkeleton, role: str, sem: int, top_y: float, hem_y: float, layer: float
) -> list[Piece]:
    d = skel.dims
    ease = spec.ease
    ys = [top_y] + [y for y in (d.y_hip, d.y_crotch) if top_y + 0.05 < y < hem_y - 0.05] + [hem_y]
    ext = []
    for y in ys:
        a, b = d.torso_at(min(y, d.y_hip))
        if y > d.y_hip:
            a, b = d.hip_a + spec.flare * (y - d.y_hip), d.hip_b + 0.6 * spec.flare * (y - d.y_hip)
        ext.append(skel.extent(a + ease, b + 0.7 * ease))
    centre_top, centre_bottom = skel.to_view(np.array([[0, top_y, 0], [0, hem_y, 0]]))[0]
    frame = segment_frame(centre_top, centre_bottom, ext[-1], hem_y - top_y, offset=top_y)
    pieces = []
    j = skel.view
    for side, tag, hip, kne, dp in (
        (1.0, "l", S.LHIP, S.LKNE, L.DP_LEFT_UPPER_LEG),
        (-1.0, "r", S.RHIP, S.RKNE, L.DP_RIGHT_UPPER_LEG),
    ):
        outline = [(0.0, top_y)] + [(side * e, y) for e, y in zip(ext, ys, strict=True)]
        outline += [(side * ext[-1] * f, hem_y + 0.04 * (1 - f * f)) for f in (0.66, 0.33, 0.0)]
        pieces.append(
            Piece(
                name=f"{role}:skirt_{tag}",
                sem=sem,
                dp=dp,
                material=role,
                frame=frame,
                group="torso",
                layer=layer,
                shapes=[Poly(np.array(outline))],
                dp_frame=segment_frame(j[hip], j[kne], d.leg_r[0], d.thigh),
                garment=role,
                main=True,
            )
        )
    return pieces


def _lower(spec: GarmentSpec, skel: S.PosedSkeleton, role: str) -> GarmentBuild:
    d = skel.dims
    j, v = skel.joints, skel.view
    sem = SEM_OF_KIND[spec.kind]
    waist_y = d.y_waist + spec.rise
    a_w, b_w = d.torso_at(waist_y)
    a_w, b_w = a_w + spec.ease, b_w + 0.7 * spec.ease
    marks = []
    if spec.kind == "skirt":
        hem_y = d.y_hip + min(spec.length, 1) * d.thigh + max(spec.length - 1, 0) * d.shin
        pieces = _skirt_pieces(spec, skel, role, sem, waist_y, hem_y, layer=1)
        by_side = {1.0: (pieces[0].name,), -1.0: (pieces[1].name,)}
        every = tuple(p.name for p in pieces)
        y_knee = d.y_hip + d.thigh
        a_h, b_h = (
            d.hip_a + spec.ease + spec.flare * (hem_y - d.y_hip),
            d.hip_b + spec.ease + 0.6 * spec.flare * (hem_y - d.y_hip),
        )
        for side, name in ((1.0, "left"), (-1.0, "right")):
            placement, y = ("joint", y_knee) if hem_y > y_knee + 0.12 else ("hem", hem_y - 0.08)
            x = d.hip_x
            marks.append(
                Landmark(f"{name}_knee", (side * x, y, b_h * 0.9), by_side[side], placement, (0, 0, 1))
            )
        for side, name in ((1.0, "left"), (-1.0, "right")):
            x = a_h - 0.15
            z = _front_z(a_h, b_h, x)
            marks.append(
                Landmark(
                    f"{name}_ankle", (side * x, hem_y - 0.08, z), by_side[side], "hem", (side * x / a_h, 0, 1)
                )
            )
        crotch = ("joint", d.y_crotch) if hem_y > d.y_crotch + 0.15 else ("hem", hem_y - 0.08)
        marks.append(Landmark("crotch", (0.0, crotch[1], d.hip_b + spec.ease), every, crotch[0], (0, 0, 1)))
        waist_pieces = every
    else:
        e_w = skel.extent(a_w, b_w)
        levels = [(e_w, waist_y)]
        for y in (d.y_hip, d.y_crotch):
            a, b = d.torso_at(y)
            levels.append((skel.extent(a + spec.ease, b + 0.7 * spec.ease), y))
        outline = (
            [(e, y) for e, y in levels] + [(0.0, d.y_crotch + 0.08)] + [(-e, y) for e, y in reversed(levels)]
        )
        pelvis = Piece(
            name=f"{role}:pelvis",
            sem=sem,
            dp=L.DP_TORSO_FRONT,
            material=role,
            frame=_torso_frame(skel),
            group="torso",
            layer=1,
            shapes=[Poly(np.array(outline))],
            garment=role,
            main=True,
        )
        pieces = [pelvis]
        legs = {1.0: [], -1.0: []}
        for side, tag, hip, kne, ank, dp_up, dp_lo in (
            (1.0, "l", S.LHIP, S.LKNE, S.LANK, L.DP_LEFT_UPPER_LEG, L.DP_LEFT_LOWER_LEG),
            (-1.0, "r", S.RHIP, S.RKNE, S.RANK, L.DP_RIGHT_UPPER_LEG, L.DP_RIGHT_LOWER_LEG),
        ):
            r_h = d.leg_r[0] + 0.03 + spec.ease
            r_k = d.leg_r[1] + 0.05 + spec.ease
            r_a = d.leg_r[2] + 0.07 + 1.4 * spec.ease
            tube = _limb_tube(
                f"{role}:leg_{tag}",
                sem,
                role,
                (v[hip], v[kne], v[ank]),
                (r_h, r_k, r_a),
                (d.thigh, d.shin),
                (dp_up, dp_lo),
                spec.length,
                flare=0.04,
                group=f"leg_{tag}",
                layer=1,
                main=True,
            )
            pieces.extend(tube)
            legs[side].extend(p.name for p in tube)
        for side, name, hip, kne, ank in (
            (1.0, "left", S.LHIP, S.LKNE, S.LANK),
            (-1.0, "right", S.RHIP, S.RKNE, S.RANK),
        ):
            end = spec.length - 0.06
            for joint, t_joint in (("knee", 1.0), ("ankle", 2.0)):
                placement = "joint" if spec.length >= t_joint - 0.15 else "hem"
                t = min(t_joint, end)
                point = _arm_point(j, hip, kne, ank, t)
                marks.append(
                    Landmark(f"{name}_{joint}", tuple(float(c) for c in point), tuple(legs[side]), placement)
                )
        every = tuple(p.name for p in pieces)
        marks.append(Landmark("crotch", (0.0, d.y_crotch - 0.05, d.hip_b * 0.9), every, "joint", (0, 0, 1)))
        waist_pieces = (pelvis.name,)
    x = a_w - 0.14
    z = _front_z(a_w, b_w, x)
    waist = [
        Landmark("waist_left", (x, waist_y + 0.08, z), waist_pieces, "joint", (x / a_w, 0, 1)),
        Landmark("waist_centre", (0.0, waist_y + 0.08, b_w), waist_pieces, "joint", (0, 0, 1)),
        Landmark("waist_right", (-x, waist_y + 0.08, z), waist_pieces, "joint", (-x / a_w, 0, 1)),
    ]
    return GarmentBuild(spec, pieces, waist + marks)


def _dress(spec: GarmentSpec, skel: S.PosedSkeleton, role: str) -> GarmentBuild:
    d = skel.dims
    sem = L.SEM_DRESS
    hem_y = d.y_hip + min(spec.length, 1) * d.thigh + max(spec.length - 1, 0) * d.shin
    waist_y = d.y_waist
    build = _upper_body(spec, skel, role, sem, waist_y + 0.12, layer=3)
    skirt = _skirt_pieces(spec, skel, role, sem, waist_y, hem_y, layer=2)
    build.pieces.extend(skirt)
    keep = {"neck", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow"}
    marks = [m for m in build.landmarks if m.name in keep]
    bodice = build.pieces[0].name
    a_w, b_w = d.torso_at(waist_y)
    a_w, b_w = a_w + spec.ease, b_w + 0.7 * spec.ease
    drop = hem_y - d.y_hip
    a_h, b_h = d.hip_a + spec.ease + spec.flare * drop, d.hip_b + spec.ease + 0.6 * spec.flare * drop
    for side, name, piece in ((1.0, "left", skirt[0].name), (-1.0, "right", skirt[1].name)):
        x = a_w - 0.14
        marks.append(
            Landmark(
                f"waist_{name}",
                (side * x, waist_y + 0.04, _front_z(a_w, b_w, x)),
                (bodice, piece),
                "joint",
                (side * x / a_w, 0, 1),
            )
        )
    for side, name, piece in ((1.0, "left", skirt[0].name), (-1.0, "right", skirt[1].name)):
        x = a_h - 0.15
        marks.append(
            Landmark(
                f"hem_{name}",
                (side * x, hem_y - 0.08, _front_z(a_h, b_h, x)),
                (piece,),
                "hem",
                (side * x / a_h, 0, 1),
            )
        )
    build.landmarks = marks
    return build


def build_garment(
    spec: GarmentSpec, skel: S.PosedSkeleton, role: str, waist_y: float | None = None
) -> GarmentBuild:
    """Pieces and landmarks of a garment worn on `skel`; `role` ("target"/"other") names its pieces.

    `waist_y` is the waistband of the lower garment a tucked top goes into.
    """
    if spec.category == "upper":
        build = _upper(spec, skel, role, waist_y)
    elif spec.category == "lower":
        build = _lower(spec, skel, role)
    else:
        build = _dress(spec, skel, role)
    order = LANDMARK_NAMES[spec.category]
    by_name = {m.name: m for m in build.landmarks}
    build.landmarks = [by_name[name] for name in order]
    return build


def waistband_y(spec: GarmentSpec, dims: S.Dims) -> float:
    """Level of a lower garment's waistband (where a tucked top disappears)."""
    return dims.y_waist + spec.rise


def shop_sleeve_angle(spec: GarmentSpec) -> float:
    """Abduction of the sleeves when the garment is laid flat for its in-shop photo."""
    if spec.sleeve >= 1.5:
        return 16.0
    if spec.sleeve >= 1.0:
        return 24.0
    return 42.0 if spec.sleeve > 0 else 20.0
