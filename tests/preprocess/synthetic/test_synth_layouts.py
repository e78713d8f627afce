"""The generated trees match the published layouts exactly: names, folders, pair files, encodings."""

from __future__ import annotations

import json
import re

import cv2
import numpy as np
from PIL import Image

from preprocess.annotators.label_maps import CIHP_PALETTE

VITONHD_FILES = (
    "image/{id}.jpg",
    "cloth/{id}.jpg",
    "cloth-mask/{id}.jpg",
    "image-parse-v3/{id}.png",
    "openpose_json/{id}_keypoints.json",
    "openpose_img/{id}_rendered.png",
    "image-densepose/{id}.jpg",
    "agnostic-v3.2/{id}.jpg",
    "image-parse-agnostic-v3.2/{id}.png",
)
DRESSCODE_FILES = (
    "images/{id}_0.jpg",
    "images/{id}_1.jpg",
    "masks/{id}_1.png",
    "keypoints/{id}_2.json",
    "label_maps/{id}_4.png",
    "skeletons/{id}_5.jpg",
    "dense/{id}_5.png",
    "dense/{id}_5_uv.npz",
)
DRESSCODE_DIRS = ("upper_body", "lower_body", "dresses")


def _files(root) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _pairs(path) -> list[tuple[str, str]]:
    return [tuple(line.split()) for line in path.read_text().splitlines()]


def _regions(truth) -> set[str]:
    out = set()
    for record in truth:
        if record.get("frames"):
            out.update(frame["garment_region"] for frame in record["frames"])
        else:
            out.add(record["garment_region"])
    return out


def test_vitonhd_tree_is_exactly_the_published_one(vitonhd):
    root = vitonhd.root
    train, test = _pairs(root / "train_pairs.txt"), _pairs(root / "test_pairs.txt")
    assert len(train) + len(test) == 12 and len(test) == 2  # 80 / 20
    assert all(re.fullmatch(r"\d{5}_00\.jpg", name) for pair in train + test for name in pair)
    assert all(person == cloth for person, cloth in train), "train pairs are paired"
    assert all(person != cloth for person, cloth in test), (
        "the test list pairs each person with another garment"
    )
    assert {cloth for _, cloth in test} == {person for person, _ in test}, (
        "unpaired garments come from the test split"
    )
    expected = {"train_pairs.txt", "test_pairs.txt", "synthetic_truth.jsonl"} | _regions(vitonhd.truth)
    for split, pairs in (("train", train), ("test", test)):
        for person, _ in pairs:
            expected |= {f"{split}/" + f.format(id=person[:-4]) for f in VITONHD_FILES}
    assert _files(root) == expected


def test_vitonhd_encodings(vitonhd):
    root = vitonhd.root
    person, _ = _pairs(root / "train_pairs.txt")[0]
    sid = person[:-4]
    parse = Image.open(root / "train/image-parse-v3" / f"{sid}.png")
    assert parse.mode == "P" and parse.size == (192, 256)
    palette = parse.getpalette()[: 3 * len(CIHP_PALETTE)]
    assert [tuple(palette[i : i + 3]) for i in range(0, len(palette), 3)] == list(CIHP_PALETTE)
    values = set(np.unique(np.array(parse)).tolist())
    assert values <= set(range(20)) and {0, 2, 5, 13} <= values  # background, hair, upper-clothes, face
    agnostic_parse = Image.open(root / "train/image-parse-agnostic-v3.2" / f"{sid}.png")
    assert agnostic_parse.mode == "P" and not {5, 10} & set(np.unique(np.array(agnostic_parse)).tolist())
    pose = json.loads((root / "train/openpose_json" / f"{sid}_keypoints.json").read_text())
    assert pose["version"] == 1.3 and len(pose["people"]) == 1
    person_pose = pose["people"][0]
    assert set(person_pose) == {
        "person_id",
        "pose_keypoints_2d",
        "face_keypoints_2d",
        "hand_left_keypoints_2d",
        "hand_right_keypoints_2d",
        "pose_keypoints_3d",
        "face_keypoints_3d",
        "hand_left_keypoints_3d",
        "hand_right_keypoints_3d",
    }
    assert len(person_pose["pose_keypoints_2d"]) == 75
    for rel, channels in (
        ("image", 3),
        ("cloth", 3),
        ("image-densepose", 3),
        ("agnostic-v3.2", 3),
        ("cloth-mask", 1),
    ):
        with Image.open(root / "train" / rel / f"{sid}.jpg") as im:
            assert im.format == "JPEG" and len(im.getbands()) == channels and im.size == (192, 256), rel
    with Image.open(root / "train/openpose_img" / f"{sid}_rendered.png") as im:
        assert im.format == "PNG" and im.mode == "RGB"


def test_dresscode_tree_is_exactly_the_published_one(dresscode):
    root = dresscode.root
    expected = {"synthetic_truth.jsonl"} | _regions(dresscode.truth)
    ids: list[str] = []
    for folder in DRESSCODE_DIRS:
        train = _pairs(root / folder / "train_pairs.txt")
        paired = _pairs(root / folder / "test_pairs_paired.txt")
        unpaired = _pairs(root / folder / "test_pairs_unpaired.txt")
        assert train and paired, f"{folder} has train and test samples"
        assert all(re.fullmatch(r"\d{6}_0\.jpg", p) and g == p[:-6] + "_1.jpg" for p, g in train + paired)
        assert [p for p, _ in unpaired] == [p for p, _ in paired]
        assert {g for _, g in unpaired} == {g for _, g in paired}, (
            "unpaired garments stay in the category's test set"
        )
        if len(paired) > 1:
            assert all(g != p[:-6] + "_1.jpg" for p, g in unpaired)
        expected |= {
            f"{folder}/{name}"
            for name in ("train_pairs.txt", "test_pairs_paired.txt", "test_pairs_unpaired.txt")
        }
        for person, _ in train + paired:
            ids.append(person[:6])
            expected |= {f"{folder}/" + f.format(id=person[:6]) for f in DRESSCODE_FILES}
    assert len(ids) == len(set(ids)) == 12
    assert _files(root) == expected


def test_dresscode_encodings(dresscode):
    root = dresscode.root
    person, _ = _pairs(root / "lower_body" / "train_pairs.txt")[0]
    sid = person[:6]
    base = root / "lower_body"
    labels = Image.open(base / "label_maps" / f"{sid}_4.png")
    assert labels.mode in ("L", "P") and labels.size == (192, 256)
    assert set(np.unique(np.array(labels)).tolist()) <= set(range(18))
    mask = Image.open(base / "masks" / f"{sid}_1.png")
    assert mask.mode == "L" and set(np.unique(np.array(mask)).tolist()) == {0, 255}
    dense = Image.open(base / "dense" / f"{sid}_5.png")
    assert dense.mode == "L" and np.array(dense).max() <= 24
    with np.load(base / "dense" / f"{sid}_5_uv.npz") as npz:
        assert list(npz.keys()) == ["uv"]
        uv = npz["uv"]
    assert uv.shape == (2, 256, 192) and uv.dtype.kind == "f" and uv.min() >= 0 and uv.max() <= 1
    assert (uv[:, np.array(dense) == 0] == 0).all() and uv[0].std() > 0.05, (
        "UV varies over the body, zero elsewhere"
    )
    keypoints = json.loads((base / "keypoints" / f"{sid}_2.json").read_text())
    assert list(keypoints) == ["keypoints"] and len(keypoints["keypoints"]) == 18
    for index, (x, y, score, kid) in enumerate(keypoints["keypoints"]):
        assert kid == index
        assert (x, y, score) == (-1, -1, 0) or (0 <= x <= 384 and 0 <= y <= 512 and score > 0.1)
    with Image.open(base / "skeletons" / f"{sid}_5.jpg") as im:
        assert im.format == "JPEG" and im.mode == "RGB"


def test_dresscode_spreads_samples_over_categories(dresscode):
    categories = [r["category"] for r in dresscode.truth]
    assert sorted(set(categories)) == ["dresses", "lower", "upper"]
    assert (
        max(categories.count(c) for c in set(categories)) - min(categories.count(c) for c in set(categories))
        <= 1
    )


def test_vvt_tree_is_exactly_the_published_one(vvt):
    root = vvt.root
    clips = {}
    for split in ("train", "test"):
        folder = root / split / f"{split}_frames"
        for clip in sorted(folder.iterdir()):
            clips[clip.name] = split
    assert len(clips) == 6 and set(clips.values()) == {"train", "test"}
    assert all(re.fullmatch(r"[a-z0-9]{9}-[a-z0-9]{3}", vid) for vid in clips)
    expected = {"synthetic_truth.jsonl"} | _regions(vvt.truth)
    for vid, split in clips.items():
        frames = sorted((root / split / f"{split}_frames" / vid).iterdir())
        numbers = sorted(
            int(re.fullmatch(rf"{re.escape(vid)}@(\d+)=person_whole_front\.png", f.name).group(1))
            for f in frames
        )
        assert 4 <= len(numbers) <= 8 and numbers == list(range(1, len(numbers) + 1))
        for n in numbers:
            stem = f"{vid}@{n}=person_whole_front"
            expected |= {
                f"{split}/{split}_frames/{vid}/{stem}.png",
                f"{split}/{split}_frames_parsing/{vid}/{stem}_label.png",
                f"{split}/{split}_frames_keypoint/{vid}/{stem}_keypoints.json",
                f"{split}/{split}_frames_densepose/{vid}/{stem}_IUV.png",
            }
        expected |= {
            f"clothes_person/img/{vid}/{vid}@1=cloth_front.jpg",
            f"clothes_person/img/{vid}/{vid}@1=cloth_front_mask.jpg",
        }
    assert _files(root) == expected


def test_vvt_encodings(vvt):
    root = vvt.root
    record = vvt.truth[0]
    first = record["frames"][0]["person"]
    stem = first.rsplit("/", 1)[1][: -len(".png")]
    split, vid = record["split"], record["clip"]
    frame = Image.open(root / first)
    assert frame.format == "PNG" and frame.mode == "RGB" and frame.size == (96, 128)
    parse = Image.open(root / split / f"{split}_frames_parsing" / vid / f"{stem}_label.png")
    assert parse.mode == "L" and set(np.unique(np.array(parse)).tolist()) <= set(range(20))
    pose = json.loads(
        (root / split / f"{split}_frames_keypoint" / vid / f"{stem}_keypoints.json").read_text()
    )
    assert pose["version"] == 1.0
    assert set(pose["people"][0]) == {
        "pose_keypoints",
        "face_keypoints",
        "hand_left_keypoints",
        "hand_right_keypoints",
    }
    assert len(pose["people"][0]["pose_keypoints"]) == 54
    iuv = cv2.imread(str(root / split / f"{split}_frames_densepose" / vid / f"{stem}_IUV.png"))
    parts, u, v = iuv[..., 0], iuv[..., 1], iuv[..., 2]
    assert parts.max() <= 24 and (parts > 0).sum() > 100
    assert (u[parts == 0] == 0).all() and (v[parts == 0] == 0).all() and u[parts > 0].std() > 10
    assert (np.array(parse)[parts > 0] > 0).mean() > 0.9, "DensePose covers the parsed person"
    for name in (f"{vid}@1=cloth_front.jpg", f"{vid}@1=cloth_front_mask.jpg"):
        with Image.open(root / "clothes_person/img" / vid / name) as im:
            assert im.format == "JPEG" and im.size == (96, 128)
