"""The person image an annotator works on: the decoded array when the runner supplied it, else the file.

Decoding failures become `AnnotationError` with the image module's reason (names the file and the fix),
so one bad sample turns into a quarantine row at the annotation stage instead of stopping the batch.
"""

from __future__ import annotations

import numpy as np

from preprocess.annotators.base import AnnotationError, AnnotationInput
from preprocess.images import BadImageError, decode_image


def person_image(item: AnnotationInput) -> np.ndarray:
    """(H, W, 3) uint8 RGB person image of `item`, decoding `row["person_path"]` under `root` if needed."""
    if item.person is not None:
        image = np.asarray(item.person)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise AnnotationError(
                f"sample {item.sample_id}: the person image is {image.dtype} {image.shape}, expected "
                "(H, W, 3) uint8 RGB; decode it with preprocess.images.decode_image",
                item.sample_id,
            )
        return image
    rel = item.row.get("person_path")
    if not rel:
        raise AnnotationError(
            f"sample {item.sample_id} has no person image (person_path is empty); "
            "person annotators only apply to samples with a person photo",
            item.sample_id,
        )
    try:
        return decode_image(item.root / rel, rel, role="person image")
    except BadImageError as exc:
        raise AnnotationError(f"sample {item.sample_id}: {exc.reason}", item.sample_id) from None
