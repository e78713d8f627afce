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
from functools import cache

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


# What a label says about a pixel, as bits; for the parse ORed over the LIP and the ATR parse: a limb
# (LIMBS), the face (LIP only), weakly protected for the category (its protected body parts, the other
# garment, hair, accessories), the category's garment (MASK_CLOTH), and not background. For DensePose:
# a hand or foot, and one of the category's mask parts. Masks below are uint8 0/255, combined with
# cv2's bitwise operations.
_LIMB, _FACE, _WEAK, _CLOTH, _FOREGROUND = 1, 2, 4, 8, 16
_HAND_FOOT, _DENSE_PART = 1, 2


def _flag_table(table: dict[str, int], bits: list[tuple[int, Iterable[str]]]) -> np.ndarray:
    flags = np.zeros(256, np.uint8)
    for bit, names in bits:
        flags[[table[n] for n in names if n in table]] |= bit
    return flags


@cache
def _flag_tables(category: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Label -> flag bits for `category`: LIP, ATR, LIP with the derived ATR folded in, and DensePose."""
    lip_cloth, atr_cloth = PROTECT_CLOTH[category]
    both = (PROTECT_BODY[category], ("Hair",), ACCESSORIES)
    lip = _flag_table(
        LIP,
        [(_LIMB, LIMBS), (_FACE, ("Face",)), (_CLOTH, MASK_CLOTH[category])]
        + [(_WEAK, names) for names in (*both, lip_cloth)],
    )
    atr = _flag_table(
        ATR,
        [(_LIMB, LIMBS), (_CLOTH, MASK_CLOTH[category])] + [(_WEAK, names) for names in (*both, atr_cloth)],
    )
    lip[np.arange(256) != LIP["Background"]] |= _FOREGROUND
    atr[np.arange(256) != ATR["Background"]] |= _FOREGROUND
    dense = np.zeros(256, np.uint8)
    dense[list(DP_HANDS + DP_FEET)] |= _HAND_FOOT
    dense[list(DP_MASK_PARTS[category])] |= _DENSE_PART
    tables = (lip, atr, lip | atr[LIP_TO_ATR], dense)
    for table in tables:
        table.setflags(write=False)  # shared by every call (cached)
    return tables


def _lookup(labels: np.ndarray, table: np.ndarray) -> np.ndarray:
    """table[labels] as uint8; labels outside 0-255 (other integer types) get table[255], a label naming
    no part (so only "not background")."""
    if labels.dtype == np.uint8:
        return cv2.LUT(np.ascontiguousarray(labels), table)
    inside = (labels >= 0) & (labels < 256)
    return np.where(inside, table[np.where(inside, labels, 0)], table[255]).astype(np.uint8)


def _has(flags: np.ndarray, bit: int) -> np.ndarray:
    """0/255 mask of the pixels whose flags hold `bit`."""
    return cv2.compare(cv2.bitwise_and(flags, bit), 0, cv2.CMP_NE)


def _hull(mask: np.ndarray) -> np.ndarray:
    """Union of the filled convex hulls of the outer contours of a 0/255 mask (CatVTON's hull_mask)."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = np.zeros(mask.shape, np.uint8)
    for contour in contours:
        cv2.fillPoly(out, [cv2.convexHull(contour)], 255)
    return out


def _dense_area(parts: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The 0/255 mask of the category's DensePose parts, grown by two dilations at quarter resolution."""
    h, w = parts.shape
    small = cv2.resize(parts, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_NEAREST)
    small = cv2.dilate(small, kernel, iterations=2)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


@cache
def _fixed_point_kernel(side: int) -> np.ndarray:
    """OpenCV's own 8-bit Gaussian kernel for `side` as integers summing to 256 (its fixed-point weights,
    8 fractional bits), read off cv2.GaussianBlur of one 255 pixel in a single-row image.

    In a single row every column pass sums the same row, times the weights' sum 256, so the output at
    offset i is (255 * 256 * w_i + 2**15) >> 16, which is w_i for every weight below 129 (a Gaussian kernel
    of 3 or more taps has none larger).
    """
    row = np.zeros((1, 4 * side), np.uint8)
    row[0, 2 * side] = 255
    weights = cv2.GaussianBlur(row, (side, side), 0)[0, 2 * side - side // 2 : 2 * side + side // 2 + 1]
    if int(weights.sum()) != 256:
        raise RuntimeError(
            f"OpenCV's {side}-tap 8-bit Gaussian kernel does not sum to 256 here ({int(weights.sum())}); "
            "this OpenCV build blurs 8-bit images differently: report it with cv2.__version__"
        )
    kernel = weights.astype(np.float32).reshape(-1, 1)
    kernel.setflags(write=False)
    return kernel


def _blur_at_least(mask: np.ndarray, side: int, threshold: int) -> np.ndarray:
    """0/255 mask of the pixels where cv2.GaussianBlur(mask, (side, side), 0) >= `threshold`, bit for bit,
    computed over the box around the mask's pixels grown by the kernel radius + 1 only, at about a third
    of cv2.GaussianBlur's cost.

    OpenCV blurs 8-bit images in fixed point: a row pass with integer weights w (sum 256), a column pass
    with the same weights, and the sum S rounded as (S + 2**15) >> 16. Every partial sum is an integer below
    2**24 (S <= 255 * 256 * 256), so the same passes in float32 (`cv2.sepFilter2D`) give S exactly, and
    blur >= t exactly when S >= t * 2**16 - 2**15. Outside the box the blur of zeros is 0, and inside it
    every tap (reflected at the image's own edges, zeros elsewhere) reads what it reads in the whole image.
    """
    out = np.zeros(mask.shape, np.uint8)
    x, y, width, height = cv2.boundingRect(mask)
    if width == 0 or threshold > 255:
        return out
    grow = side // 2 + 1
    top, left = max(0, y - grow), max(0, x - grow)
    bottom, right = min(mask.shape[0], y + height + grow), min(mask.shape[1], x + width + grow)
    box = np.ascontiguousarray(mask[top:bottom, left:right])
    kernel = _fixed_point_kernel(side)
    sums = cv2.sepFilter2D(box, cv2.CV_32F, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)
    at_least = float(threshold * 65536 - 32768)
    out[top:bottom, left:right] = cv2.compare(sums, at_least, cv2.CMP_GE)
    return out


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
    lip_table, atr_table, folded_table, dense_table = _flag_tables(category)
    if parse_atr is None and parse_lip.dtype == np.uint8:
        flags = cv2.LUT(np.ascontiguousarray(parse_lip), folded_table)
    else:
        atr = lip_to_atr(parse_lip) if parse_atr is None else parse_atr
        flags = cv2.bitwise_or(_lookup(parse_lip, lip_table), _lookup(atr, atr_table))
    dense = _lookup(dp_parts, dense_table)
    h, w = parse_lip.shape
    dilate_side, blur_side = kernel_sizes(h, w)
    kernel = np.ones((dilate_side, dilate_side), np.uint8)

    hands = cv2.dilate(_has(dense, _HAND_FOOT), kernel)
    strong_protect = cv2.bitwise_or(cv2.bitwise_and(hands, _has(flags, _LIMB)), _has(flags, _FACE))
    unprotected = cv2.bitwise_not(cv2.bitwise_or(strong_protect, _has(flags, _WEAK)))  # not weak protect
    area = cv2.bitwise_and(unprotected, _has(flags, _FOREGROUND))
    area = cv2.bitwise_or(area, _dense_area(_has(dense, _DENSE_PART), kernel))
    area = cv2.bitwise_and(_hull(area), unprotected)
    area = _blur_at_least(area, blur_side, BLUR_THRESHOLD)
    area = cv2.bitwise_or(area, _has(flags, _CLOTH))
    area = cv2.bitwise_and(area, cv2.bitwise_not(strong_protect))
    return cv2.dilate(area, kernel)
