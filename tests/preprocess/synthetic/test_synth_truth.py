"""Annotations and ground truth agree with what was drawn: parse, garment region, keypoints, landmarks,
DensePose, agnostic images, labels measured on the render, and clip motion."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from PIL import Image

from preprocess.annotators.densepose_codec import decode_dp_segm
from preprocess.synthetic import LABELS, generate_dataset, read_truth
from preprocess.synthetic import truth as T
from preprocess.synthetic.generator import plan_dataset
from preprocess.synthetic.scenario import render_image_sample
from preprocess.synthetic.skeleton import LHIP, LSHO, RHIP, RSHO

ATR_GARMENT = {"upper": {4}, "lower": {5, 6}, "dresses": {7}}
LEFT_ARM_PARTS = {4, 15, 17, 19, 21}
RIGHT_ARM_PARTS = {3, 16, 18, 20, 22}


def _grey(path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def _inside(mask: np.ndarray, x: float, y: float) -> bool:
    h, w = mask.shape
    xi, yi = int(round(x)), int(round(y))
    return 0 <= xi < w and 0 <= yi < h and bool(mask[yi, xi])


def _dilate(mask: np.ndarray, px: int = 1) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0


def _core(mask: np.ndarray, px: int = 2) -> np.ndarray:
    """The mask without its outer `px` pixels (also along the image border)."""
    kernel = np.ones((2 * px + 1, 2 * px + 1), np.uint8)
    return cv2.erode(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0


def test_vitonhd_parse_upper_clothes_is_exactly_the_garment_region(vitonhd):
    for record in vitonhd.truth:
        parse = np.array(
            Image.open(vitonhd.root / record["split"] / "image-parse-v3" / f"{record['id']}.png")
        )
        region = _grey(vitonhd.root / record["garment_region"]) > 127
        assert region.sum() > 200, record["id"]
        assert np.array_equal(region, parse == 5), record["id"]


def test_dresscode_label_map_garment_is_exactly_the_garment_region(dresscode):
    for record in dresscode.truth:
        labels = np.array(
            Image.open(
                dresscode.root
                / record["person"].replace("images/", "label_maps/").replace("_0.jpg", "_4.png")
            )
        )
        region = _grey(dresscode.root / record["garment_region"]) > 127
        assert np.array_equal(region, np.isin(labels, list(ATR_GARMENT[record["category"]]))), record["id"]


def test_in_shop_garment_is_the_worn_garment_on_near_white(vitonhd):
    for record in vitonhd.truth:
        person = cv2.imread(str(vitonhd.root / record["person"]))[..., ::-1].astype(np.float32)
        cloth = cv2.imread(str(vitonhd.root / record["garment"]))[..., ::-1].astype(np.float32)
        mask = _grey(vitonhd.root / record["split"] / "cloth-mask" / f"{record['id']}.jpg") > 127
        region = _core(_grey(vitonhd.root / record["garment_region"]) > 127)
        base = np.array(record["garment_colour"], np.float32)
        for pixels, where in ((person[region], "person"), (cloth[_core(mask)], "shop")):
            near = np.linalg.norm(pixels - base, axis=1) < 60
            assert near.mean() > 0.1, f"{record['id']}: garment colour missing in the {where} image"
        background = cloth[~_dilate(mask, 3)]
        assert background.min() >= 200 and np.median(background) >= 230, record["id"]
        assert (np.linalg.norm(cloth[mask] - np.median(background, axis=0), axis=1) > 10).mean() > 0.9


def test_keypoints_lie_on_the_figure_and_unseen_ones_are_zero(vitonhd, dresscode):
    for record in vitonhd.truth:
        base = vitonhd.root / record["split"]
        figure = _dilate(np.array(Image.open(base / "image-parse-v3" / f"{record['id']}.png")) > 0)
        pose = json.loads((base / "openpose_json" / f"{record['id']}_keypoints.json").read_text())
        points = np.array(pose["people"][0]["pose_keypoints_2d"]).reshape(25, 3)
        assert (points[:, 2] >= 0.1).sum() >= 8
        for x, y, c in points:
            assert _inside(figure, x, y) if c >= 0.1 else (x, y, c) == (0, 0, 0)
    for record in dresscode.truth:
        labels = np.array(
            Image.open(
                dresscode.root
                / record["person"].replace("images/", "label_maps/").replace("_0.jpg", "_4.png")
            )
        )
        figure = _dilate(labels > 0)
        h, w = labels.shape
        keypoints = json.loads(
            (
                dresscode.root
                / record["person"].replace("images/", "keypoints/").replace("_0.jpg", "_2.json")
            ).read_text()
        )["keypoints"]
        seen = [(x * w / 384, y * h / 512) for x, y, score, _ in keypoints if score > 0]
        assert len(seen) >= 8 and all(_inside(figure, x, y) for x, y in seen), record["id"]


def test_landmarks_sit_on_the_garment_in_both_images(vitonhd, dresscode):
    for data in (vitonhd, dresscode):
        for record in data.truth:
            n = {"upper": 9, "lower": 8, "dresses": 9}[record["category"]]
            assert (
                len(record["landmark_names"])
                == len(record["landmarks_person"])
                == len(record["landmarks_garment"])
                == n
            )
            region = _dilate(_grey(data.root / record["garment_region"]) > 127)
            shop_mask = _grey(data.root / record["garment"]) < 235  # the garment is darker than its backdrop
            if data is vitonhd:
                shop_mask = _grey(data.root / record["split"] / "cloth-mask" / f"{record['id']}.jpg") > 127
            for (x, y, v), (sx, sy, sv) in zip(
                record["landmarks_person"], record["landmarks_garment"], strict=True
            ):
                assert sv == 2 and _inside(_dilate(shop_mask), sx, sy), record["id"]
                if v == 2:
                    assert _inside(region, x, y), record["id"]
            names = record["landmark_names"]
            for lm in ("landmarks_garment",) + (("landmarks_person",) if abs(record["yaw"]) < 20 else ()):
                pts = dict(zip(names, record[lm], strict=True))
                left, right = (
                    ("waist_left", "waist_right")
                    if record["category"] == "lower"
                    else ("left_shoulder", "right_shoulder")
                )
                assert pts[left][0] > pts[right][0], (
                    f"{record['id']} {lm}: the person's left is on the image right"
                )
                if record["category"] == "upper":
                    assert pts["neck"][1] < pts["left_hip"][1] and pts["neck"][1] < pts["right_hip"][1]


def test_short_sleeves_place_elbow_and_wrist_at_the_sleeve_end(vitonhd, dresscode):
    seen = set()
    for record in vitonhd.truth + dresscode.truth:
        if record["category"] != "upper":
            continue
        place = dict(zip(record["landmark_names"], record["landmark_placement"], strict=True))
        shop = dict(zip(record["landmark_names"], record["landmarks_garment"], strict=True))
        kind = record["garment_kind"]
        seen.add(kind)
        if kind == "tee":
            assert place["left_elbow"] == place["left_wrist"] == "sleeve_end"
            assert shop["left_elbow"][:2] == shop["left_wrist"][:2]
        elif kind == "longsleeve":
            assert place["left_elbow"] == place["left_wrist"] == "joint"
            assert shop["left_wrist"][1] > shop["left_elbow"][1]
        elif kind == "tank":
            assert place["left_elbow"] == "armhole"
    assert len(seen) >= 2


def test_densepose_image_agrees_with_the_parse(vitonhd):
    for record in vitonhd.truth:
        base = vitonhd.root / record["split"]
        parse = np.array(Image.open(base / "image-parse-v3" / f"{record['id']}.png"))
        parts = decode_dp_segm(cv2.imread(str(base / "image-densepose" / f"{record['id']}.jpg"))[..., ::-1])
        for label, allowed in ((14, LEFT_ARM_PARTS), (15, RIGHT_ARM_PARTS)):
            core = _core(parse == label)
            if core.sum() > 30:
                assert np.isin(parts[core], list(allowed)).mean() > 0.9, (record["id"], label)
        person = _core(parse > 0)
        assert (parts[person] > 0).mean() > 0.85
        assert (parts[~_dilate(parse > 0, 3)] == 0).mean() > 0.99, "background stays black"


def test_agnostic_greys_the_upper_garment_and_keeps_the_face(vitonhd):
    for record in vitonhd.truth:
        base = vitonhd.root / record["split"]
        parse = np.array(Image.open(base / "image-parse-v3" / f"{record['id']}.png"))
        person = cv2.imread(str(base / "image" / f"{record['id']}.jpg")).astype(np.int16)
        agnostic = cv2.imread(str(base / "agnostic-v3.2" / f"{record['id']}.jpg")).astype(np.int16)
        cloth = _core(parse == 5)
        assert (np.abs(agnostic[cloth] - 128).max(axis=1) <= 12).mean() > 0.95
        face = _core(parse == 13)
        if face.sum():
            assert np.abs(agnostic[face] - person[face]).mean() < 6


def test_truncated_label_matches_the_garment_touching_the_border(vitonhd, dresscode):
    for data in (vitonhd, dresscode):
        for record in data.truth:
            region = _grey(data.root / record["garment_region"]) > 127
            touches = region[0].any() or region[-1].any() or region[:, 0].any() or region[:, -1].any()
            if touches:
                assert record["truncated"], record["id"]


@pytest.fixture(scope="module")
def fifty(tmp_path_factory):
    """50-sample datasets, small images: enough for every label to show up."""
    out = {}
    for layout in ("vitonhd", "dresscode"):
        root = tmp_path_factory.mktemp("fifty") / layout
        generate_dataset(layout, 50, root, seed=4, size=(128, 96))
        out[layout] = read_truth(root)
    return out


def test_labels_are_mixed_in_fifty_samples(fifty):
    for layout, truth in fifty.items():
        assert len(truth) == 50
        for label in LABELS:
            count = sum(r[label] for r in truth)
            assert 2 <= count <= 20, f"{layout}: {count}/50 samples {label}"
        assert not any(r["occluded"] and r["mildly_occluded"] for r in truth)
        assert 8 <= sum(r["split"] == "test" for r in truth) <= 12, "about 20% test"
    for label in LABELS:
        assert sum(r[label] for truth in fifty.values() for r in truth) >= 6, label


def _worst(record: dict) -> float:
    return max(record["key_hidden"].values(), default=0.0)


def test_occlusion_labels_are_measured_on_the_key_slabs(fifty):
    truth = fifty["vitonhd"] + fifty["dresscode"]
    facing = [r for r in truth if abs(r["yaw"]) < T.SIDE_VIEW_YAW]
    folded = [r for r in facing if r["pose"] in ("crossed", "hands_on_chest", "clasp_low")]
    free = [r for r in facing if r["pose"] in ("out", "raised", "one_raised")]
    assert len(folded) >= 4 and len(free) >= 10
    assert np.mean([r["occluded"] for r in folded]) >= 0.7, "arms folded over the garment hide its key slabs"
    assert np.mean([r["occluded"] or r["mildly_occluded"] for r in free]) <= 0.1, (
        "arms out of the way hide nothing"
    )
    for r in truth:
        worst, front = _worst(r), abs(r["yaw"]) < T.SIDE_VIEW_YAW
        assert set(r["key_hidden"]) <= set(
            ("collar", "chest", "hem", "waistband", "front", "neckline", "waist")
        )
        assert r["occluded"] == (front and worst >= T.OCCLUDED_SLAB), r["id"]
        assert r["mildly_occluded"] == (front and T.MILD_SLAB <= worst < T.OCCLUDED_SLAB), r["id"]
    # measured, not intended: a pose meant to occlude can leave the key slabs mostly in view
    assert any("occluded" in r["intents"] and not r["occluded"] for r in truth)


def test_extreme_proportion_labels_follow_the_measured_proportions(fifty):
    truth = fifty["vitonhd"] + fifty["dresscode"]
    for r in truth:
        p = {k: math.nan if v is None else v for k, v in r["proportions"].items()}
        outside = [
            not lo <= p[k] <= hi
            for k, (lo, hi) in (("torso_heads", T.TORSO_HEADS), ("build", T.BUILD), ("hem", T.HEM))
            if not math.isnan(p[k])
        ]
        expected = any(outside) or p["ease"] > T.EASE or p["flare"] > T.FLARE
        assert r["extreme_proportion"] == expected, r["id"]
        if abs(r["yaw"]) >= T.SIDE_VIEW_YAW:  # a side view hides the body's width: nothing is measured
            assert all(math.isnan(v) for v in p.values()) and not r["extreme_proportion"], r["id"]
    assert sum(r["extreme_proportion"] for r in truth) >= 6


def test_render_measures_match_the_drawn_geometry():
    """Torso, build and ease measured on the pixels agree with the body and garment they were drawn from."""
    checked = 0
    for plan in plan_dataset("dresscode", 24, seed=5):
        sample = render_image_sample(plan, 5, (256, 192), "full")
        m = sample.person.measures
        if not m.facing or math.isnan(m.torso_heads):
            continue
        body, dims, yaw = sample.look.body, sample.look.dims, math.radians(sample.yaw)
        assert m.torso_heads == pytest.approx(dims.y_hip - dims.y_sho, rel=1e-6)
        assert m.build == pytest.approx(
            body.width * math.sqrt(body.shoulder * body.hip) * math.cos(yaw), rel=1e-6
        )
        k = sample.person.keypoints
        torso_px = float(np.hypot(*((k[RSHO, :2] + k[LSHO, :2]) / 2 - (k[RHIP, :2] + k[LHIP, :2]) / 2)))
        scale = torso_px / m.torso_heads  # pixels per head height
        spec = sample.look.garments["target"]
        if not math.isnan(m.ease) and spec.category != "lower":
            a, b = dims.torso_at(dims.y_waist)
            e = spec.ease
            drawn = math.hypot((a + e) * math.cos(yaw), (b + 0.7 * e) * math.sin(yaw)) - math.hypot(
                a * math.cos(yaw), b * math.sin(yaw)
            )
            assert m.ease * m.torso_heads == pytest.approx(drawn, abs=1.5 / scale), plan.name
            checked += 1
    assert checked >= 5


def test_vvt_clips_move_smoothly(vvt):
    root = vvt.root
    motion = 0.0
    for record in vvt.truth:
        points = []
        for frame in record["frames"]:
            rel = frame["person"].replace("_frames/", "_frames_keypoint/").replace(".png", "_keypoints.json")
            pose = json.loads((root / rel).read_text())["people"][0]["pose_keypoints"]
            points.append(np.array(pose).reshape(18, 3))
        for a, b in zip(points, points[1:], strict=False):
            both = (a[:, 2] >= 0.1) & (b[:, 2] >= 0.1)
            step = np.linalg.norm(a[both, :2] - b[both, :2], axis=1)
            assert step.max() < 0.15 * 128, (
                f"{record['clip']}: a joint jumps {step.max():.1f} px between frames"
            )
            motion = max(motion, float(step.max()))
        assert all(len(f["landmarks_person"]) == 9 for f in record["frames"])
    assert motion > 1.0, "the figures move"
