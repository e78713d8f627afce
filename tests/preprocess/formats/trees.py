"""Hand-made minimal dataset trees in each published layout, for reader tests.

Files hold a few placeholder bytes: readers list and match names, they never decode images. Every builder
copies the real naming quirks (VITON-HD `_keypoints.json`, Dress Code `_2/_4/_5` suffixes, VVT `@n=` frames).
"""

from __future__ import annotations

from pathlib import Path


def touch(root: Path, rel: str, data: bytes = b"x") -> Path:
    """Write a small file at root/rel, creating folders."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_lines(root: Path, rel: str, lines: list[str], newline: str = "\n") -> Path:
    """Write a pair/list file from lines."""
    return touch(root, rel, (newline.join(lines) + newline).encode())


def vitonhd_tree(root: Path, pairs: dict[str, list[tuple[str, str]]], annotations: bool = True) -> Path:
    """VITON-HD: `{split}_pairs.txt` plus image/cloth (and every annotation) for each listed id."""
    for split, rows in pairs.items():
        write_lines(root, f"{split}_pairs.txt", [f"{p}.jpg {c}.jpg" for p, c in rows])
        for person, cloth in rows:
            touch(root, f"{split}/image/{person}.jpg")
            touch(root, f"{split}/cloth/{cloth}.jpg")
            if annotations:
                touch(root, f"{split}/cloth-mask/{cloth}.jpg")
                touch(root, f"{split}/image-parse-v3/{person}.png")
                touch(root, f"{split}/image-parse-agnostic-v3.2/{person}.png")
                touch(root, f"{split}/openpose_json/{person}_keypoints.json", b"{}")
                touch(root, f"{split}/openpose_img/{person}_rendered.png")
                touch(root, f"{split}/image-densepose/{person}.jpg")
                touch(root, f"{split}/agnostic-v3.2/{person}.jpg")
    return root


def dresscode_tree(
    root: Path, files: dict[str, dict[str, list[tuple[str, str]]]], annotations: bool = True
) -> Path:
    """Dress Code: per category folder, pair files {name: [(person_stem, garment_stem)]} and their files."""
    for folder, pair_files in files.items():
        touch(root, f"{folder}/images/.keep")
        for name, rows in pair_files.items():
            write_lines(root, f"{folder}/{name}", [f"{p}.jpg {g}.jpg" for p, g in rows])
            for person, garment in rows:
                touch(root, f"{folder}/images/{person}.jpg")
                touch(root, f"{folder}/images/{garment}.jpg")
                if annotations:
                    prefix = person.rsplit("_", 1)[0]
                    touch(root, f"{folder}/masks/{garment}.png")
                    touch(root, f"{folder}/keypoints/{prefix}_2.json", b'{"keypoints": []}')
                    touch(root, f"{folder}/label_maps/{prefix}_4.png")
                    touch(root, f"{folder}/skeletons/{prefix}_5.jpg")
                    touch(root, f"{folder}/dense/{prefix}_5.png")
                    touch(root, f"{folder}/dense/{prefix}_5_uv.npz")
    return root


def vvt_tree(root: Path, clips: dict[str, dict[str, int]], annotations: bool = True) -> Path:
    """VVT: {split: {vid: frame_count}} frame folders, per-frame parsing/keypoints/IUV, garment and mask."""
    for split, by_vid in clips.items():
        for vid, count in by_vid.items():
            for n in range(1, count + 1):
                base = f"{vid}@{n}=person_whole_front"
                touch(root, f"{split}/{split}_frames/{vid}/{base}.png")
                if annotations:
                    touch(root, f"{split}/{split}_frames_parsing/{vid}/{base}_label.png")
                    touch(root, f"{split}/{split}_frames_keypoint/{vid}/{base}_keypoints.json", b"{}")
                    touch(root, f"{split}/{split}_frames_densepose/{vid}/{base}_IUV.png")
            touch(root, f"clothes_person/img/{vid}/{vid}@1=cloth_front.jpg")
            touch(root, f"clothes_person/img/{vid}/{vid}@1=cloth_front_mask.jpg")
    return root


def vivid_tree(
    root: Path, files: dict[str, dict[str, list[tuple[str, str]]]], annotations: bool = True
) -> Path:
    """ViViD: per category folder, pair files {name: [(video_stem, garment_stem)]}, mp4s and garment jpgs."""
    for folder, pair_files in files.items():
        for name, rows in pair_files.items():
            write_lines(root, f"{folder}/{name}", [f"{v}.mp4 {g}.jpg" for v, g in rows])
            for video, garment in rows:
                touch(root, f"{folder}/videos/{video}.mp4")
                touch(root, f"{folder}/images/{garment}.jpg")
                if annotations:
                    for sub in ("agnostic", "agnostic_mask", "densepose"):
                        touch(root, f"{folder}/{sub}/{video}.mp4")
                    touch(root, f"{folder}/cloth_mask/{garment}.jpg")
    return root


def streettryon_tree(
    root: Path,
    train: list[str],
    validation: list[str],
    pair_files: dict[str, list[tuple[str, str]]],
    annotations: bool = True,
) -> Path:
    """StreetTryOn at `root` (the street_tryon/ folder): images, image lists and `index,garment,person` CSVs."""
    for split, ids in (("train", train), ("validation", validation)):
        write_lines(root, f"annotations/{split}_image_list.txt", [f"{i}.jpg" for i in ids])
        for i in ids:
            touch(root, f"{split}/image/{i}.jpg")
            touch(root, f"{split}/raw_bbox/{i}.jpg.json", b'{"human_bbox": [0, 10, 0, 10]}')
            if annotations:
                touch(root, f"{split}/densepose/{i}.png")
                touch(root, f"{split}/segm/{i}.png")
    for name, rows in pair_files.items():
        lines = [",from,to"] + [f"{n},{g}.jpg,{p}.jpg" for n, (g, p) in enumerate(rows)]
        write_lines(root, f"annotations/{name}", lines)
    return root
