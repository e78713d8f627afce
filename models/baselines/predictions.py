"""Prediction folders: one image per test sample, named `<sample_id>.<ext>`, the form every evaluation reads.

`write_predictions` runs a per-sample function over a shard set (one split, or all) and writes its outputs
into a fresh folder that replaces the old one only when complete, so a killed run never leaves a half set
of predictions under the final name. Samples the function cannot handle are returned with the reason.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preprocess.shards.codec import META_MEMBER
from preprocess.shards.reader import iter_tar, shard_names

# A prediction: encoded file bytes and their extension (".jpg", ".png").
Prediction = tuple[bytes, str]
# A per-sample predictor: the sample's shard members (member name -> bytes) and its meta.json -> prediction.
Predictor = Callable[[Mapping[str, bytes], Mapping[str, Any]], Prediction]


class SkipSample(Exception):
    """Raised by a per-sample function for a sample it cannot predict; the message is the reason."""


@dataclass
class PredictionRun:
    """What `write_predictions` produced: the folder, the sample ids written and those skipped (with why)."""

    folder: Path
    written: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)  # counts a baseline wants reported (fallbacks, ...)

    def files(self) -> dict[str, Path]:
        """Sample id -> prediction file, for the evaluation driver."""
        written = set(self.written)
        return {p.stem: p for p in sorted(self.folder.iterdir()) if p.is_file() and p.stem in written}


def write_predictions(
    shard_dir: Path,
    out: Path,
    predict: Predictor,
    split: str | None = "test",
    notes: dict[str, int] | None = None,
) -> PredictionRun:
    """Call `predict(members, meta)` for every image sample of `shard_dir` (of `split`; None: all splits) and
    write `<out>/<sample_id><ext>`. Predictors decode only the members they use.

    Video clips and samples whose `predict` raises SkipSample are listed in `skipped` with the reason.
    """
    out = Path(out)
    building = out.with_name(f".{out.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    run = PredictionRun(out, notes=notes if notes is not None else {})
    for name in shard_names(shard_dir):
        for key, members in iter_tar(Path(shard_dir) / name):
            meta = json.loads(members[META_MEMBER]) if META_MEMBER in members else {}
            if split is not None and meta.get("split") != split:
                continue
            if meta.get("kind") == "video":
                run.skipped[key] = "video clip: this predictor makes single images"
                continue
            try:
                data, ext = predict(members, meta)
            except SkipSample as exc:
                run.skipped[key] = str(exc)
                continue
            (building / f"{key}{ext}").write_bytes(data)
            run.written.append(key)
    retired = out.with_name(f".{out.name}.retired")
    shutil.rmtree(retired, ignore_errors=True)
    if out.exists():
        out.rename(retired)
    building.rename(out)
    shutil.rmtree(retired, ignore_errors=True)
    return run
