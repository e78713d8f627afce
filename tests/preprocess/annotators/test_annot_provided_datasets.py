"""The provided backend on generated VITON-HD, Dress Code and VVT trees recovers the generator's exact truth."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from preprocess.annotators.base import AnnotationError, AnnotationInput, Pose
from preprocess.annotators.provided import ProvidedAnnotator
from preprocess.formats import read_dataset
from preprocess.images import decode_image
from preprocess.synthetic import generate_dataset, plan_dataset
from preprocess.synthetic import labels as synth
from preprocess.synthetic.keypoints import coco18
from preprocess.synthetic.scenario import render_clip, render_image_sample

SEED = 5


def _truth_image(layout: str, count: int, size: tuple[int, int]) -> dict[str, object]:
    """Re-render every sample; the framing is the one whose picture matches the written person image."""
    out = {}
    for plan in plan_dataset(layout, count, SEED):
        renders = [render_image_sample(plan, SEED, size, framing) for framing in ("upper", "full")]
        out[plan.name] = renders
    return out


def _pick(renders, person: np.ndarray):
    return min(renders, key=lambda r: np.abs(r.person.rgb.astype(int) - person).mean())


def _inputs(root: Path, layout: str) -> list[AnnotationInput]:
    result = read_dataset(root, layout, layout)
    items = []
    for sample in result.samples:
        if sample.pair_mode != "paired":
            continue
        person = decode_image(root / sample.person_path) if sample.kind == "image" else None
        items.append(AnnotationInput(sample.sample_id, dataclasses.asdict(sample), root, person=person))
    return items


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("provided")
    sizes = {"vitonhd": ((256, 192), 4), "dresscode": ((128, 96), 6), "vvt": ((128, 96), 2)}
    for layout, (size, count) in sizes.items():
        generate_dataset(layout, count, base / layout, seed=SEED, size=size)
    return base, sizes


def test_vitonhd_parse_pose_densepose_and_mask_match_the_render(trees):
    base, sizes = trees
    size, count = sizes["vitonhd"]
    truth = _truth_image("vitonhd", count, size)
    items = _inputs(base / "vitonhd", "vitonhd")
    results = ProvidedAnnotator()(items)
    assert len(results) == count
    for item, out in zip(items, results, strict=True):
        name = Path(item.row["person_path"]).stem
        render = _pick(truth[name], item.person)
        assert set(out) == {"parse", "pose", "densepose", "garment_mask"}
        assert np.array_equal(out["parse"], synth.parse_for("lip", render.person.sem)), "CIHP -> LIP exact"
        pose = out["pose"]
        assert isinstance(pose, Pose) and pose.source == "body25"
        assert np.allclose(pose.body, coco18(render.person.keypoints), atol=1e-3)
        assert np.allclose(pose.wholebody[18:24], render.person.keypoints[19:25], atol=1e-3)
        parts = out["densepose"][..., 0]
        assert (parts == render.person.dp_parts).mean() >= 0.97, "dp_segm JPEG decoded"
        assert not out["densepose"][..., 1:].any(), "the colour map holds I only"
        mask = out["garment_mask"]
        assert set(np.unique(mask)) <= {0, 255} and mask.shape == render.shop.mask.shape
        assert ((mask > 0) == (render.shop.mask > 127)).mean() > 0.98


def test_dresscode_keypoints_scale_back_to_pixels_and_dense_is_exact(trees):
    base, sizes = trees
    size, count = sizes["dresscode"]
    truth = _truth_image("dresscode", count, size)
    items = _inputs(base / "dresscode", "dresscode")
    results = ProvidedAnnotator()(items)
    assert {item.row["category"] for item in items} == {"upper", "lower", "dresses"}
    for item, out in zip(items, results, strict=True):
        name = Path(item.row["person_path"]).stem.split("_")[0]
        render = _pick(truth[name], item.person).person
        assert np.array_equal(out["parse"], synth.parse_for("lip", render.sem)), "ATR -> LIP exact"
        expected = coco18(render.keypoints)
        seen = expected[:, 2] >= 0.1
        assert np.abs(out["pose"].body[seen, :2] - expected[seen, :2]).max() <= 1.0
        assert not out["pose"].body[~seen].any(), "missing joints are (0, 0, 0)"
        iuv = out["densepose"]
        assert np.array_equal(iuv[..., 0], render.dp_parts)
        assert np.array_equal(iuv[..., 1], np.rint(render.dp_u * 255).astype(np.uint8))
        assert np.array_equal(iuv[..., 2], np.rint(render.dp_v * 255).astype(np.uint8))


def test_vvt_frames_carry_lip_parse_legacy_pose_and_iuv(trees):
    base, sizes = trees
    size, count = sizes["vvt"]
    plans = {plan.name: plan for plan in plan_dataset("vvt", count, SEED)}
    items = _inputs(base / "vvt", "vvt")
    results = ProvidedAnnotator()(items)
    for item, out in zip(items, results, strict=True):
        clip = render_clip(plans[Path(item.row["person_path"]).name], SEED, size)
        assert len(out["frames"]) == len(clip.frames) and "garment_mask" in out
        for frame, render in zip(out["frames"], clip.frames, strict=True):
            assert np.array_equal(frame["parse"], synth.parse_for("lip", render.sem))
            assert frame["pose"].source == "openpose18_legacy"
            assert np.allclose(frame["pose"].body, coco18(render.keypoints), atol=1e-3)
            assert np.array_equal(frame["densepose"][..., 0], render.dp_parts)
            assert np.array_equal(frame["densepose"][..., 1], np.rint(render.dp_u * 255).astype(np.uint8))


def _copy(trees, tmp_path) -> tuple[Path, AnnotationInput]:
    base, _ = trees
    root = tmp_path / "vitonhd"
    shutil.copytree(base / "vitonhd", root)
    return root, _inputs(root, "vitonhd")[0]


def test_absent_annotations_stay_absent(trees, tmp_path):
    _, item = _copy(trees, tmp_path)
    item.row["annotations"] = [("pose", item.row["annotations"]["pose"])]  # pyarrow's list of pairs
    out = ProvidedAnnotator()([item])[0]
    assert set(out) == {"pose"}


def test_unreadable_and_mismatched_files_name_the_file(trees, tmp_path):
    root, item = _copy(trees, tmp_path)
    parse_rel = item.row["annotations"]["parse"]
    (root / parse_rel).write_bytes(b"")
    with pytest.raises(AnnotationError, match=f"{item.sample_id}.*{parse_rel}.*empty"):
        ProvidedAnnotator()([item])
    pose_rel = item.row["annotations"]["pose"]
    (root / pose_rel).write_text("{not json")
    item.row["annotations"] = {"pose": pose_rel}
    with pytest.raises(AnnotationError, match=f"{pose_rel}.*not valid JSON"):
        ProvidedAnnotator()([item])
    item.row["annotations"] = {"garment_mask": "cut.png"}
    Image.new("L", (40, 40)).save(root / "cut.png")  # square: not the garment's 3:4 aspect
    item.row["garment_height"], item.row["garment_width"] = 256, 192
    with pytest.raises(AnnotationError, match=r"cut\.png.*aspect ratio"):
        ProvidedAnnotator()([item])


def test_same_aspect_maps_are_resized_to_the_image(trees, tmp_path):
    root, item = _copy(trees, tmp_path)
    half = np.zeros((128, 96), np.uint8)
    half[32:96, 24:72] = 5  # upper clothes
    Image.fromarray(half, "L").save(root / "half.png")
    item.row["annotations"] = {"parse": "half.png"}
    out = ProvidedAnnotator()([item])[0]
    assert out["parse"].shape == (256, 192)
    assert out["parse"][64:192, 48:144].min() == 5 and out["parse"][:60].max() == 0
