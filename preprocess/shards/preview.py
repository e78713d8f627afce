"""A contact sheet of a few shard samples, so a person can eyeball the annotations in the Dagster UI.

One row per sample: person | parse (LIP palette) | agnostic mask over the person | skeleton | garment |
garment mask with its landmarks. Fields a sample lacks are drawn as grey panels.
"""

from __future__ import annotations

from io import BytesIO
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from preprocess.annotators.label_maps import CIHP_PALETTE
from preprocess.shards.reader import iter_samples

PANELS = ("person", "parse", "agnostic_mask", "skeleton", "garment", "garment_mask")
PANEL_HEIGHT = 160
_LUT = np.zeros((256, 3), np.uint8)
_LUT[: len(CIHP_PALETTE)] = CIHP_PALETTE


def _panel(sample: dict[str, Any], name: str) -> np.ndarray | None:
    value = sample.get(name)
    if value is None:
        return None
    if name == "parse":
        return _LUT[value]
    if name == "agnostic_mask" and "person" in sample:
        grey = sample["person"].astype(np.float32) * 0.5
        grey[value > 0] = (40, 40, 40)
        return grey.astype(np.uint8)
    if name == "garment_mask":
        rgb = np.repeat(value[..., None], 3, axis=2)
        landmarks = sample.get("garment_landmarks")
        if landmarks is None:
            return rgb
        image = Image.fromarray(rgb)
        draw = ImageDraw.Draw(image)
        radius = max(2, value.shape[0] // 80)
        for x, y, visible in landmarks.points:
            if visible > 0:
                draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(230, 30, 30))
        return np.asarray(image)
    return value if value.ndim == 3 else np.repeat(value[..., None], 3, axis=2)


def _fit(image: np.ndarray | None, width: int) -> Image.Image:
    if image is None:
        return Image.new("RGB", (width, PANEL_HEIGHT), (128, 128, 128))
    pil = Image.fromarray(image)
    scale = PANEL_HEIGHT / pil.height
    pil = pil.resize((max(1, round(pil.width * scale)), PANEL_HEIGHT), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (width, PANEL_HEIGHT), (255, 255, 255))
    canvas.paste(pil.crop((0, 0, min(width, pil.width), PANEL_HEIGHT)), (0, 0))
    return canvas


def contact_sheet(shard_dir: Path, samples: int = 4) -> bytes | None:
    """PNG bytes of the first `samples` image samples of a shard folder; None when it holds none."""
    rows = []
    width = PANEL_HEIGHT * 3 // 4
    for sample in islice((s for s in iter_samples(shard_dir, decode=True) if "frames" not in s), samples):
        rows.append([_fit(_panel(sample, name), width) for name in PANELS])
    if not rows:
        return None
    sheet = Image.new("RGB", (width * len(PANELS), PANEL_HEIGHT * len(rows)), (255, 255, 255))
    for r, panels in enumerate(rows):
        for c, panel in enumerate(panels):
            sheet.paste(panel, (c * width, r * PANEL_HEIGHT))
    buffer = BytesIO()
    sheet.save(buffer, "PNG")
    return buffer.getvalue()
