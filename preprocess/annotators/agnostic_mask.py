"""The rough try-on (agnostic) mask annotator: one of two rule sets, chosen by name, per garment category.

Strategies (each module documents its rules and their source): "catvton" — CatVTON's AutoMasker from
DensePose + LIP (+ ATR, derived from LIP when the sample has none) in `agnostic_catvton`; "hrviton" —
the HR-VITON / VITON-HD agnostic from LIP + OpenPose-18 in `agnostic_hrviton`. The output is the canonical
`agnostic_mask`: (H, W) uint8 {0, 255} at person-image size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from preprocess.annotators.agnostic_catvton import catvton_mask
from preprocess.annotators.agnostic_hrviton import hrviton_mask
from preprocess.annotators.base import AnnotationError, AnnotationInput, Pose

STRATEGIES = ("catvton", "hrviton")
VERSIONS = {"catvton": "catvton-1", "hrviton": "hrviton-2"}  # 2: flat-ended lines as the reference draws them
CATEGORIES = ("upper", "lower", "dresses")


def agnostic_mask(
    strategy: str,
    category: str,
    parse: np.ndarray,
    pose: Pose | None = None,
    densepose: np.ndarray | None = None,
    parse_atr: np.ndarray | None = None,
) -> np.ndarray:
    """Rough try-on mask (H, W) uint8 {0, 255} for `category` by `strategy` from canonical annotations.

    catvton needs `densepose` ((H, W, 3) I, U, V or (H, W) I) and takes an optional ATR parse;
    hrviton needs `pose`.
    """
    if strategy not in STRATEGIES:
        raise ValueError(
            f"unknown agnostic-mask strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}"
        )
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}: choose one of {', '.join(CATEGORIES)}")
    parse = np.asarray(parse)
    if parse.ndim != 2:
        raise ValueError(f"parse must be an (H, W) LIP label map, got shape {parse.shape}")
    if strategy == "catvton":
        if densepose is None:
            raise ValueError(
                "the catvton strategy needs DensePose (part index I); run the densepose annotator"
            )
        parts = np.asarray(densepose)
        parts = parts[..., 0] if parts.ndim == 3 else parts
        return catvton_mask(parse, parts, category, parse_atr)
    if pose is None:
        raise ValueError("the hrviton strategy needs the body pose; run the pose annotator")
    return hrviton_mask(parse, pose.body, category)


class AgnosticMaskAnnotator:
    """Annotator filling `agnostic_mask` from the sample's parse, pose and DensePose (ARCHITECTURE §4)."""

    name = "agnostic_mask"
    outputs = ("agnostic_mask",)
    needs = ("parse", "pose", "densepose")

    def __init__(self, strategy: str = "catvton") -> None:
        if strategy not in STRATEGIES:
            raise ValueError(
                f"unknown agnostic-mask strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}"
            )
        self.strategy = strategy
        self.version = VERSIONS[strategy]

    def _one(self, item: AnnotationInput) -> dict[str, Any]:
        category = item.row.get("category")
        missing = [k for k in self.needs if item.outputs.get(k) is None]
        if missing:
            raise AnnotationError(
                f"agnostic_mask ({self.strategy}) needs {', '.join(missing)}: run those annotators first",
                item.sample_id,
            )
        try:
            mask = agnostic_mask(
                self.strategy,
                str(category),
                item.outputs["parse"],
                pose=item.outputs["pose"],
                densepose=item.outputs["densepose"],
                parse_atr=item.outputs.get("parse_atr"),
            )
        except ValueError as exc:
            raise AnnotationError(f"agnostic_mask ({self.strategy}): {exc}", item.sample_id) from None
        return {"agnostic_mask": mask}

    def __call__(self, batch: list[AnnotationInput]) -> list[dict[str, Any]]:
        """One {"agnostic_mask": (H, W) uint8 {0, 255}} per sample; AnnotationError names a bad sample."""
        return [self._one(item) for item in batch]
