"""Human-parsing label sets and the tables that bring every shipped parse to the canonical LIP-20 set.

The platform's canonical parse is LIP-20 (ARCHITECTURE §3). Datasets ship other sets:

- CIHP-20 (VITON-HD's `image-parse-v3`): the same 20 indices as LIP, except that index 10 is
  "Torso-skin" in CIHP and "Jumpsuits" in LIP, and VITON-HD uses 10 for the neck (HR-VITON's
  `get_parse_agnostic` treats 10 as the neck). LIP has no neck or skin class; a LIP-trained parser
  (SCHP) labels the visible neck as Face, so CIHP 10 maps to LIP 13 (Face). The neck therefore cannot be
  told apart from the face after the mapping; consumers that need it use the pose (neck keypoint).
- ATR-18 (Dress Code's `label_maps/*_4.png`, SCHP's ATR model): see `ATR_TO_LIP` for each choice. ATR
  "head" is the facial skin (hair is its own class) and maps to Face; "belt" maps to Pants, the garment
  whose waistband it sits on; "bag" is not part of the person and maps to Background.

`lip_to_groups7` gives the 7-group view of the garment-transfer paper (seed 003, §3.2.2: "background,
hair, face, upper body skin, upper garment, lower garment, and thigh"); see `LIP_TO_GROUPS7`.
"""

from __future__ import annotations

import cv2
import numpy as np

LIP_LABELS = (
    "Background", "Hat", "Hair", "Glove", "Sunglasses", "Upper-clothes", "Dress", "Coat", "Socks", "Pants",
    "Jumpsuits", "Scarf", "Skirt", "Face", "Left-arm", "Right-arm", "Left-leg", "Right-leg", "Left-shoe",
    "Right-shoe",
)  # fmt: skip
# CIHP shares LIP's indices; only index 10 is named differently.
CIHP_LABELS = LIP_LABELS[:10] + ("Torso-skin",) + LIP_LABELS[11:]
ATR_LABELS = (
    "background", "hat", "hair", "sunglasses", "upper_clothes", "skirt", "pants", "dress", "belt",
    "left_shoe", "right_shoe", "head", "left_leg", "right_leg", "left_arm", "right_arm", "bag", "scarf",
)  # fmt: skip
LABEL_SETS = {"lip": LIP_LABELS, "cihp": CIHP_LABELS, "atr": ATR_LABELS}

# The colours LIP/CIHP visualisations (and VITON-HD's palette PNGs) give each index.
CIHP_PALETTE = (
    (0, 0, 0), (128, 0, 0), (254, 0, 0), (0, 85, 0), (169, 0, 51), (254, 85, 0), (0, 0, 85), (0, 119, 221),
    (85, 85, 0), (0, 85, 85), (85, 51, 0), (52, 86, 128), (0, 128, 0), (0, 0, 254), (51, 169, 220),
    (0, 254, 254), (85, 254, 169), (169, 254, 85), (254, 254, 0), (254, 169, 0),
)  # fmt: skip


def _table(pairs: dict[str, str], source: tuple[str, ...]) -> np.ndarray:
    """A uint8 lookup array source index -> LIP index, built from names so every entry is checked."""
    if set(pairs) != set(source):
        raise AssertionError(
            f"mapping must name every source label exactly once: {sorted(set(source) ^ set(pairs))}"
        )
    return np.array([LIP_LABELS.index(pairs[name]) for name in source], dtype=np.uint8)


CIHP_TO_LIP = _table(
    {name: name for name in CIHP_LABELS if name != "Torso-skin"} | {"Torso-skin": "Face"}, CIHP_LABELS
)
ATR_TO_LIP = _table(
    {
        "background": "Background",
        "hat": "Hat",
        "hair": "Hair",
        "sunglasses": "Sunglasses",
        "upper_clothes": "Upper-clothes",
        "skirt": "Skirt",
        "pants": "Pants",
        "dress": "Dress",
        "belt": "Pants",  # worn on the lower garment's waistband
        "left_shoe": "Left-shoe",
        "right_shoe": "Right-shoe",
        "head": "Face",  # ATR's head is the facial skin; hair has its own class
        "left_leg": "Left-leg",
        "right_leg": "Right-leg",
        "left_arm": "Left-arm",
        "right_arm": "Right-arm",
        "bag": "Background",  # carried, not worn: not part of the person
        "scarf": "Scarf",
    },
    ATR_LABELS,
)
LIP_TO_LIP = np.arange(len(LIP_LABELS), dtype=np.uint8)
TO_LIP = {"lip": LIP_TO_LIP, "cihp": CIHP_TO_LIP, "atr": ATR_TO_LIP}

GROUPS7 = ("background", "hair", "face", "upper_body_skin", "upper_garment", "lower_garment", "thigh")
# LIP -> the 7 groups. Head accessories go with the region they cover (hat: hair, sunglasses: face);
# arms, hands and gloves are the upper-body skin; one-piece garments (dress, jumpsuit), coats and scarves
# are upper garments, as the paper transfers what covers the upper body; the paper's "thigh" group is the
# whole lower limb, so legs, socks and shoes go there.
LIP_TO_GROUPS7 = np.array(
    [
        GROUPS7.index(group)
        for group in (
            "background",  # Background
            "hair",  # Hat
            "hair",  # Hair
            "upper_body_skin",  # Glove
            "face",  # Sunglasses
            "upper_garment",  # Upper-clothes
            "upper_garment",  # Dress
            "upper_garment",  # Coat
            "thigh",  # Socks
            "lower_garment",  # Pants
            "upper_garment",  # Jumpsuits
            "upper_garment",  # Scarf
            "lower_garment",  # Skirt
            "face",  # Face
            "upper_body_skin",  # Left-arm
            "upper_body_skin",  # Right-arm
            "thigh",  # Left-leg
            "thigh",  # Right-leg
            "thigh",  # Left-shoe
            "thigh",  # Right-shoe
        )
    ],
    dtype=np.uint8,
)


def _lookup(labels: np.ndarray, table: np.ndarray, set_name: str, name: str | None) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype.kind not in "ui":
        raise ValueError(f"{name or 'label map'}: labels must be integers, got dtype {labels.dtype}")
    top = int(labels.max(initial=0))
    if top >= len(table) or int(labels.min(initial=0)) < 0:
        raise ValueError(
            f"{name or 'label map'} holds label {top}, outside the {set_name} set (0..{len(table) - 1}): "
            f"check that the parse really uses {set_name} labels"
        )
    if labels.dtype == np.uint8 and labels.ndim == 2 and labels.size and table.dtype == np.uint8:
        lut = np.zeros(256, np.uint8)  # table[labels] by OpenCV's lookup, several times faster
        lut[: len(table)] = table
        return cv2.LUT(np.ascontiguousarray(labels), lut)
    return table[labels]


def to_lip(labels: np.ndarray, source: str, name: str | None = None) -> np.ndarray:
    """Map a label map in `source` ("lip", "cihp" or "atr") to LIP-20 indices, (H, W) uint8.

    A label outside the source set raises ValueError naming `name` (the file), never a silent wrong class.
    """
    try:
        table = TO_LIP[source]
    except KeyError:
        raise ValueError(f"unknown parse label set {source!r}; choose one of {sorted(TO_LIP)}") from None
    return _lookup(labels, table, source.upper(), name)


def lip_to_groups7(labels: np.ndarray) -> np.ndarray:
    """LIP-20 label map -> the garment-transfer paper's 7 groups (indices into `GROUPS7`), (H, W) uint8."""
    return _lookup(labels, LIP_TO_GROUPS7, "LIP", None)
