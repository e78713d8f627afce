"""Per-sample annotation statistics of a shard folder, for the shard quality checks and the assets' metadata.

One pass over the recorded shards; only the members a statistic needs are decoded (masks, pose, parse and
DensePose; never the person or garment JPEGs). Video clips aggregate over their frames: the worst pose
confidence, the highest label value of any frame, and the mean agnostic-mask coverage of the frames.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from preprocess.shards.codec import FIELDS, MEMBERS, META_MEMBER, decode_sample
from preprocess.shards.reader import iter_tar, shard_names

# A boolean `has_<field>` column per shard field, plus `has_frames` for video clips.
PRESENCE_FIELDS = (*MEMBERS, "frames")
_DECODED = ("parse", "densepose", "pose", "garment_mask", "agnostic_mask")
STATS_COLUMNS = (
    "sample_id",
    "split",
    "category",
    "kind",
    *(f"has_{name}" for name in PRESENCE_FIELDS),
    "frames",
    "agnostic_coverage",
    "garment_mask_coverage",
    "pose_mean_confidence",
    "pose_min_confidence",
    "parse_max_label",
    "densepose_max_part",
    "missing",
)


def _needed(members: Mapping[str, bytes]) -> dict[str, bytes]:
    """The members a statistic reads: masks, pose, parse, DensePose (frame-prefixed ones included)."""
    wanted = {MEMBERS[name] for name in _DECODED}
    return {
        name: data for name, data in members.items() if name.partition(".")[2] in wanted or name in wanted
    }


def _coverage(mask: np.ndarray | None) -> float:
    return float(np.count_nonzero(mask)) / mask.size if mask is not None and mask.size else float("nan")


def _frames_coverage(frames: list[dict[str, Any]]) -> float:
    """Mean agnostic-mask coverage over the frames holding a mask (NaN when none does)."""
    shares = [_coverage(f["agnostic_mask"]) for f in frames if "agnostic_mask" in f]
    return float(np.mean(shares)) if shares else float("nan")


def sample_stats(sample_id: str, members: Mapping[str, bytes]) -> dict[str, Any]:
    """The statistics row of one shard sample from its raw members (`parse.png`, `meta.json`, ...)."""
    meta = json.loads(members[META_MEMBER]) if META_MEMBER in members else {}
    decoded = decode_sample(_needed(members))
    frames = decoded.get("frames") or []
    present = {FIELDS[name] for name in members if name in FIELDS}
    row: dict[str, Any] = {
        "sample_id": sample_id,
        "split": meta.get("split"),
        "category": meta.get("category"),
        "kind": meta.get("kind"),
        **{f"has_{name}": name in present for name in MEMBERS},
        "has_frames": bool(frames),
        "frames": len(frames),
        "agnostic_coverage": _frames_coverage(frames) if frames else _coverage(decoded.get("agnostic_mask")),
        "garment_mask_coverage": _coverage(decoded.get("garment_mask")),
    }
    views = frames or [decoded]
    poses = [v["pose"].body[:, 2] for v in views if "pose" in v]
    row["pose_mean_confidence"] = float(min(p.mean() for p in poses)) if poses else float("nan")
    row["pose_min_confidence"] = float(min(p.min() for p in poses)) if poses else float("nan")
    parses = [int(v["parse"].max(initial=0)) for v in views if "parse" in v]
    parts = [int(v["densepose"][..., 0].max(initial=0)) for v in views if "densepose" in v]
    row["parse_max_label"] = max(parses) if parses else None
    row["densepose_max_part"] = max(parts) if parts else None
    row["missing"] = json.dumps(meta.get("missing") or {}, sort_keys=True)
    return row


def shard_stats(folder: Path) -> pd.DataFrame:
    """One statistics row per sample in the shards `shards.json` records (columns: STATS_COLUMNS)."""
    folder = Path(folder)
    rows = [
        sample_stats(key, members) for name in shard_names(folder) for key, members in iter_tar(folder / name)
    ]
    frame = pd.DataFrame(rows, columns=list(STATS_COLUMNS))
    for column in ("parse_max_label", "densepose_max_part"):
        frame[column] = frame[column].astype("Int64")
    return frame


def category_summary(stats: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per category: samples, share of samples holding each field, and mean/min/max of the measurements."""
    out: dict[str, dict[str, float]] = {}
    for category, group in stats.groupby("category", dropna=False, sort=True):
        summary: dict[str, float] = {"samples": float(len(group))}
        for name in PRESENCE_FIELDS:
            summary[f"has_{name}"] = float(group[f"has_{name}"].mean())
        for column in ("agnostic_coverage", "garment_mask_coverage", "pose_mean_confidence"):
            values = group[column].dropna()
            if len(values):
                summary[f"{column}_mean"] = float(values.mean())
                summary[f"{column}_min"] = float(values.min())
                summary[f"{column}_max"] = float(values.max())
        out[str(category)] = summary
    return out
