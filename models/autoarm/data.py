"""Shard sample -> Auto-ARM tensors: the 5-channel input (M_r, M_g, P) and the parse-derived truth mask.

Inputs (seed 000 §4.2), from the shard members (`preprocess/shards/codec.py`), resized to the config's
height x width with values in [0, 1]:
- channel 0, M_r: `agnostic_mask.png`, the rough try-on mask (nearest-neighbour resize);
- channel 1, M_g: `garment_mask.png`, the mask of the sample's garment image; for an unpaired row that is
  the target garment, which is what an unpaired prediction refines towards (nearest);
- channels 2-4, P: `skeleton.png`, the OpenPose-coloured pose render, RGB (bilinear, antialiased).

Truth (§4.2: "the corresponding clothing segmentation extracted by HumanParsing") is the garment region of
the person's LIP-20 parse (`parse.png`) for the sample's category, `truth_mask`. Only paired rows carry a
truth that matches their garment mask (in an unpaired row the person wears another garment), so training
and validation read paired image rows only; video clips are skipped.

Augmentation (training only): a horizontal flip with probability `flip_probability`. Mirroring swaps the
person's left and right, and the skeleton's colours encode the side (OpenPose colours joint k and limb k
by index), so the skeleton is not mirrored as pixels: it is re-drawn from `pose.json` with x -> W-1-x and
every left/right joint pair swapped (`mirrored_skeleton`), then resized like the stored render. The masks
and the in-shop garment mask are mirrored as pixels. A sample without `pose.json` is never flipped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from io import BytesIO
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from PIL import Image

from preprocess.annotators.base import Pose
from preprocess.annotators.label_maps import LIP_LABELS
from preprocess.annotators.skeleton import render_skeleton
from preprocess.shards.codec import META_MEMBER

if TYPE_CHECKING:
    from models.autoarm.config import AutoArmConfig

ROUGH_MEMBER = "agnostic_mask.png"
GARMENT_MASK_MEMBER = "garment_mask.png"
SKELETON_MEMBER = "skeleton.png"
PARSE_MEMBER = "parse.png"
POSE_MEMBER = "pose.json"
INPUT_MEMBERS = (ROUGH_MEMBER, GARMENT_MASK_MEMBER, SKELETON_MEMBER)

# The person's garment region per category, as LIP-20 label names.
# - upper: Upper-clothes, Dress and Coat. VITON-HD's own preprocessing (VITON-HD `datasets.py` and
#   HR-VITON `cp_dataset.py`, label group 'upper': [5, 6, 7]) takes these three CIHP/LIP labels as the
#   upper garment a top replaces: a long top is often parsed as Dress and an open top as Coat. CatVTON's
#   AutoMasker (`model/cloth_masker.py`, MASK_CLOTH_PARTS['upper']) masks the same three plus Jumpsuits;
#   Jumpsuits is left out here because it is as much a lower garment as an upper one (it goes to dresses).
#   Dress Code's `dataset.py` uses ATR upper_clothes (label 4), which maps to LIP Upper-clothes.
# - lower: Pants and Skirt: VITON-HD/HR-VITON's 'bottom' group [9, 12]; Dress Code's lower-body region
#   (ATR pants 6 and skirt 5; its belt maps to Pants in `label_maps.ATR_TO_LIP`).
# - dresses: Dress and Jumpsuits: Dress Code's dresses region (ATR dress 7) plus LIP's other one-piece
#   garment (CatVTON's overall mask treats Dress and Jumpsuits alike).
# Note `preprocess.filters.hqft_measures.GARMENT_LABELS` (used by the HQFT filter and the paste baseline)
# leaves Dress out of upper; for a person in a top, where a Dress label is absent, both agree.
TRUTH_LABEL_NAMES: dict[str, tuple[str, ...]] = {
    "upper": ("Upper-clothes", "Dress", "Coat"),
    "lower": ("Pants", "Skirt"),
    "dresses": ("Dress", "Jumpsuits"),
}
TRUTH_LABELS: dict[str, tuple[int, ...]] = {
    category: tuple(LIP_LABELS.index(name) for name in names) for category, names in TRUTH_LABEL_NAMES.items()
}
CATEGORIES = tuple(TRUTH_LABELS)

# OpenPose-18 joint k's mirror image: right and left shoulder/elbow/wrist/hip/knee/ankle/eye/ear swap.
OPENPOSE18_MIRROR = (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16)


def truth_mask(parse: np.ndarray, category: str) -> np.ndarray:
    """Bool (H, W): the pixels of a LIP-20 parse in the category's garment region (`TRUTH_LABEL_NAMES`)."""
    if category not in TRUTH_LABELS:
        raise ValueError(f"unknown category {category!r}; Auto-ARM knows {', '.join(CATEGORIES)}")
    return np.isin(np.asarray(parse), TRUTH_LABELS[category])


def sample_meta(sample: Mapping[str, Any]) -> dict[str, Any]:
    """The sample's meta.json as a dict ({} when it has none)."""
    data = sample.get(META_MEMBER)
    return json.loads(data) if data else {}


def skip_reason(sample: Mapping[str, Any], meta: Mapping[str, Any], *, need_truth: bool) -> str | None:
    """Why Auto-ARM cannot use this shard sample (None when it can); `need_truth` for training/validation."""
    if meta.get("kind") == "video":
        return "video clip: Auto-ARM refines single images"
    category = meta.get("category")
    if category not in TRUTH_LABELS:
        return f"category {category!r} is not one of {', '.join(CATEGORIES)}"
    wanted = INPUT_MEMBERS + ((PARSE_MEMBER,) if need_truth else ())
    lacking = [m for m in wanted if m not in sample]
    if lacking:
        return f"no {', '.join(lacking)} in the shards: annotate the dataset first (vton data build)"
    if need_truth and (meta.get("pair_mode") or "paired") != "paired":
        return "unpaired row: the parse shows the person's own garment, not the target garment"
    return None


def decode_png(data: bytes, mode: str, member: str) -> np.ndarray:
    """A PNG member as a uint8 array in `mode` ("L" or "RGB"); an unreadable one raises naming the member."""
    try:
        with Image.open(BytesIO(data)) as image:
            return np.asarray(image if image.mode == mode else image.convert(mode))
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{member} is not a readable PNG ({exc}); rebuild the shards (vton data build)"
        ) from exc


def resize(array: np.ndarray, height: int, width: int, *, nearest: bool) -> np.ndarray:
    """Resize a uint8 (H, W) or (H, W, 3) array; nearest for masks, bilinear (antialiased) for images."""
    if array.shape[:2] == (height, width):
        return array
    method = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(np.ascontiguousarray(array)).resize((width, height), method))


def mirrored_skeleton(pose: Pose, height: int, width: int) -> np.ndarray:
    """The skeleton render of the horizontally mirrored person: x -> W-1-x and left/right joints swapped."""
    body = np.asarray(pose.body, dtype=np.float32)[list(OPENPOSE18_MIRROR)].copy()
    body[:, 0] = (width - 1) - body[:, 0]
    return render_skeleton(body, height, width)


def input_arrays(
    sample: Mapping[str, Any], height: int, width: int, *, flip: bool = False
) -> tuple[np.ndarray, tuple[int, int]]:
    """(5, height, width) float32 input in [0, 1] and the person's original (H, W).

    With `flip`, the person-side masks and the garment mask are mirrored and the skeleton re-drawn mirrored
    from `pose.json` (the caller checks it is present).
    """
    key = sample.get("__key__", "?")
    rough = decode_png(sample[ROUGH_MEMBER], "L", f"{key}.{ROUGH_MEMBER}")
    garment = decode_png(sample[GARMENT_MASK_MEMBER], "L", f"{key}.{GARMENT_MASK_MEMBER}")
    original = (int(rough.shape[0]), int(rough.shape[1]))
    if flip:
        rough, garment = rough[:, ::-1], garment[:, ::-1]
        pose = Pose.from_json(json.loads(sample[POSE_MEMBER]))
        skeleton = mirrored_skeleton(pose, *original)
    else:
        skeleton = decode_png(sample[SKELETON_MEMBER], "RGB", f"{key}.{SKELETON_MEMBER}")
    channels = np.concatenate(
        [
            resize(rough, height, width, nearest=True)[None],
            resize(garment, height, width, nearest=True)[None],
            resize(skeleton, height, width, nearest=False).transpose(2, 0, 1),
        ]
    )
    return channels.astype(np.float32) / 255.0, original


def truth_array(
    sample: Mapping[str, Any], category: str, height: int, width: int, *, flip: bool = False
) -> np.ndarray:
    """(1, height, width) float32 {0, 1}: the garment region of the sample's parse, resized (nearest)."""
    parse = decode_png(sample[PARSE_MEMBER], "L", f"{sample.get('__key__', '?')}.{PARSE_MEMBER}")
    region = truth_mask(parse, category)
    if flip:
        region = region[:, ::-1]
    return resize(region.astype(np.uint8), height, width, nearest=True)[None].astype(np.float32)


def example_from_sample(
    sample: Mapping[str, Any], config: AutoArmConfig, *, train: bool
) -> dict[str, torch.Tensor] | None:
    """{"inputs": (5, H, W), "truth": (1, H, W)} float32 tensors for one shard sample, or None to skip it
    (video, unknown category, missing member, unpaired row; see `skip_reason`)."""
    meta = sample_meta(sample)
    if skip_reason(sample, meta, need_truth=True) is not None:
        return None
    flip = (
        train
        and config.flip_probability > 0
        and POSE_MEMBER in sample
        and bool(torch.rand(()) < config.flip_probability)
    )
    inputs, _ = input_arrays(sample, config.height, config.width, flip=flip)
    truth = truth_array(sample, meta["category"], config.height, config.width, flip=flip)
    return {"inputs": torch.from_numpy(inputs), "truth": torch.from_numpy(truth)}
