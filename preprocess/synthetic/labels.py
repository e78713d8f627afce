"""Label tables of the synthetic renderer and their mapping to the published label sets.

The renderer draws with a small internal set of semantic labels (`SEM_*`); each layout ships its own
parse encoding (CIHP for VITON-HD, ATR-18 for Dress Code, LIP for VVT), so the tables here translate the
one exact render into each of them. The published label sets, the parse palette and the DensePose
`dp_segm` colour map live with the annotators that read them back (`preprocess.annotators.label_maps`,
`preprocess.annotators.densepose_codec`).
"""

from __future__ import annotations

import numpy as np

from preprocess.annotators.label_maps import CIHP_PALETTE

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

# Internal label -> published index. VITON-HD labels the neck 10 (Torso-skin); LIP has no neck or skin
# label, so VVT calls the neck Face (13); ATR's nearest is head (11).
SEM_TO_CIHP = np.array([0, 2, 13, 10, 14, 15, 16, 17, 18, 19, 5, 9, 12, 6], dtype=np.uint8)
SEM_TO_LIP = np.array([0, 2, 13, 13, 14, 15, 16, 17, 18, 19, 5, 9, 12, 6], dtype=np.uint8)
SEM_TO_ATR = np.array([0, 2, 11, 11, 14, 15, 12, 13, 9, 10, 4, 6, 5, 7], dtype=np.uint8)
PARSE_TABLES = {"cihp": SEM_TO_CIHP, "lip": SEM_TO_LIP, "atr": SEM_TO_ATR}

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
