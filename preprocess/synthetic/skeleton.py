"""Articulated 3D skeletons for synthetic figures: body shapes, poses, clip motion and the view rotation.

Coordinates are in head units (head height = 1): x points to the person's left, y down (0 = top of the
head), z forward out of the chest. A figure is posed by forward kinematics (angles) or two-bone inverse
kinematics (a hand target such as the opposite elbow or the hip), then turned by a yaw angle and seen
orthographically, so side views and turns come from the same skeleton. Joints are kept in OpenPose
BODY_25 order (COCO-18 and the DressCode order are subsets), followed by a few drawing-only points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# BODY_25 joint order (OpenPose), then drawing-only points.
NOSE, NECK, RSHO, RELB, RWRI, LSHO, LELB, LWRI, MIDHIP = range(9)
RHIP, RKNE, RANK, LHIP, LKNE, LANK, REYE, LEYE, REAR, LEAR = range(9, 19)
LBTOE, LSTOE, LHEEL, RBTOE, RSTOE, RHEEL = range(19, 25)
HEAD, RHAND, LHAND = 25, 26, 27
N_JOINTS = 28

SKIN_TONES = (
    (255, 226, 200),
    (241, 196, 168),
    (226, 174, 140),
    (198, 136, 102),
    (163, 104, 72),
    (122, 78, 52),
    (90, 58, 40),
    (66, 43, 31),
)
HAIR_COLOURS = ((28, 24, 22), (58, 40, 28), (104, 70, 44), (196, 160, 98), (146, 62, 32), (150, 150, 152))
HAIR_STYLES = ("short", "long", "bob", "bun", "cropped")

ARM_POSES = ("relaxed", "out", "raised", "one_raised", "hand_on_head", "akimbo", "one_akimbo", "one_across")
ARM_POSES_OCCLUDING = ("crossed", "clasp_low", "hands_on_chest")
LEG_POSES = ("straight", "apart", "relaxed", "stride")


@dataclass(frozen=True)
class BodyShape:
    """Proportions and colouring of one person (factors are relative to an average adult)."""

    height_heads: float  # standing height in head heights
    width: float  # overall breadth
    shoulder: float
    waist: float
    hip: float
    limb: float  # limb thickness
    leg: float  # leg length
    head_width: float  # head width / head height
    skin: tuple[int, int, int]
    hair_colour: tuple[int, int, int]
    hair_style: str
    hair_front: bool = False  # long hair falling over the shoulders in front

    @property
    def extreme(self) -> bool:
        """Very tall and thin, very short, or very wide figures (the `extreme_proportion` body rule)."""
        return self.height_heads > 8.5 or self.height_heads < 6.4 or self.width < 0.75 or self.width > 1.35


@dataclass(frozen=True)
class Dims:
    """Derived body measurements in head units (levels are y, half widths `a` along x, half depths `b`)."""

    shape: BodyShape
    y_neck: float
    y_sho: float
    y_chest: float
    y_waist: float
    y_hip: float
    y_crotch: float
    sho_x: float  # shoulder joint |x|
    hip_x: float  # hip joint |x|
    neck_a: float
    sho_a: float  # outer shoulder half width
    chest_a: float
    chest_b: float
    waist_a: float
    waist_b: float
    hip_a: float
    hip_b: float
    upper_arm: float
    forearm: float
    hand: float
    thigh: float
    shin: float
    arm_r: tuple[float, float, float]  # radius at shoulder, elbow, wrist
    leg_r: tuple[float, float, float]  # radius at hip, knee, ankle
    head_rx: float
    head_ry: float

    def torso_levels(self) -> list[tuple[float, float, float]]:
        """(y, half width, half depth) of the torso cross-sections from shoulder to crotch."""
        return [
            (self.y_sho - 0.02, self.sho_a, 0.36 * self.shape.width),
            (self.y_chest, self.chest_a, self.chest_b),
            (self.y_waist, self.waist_a, self.waist_b),
            (self.y_hip, self.hip_a, self.hip_b),
            (self.y_crotch, self.hip_a * 0.96, self.hip_b * 0.95),
        ]

    def torso_at(self, y: float) -> tuple[float, float]:
        """Half width and half depth of the torso at level y (linear between levels, clamped)."""
        levels = self.torso_levels()
        ys = [lv[0] for lv in levels]
        return float(np.interp(y, ys, [lv[1] for lv in levels])), float(
            np.interp(y, ys, [lv[2] for lv in levels])
        )


def body_dims(shape: BodyShape) -> Dims:
    """Measurements of a body shape: joint levels, breadths, limb lengths and radii."""
    k = (shape.height_heads - 1.25) / 6.5
    w = shape.width
    lim = shape.limb * math.sqrt(w)
    y_hip = 1.0 + 2.95 * k
    sho_x = 0.78 * w * shape.shoulder
    return Dims(
        shape=shape,
        y_neck=1.0 + 0.36 * k,
        y_sho=1.0 + 0.48 * k,
        y_chest=1.0 + 1.05 * k,
        y_waist=1.0 + 2.1 * k,
        y_hip=y_hip,
        y_crotch=y_hip + 0.3 * k,
        sho_x=sho_x,
        hip_x=0.4 * w * shape.hip,
        neck_a=0.22 * math.sqrt(w),
        sho_a=sho_x + 0.17 * lim,
        chest_a=0.74 * w * shape.shoulder,
        chest_b=0.46 * w,
        waist_a=0.6 * w * shape.waist,
        waist_b=0.4 * w * shape.waist,
        hip_a=0.78 * w * shape.hip,
        hip_b=0.48 * w,
        upper_arm=1.4 * k,
        forearm=1.22 * k,
        hand=0.68 * k,
        thigh=1.85 * k * shape.leg,
        shin=1.75 * k * shape.leg,
        arm_r=(0.19 * lim, 0.14 * lim, 0.105 * lim),
        leg_r=(0.37 * lim, 0.2 * lim, 0.12 * lim),
        head_rx=0.5 * shape.head_width,
        head_ry=0.5,
    )


def sample_body_shape(rng: np.random.Generator, extreme: bool) -> BodyShape:
    """A random body; `extreme` draws a very tall/thin or very wide one (else an ordinary one)."""
    if extreme:
        kind = rng.choice(["tall", "wide", "short"], p=[0.45, 0.4, 0.15])
        if kind == "tall":
            height, width = rng.uniform(8.7, 9.4), rng.uniform(0.6, 0.72)
        elif kind == "wide":
            height, width = rng.uniform(6.9, 7.6), rng.uniform(1.42, 1.62)
        else:
            height, width = rng.uniform(5.9, 6.3), rng.uniform(0.95, 1.15)
    else:
        height, width = rng.uniform(7.0, 8.1), rng.uniform(0.86, 1.16)
    tone = rng.uniform(0, len(SKIN_TONES) - 1)
    low = int(tone)
    frac = tone - low
    skin = tuple(
        int(round(SKIN_TONES[low][c] * (1 - frac) + SKIN_TONES[min(low + 1, len(SKIN_TONES) - 1)][c] * frac))
        for c in range(3)
    )
    return BodyShape(
        height_heads=float(height),
        width=float(width),
        shoulder=float(rng.uniform(0.88, 1.1)),
        waist=float(rng.uniform(0.85, 1.08)),
        hip=float(rng.uniform(0.9, 1.14)),
        limb=float(rng.uniform(0.88, 1.12)),
        leg=float(rng.uniform(0.95, 1.05)),
        head_width=float(rng.uniform(0.72, 0.8)),
        skin=skin,
        hair_colour=HAIR_COLOURS[int(rng.integers(len(HAIR_COLOURS)))],
        hair_style=str(rng.choice(HAIR_STYLES)),
        hair_front=bool(rng.random() < 0.25),
    )


@dataclass(frozen=True)
class LimbPose:
    """One arm or leg: forward-kinematics angles (degrees), or a target for the end joint (IK)."""

    abduct: float = 0.0  # away from the body in the frontal plane
    flex: float = 0.0  # forward in the sagittal plane
    bend: float = 0.0  # elbow or knee bend
    bend_dir: tuple[float, float, float] = (0.0, 0.0, 1.0)  # where the distal segment bends to
    target: tuple[float, float, float] | None = None  # IK target of the wrist or ankle
    pole: tuple[float, float, float] = (0.0, 0.0, -1.0)  # IK: where the elbow or knee points


@dataclass(frozen=True)
class Pose:
    """A full pose: limbs, head tilt and the view yaw (degrees; + turns the front toward image right)."""

    name: str
    left_arm: LimbPose
    right_arm: LimbPose
    left_leg: LimbPose
    right_leg: LimbPose
    yaw: float = 0.0
    head_tilt: float = 0.0
    foot_out: float = 12.0  # feet turned outward, degrees
    bob: float = 0.0  # vertical offset of the whole body (walking)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else v


def _fk_direction(side: float, abduct: float, flex: float) -> np.ndarray:
    a, f = math.radians(abduct), math.radians(flex)
    return _unit(np.array([side * math.sin(a), math.cos(a) * math.cos(f), math.cos(a) * math.sin(f)]))


def _bend(direction: np.ndarray, toward: tuple[float, float, float], degrees: float) -> np.ndarray:
    q = np.asarray(toward, dtype=np.float64)
    q = q - direction * float(q @ direction)
    if np.linalg.norm(q) < 1e-6:
        return direction
    e = math.radians(degrees)
    return _unit(direction * math.cos(e) + _unit(q) * math.sin(e))


def _two_bone(root: np.ndarray, target: np.ndarray, a: float, b: float, pole: np.ndarray) -> tuple:
    """Middle and end joint reaching for `target` (clamped to reach), bending toward `pole`."""
    offset = target - root
    dist = float(np.linalg.norm(offset))
    u = offset / dist if dist > 1e-9 else np.array([0.0, 1.0, 0.0])
    dist = min(max(dist, abs(a - b) + 1e-3), a + b - 1e-3)
    cos_alpha = (a * a + dist * dist - b * b) / (2 * a * dist)
    sin_alpha = math.sqrt(max(0.0, 1 - cos_alpha * cos_alpha))
    p = pole - u * float(pole @ u)
    p = _unit(p) if np.linalg.norm(p) > 1e-6 else _unit(np.cross(u, [0.0, 0.0, 1.0]))
    middle = root + a * (u * cos_alpha + p * sin_alpha)
    end = root + u * dist
    return middle, end


def _limb(root: np.ndarray, side: float, lp: LimbPose, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    if lp.target is not None:
        return _two_bone(root, np.asarray(lp.target, float), a, b, np.asarray(lp.pole, float))
    d1 = _fk_direction(side, lp.abduct, lp.flex)
    middle = root + a * d1
    d2 = _bend(d1, lp.bend_dir, lp.bend)
    return middle, middle + b * d2


def pose_joints(dims: Dims, pose: Pose) -> np.ndarray:
    """3D joint positions (N_JOINTS, 3) in head units for a posed body."""
    j = np.zeros((N_JOINTS, 3))
    j[NECK] = (0.0, dims.y_neck, 0.0)
    j[MIDHIP] = (0.0, dims.y_hip, 0.0)
    for side, sho, elb, wri, hand, arm in (
        (1.0, LSHO, LELB, LWRI, LHAND, pose.left_arm),
        (-1.0, RSHO, RELB, RWRI, RHAND, pose.right_arm),
    ):
        j[sho] = (side * dims.sho_x, dims.y_sho, 0.0)
        j[elb], j[wri] = _limb(j[sho], side, arm, dims.upper_arm, dims.forearm)
        j[hand] = j[wri] + _unit(j[wri] - j[elb]) * dims.hand * 0.85
    for side, hip, kne, ank, big, small, heel, leg in (
        (1.0, LHIP, LKNE, LANK, LBTOE, LSTOE, LHEEL, pose.left_leg),
        (-1.0, RHIP, RKNE, RANK, RBTOE, RSTOE, RHEEL, pose.right_leg),
    ):
        j[hip] = (side * dims.hip_x, dims.y_hip, 0.0)
        j[kne], j[ank] = _limb(j[hip], side, leg, dims.thigh, dims.shin)
        out = math.radians(pose.foot_out)
        toe_dir = np.array([side * math.sin(out), 0.0, math.cos(out)])
        across = np.array([math.cos(out), 0.0, -side * math.sin(out)]) * side
        j[heel] = j[ank] + (0.0, 0.2, -0.1)
        j[big] = j[ank] + (0.0, 0.24, 0.0) + toe_dir * 0.5 - across * 0.07
        j[small] = j[ank] + (0.0, 0.24, 0.0) + toe_dir * 0.4 + across * 0.12
    tilt = math.radians(pose.head_tilt)
    rot = np.array([[math.cos(tilt), -math.sin(tilt), 0], [math.sin(tilt), math.cos(tilt), 0], [0, 0, 1]])
    head_c = np.array([0.0, dims.head_ry, 0.0])
    base = j[NECK]

    def head_point(offset: tuple[float, float, float]) -> np.ndarray:
        return base + rot @ (head_c + np.asarray(offset) - base)

    j[HEAD] = head_point((0.0, 0.0, 0.0))
    j[NOSE] = head_point((0.0, 0.1, 0.36))
    j[LEYE] = head_point((0.15, -0.04, 0.31))
    j[REYE] = head_point((-0.15, -0.04, 0.31))
    j[LEAR] = head_point((dims.head_rx * 0.93, 0.02, -0.02))
    j[REAR] = head_point((-dims.head_rx * 0.93, 0.02, -0.02))
    j[:, 1] += pose.bob
    return j


@dataclass(frozen=True)
class PosedSkeleton:
    """A posed body seen at a yaw: 3D joints, their view-plane positions and depths (head units)."""

    dims: Dims
    pose: Pose
    joints: np.ndarray  # (N, 3) body frame
    view: np.ndarray  # (N, 2) x', y in the image plane
    depth: np.ndarray  # (N,) toward the camera

    @property
    def yaw(self) -> float:
        return self.pose.yaw

    def to_view(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """View-plane positions (M, 2) and depths (M,) of body-frame points (M, 3)."""
        return rotate_view(np.asarray(points, dtype=np.float64).reshape(-1, 3), self.pose.yaw)

    def facing(self, normals: np.ndarray, threshold: float = -0.15) -> np.ndarray:
        """True where a body-frame surface normal still faces the camera after the yaw."""
        t = math.radians(self.pose.yaw)
        n = np.asarray(normals, dtype=np.float64).reshape(-1, 3)
        return (-n[:, 0] * math.sin(t) + n[:, 2] * math.cos(t)) > threshold

    def extent(self, a: float, b: float) -> float:
        """Projected half width of a body cross-section with half width a and half depth b."""
        t = math.radians(self.pose.yaw)
        return math.sqrt((a * math.cos(t)) ** 2 + (b * math.sin(t)) ** 2)


def rotate_view(points: np.ndarray, yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """Turn body-frame points by `yaw` about the vertical axis; return view (M, 2) and depth (M,)."""
    t = math.radians(yaw)
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    view = np.stack([x * math.cos(t) + z * math.sin(t), y], axis=1)
    return view, -x * math.sin(t) + z * math.cos(t)


def pose_skeleton(dims: Dims, pose: Pose) -> PosedSkeleton:
    """Pose a body and project it."""
    joints = pose_joints(dims, pose)
    view, depth = rotate_view(joints, pose.yaw)
    return PosedSkeleton(dims=dims, pose=pose, joints=joints, view=view, depth=depth)


def _arm(rng: np.random.Generator, dims: Dims, side: float, mode: str, layer: int = 0) -> LimbPose:
    """An arm pose by name; `side` +1 is the person's left arm, `layer` orders crossing forearms."""
    if mode == "relaxed":
        return LimbPose(
            abduct=rng.uniform(7, 20),
            flex=rng.uniform(-8, 12),
            bend=rng.uniform(4, 28),
            bend_dir=(-side * 0.3, 0.0, 1.0),
        )
    if mode == "out":
        return LimbPose(
            abduct=rng.uniform(45, 85),
            flex=rng.uniform(-5, 15),
            bend=rng.uniform(0, 35),
            bend_dir=(0, -1, 0.3),
        )
    if mode == "raised":
        return LimbPose(
            abduct=rng.uniform(135, 168),
            flex=rng.uniform(-5, 10),
            bend=rng.uniform(0, 30),
            bend_dir=(-side, 0, -0.3),
        )
    if mode == "hand_on_head":
        target = (side * rng.uniform(0.1, 0.3), rng.uniform(0.05, 0.25), rng.uniform(0.0, 0.15))
        return LimbPose(target=target, pole=(side, -0.6, -0.2))
    if mode == "akimbo":
        a, _ = dims.torso_at(dims.y_waist + 0.3)
        target = (side * (a + 0.04), dims.y_waist + rng.uniform(0.1, 0.45), rng.uniform(0.05, 0.2))
        return LimbPose(target=target, pole=(side, 0.1, -0.7))
    if mode == "across":  # one hand to the opposite side of the waist, in front of the belly
        a, b = dims.torso_at(dims.y_waist)
        target = (-side * a * rng.uniform(0.05, 0.4), dims.y_waist + rng.uniform(-0.1, 0.3), b + 0.2)
        return LimbPose(target=target, pole=(side * 0.7, 1.0, -0.2))
    if mode == "crossed":  # forearms folded across the chest, one above the other
        _, b = dims.torso_at(dims.y_chest + 0.5)
        y = dims.y_chest + rng.uniform(0.25, 0.55) + (0.28 if layer else 0.0)
        target = (-side * (dims.chest_a * rng.uniform(0.55, 0.85)), y, b + 0.22 + 0.12 * layer)
        return LimbPose(target=target, pole=(side * 0.5, 1.0, -0.1))
    if mode == "clasp_low":  # hands together in front of the crotch
        target = (-side * 0.06, dims.y_crotch + rng.uniform(-0.35, 0.1), dims.hip_b + 0.25 + 0.05 * layer)
        return LimbPose(target=target, pole=(side, 0.4, -0.3))
    if mode == "hands_on_chest":
        a, b = dims.torso_at(dims.y_chest + 0.3)
        target = (
            side * a * rng.uniform(-0.3, 0.3),
            dims.y_chest + rng.uniform(0.1, 0.6),
            b + 0.18 + 0.1 * layer,
        )
        return LimbPose(target=target, pole=(side * 0.4, 1.0, -0.1))
    raise ValueError(f"unknown arm pose {mode!r}; known: {ARM_POSES + ARM_POSES_OCCLUDING + ('across',)}")


def _legs(rng: np.random.Generator, mode: str) -> tuple[LimbPose, LimbPose]:
    back = (0.0, 0.0, -1.0)
    if mode == "straight":
        return (
            LimbPose(abduct=rng.uniform(1, 5), bend=rng.uniform(0, 4), bend_dir=back),
            LimbPose(abduct=rng.uniform(1, 5), bend=rng.uniform(0, 4), bend_dir=back),
        )
    if mode == "apart":
        return (
            LimbPose(abduct=rng.uniform(7, 13), bend=rng.uniform(0, 5), bend_dir=back),
            LimbPose(abduct=rng.uniform(7, 13), bend=rng.uniform(0, 5), bend_dir=back),
        )
    if mode == "relaxed":  # weight on one leg, the other knee bent and turned in
        bent = LimbPose(
            abduct=rng.uniform(-4, 2), flex=rng.uniform(8, 18), bend=rng.uniform(15, 30), bend_dir=back
        )
        firm = LimbPose(abduct=rng.uniform(2, 6), bend=rng.uniform(0, 3), bend_dir=back)
        return (bent, firm) if rng.random() < 0.5 else (firm, bent)
    if mode == "stride":
        swing = rng.uniform(12, 24)
        front = LimbPose(abduct=2, flex=swing, bend=rng.uniform(5, 12), bend_dir=back)
        rear = LimbPose(abduct=2, flex=-swing * 0.8, bend=rng.uniform(10, 25), bend_dir=back)
        return (front, rear) if rng.random() < 0.5 else (rear, front)
    raise ValueError(f"unknown leg pose {mode!r}; known: {LEG_POSES}")


def make_pose(rng: np.random.Generator, dims: Dims, arms: str, legs: str, yaw: float) -> Pose:
    """A pose from an arm configuration name (ARM_POSES, ARM_POSES_OCCLUDING) and a leg stance."""
    left_first = rng.random() < 0.5
    if arms in ("relaxed", "out", "raised", "akimbo", "crossed", "clasp_low", "hands_on_chest"):
        left = _arm(rng, dims, 1.0, arms, layer=0 if left_first else 1)
        right = _arm(rng, dims, -1.0, arms, layer=1 if left_first else 0)
    elif arms in ("one_raised", "hand_on_head", "one_akimbo", "one_across"):
        single = {"one_raised": "raised", "hand_on_head": "hand_on_head", "one_akimbo": "akimbo"}
        mode = single.get(arms, "across")
        left = _arm(rng, dims, 1.0, mode if left_first else "relaxed")
        right = _arm(rng, dims, -1.0, "relaxed" if left_first else mode)
    else:
        raise ValueError(f"unknown arm pose {arms!r}; known: {ARM_POSES + ARM_POSES_OCCLUDING}")
    left_leg, right_leg = _legs(rng, legs)
    return Pose(
        name=arms,
        left_arm=left,
        right_arm=right,
        left_leg=left_leg,
        right_leg=right_leg,
        yaw=float(yaw),
        head_tilt=float(rng.uniform(-7, 7)),
        foot_out=float(rng.uniform(5, 20)),
    )


def mannequin_pose(kind: str, sleeve_angle: float) -> Pose:
    """The flat front-view pose an in-shop garment is laid out in (sleeves angled out, legs straight)."""
    arm = LimbPose(abduct=sleeve_angle, bend=0.0)
    leg = LimbPose(abduct=4.0 if kind == "pants" else 2.0)
    return Pose(name="flat", left_arm=arm, right_arm=arm, left_leg=leg, right_leg=leg, foot_out=0.0)


MOTIONS = ("walk", "arm_swing", "turn")


def clip_poses(
    rng: np.random.Generator,
    frames: int,
    motion: str,
    yaw: tuple[float, float],
    held_arms: Pose | None = None,
) -> list[Pose]:
    """Poses of a short clip with smooth motion: walking, swinging arms, or turning on the spot.

    `yaw` is (start, end): a turn eases from one to the other, the other motions keep the start.
    `held_arms` keeps the arms of that pose (e.g. crossed) through the clip instead of swinging them.
    """
    if motion not in MOTIONS:
        raise ValueError(f"unknown motion {motion!r}; known: {MOTIONS}")
    phase = rng.uniform(0, 2 * math.pi)
    span = rng.uniform(0.35, 0.6)  # fraction of a gait cycle the clip covers
    arm_amp, leg_amp = rng.uniform(10, 20), rng.uniform(12, 22)
    base_abduct = rng.uniform(8, 16)
    back, forward = (0.0, 0.0, -1.0), (0.0, 0.0, 1.0)
    poses = []
    for n in range(frames):
        t = n / max(frames - 1, 1)
        s = math.sin(phase + 2 * math.pi * span * t)
        c = abs(math.cos(phase + 2 * math.pi * span * t))
        arm_swing = {"walk": arm_amp * s, "arm_swing": 1.5 * arm_amp * s, "turn": 0.3 * arm_amp * s}[motion]
        leg_swing = leg_amp * s if motion == "walk" else 0.0
        yaw_t = (
            yaw[0] + (yaw[1] - yaw[0]) * (0.5 - 0.5 * math.cos(math.pi * t)) if motion == "turn" else yaw[0]
        )
        left_arm = LimbPose(
            abduct=base_abduct, flex=-arm_swing, bend=10 + 0.5 * abs(arm_swing), bend_dir=forward
        )
        right_arm = LimbPose(
            abduct=base_abduct, flex=arm_swing, bend=10 + 0.5 * abs(arm_swing), bend_dir=forward
        )
        if held_arms is not None:
            left_arm, right_arm = held_arms.left_arm, held_arms.right_arm
        poses.append(
            Pose(
                name=motion if held_arms is None else f"{motion}+{held_arms.name}",
                left_arm=left_arm,
                right_arm=right_arm,
                left_leg=LimbPose(
                    abduct=2, flex=leg_swing, bend=6 + 0.6 * max(0.0, -leg_swing), bend_dir=back
                ),
                right_leg=LimbPose(
                    abduct=2, flex=-leg_swing, bend=6 + 0.6 * max(0.0, leg_swing), bend_dir=back
                ),
                yaw=float(yaw_t),
                foot_out=8.0,
                bob=-0.05 * c * (leg_amp / 20) if motion == "walk" else 0.0,
            )
        )
    return poses
