"""A minimal VITON-HD tree with real (tiny) JPEGs, for tests that run the manifest build end to end."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from PIL import Image

SIZE = (24, 32)  # (width, height): small, but a real JPEG the manifest's probe decodes


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", SIZE, colour).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def write_vitonhd(
    root: Path, ids: list[str], split: str = "train", missing_cloth: tuple[str, ...] = ()
) -> Path:
    """A minimal VITON-HD tree: `{split}_pairs.txt` and person/cloth JPEGs; ids in missing_cloth lack a cloth."""
    for folder in ("image", "cloth"):
        (root / split / folder).mkdir(parents=True, exist_ok=True)
    lines = []
    for n, sample in enumerate(ids):
        (root / split / "image" / f"{sample}.jpg").write_bytes(_jpeg((10 * n % 256, 80, 120)))
        if sample not in missing_cloth:
            (root / split / "cloth" / f"{sample}.jpg").write_bytes(_jpeg((200, 10 * n % 256, 40)))
        lines.append(f"{sample}.jpg {sample}.jpg")
    (root / f"{split}_pairs.txt").write_text("\n".join(lines) + "\n")
    return root
