"""CatVTON's AutoMasker rules for the rough try-on mask: DensePose parts + LIP + ATR parsing.

Source: zhengchong/CatVTON, `model/cloth_masker.py` (`AutoMasker.cloth_agnostic_mask`, `hull_mask`,
`part_mask_of` and the tables `DENSE_INDEX_MAP`, `PROTECT_BODY_PARTS`, `PROTECT_CLOTH_PARTS`,
`MASK_CLOTH_PARTS`, `MASK_DENSE_PARTS`). CatVTON's `upper` / `lower` / `overall` parts are this
platform's `upper` / `lower` / `dresses` categories. The rules, in CatVTON's order:

1. kernels scale with the image: dilation max(H, W) // 250, blur max(H, W) // 25, both made odd;
2. strong protect: DensePose hands and feet (dilated once) where the parse says arm or leg, and LIP Face;
3. weak protect: strong protect + the category's protected body parts, the other garment, hair and
   accessories (hat, glove, sunglasses, bag, shoes, scarf, socks) from LIP and ATR;
4. strong mask: the category's garment labels in LIP or ATR;
5. DensePose mask parts (torso and arms / thighs and legs / all), dilated twice at quarter resolution;
6. everything that is neither weakly protected nor background (in both parses), plus (5), is filled
   with the convex hull of each outer contour, weak protect removed, Gaussian-blurred and thresholded at
   25/255 (a soft grow); then (4) is added, strong protect removed and the result dilated once.

Where CatVTON resizes the quarter-resolution DensePose mask back by a factor 4 (exact on its
1024x768 inputs), this module resizes to the exact image size, so any size works.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

CATEGORIES = ("upper", "lower", "dresses")

# DensePose-COCO part indices I (CatVTON's DENSE_INDEX_MAP, grouped as its rules use them).
DP_HANDS = (3, 4)
DP_FEET = (5, 6)
DP_MASK_PARTS = {
    "upper": (1, 2, 15, 16, 17, 18, 19, 20, 21, 22),  # torso, big arms, forearms
    "lower": (7, 8, 9, 10, 11, 12, 13, 14),  # thighs, legs
    "dresses": (1, 2, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22),
}

# LIP-20 indices (CatVTON's LIP_MAPPING).
LIP = {
    "Background": 0, "Hat": 1, "Hair": 2, "Glove": 3, "Sunglasses": 4, "Upper-clothes": 5, "Dress": 6,
    "Coat": 7, "Socks": 8, "Pants": 9, "Jumpsuits": 10, "Scarf": 11, "Skirt": 12, "Face": 13,
    "Left-arm": 14, "Right-arm": 15, "Left-leg": 16, "Right-leg": 17, "Left-shoe": 18, "Right-shoe": 19,
}  # fmt: skip
# ATR-18 indices (CatVTON's ATR_MAPPING; index 11 is the whole head, which CatVTON calls Face).
ATR = {
    "Background": 0, "Hat": 1, "Hair": 2, "Sunglasses": 3, "Upper-clothes": 4, "Skirt": 5, "Pants": 6,
    "Dress": 7, "Belt": 8, "Left-shoe": 9, "Right-shoe": 10, "Face": 11, "Left-leg": 12, "Right-leg": 13,
    "Left-arm": 14, "Right-arm": 15, "Bag": 16, "Scarf": 17,
}  # fmt: skip

PROTECT_BODY = {
    "upper": ("Left-leg", "Right-leg"),
    "lower": ("Right-arm", "Left-arm", "Face"),
    "dresses": (),
}
PROTECT_CLOTH = {  # the other garment: (LIP names, ATR names)
    "upper": (("Skirt", "Pants"), ("Skirt", "Pants")),
    "lower": (("Upper-clothes", "Coat"), ("Upper-clothes",)),
    "dresses": ((), ()),
}
MASK_CLOTH = {
    "upper": ("Upper-clothes", "Coat", "Dress", "Jumpsuits"),
    "lower": ("Pants", "Skirt", "Dress", "Jumpsuits"),
    "dresses": ("Upper-clothes", "Dress", "Pants", "Skirt", "Coat", "Jumpsuits"),
}
LIMBS = ("Left-arm", "Right-arm", "Left-leg", "Right-leg")
ACCESSORIES = ("Hat", "Glove", "Sunglasses", "Bag", "Left-shoe", "Right-shoe", "Scarf", "Socks")
BLUR_THRESHOLD = 25  # of 255, CatVTON's binarisation of the blurred hull

# ATR-like classes derived from a LIP parse where no ATR parse exists. An approximation: ATR has no
# glove, socks, coat or jumpsuit class. Coat becomes Upper-clothes and Jumpsuits Dress (the ATR classes
# SCHP-ATR gives such garments); Glove and Socks become Background, because their side (left/right
# arm or leg) is unknown and the LIP parse still protects both as accessories. Face maps to ATR's head.
LIP_TO_ATR = np.array(
    [0, 1, 2, 0, 3, 4, 7, 4, 0, 6, 7, 17, 5, 11, 14, 15, 12, 13, 9, 10] + [0] * 236, dtype=np.uint8
)


def lip_to_atr(parse_lip: np.ndarray) -> np.ndarray:
    """ATR-18-like label map from a LIP-20 parse (see LIP_TO_ATR for the approximation)."""
    if parse_lip.dtype == np.uint8:
        return cv2.LUT(np.ascontiguousarray(parse_lip), LIP_TO_ATR)
    return LIP_TO_ATR[parse_lip]


def kernel_sizes(height: int, width: int) -> tuple[int, int]:
    """(dilation, blur) kernel sides for an image, as CatVTON scales them: max side // 250 and // 25, odd."""
    side = max(height, width)
    dilate, blur = side // 250, side // 25
    return dilate + (dilate % 2 == 0), blur + (blur % 2 == 0)


def _members(labels: np.ndarray, wanted: Iterable[int]) -> np.ndarray:
    """np.isin(labels, wanted) as a boolean map; one cv2 table lookup for uint8 maps (several times faster)."""
    wanted = list(wanted)
    if labels.dtype != np.uint8:
        return np.isin(labels, wanted)
    table = np.zeros(256, np.uint8)
    table[wanted] = 1
    return cv2.LUT(np.ascontiguousarray(labels), table).view(bool)


def _labels(parse: np.ndarray, names: tuple[str, ...], table: dict[str, int]) -> np.ndarray:
    return _members(parse, [table[n] for n in names if n in table])


def _both(lip: np.ndarray, atr: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return _labels(lip, names, LIP) | _labels(atr, names, ATR)


def _hull(mask: np.ndarray) -> np.ndarray:
    """Union of the filled convex hulls of the outer contours of a boolean mask (CatVTON's hull_mask)."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = np.zeros(mask.shape, np.uint8)
    for contour in contours:
        cv2.fillPoly(out, [cv2.convexHull(contour)], 1)
    return out.astype(bool)


def _dense_area(parts: np.ndarray, category: str, kernel: np.ndarray) -> np.ndarray:
    """The category's DensePose parts, grown by two dilations at quarter resolution."""
    h, w = parts.shape
    area = _members(parts, DP_MASK_PARTS[category]).view(np.uint8)
    small = cv2.resize(area, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_NEAREST)
    small = cv2.dilate(small, kernel, iterations=2)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)


def catvton_mask(
    parse_lip: np.ndarray, dp_parts: np.ndarray, category: str, parse_atr: np.ndarray | None = None
) -> np.ndarray:
    """Rough try-on mask (H, W) uint8 {0, 255} by CatVTON's AutoMasker rules for `category`.

    `parse_lip`: (H, W) LIP-20 labels; `dp_parts`: (H, W) DensePose part index I; `parse_atr`: an ATR-18
    parse of the same image, derived from the LIP parse when None.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}: choose one of {', '.join(CATEGORIES)}")
    if parse_lip.shape != dp_parts.shape or (parse_atr is not None and parse_atr.shape != parse_lip.shape):
        raise ValueError(
            f"parse {parse_lip.shape} and DensePose {dp_parts.shape} (and ATR parse) must share one size"
        )
    atr = lip_to_atr(parse_lip) if parse_atr is None else parse_atr
    h, w = parse_lip.shape
    dilate_side, blur_side = kernel_sizes(h, w)
    kernel = np.ones((dilate_side, dilate_side), np.uint8)

    hands = cv2.dilate(_members(dp_parts, DP_HANDS + DP_FEET).view(np.uint8), kernel).astype(bool)
    strong_protect = (hands & _both(parse_lip, atr, LIMBS)) | _labels(parse_lip, ("Face",), LIP)

    lip_cloth, atr_cloth = PROTECT_CLOTH[category]
    weak_protect = (
        strong_protect
        | _both(parse_lip, atr, PROTECT_BODY[category])
        | _labels(parse_lip, lip_cloth, LIP)
        | _labels(atr, atr_cloth, ATR)
        | _both(parse_lip, atr, ("Hair",))
        | _both(parse_lip, atr, ACCESSORIES)
    )
    strong_mask = _both(parse_lip, atr, MASK_CLOTH[category])
    background = (parse_lip == LIP["Background"]) & (atr == ATR["Background"])

    area = (~weak_protect & ~background) | _dense_area(dp_parts, category, kernel)
    area = _hull(area) & ~weak_protect
    blurred = cv2.GaussianBlur(area.astype(np.uint8) * 255, (blur_side, blur_side), 0)
    area = (blurred >= BLUR_THRESHOLD) | strong_mask
    area &= ~strong_protect
    return cv2.dilate(area.astype(np.uint8), kernel) * np.uint8(255)
