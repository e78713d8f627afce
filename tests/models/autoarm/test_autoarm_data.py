"""Auto-ARM's examples: the parse truth per category, shard sample -> tensors, skips, and the flip that
re-draws the skeleton with left and right swapped."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from autoarm_shards import person_pose, sample_members
from PIL import Image

from models.autoarm.config import AutoArmConfig
from models.autoarm.data import OPENPOSE18_MIRROR, mirrored_skeleton, truth_mask
from models.autoarm.family import FAMILY
from preprocess.annotators.label_maps import LIP_LABELS
from preprocess.annotators.skeleton import OPENPOSE_COLOURS, render_skeleton
from preprocess.shards.codec import decode_sample


def _label(name: str) -> int:
    return LIP_LABELS.index(name)


def test_truth_mask_per_category_on_a_hand_built_parse():
    names = [
        "Background",
        "Upper-clothes",
        "Dress",
        "Coat",
        "Pants",
        "Skirt",
        "Jumpsuits",
        "Left-arm",
        "Face",
    ]
    parse = np.array([[_label(n) for n in names]], np.uint8)
    expected = {
        "upper": ["Upper-clothes", "Dress", "Coat"],
        "lower": ["Pants", "Skirt"],
        "dresses": ["Dress", "Jumpsuits"],
    }
    for category, inside in expected.items():
        mask = truth_mask(parse, category)
        assert mask.dtype == bool and mask.shape == parse.shape
        assert [n for n, m in zip(names, mask[0], strict=True) if m] == inside, category
    with pytest.raises(ValueError, match="upper, lower, dresses"):
        truth_mask(parse, "shoes")


def test_example_from_a_tiny_shard_sample():
    config = AutoArmConfig.preset("tiny", flip_probability=0.0)
    members = sample_members("s-001", category="lower", size=(60, 44))
    example = FAMILY.example(dict(members, __key__="s-001"), config, train=True)
    assert set(example) == {"inputs", "truth"}
    inputs, truth = example["inputs"], example["truth"]
    assert inputs.shape == (5, 128, 96) and truth.shape == (1, 128, 96)
    assert inputs.dtype == torch.float32 and 0.0 <= float(inputs.min()) and float(inputs.max()) <= 1.0
    decoded = decode_sample(members)
    nearest = Image.Resampling.NEAREST
    rough = np.asarray(Image.fromarray(decoded["agnostic_mask"]).resize((96, 128), nearest)) / 255.0
    garment = np.asarray(Image.fromarray(decoded["garment_mask"]).resize((96, 128), nearest)) / 255.0
    region = truth_mask(decoded["parse"], "lower").astype(np.uint8)
    expected_truth = np.asarray(Image.fromarray(region).resize((96, 128), nearest))
    np.testing.assert_allclose(inputs[0].numpy(), rough, atol=1e-6)
    np.testing.assert_allclose(inputs[1].numpy(), garment, atol=1e-6)
    np.testing.assert_array_equal(truth[0].numpy(), expected_truth)
    assert set(np.unique(truth.numpy())) == {0.0, 1.0}
    skeleton = inputs[2:].numpy()
    assert skeleton.max() > 0.5  # the pose render, bilinear: in-between values at limb edges
    assert ((skeleton > 0.05) & (skeleton < 0.95)).any()
    # the rough mask overshoots the garment: it is a real refinement target
    assert (inputs[0].numpy() >= truth[0].numpy()).all() and inputs[0].sum() > truth.sum()


def test_samples_without_a_usable_truth_are_skipped():
    config = AutoArmConfig.preset("tiny")
    base = sample_members("s-002", category="upper")
    assert FAMILY.example(base, config, train=False) is not None
    unpaired = sample_members("s-003", pair_mode="unpaired")
    assert FAMILY.example(unpaired, config, train=True) is None
    assert FAMILY.example({k: v for k, v in base.items() if k != "parse.png"}, config, train=True) is None
    assert FAMILY.example({k: v for k, v in base.items() if k != "skeleton.png"}, config, train=True) is None
    video = dict(
        base, **{"meta.json": json.dumps(json.loads(base["meta.json"]) | {"kind": "video"}).encode()}
    )
    assert FAMILY.example(video, config, train=True) is None
    shoes = dict(
        base, **{"meta.json": json.dumps(json.loads(base["meta.json"]) | {"category": "shoes"}).encode()}
    )
    assert FAMILY.example(shoes, config, train=True) is None


def test_flip_mirrors_masks_and_redraws_the_skeleton_left_right_swapped():
    members = sample_members("s-004", category="upper", size=(128, 96))
    plain = FAMILY.example(members, AutoArmConfig.preset("tiny", flip_probability=0.0), train=True)
    flipped = FAMILY.example(members, AutoArmConfig.preset("tiny", flip_probability=1.0), train=True)
    torch.testing.assert_close(flipped["inputs"][:2], plain["inputs"][:2].flip(-1))
    torch.testing.assert_close(flipped["truth"], plain["truth"].flip(-1))
    assert not torch.allclose(flipped["inputs"][2:], plain["inputs"][2:].flip(-1))  # not a pixel mirror
    # at full size: the mirrored render covers the mirrored pixels, in the other side's colours
    pose = person_pose(128, 96, np.random.default_rng(0))
    original = render_skeleton(pose, 128, 96)
    mirrored = mirrored_skeleton(pose, 128, 96)
    drawn, drawn_mirror = original.any(axis=2), mirrored.any(axis=2)[:, ::-1]
    assert (drawn & drawn_mirror).sum() / (drawn | drawn_mirror).sum() > 0.9
    right_wrist, left_wrist = 4, 7
    assert OPENPOSE18_MIRROR[right_wrist] == left_wrist
    x, y = (int(round(float(v))) for v in pose.body[right_wrist, :2])
    assert tuple(original[y, x]) == OPENPOSE_COLOURS[right_wrist]
    assert tuple(mirrored[y, 95 - x]) == OPENPOSE_COLOURS[left_wrist]
    # the augmentation draws with torch's generator: seeded runs repeat
    config = AutoArmConfig.preset("tiny", flip_probability=0.5)
    torch.manual_seed(0)
    first = [FAMILY.example(members, config, train=True)["inputs"] for _ in range(8)]
    torch.manual_seed(0)
    second = [FAMILY.example(members, config, train=True)["inputs"] for _ in range(8)]
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert any(torch.equal(a, plain["inputs"]) for a in first) and not all(
        torch.equal(a, plain["inputs"]) for a in first
    )
    # validation never flips
    assert torch.equal(FAMILY.example(members, config, train=False)["inputs"], plain["inputs"])
