"""Label tables of the synthetic renderer and their mapping to the published label sets.

The renderer draws with a small internal set of semantic labels (`SEM_*`); each layout ships its own
parse encoding (CIHP for VITON-HD, ATR-18 for Dress Code, LIP for VVT), so the tables here translate the
one exact render into each of them. Also here: the VITON-HD parse palette and the DensePose `dp_segm`
colour map (part index I through cv2.COLORMAP_PARULA, as detectron2's visualiser renders it) with its
inverse, so a reader can recover I from a colour-mapped image.
"""

from __future__ import annotations

import cv2
import numpy as np

# Internal semantic labels: what a pixel of the render shows.
SEM_BACKGROUND = 0
SEM_HAIR = 1
SEM_FACE = 2
SEM_NECK = 3  # neck and any other visible torso skin
SEM_LEFT_ARM = 4  # the person's left arm, hand included
SEM_RIGHT_ARM = 5
SEM_LEFT_LEG = 6
SEM_RIGHT_LEG = 7
SEM_LEFT_SHOE = 8
SEM_RIGHT_SHOE = 9
SEM_UPPER = 10  # upper-body garment
SEM_PANTS = 11  # trousers and shorts
SEM_SKIRT = 12
SEM_DRESS = 13

CIHP_LABELS = (
    "Background",
    "Hat",
    "Hair",
    "Glove",
    "Sunglasses",
    "Upper-clothes",
    "Dress",
    "Coat",
    "Socks",
    "Pants",
    "Torso-skin",
    "Scarf",
    "Skirt",
    "Face",
    "Left-arm",
    "Right-arm",
    "Left-leg",
    "Right-leg",
    "Left-shoe",
    "Right-shoe",
)
# LIP shares CIHP's indices; only label 10 is named differently (Jumpsuits).
LIP_LABELS = CIHP_LABELS[:10] + ("Jumpsuits",) + CIHP_LABELS[11:]
ATR_LABELS = (
    "background",
    "hat",
    "hair",
    "sunglasses",
    "upper_clothes",
    "skirt",
    "pants",
    "dress",
    "belt",
    "left_shoe",
    "right_shoe",
    "head",
    "left_leg",
    "right_leg",
    "left_arm",
    "right_arm",
    "bag",
    "scarf",
)

# Internal label -> published index. VITON-HD labels the neck 10 (Torso-skin); LIP has no neck or skin
# label, so VVT calls the neck Face (13); ATR's nearest is head (11).
SEM_TO_CIHP = np.array([0, 2, 13, 10, 14, 15, 16, 17, 18, 19, 5, 9, 12, 6], dtype=np.uint8)
SEM_TO_LIP = np.array([0, 2, 13, 13, 14, 15, 16, 17, 18, 19, 5, 9, 12, 6], dtype=np.uint8)
SEM_TO_ATR = np.array([0, 2, 11, 11, 14, 15, 12, 13, 9, 10, 4, 6, 5, 7], dtype=np.uint8)
PARSE_TABLES = {"cihp": SEM_TO_CIHP, "lip": SEM_TO_LIP, "atr": SEM_TO_ATR}

# The colours VITON-HD's image-parse-v3 PNGs carry in their palette (the LIP/CIHP visualisation colours).
CIHP_PALETTE = (
    (0, 0, 0),
    (128, 0, 0),
    (254, 0, 0),
    (0, 85, 0),
    (169, 0, 51),
    (254, 85, 0),
    (0, 0, 85),
    (0, 119, 221),
    (85, 85, 0),
    (0, 85, 85),
    (85, 51, 0),
    (52, 86, 128),
    (0, 128, 0),
    (0, 0, 254),
    (51, 169, 220),
    (0, 254, 254),
    (85, 254, 169),
    (169, 254, 85),
    (254, 254, 0),
    (254, 169, 0),
)

# DensePose part index I (the DensePose-COCO numbering). Paired indices are the two sides of a part;
# the front-facing side of each is used for a figure seen from the front.
DP_TORSO_BACK, DP_TORSO_FRONT = 1, 2
DP_RIGHT_HAND, DP_LEFT_HAND = 3, 4
DP_LEFT_FOOT, DP_RIGHT_FOOT = 5, 6
DP_RIGHT_UPPER_LEG, DP_LEFT_UPPER_LEG = 9, 10  # front sides (back sides: 7, 8)
DP_RIGHT_LOWER_LEG, DP_LEFT_LOWER_LEG = 13, 14  # front sides (back sides: 11, 12)
DP_LEFT_UPPER_ARM, DP_RIGHT_UPPER_ARM = 15, 16  # front sides (back sides: 17, 18)
DP_LEFT_LOWER_ARM, DP_RIGHT_LOWER_ARM = 21, 22  # front sides (back sides: 19, 20)
DP_RIGHT_HEAD, DP_LEFT_HEAD = 23, 24
DP_PARTS = 24


def parse_for(labels: str, sem: np.ndarray) -> np.ndarray:
    """Translate an internal semantic map into the `labels` set ("cihp", "lip" or "atr")."""
    try:
        table = PARSE_TABLES[labels]
    except KeyError:
        raise ValueError(
            f"unknown parse label set {labels!r}; choose one of {sorted(PARSE_TABLES)}"
        ) from None
    return table[sem]


def palette_bytes(colours: tuple[tuple[int, int, int], ...] = CIHP_PALETTE) -> list[int]:
    """A flat 256-entry RGB palette for a "P" mode PNG (unused entries black)."""
    flat = [channel for colour in colours for channel in colour]
    return flat + [0] * (768 - len(flat))


def _scaled_parts() -> np.ndarray:
    """Part index -> the 8-bit value detectron2 feeds the colour map (I * 255 / 24, truncated)."""
    return (np.arange(DP_PARTS + 1, dtype=np.float32) * (255.0 / DP_PARTS)).clip(0, 255).astype(np.uint8)


def densepose_colours() -> np.ndarray:
    """BGR colour of each part index 0..24 in the dp_segm rendering: I*255/24 through PARULA."""
    return cv2.applyColorMap(_scaled_parts().reshape(-1, 1), cv2.COLORMAP_PARULA).reshape(-1, 3)


def densepose_colormap(parts: np.ndarray) -> np.ndarray:
    """Render a part-index map (H, W, values 0..24) as detectron2's dp_segm does; background black. BGR."""
    out = cv2.applyColorMap(_scaled_parts()[parts], cv2.COLORMAP_PARULA)
    out[parts == 0] = 0
    return out


def densepose_parts_from_colormap(image_bgr: np.ndarray, max_distance: float = 40.0) -> np.ndarray:
    """Recover part indices from a dp_segm colour-mapped BGR image (nearest map colour; dark = background).

    Pixels farther than `max_distance` from every colour (JPEG ringing at edges) become 0.
    """
    table = np.concatenate([np.zeros((1, 3), np.int32), densepose_colours()[1:].astype(np.int32)])
    pixels = image_bgr.reshape(-1, 3).astype(np.int32)
    best = np.zeros(len(pixels), np.uint8)
    best_dist = np.full(len(pixels), max_distance**2 + 1, np.int32)
    for index, colour in enumerate(table):
        dist = ((pixels - colour) ** 2).sum(1)
        closer = dist < best_dist
        best[closer] = index
        best_dist[closer] = dist[closer]
    return best.reshape(image_bgr.shape[:2])
