"""What one synthetic sample shows: from its planned intents to a rendered person and in-shop garment.

The dataset plan gives each sample a category and intents (occluded, mildly occluded, truncated, side
view, extreme proportion); here they become concrete choices (arm pose, yaw, framing, body and garment
shape), drawn from the sample's own random generator seeded by (seed, index), so any sample can be
regenerated alone and samples can be rendered in parallel. The labels written to the truth file are
then measured on the render, not copied from the intents.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from preprocess.synthetic import figure as F
from preprocess.synthetic import garments as G
from preprocess.synthetic import skeleton as S
from preprocess.synthetic.scenes import sample_background

OCCLUDING_ARMS = {
    "upper": ("crossed", "hands_on_chest"),
    "lower": ("clasp_low",),
    "dresses": ("crossed", "clasp_low"),
}
MILD_ARMS = {
    "upper": ("akimbo", "one_akimbo", "one_across"),
    "lower": ("akimbo", "one_across"),
    "dresses": ("akimbo", "one_akimbo", "one_across"),
}
FREE_ARMS = ("relaxed", "relaxed", "out", "raised", "one_raised", "hand_on_head")


@dataclass(frozen=True)
class SamplePlan:
    """A sample's place in the dataset: id, split, category, unpaired partner and intents."""

    index: int
    name: str  # the file id (VITON-HD "00006_00", Dress Code "013563", VVT clip id)
    split: str
    category: str
    partner: int  # index of the sample whose garment the unpaired test pair uses (itself when paired)
    intents: tuple[str, ...]


@dataclass
class Look:
    """The person of a sample: body, garments and everything fixed across a clip's frames."""

    body: S.BodyShape
    dims: S.Dims
    garments: dict[str, G.GarmentSpec]
    materials: dict[str, F.Material]
    background: np.ndarray
    background_kind: str


@dataclass
class ImageSample:
    """A rendered image sample: the person, the in-shop garment and what was chosen."""

    plan: SamplePlan
    look: Look
    person: F.PersonImage
    shop: F.ShopImage
    pose: str
    yaw: float


@dataclass
class ClipSample:
    """A rendered clip: frames of one person in motion and the in-shop garment."""

    plan: SamplePlan
    look: Look
    frames: list[F.PersonImage]
    shop: F.ShopImage
    motion: str
    yaws: list[float]


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of one sample: independent of every other sample and of the dataset size."""
    return np.random.default_rng([int(seed), int(index)])


def _look(rng: np.random.Generator, plan: SamplePlan, size: tuple[int, int]) -> Look:
    extreme = "extreme_proportion" in plan.intents
    extreme_body = extreme and rng.random() < 0.6
    body = S.sample_body_shape(rng, extreme_body)
    if "mildly_occluded" in plan.intents and rng.random() < 0.3:
        body = replace(body, hair_style="long", hair_front=True)
    elif "mildly_occluded" not in plan.intents and "occluded" not in plan.intents:
        body = replace(body, hair_front=False)
    dims = S.body_dims(body)
    garments = {"target": G.sample_garment(rng, plan.category, extreme and not extreme_body)}
    if plan.category == "upper":
        garments["other"] = G.sample_garment(rng, "lower")
    elif plan.category == "lower":  # the top covers the waistband only when the sample should be occluded
        top = G.sample_garment(rng, "upper")
        if "occluded" in plan.intents:
            top = replace(top, length=float(rng.uniform(0.6, 0.95)), ease=min(top.ease, 0.14))
        elif rng.random() < 0.5:
            top = replace(top, ease=min(top.ease, 0.14), tucked=True)
        else:
            top = replace(top, length=float(rng.uniform(-0.3, 0.0)), ease=min(top.ease, 0.14))
        garments["other"] = top
    materials = F.person_materials(body, dims, garments, F.shoe_colour(rng))
    background, kind = sample_background(rng, size)
    return Look(body, dims, garments, materials, background, kind)


def _arms(rng: np.random.Generator, plan: SamplePlan) -> str:
    if "occluded" in plan.intents:
        return str(rng.choice(OCCLUDING_ARMS[plan.category]))
    if "mildly_occluded" in plan.intents:
        return str(rng.choice(MILD_ARMS[plan.category]))
    return str(rng.choice(FREE_ARMS))


def _yaw(rng: np.random.Generator, plan: SamplePlan) -> float:
    sign = 1.0 if rng.random() < 0.5 else -1.0
    if "side_view" in plan.intents:
        return sign * float(rng.uniform(58, 85))
    return sign * float(rng.uniform(0, 22))


def _builds(look: Look, skel: S.PosedSkeleton) -> dict[str, G.GarmentBuild]:
    waist = None
    for spec in look.garments.values():
        if spec.category == "lower":
            waist = G.waistband_y(spec, look.dims)
    return {role: G.build_garment(spec, skel, role, waist) for role, spec in look.garments.items()}


def render_image_sample(plan: SamplePlan, seed: int, size: tuple[int, int], framing: str) -> ImageSample:
    """Render one person/garment sample; `framing` is "upper" (VITON-HD-like) or "full" (whole body)."""
    rng = sample_rng(seed, plan.index)
    look = _look(rng, plan, size)
    arms = _arms(rng, plan)
    legs = str(rng.choice(S.LEG_POSES, p=[0.3, 0.25, 0.3, 0.15]))
    pose = S.make_pose(rng, look.dims, arms, legs, _yaw(rng, plan))
    skel = S.pose_skeleton(look.dims, pose)
    builds = _builds(look, skel)
    pieces = F.body_pieces(skel, look.body) + [p for b in builds.values() for p in b.pieces]
    camera = F.frame_person(skel, pieces, size, framing, "truncated" in plan.intents, rng)
    person = F.render_person(
        skel, look.body, builds, look.materials, look.background, camera, rng, with_uv=True
    )
    shop = F.render_shop(look.garments["target"], look.dims, size, rng)
    return ImageSample(plan, look, person, shop, arms, pose.yaw)


def render_clip(plan: SamplePlan, seed: int, size: tuple[int, int]) -> ClipSample:
    """Render one VVT-style clip: 4-8 frames of smooth walking, arm swing or turning."""
    rng = sample_rng(seed, plan.index)
    look = _look(rng, plan, size)
    frames = int(rng.integers(4, 9))
    motion = str(rng.choice(S.MOTIONS, p=[0.5, 0.25, 0.25]))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    if "side_view" in plan.intents:  # walks in profile, or turns from the front into a side view
        side = sign * float(rng.uniform(58, 85))
        yaw = (sign * float(rng.uniform(0, 15)), side) if motion == "turn" else (side, side)
    else:  # turns stay clear of the side-view threshold
        start = sign * float(rng.uniform(0, 12))
        yaw = (start, -sign * float(rng.uniform(12, 36))) if motion == "turn" else (start, start)
    held = None
    if "occluded" in plan.intents or "mildly_occluded" in plan.intents:
        held = S.make_pose(rng, look.dims, _arms(rng, plan), "straight", yaw[0])
    poses = S.clip_poses(rng, frames, motion, yaw, held_arms=held)
    skels = [S.pose_skeleton(look.dims, p) for p in poses]
    builds = [_builds(look, skel) for skel in skels]
    pieces = F.body_pieces(skels[0], look.body) + [p for b in builds[0].values() for p in b.pieces]
    camera = F.frame_person(skels[0], pieces, size, "full", "truncated" in plan.intents, rng)
    images = [
        F.render_person(skel, look.body, b, look.materials, look.background, camera, rng, with_uv=True)
        for skel, b in zip(skels, builds, strict=True)
    ]
    shop = F.render_shop(look.garments["target"], look.dims, size, rng)
    return ClipSample(plan, look, images, shop, motion, [p.yaw for p in poses])
