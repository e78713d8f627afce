"""Refined try-on masks from an Auto-ARM checkpoint, written the way evaluations and later stages read them.

`predict_masks` runs a checkpoint over the image samples of a shard folder (one split, paired, unpaired or
both) and writes one folder, replaced as a whole only when complete:

    out_dir/<sample_id>.png            refined mask M_f, L mode {0, 255}, at the person's original size
    out_dir/rough/<sample_id>.png      the input rough mask M_r (the shard's agnostic_mask.png, unchanged)
    out_dir/truth/<sample_id>.png      the parse garment region (`truth_mask`), paired samples only
    out_dir/shards/shard-NNNNNN.tar    WebDataset shards keyed by sample id: refined_mask.png and meta.json
    out_dir/shards/shards.json         the shard list (`preprocess.shards.reader.iter_samples` reads it)
    out_dir/predictions.json           checkpoint, split, pair mode, counts and the samples skipped (why)

The model sees each sample at the config's size; σ(logits) is resized bilinearly to the person's size and
thresholded there (smoother edges than resizing the binary mask). `mask_grid` renders rough | refined |
truth rows for asset metadata and reports.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from models.autoarm.config import AutoArmConfig
from models.autoarm.data import (
    PARSE_MEMBER,
    ROUGH_MEMBER,
    decode_png,
    input_arrays,
    sample_meta,
    skip_reason,
    truth_mask,
)
from models.autoarm.family import FAMILY
from models.training.checkpoints import load_weights, read_config
from preprocess.shards.codec import META_MEMBER, encode_json, encode_png
from preprocess.shards.reader import SHARDS_JSON, iter_tar, shard_names
from preprocess.shards.writer import ShardWriter, shard_name

__all__ = ["MaskPredictions", "load_autoarm", "mask_grid", "predict_masks", "truth_mask"]

REFINED_MEMBER = "refined_mask.png"
SAMPLES_PER_SHARD = 1000
ROUGH_DIR, TRUTH_DIR, SHARDS_DIR = "rough", "truth", "shards"
SUMMARY_FILE = "predictions.json"


@dataclass
class MaskPredictions:
    """What `predict_masks` wrote (paths are final, under `folder`)."""

    folder: Path
    files: dict[str, Path]  # sample id -> refined mask PNG
    rough: dict[str, Path]  # sample id -> input rough mask PNG
    truth: dict[str, Path]  # sample id -> parse garment region PNG (paired samples only)
    shards: list[Path]
    checkpoint: str
    skipped: dict[str, str] = field(default_factory=dict)  # sample id -> why it has no prediction


def load_autoarm(checkpoint: Path, device: str = "cpu") -> tuple[torch.nn.Module, AutoArmConfig]:
    """The model of an Auto-ARM checkpoint folder (EMA weights when it has them), in eval mode, and its config."""
    checkpoint = Path(checkpoint)
    if not (checkpoint / "config.json").is_file():
        raise FileNotFoundError(
            f"{checkpoint} has no config.json: pass a checkpoint folder (step-NNNNNNNN) of an autoarm run"
        )
    record = read_config(checkpoint)
    if record.get("family", FAMILY.name) != FAMILY.name:
        raise ValueError(
            f"{checkpoint} is a {record['family']!r} checkpoint, not autoarm; pass an Auto-ARM checkpoint"
        )
    config = AutoArmConfig.from_dict(record["config"])
    model = FAMILY.build_model(config).to(device)
    load_weights(checkpoint, model, ema=True)
    return model.eval(), config


@torch.no_grad()
def refine(
    model: torch.nn.Module, config: AutoArmConfig, inputs: torch.Tensor, sizes: Sequence[tuple[int, int]]
) -> list[np.ndarray]:
    """Refined masks (bool, each at its (H, W) in `sizes`) for a batch of (N, 5, h, w) inputs."""
    device = next(model.parameters()).device
    probabilities = torch.sigmoid(model(inputs.to(device)).float())
    masks = []
    for probability, size in zip(probabilities, sizes, strict=True):
        full = F.interpolate(probability[None], size=size, mode="bilinear", align_corners=False)[0, 0]
        masks.append((full > config.threshold).cpu().numpy())
    return masks


def _selected(
    shard_dir: Path, split: str | None, pair_mode: str | None, skipped: dict[str, str]
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(sample id, members, meta) of the image samples to predict; the others of the selection go to `skipped`."""
    for name in shard_names(shard_dir):
        for key, members in iter_tar(Path(shard_dir) / name):
            meta = sample_meta(members)
            if split is not None and meta.get("split") != split:
                continue
            if pair_mode is not None and (meta.get("pair_mode") or "paired") != pair_mode:
                continue
            reason = skip_reason(members, meta, need_truth=False)
            if reason is not None:
                skipped[key] = reason
                continue
            yield key, members, meta


def predict_masks(
    checkpoint: Path,
    shard_dir: Path,
    out_dir: Path,
    *,
    split: str | None = "test",
    pair_mode: str | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    write_shards: bool = True,
) -> MaskPredictions:
    """Refine the rough masks of `shard_dir`'s image samples (of `split` and `pair_mode`; None: all) with the
    checkpoint and write `out_dir` as the module docstring lays out; returns the files written."""
    checkpoint, shard_dir, out_dir = Path(checkpoint), Path(shard_dir), Path(out_dir)
    model, config = load_autoarm(checkpoint, device)
    building = out_dir.with_name(f".{out_dir.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    for sub in (ROUGH_DIR, TRUTH_DIR):
        (building / sub).mkdir(parents=True)
    skipped: dict[str, str] = {}
    written: dict[str, dict[str, Any]] = {}  # sample id -> what the shards record
    refined_png: dict[str, bytes] = {}
    has_truth: set[str] = set()
    pending: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def flush() -> None:
        arrays, sizes = zip(
            *(input_arrays(m, config.height, config.width) for _, m, _ in pending), strict=True
        )
        masks = refine(model, config, torch.from_numpy(np.stack(arrays)), sizes)
        for (key, members, meta), mask in zip(pending, masks, strict=True):
            data = encode_png(np.where(mask, 255, 0).astype(np.uint8))
            (building / f"{key}.png").write_bytes(data)
            (building / ROUGH_DIR / f"{key}.png").write_bytes(members[ROUGH_MEMBER])
            paired = (meta.get("pair_mode") or "paired") == "paired"
            if paired and PARSE_MEMBER in members:
                parse = decode_png(members[PARSE_MEMBER], "L", PARSE_MEMBER)
                region = np.where(truth_mask(parse, meta["category"]), 255, 0).astype(np.uint8)
                (building / TRUTH_DIR / f"{key}.png").write_bytes(encode_png(region))
                has_truth.add(key)
            refined_png[key] = data
            written[key] = {
                "sample_id": key,
                "dataset": meta.get("dataset"),
                "split": meta.get("split"),
                "pair_mode": meta.get("pair_mode") or "paired",
                "category": meta.get("category"),
                "width": int(mask.shape[1]),
                "height": int(mask.shape[0]),
                "checkpoint": str(checkpoint),
            }
        pending.clear()

    for item in _selected(shard_dir, split, pair_mode, skipped):
        pending.append(item)
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()

    shard_files = _write_mask_shards(building / SHARDS_DIR, refined_png, written) if write_shards else []
    summary = {
        "checkpoint": str(checkpoint),
        "shard_dir": str(shard_dir),
        "split": split,
        "pair_mode": pair_mode,
        "predicted": len(written),
        "with_truth": len(has_truth),
        "skipped": skipped,
        "config": config.to_dict(),
    }
    (building / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    _replace_folder(building, out_dir)
    keys = sorted(written)
    return MaskPredictions(
        folder=out_dir,
        files={k: out_dir / f"{k}.png" for k in keys},
        rough={k: out_dir / ROUGH_DIR / f"{k}.png" for k in keys},
        truth={k: out_dir / TRUTH_DIR / f"{k}.png" for k in keys if k in has_truth},
        shards=[out_dir / SHARDS_DIR / p.name for p in shard_files],
        checkpoint=str(checkpoint),
        skipped=skipped,
    )


def _write_mask_shards(
    folder: Path, refined_png: dict[str, bytes], records: dict[str, dict[str, Any]]
) -> list[Path]:
    """WebDataset shards of the refined masks in key order (each shard written atomically) plus shards.json."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = sorted(refined_png)
    infos = []
    for number, start in enumerate(range(0, len(keys), SAMPLES_PER_SHARD)):
        with ShardWriter(folder, shard_name(number)) as writer:
            for key in keys[start : start + SAMPLES_PER_SHARD]:
                writer.add(key, {REFINED_MEMBER: refined_png[key], META_MEMBER: encode_json(records[key])})
            infos.append(writer.close())
    listing = {
        "samples": len(keys),
        "shards": [{"name": i.name, "samples": i.samples, "size": i.size, "sha256": i.sha256} for i in infos],
    }
    (folder / SHARDS_JSON).write_text(json.dumps(listing, indent=2, sort_keys=True) + "\n")
    return [folder / i.name for i in infos]


def _replace_folder(building: Path, final: Path) -> None:
    """Swap the finished `building` folder in for `final` (the old one, if any, is removed after)."""
    retired = final.with_name(f".{final.name}.retired")
    shutil.rmtree(retired, ignore_errors=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        final.rename(retired)
    building.rename(final)
    shutil.rmtree(retired, ignore_errors=True)


PANEL_HEIGHT = 160
HEADER_HEIGHT = 22
LABEL_HEIGHT = 18
GAP = 4
COLUMNS = ("rough", "refined", "truth")


def mask_grid(rows: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]]) -> bytes:
    """PNG of one row per (label, rough, refined, truth): three mask panels under a "rough | refined | truth"
    header, each row titled by its label. Masks are any (H, W) arrays (nonzero = inside); a None truth
    (unpaired sample) is drawn as a grey panel."""
    if not rows:
        raise ValueError("mask_grid needs at least one (label, rough, refined, truth) row")
    first = np.asarray(rows[0][1])
    panel_w = max(1, round(PANEL_HEIGHT * first.shape[1] / first.shape[0]))
    width = 3 * panel_w + 4 * GAP
    height = HEADER_HEIGHT + len(rows) * (LABEL_HEIGHT + PANEL_HEIGHT + GAP) + GAP
    canvas = np.full((height, width, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for column, title in enumerate(COLUMNS):
        x = GAP + column * (panel_w + GAP)
        cv2.putText(canvas, title, (x + 4, HEADER_HEIGHT - 7), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    y = HEADER_HEIGHT
    for label, *panels in rows:
        cv2.putText(
            canvas, str(label)[:60], (GAP + 2, y + LABEL_HEIGHT - 5), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA
        )
        y += LABEL_HEIGHT
        for column, mask in enumerate(panels):
            x = GAP + column * (panel_w + GAP)
            canvas[y : y + PANEL_HEIGHT, x : x + panel_w] = _panel(mask, PANEL_HEIGHT, panel_w)
        y += PANEL_HEIGHT + GAP
    buffer = BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG")
    return buffer.getvalue()


def _panel(mask: np.ndarray | None, height: int, width: int) -> np.ndarray:
    """A mask as a white-on-black RGB panel of the given size (grey when there is no mask)."""
    if mask is None:
        return np.full((height, width, 3), 160, np.uint8)
    inside = (np.asarray(mask) != 0).astype(np.uint8) * 255
    resized = cv2.resize(inside, (width, height), interpolation=cv2.INTER_NEAREST)
    return np.repeat(resized[..., None], 3, axis=2)
