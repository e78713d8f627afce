"""Writers of the published dataset layouts (VITON-HD, Dress Code, VVT) for synthetic samples.

Each writer puts a rendered sample's files where, and in the encoding, the real release has them (see
`preprocess/formats` for the readers of the same trees), writes the pair lists, and returns the
sample's ground-truth record. Files carry no timestamps and JPEGs a fixed quality, so the same sample
gives the same bytes.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from preprocess.annotators.densepose_codec import encode_dp_segm
from preprocess.synthetic import keypoints as K
from preprocess.synthetic import labels as L
from preprocess.synthetic import truth as T
from preprocess.synthetic.agnostic import vitonhd_agnostic
from preprocess.synthetic.figure import PersonImage
from preprocess.synthetic.garments import LANDMARK_NAMES
from preprocess.synthetic.scenario import ClipSample, ImageSample, SamplePlan

JPEG_QUALITY = 95
NATIVE_SIZES = {"vitonhd": (1024, 768), "dresscode": (1024, 768), "vvt": (256, 192)}  # (H, W) of the releases
DRESSCODE_DIRS = {"upper": "upper_body", "lower": "lower_body", "dresses": "dresses"}


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_jpeg(path: Path, rgb: np.ndarray) -> None:
    """Baseline JPEG at a fixed quality from RGB (or single-channel) pixels."""
    pixels = rgb[..., ::-1] if rgb.ndim == 3 else rgb
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(pixels), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise OSError(f"could not encode {path} as JPEG")
    _write(path, buf.tobytes())


def write_png(path: Path, pixels: np.ndarray, rgb: bool = True) -> None:
    """PNG of single-channel (L) or colour pixels (RGB order unless rgb=False, i.e. already BGR)."""
    data = pixels[..., ::-1] if pixels.ndim == 3 and rgb else pixels
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(data))
    if not ok:
        raise OSError(f"could not encode {path} as PNG")
    _write(path, buf.tobytes())


def write_palette_png(path: Path, indices: np.ndarray, palette: list[int]) -> None:
    """A "P" mode PNG: label indices with a colour palette (VITON-HD parse maps)."""
    h, w = indices.shape
    image = Image.frombytes("P", (w, h), np.ascontiguousarray(indices, dtype=np.uint8).tobytes())
    image.putpalette(palette)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    _write(path, buf.getvalue())


def write_json(path: Path, obj: object) -> None:
    _write(path, json.dumps(obj).encode("utf-8"))


def write_uv_npz(path: Path, u: np.ndarray, v: np.ndarray) -> None:
    """Dress Code's `_5_uv.npz`: key "uv", float32 (2, H, W) in [0, 1]."""
    buf = io.BytesIO()
    np.savez_compressed(buf, uv=np.stack([u, v]).astype(np.float32))
    _write(path, buf.getvalue())


def _common(sample: ImageSample | ClipSample, layout: str) -> dict:
    plan, look = sample.plan, sample.look
    spec = look.garments["target"]
    return {
        "layout": layout,
        "split": plan.split,
        "category": plan.category,
        "id": plan.name,
        "person": "",
        "garment": "",
        "clip": None,
        "pair_garment": "",
        "garment_kind": spec.kind,
        "texture": spec.texture.kind,
        "garment_colour": list(spec.texture.base),
        "landmark_names": list(LANDMARK_NAMES[plan.category]),
        "landmark_placement": list(sample.shop.placements),
        "landmarks_garment": T.points(sample.shop.landmarks),
        "body": {
            "height_heads": round(look.body.height_heads, 3),
            "width": round(look.body.width, 3),
            "skin": list(look.body.skin),
            "hair": look.body.hair_style,
        },
        "background": look.background_kind,
        "intents": list(plan.intents),
    }


def _labels(person: PersonImage, yaw: float) -> dict:
    m = person.measures
    return {
        **T.labels_from_measures(m, yaw, person.touches_border),
        "key_hidden": {k: round(v, 4) for k, v in m.slabs_hidden.items()},
        "proportions": {
            k: (None if math.isnan(v) else round(v, 4))
            for k, v in (
                ("torso_heads", m.torso_heads),
                ("build", m.build),
                ("ease", m.ease),
                ("hem", m.hem),
                ("flare", m.flare),
            )
        },
        "landmarks_covered": int(person.landmarks_occluded),
        "yaw": round(float(yaw), 2),
    }


def _image_record(
    sample: ImageSample, layout: str, person: str, garment: str, pair_garment: str, region: str
) -> dict:
    record = _common(sample, layout)
    record.update(person=person, garment=garment, pair_garment=pair_garment, pose=sample.pose)
    record["landmarks_person"] = T.points(sample.person.landmarks)
    record.update(_labels(sample.person, sample.yaw))
    record["garment_region"] = region
    return record


def _region(root: Path, rel: str, mask: np.ndarray) -> None:
    write_png(root / rel, np.where(mask, 255, 0).astype(np.uint8))


def write_vitonhd(root: Path, sample: ImageSample, plans: list[SamplePlan]) -> dict:
    """One VITON-HD sample: person, cloth, masks, CIHP parse, BODY_25 pose, DensePose, agnostic."""
    plan, person, shop = sample.plan, sample.person, sample.shop
    base = root / plan.split
    name = plan.name
    size = person.sem.shape
    parse = L.parse_for("cihp", person.sem)
    palette = L.palette_bytes()
    write_jpeg(base / "image" / f"{name}.jpg", person.rgb)
    write_jpeg(base / "cloth" / f"{name}.jpg", shop.rgb)
    write_jpeg(base / "cloth-mask" / f"{name}.jpg", shop.mask)
    write_palette_png(base / "image-parse-v3" / f"{name}.png", parse, palette)
    write_json(base / "openpose_json" / f"{name}_keypoints.json", K.openpose_body25_json(person.keypoints))
    write_png(
        base / "openpose_img" / f"{name}_rendered.png",
        K.render_skeleton(person.keypoints, size, "body25"),
        rgb=False,
    )
    write_jpeg(base / "image-densepose" / f"{name}.jpg", encode_dp_segm(person.dp_parts))
    agnostic, agnostic_parse = vitonhd_agnostic(person.rgb, parse, person.keypoints)
    write_jpeg(base / "agnostic-v3.2" / f"{name}.jpg", agnostic)
    write_palette_png(base / "image-parse-agnostic-v3.2" / f"{name}.png", agnostic_parse, palette)
    region = f"{T.REGION_DIR}/{name}.png"
    _region(root, region, person.target_region)
    partner = plans[plan.partner].name
    return _image_record(
        sample,
        "vitonhd",
        person=f"{plan.split}/image/{name}.jpg",
        garment=f"{plan.split}/cloth/{name}.jpg",
        pair_garment=f"{plan.split}/cloth/{partner}.jpg",
        region=region,
    )


def write_vitonhd_lists(root: Path, plans: list[SamplePlan]) -> None:
    """train_pairs.txt (paired) and test_pairs.txt (each person with another test sample's cloth)."""
    for split in ("train", "test"):
        lines = [f"{p.name}.jpg {plans[p.partner].name}.jpg" for p in plans if p.split == split]
        _write(root / f"{split}_pairs.txt", "".join(line + "\n" for line in lines).encode())


def write_dresscode(root: Path, sample: ImageSample, plans: list[SamplePlan]) -> dict:
    """One Dress Code sample: person `_0`, garment `_1`, mask, keypoints `_2`, ATR label map `_4`,
    skeleton and dense `_5`."""
    plan, person, shop = sample.plan, sample.person, sample.shop
    folder = DRESSCODE_DIRS[plan.category]
    base = root / folder
    name = plan.name
    size = person.sem.shape
    write_jpeg(base / "images" / f"{name}_0.jpg", person.rgb)
    write_jpeg(base / "images" / f"{name}_1.jpg", shop.rgb)
    write_png(base / "masks" / f"{name}_1.png", shop.mask)
    write_json(base / "keypoints" / f"{name}_2.json", K.dresscode_json(person.keypoints, size))
    write_png(base / "label_maps" / f"{name}_4.png", L.parse_for("atr", person.sem))
    write_jpeg(
        base / "skeletons" / f"{name}_5.jpg", K.render_skeleton(person.keypoints, size, "coco18")[..., ::-1]
    )
    write_png(base / "dense" / f"{name}_5.png", person.dp_parts)
    write_uv_npz(base / "dense" / f"{name}_5_uv.npz", person.dp_u, person.dp_v)
    region = f"{T.REGION_DIR}/{name}.png"
    _region(root, region, person.target_region)
    partner = plans[plan.partner].name
    return _image_record(
        sample,
        "dresscode",
        person=f"{folder}/images/{name}_0.jpg",
        garment=f"{folder}/images/{name}_1.jpg",
        pair_garment=f"{folder}/images/{partner}_1.jpg",
        region=region,
    )


def write_dresscode_lists(root: Path, plans: list[SamplePlan]) -> None:
    """Per category: train_pairs.txt, test_pairs_paired.txt, test_pairs_unpaired.txt."""
    for category, folder in DRESSCODE_DIRS.items():
        mine = [p for p in plans if p.category == category]
        if not mine:
            continue
        files = {
            "train_pairs.txt": [f"{p.name}_0.jpg {p.name}_1.jpg" for p in mine if p.split == "train"],
            "test_pairs_paired.txt": [f"{p.name}_0.jpg {p.name}_1.jpg" for p in mine if p.split == "test"],
            "test_pairs_unpaired.txt": [
                f"{p.name}_0.jpg {plans[p.partner].name}_1.jpg" for p in mine if p.split == "test"
            ],
        }
        for file_name, lines in files.items():
            _write(root / folder / file_name, "".join(line + "\n" for line in lines).encode())


def write_vvt(root: Path, clip: ClipSample, plans: list[SamplePlan]) -> dict:
    """One VVT clip: frames, LIP parsing, legacy OpenPose JSON and IUV per frame; the in-shop garment."""
    plan, shop = clip.plan, clip.shop
    vid, split = plan.name, plan.split
    base = root / split
    garment_dir = root / "clothes_person" / "img" / vid
    write_jpeg(garment_dir / f"{vid}@1=cloth_front.jpg", shop.rgb)
    write_jpeg(garment_dir / f"{vid}@1=cloth_front_mask.jpg", shop.mask)
    frames = []
    votes = dict.fromkeys(T.LABELS, 0)
    for n, (person, yaw) in enumerate(zip(clip.frames, clip.yaws, strict=True), start=1):
        stem = f"{vid}@{n}=person_whole_front"
        frame_rel = f"{split}/{split}_frames/{vid}/{stem}.png"
        write_png(root / frame_rel, person.rgb)
        write_png(
            base / f"{split}_frames_parsing" / vid / f"{stem}_label.png", L.parse_for("lip", person.sem)
        )
        write_json(
            base / f"{split}_frames_keypoint" / vid / f"{stem}_keypoints.json",
            K.openpose_legacy_json(person.keypoints),
        )
        iuv = np.stack([person.dp_parts, np.round(person.dp_u * 255), np.round(person.dp_v * 255)], axis=-1)
        write_png(
            base / f"{split}_frames_densepose" / vid / f"{stem}_IUV.png", iuv.astype(np.uint8), rgb=False
        )
        region = f"{T.REGION_DIR}/{vid}/{n}.png"
        _region(root, region, person.target_region)
        frame_labels = _labels(person, yaw)
        for key in T.LABELS:
            votes[key] += int(frame_labels[key])
        frames.append(
            {
                "person": frame_rel,
                "landmarks_person": T.points(person.landmarks),
                "garment_region": region,
                **frame_labels,
            }
        )
    record = _common(clip, "vvt")
    record.update(
        person=f"{split}/{split}_frames/{vid}",
        garment=f"clothes_person/img/{vid}/{vid}@1=cloth_front.jpg",
        pair_garment=f"clothes_person/img/{vid}/{vid}@1=cloth_front.jpg",
        clip=vid,
        motion=clip.motion,
    )
    labels = {
        key: 2 * count >= len(frames) for key, count in votes.items()
    }  # true in at least half the frames
    labels["mildly_occluded"] = labels["mildly_occluded"] and not labels["occluded"]
    record.update(labels)
    record["frames"] = frames
    return record


@dataclass(frozen=True)
class LayoutWriter:
    """How one layout is generated and written."""

    name: str
    kind: str  # "image" (one person/garment pair per sample) or "video" (one clip per sample)
    write_sample: Callable[[Path, object, list[SamplePlan]], dict]
    write_lists: Callable[[Path, list[SamplePlan]], None] | None
    owned: tuple[str, ...]  # top-level entries of ROOT this layout writes


LAYOUT_WRITERS = {
    "vitonhd": LayoutWriter(
        "vitonhd",
        "image",
        write_vitonhd,
        write_vitonhd_lists,
        ("train", "test", "train_pairs.txt", "test_pairs.txt"),
    ),
    "dresscode": LayoutWriter(
        "dresscode", "image", write_dresscode, write_dresscode_lists, tuple(DRESSCODE_DIRS.values())
    ),
    "vvt": LayoutWriter("vvt", "video", write_vvt, None, ("train", "test", "clothes_person")),
}
