"""`generate_dataset`: plan a synthetic try-on dataset, render every sample, write it in a published layout.

The plan (ids, splits, categories, unpaired partners, and which samples should show each labelled case)
is drawn once from the seed; every sample is then rendered from its own generator seeded by
(seed, index), so a seed gives byte-identical files whether samples are rendered in one process or
several (`workers`).
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from tqdm import tqdm

from preprocess.synthetic import truth as T
from preprocess.synthetic.layouts import LAYOUT_WRITERS
from preprocess.synthetic.scenario import SamplePlan, render_clip, render_image_sample

LAYOUTS = tuple(LAYOUT_WRITERS)
# Share of samples planned to show each labelled case (side views add occluded ones by themselves).
INTENT_RATE = {
    "occluded": 0.08,
    "mildly_occluded": 0.12,
    "truncated": 0.15,
    "side_view": 0.15,
    "extreme_proportion": 0.15,
}
TEST_SHARE = 0.2
MIN_SIDE = 32
MAX_SIDE = 4096
_PLAN_STREAM = 7919  # keeps the plan's random stream apart from the samples' (seed, index) streams
_VVT_SUFFIXES = ("g11", "g12", "g21", "a11", "c11", "e11")
_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class SynthReport:
    """What a generation run produced, and how fast."""

    out: Path
    layout: str
    samples: int
    seconds: float
    truth_path: Path
    seed: int = 0
    size: tuple[int, int] = (512, 384)
    frames: int = 0  # person images written (frames, for vvt)
    splits: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)  # samples carrying each truth label

    @property
    def samples_per_second(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        """One line for a terminal."""
        labels = ", ".join(f"{k} {v}" for k, v in self.labels.items())
        return (
            f"{self.layout}: {self.samples} samples ({self.frames} person images) at {self.size[0]}x{self.size[1]} "
            f"in {self.seconds:.1f} s ({self.samples_per_second:.1f}/s) -> {self.out}; labels: {labels}"
        )


def _names(layout: str, samples: int, rng: np.random.Generator) -> list[str]:
    if layout == "vitonhd":
        return [f"{i:05d}_00" for i in range(samples)]
    if layout == "dresscode":
        return [f"{i:06d}" for i in range(samples)]
    names = []
    for i in range(samples):
        prefix = "".join(_ID_CHARS[int(k)] for k in rng.integers(0, len(_ID_CHARS), 4))
        names.append(f"{prefix}{i:05d}-{_VVT_SUFFIXES[int(rng.integers(len(_VVT_SUFFIXES)))]}")
    return names


def plan_dataset(layout: str, samples: int, seed: int) -> list[SamplePlan]:
    """Ids, splits (about 80/20, both present from 2 samples), categories, unpaired test partners, intents."""
    rng = np.random.default_rng([int(seed), _PLAN_STREAM, int(samples)])
    n = samples
    if layout == "dresscode":
        categories = np.array([("upper", "lower", "dresses")[k % 3] for k in range(n)])
        rng.shuffle(categories)
    else:
        categories = np.array(["upper"] * n)
    splits = np.array(["train"] * n, dtype=object)
    partners = np.arange(n)
    for category in dict.fromkeys(categories.tolist()):
        members = np.flatnonzero(categories == category)
        if len(members) >= 2:
            splits[rng.choice(members, max(1, int(round(TEST_SHARE * len(members)))), replace=False)] = "test"
    if n >= 2 and not (splits == "test").any():
        splits[int(rng.integers(n))] = "test"
    for category in dict.fromkeys(categories.tolist()):
        test = rng.permutation(np.flatnonzero((categories == category) & (splits == "test")))
        for k, index in enumerate(test):  # each test person wears the next test sample's garment
            partners[index] = test[(k + 1) % len(test)]
    intents: list[list[str]] = [[] for _ in range(n)]
    for intent in ("side_view", "truncated", "extreme_proportion"):
        for index in rng.choice(n, int(round(INTENT_RATE[intent] * n)), replace=False):
            intents[int(index)].append(intent)
    # A side view already hides part of the garment behind the near arm, so the occlusion intents go to
    # front views only (and never both to one sample).
    front = rng.permutation([i for i in range(n) if "side_view" not in intents[i]])
    n_occluded = min(len(front), int(round(INTENT_RATE["occluded"] * n)))
    n_mild = min(len(front) - n_occluded, int(round(INTENT_RATE["mildly_occluded"] * n)))
    for index in front[:n_occluded]:
        intents[int(index)].append("occluded")
    for index in front[n_occluded : n_occluded + n_mild]:
        intents[int(index)].append("mildly_occluded")
    names = _names(layout, n, rng)
    return [
        SamplePlan(i, names[i], str(splits[i]), str(categories[i]), int(partners[i]), tuple(intents[i]))
        for i in range(n)
    ]


def _check_args(layout: str, samples: int, size: tuple[int, int], workers: int) -> tuple[int, int]:
    if layout not in LAYOUT_WRITERS:
        raise ValueError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive whole number, got {samples!r}")
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (height, width), e.g. (512, 384); got {size!r}") from None
    if not (MIN_SIDE <= h <= MAX_SIDE and MIN_SIDE <= w <= MAX_SIDE):
        raise ValueError(f"size {h}x{w} out of range: each side must be {MIN_SIDE}..{MAX_SIDE} pixels")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return h, w


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file; give a folder path for the dataset")
    if not out.exists() or not any(out.iterdir()):
        out.mkdir(parents=True, exist_ok=True)
        return
    if not overwrite:
        raise FileExistsError(
            f"{out} is not empty; choose a new folder, or pass overwrite=True to replace a synthetic dataset there"
        )
    if not (out / T.TRUTH_FILE).is_file():
        raise FileExistsError(
            f"{out} holds files but no {T.TRUTH_FILE}: not a synthetic dataset, so nothing is replaced"
        )
    owned = {name for writer in LAYOUT_WRITERS.values() for name in writer.owned}
    owned |= {T.TRUTH_FILE, T.REGION_DIR.split("/")[0]}
    for name in sorted(owned):
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _make_one(
    layout: str, seed: int, size: tuple[int, int], out: str, plans: list[SamplePlan], index: int
) -> dict:
    writer = LAYOUT_WRITERS[layout]
    plan = plans[index]
    if writer.kind == "video":
        sample = render_clip(plan, seed, size)
    else:
        framing = "upper" if layout == "vitonhd" or (plan.category == "upper" and index % 2 == 0) else "full"
        sample = render_image_sample(plan, seed, size, framing)
    return writer.write_sample(Path(out), sample, plans)


def generate_dataset(
    layout: str,
    samples: int,
    out: Path,
    seed: int = 0,
    size: tuple[int, int] = (512, 384),
    progress: bool = False,
    workers: int = 1,
    overwrite: bool = False,
) -> SynthReport:
    """Write a synthetic `layout` dataset ("vitonhd", "dresscode", "vvt") of `samples` pairs (clips for
    vvt) at `size` (H, W) under `out`, with ground truth in `out/synthetic_truth.jsonl`.

    `out` must be new or empty; `overwrite=True` replaces an earlier synthetic dataset there (and refuses
    a folder without a truth file). `workers` > 1 renders in that many processes, same bytes either way.
    """
    h, w = _check_args(layout, samples, size, workers)
    out = Path(out)
    _prepare(out, overwrite)
    plans = plan_dataset(layout, samples, seed)
    writer = LAYOUT_WRITERS[layout]
    start = time.perf_counter()
    task = partial(_make_one, layout, int(seed), (h, w), str(out), plans)
    unit = "clip" if writer.kind == "video" else "sample"
    with tqdm(total=samples, disable=not progress, unit=unit, desc=f"synth {layout}") as bar:
        if workers == 1:
            records = []
            for index in range(samples):
                records.append(task(index))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                records = []
                for record in pool.map(task, range(samples), chunksize=max(1, samples // (workers * 8))):
                    records.append(record)
                    bar.update()
    if writer.write_lists is not None:
        writer.write_lists(out, plans)
    truth_path = T.write_truth(out, records)
    seconds = time.perf_counter() - start
    return SynthReport(
        out=out,
        layout=layout,
        samples=samples,
        seconds=seconds,
        truth_path=truth_path,
        seed=int(seed),
        size=(h, w),
        frames=sum(len(r["frames"]) if "frames" in r else 1 for r in records),
        splits=dict(sorted(Counter(p.split for p in plans).items())),
        categories=dict(sorted(Counter(p.category for p in plans).items())),
        labels={k: sum(bool(r[k]) for r in records) for k in T.LABELS},
    )
