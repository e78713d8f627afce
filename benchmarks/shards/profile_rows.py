"""Profile the per-sample annotation pipeline (`annotate_row`, one process, no Ray) on benchmark rows.

Prints the mean milliseconds per sample of each pipeline stage, timed by wrapping the stage's function where
the pipeline looks it up (cProfile's per-call overhead would inflate stages made of many small numpy calls),
then, with `--top N`, cProfile's top functions from a second pass. The process is tuned as the build's Ray
Data actors tune theirs (`tune_worker_process`: one OpenCV thread, freed memory kept for reuse), unless
`--untuned`. Run after `benchmarks.shards.run` has built the benchmark manifest:

    python -m benchmarks.shards.profile_rows [--samples 2000] [--size 1024x768] [--rows 40] [--warm 20] [--top 0]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from preprocess import annotation_pipeline
from preprocess.annotation_pipeline import PipelineConfig, annotate_row, make_annotators
from vton.home import VtonHome

# stage -> where the pipeline looks its function up: (module, attribute) or (module, dict attribute, key).
# Disjoint: decode_image in annotation_pipeline is the person/garment decode only (the provided readers
# decode their own files through provided's import).
STAGES: dict[str, tuple[str, ...]] = {
    "check person + garment JPEG": ("preprocess.annotation_pipeline", "check_image"),
    "decode person + garment (when read)": ("preprocess.annotation_pipeline", "decode_image"),
    "provided: parse map -> LIP": ("preprocess.annotators.provided", "READERS", "parse"),
    "provided: DensePose colour inversion": ("preprocess.annotators.provided", "READERS", "densepose"),
    "provided: pose JSON": ("preprocess.annotators.provided", "READERS", "pose"),
    "provided: garment mask": ("preprocess.annotators.provided", "_garment_mask"),
    "garment landmarks": ("preprocess.annotators.garment_landmarks", "geometric_landmarks"),
    "skeleton render": ("preprocess.annotators.skeleton", "render_skeleton"),
    "agnostic mask": ("preprocess.annotators.agnostic_mask", "agnostic_mask"),
    "encode members (PNG, JSON)": ("preprocess.annotation_pipeline", "encode_sample"),
}


def _timed(fn: Callable[..., Any], totals: dict[str, float], stage: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[stage] += time.perf_counter() - started

    return timed


def _wrap_stages(totals: dict[str, float]) -> None:
    """Replace each stage's function by a timed one; stages a version of the pipeline lacks are skipped."""
    for stage, (module_name, attribute, *key) in STAGES.items():
        module = importlib.import_module(module_name)
        holder = getattr(module, attribute, None)
        if key and isinstance(holder, dict) and key[0] in holder:
            holder[key[0]] = _timed(holder[key[0]], totals, stage)
        elif not key and holder is not None:
            setattr(module, attribute, _timed(holder, totals, stage))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--warm", type=int, default=20, help="rows annotated first, untimed (colour table)")
    parser.add_argument("--top", type=int, default=0, help="also list cProfile's top N functions")
    parser.add_argument("--untuned", action="store_true", help="keep this process's default settings")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.lower().split("x"))
    bench_dir = VtonHome.from_env().root / "bench"
    root = bench_dir / f"vitonhd_{args.samples}_{h}x{w}"
    manifest = bench_dir / f"shards_{args.samples}_{h}x{w}" / "manifest" / "manifest.parquet"
    if not manifest.exists():
        raise SystemExit(f"{manifest} does not exist: run python -m benchmarks.shards.run first")
    rows = pq.read_table(manifest).slice(0, args.warm + args.rows).to_pylist()
    for row in rows:
        row["annotations"] = dict(row.get("annotations") or [])
        row["annotation_frames"] = dict(row.get("annotation_frames") or [])
    tune = getattr(annotation_pipeline, "tune_worker_process", None)
    if tune is not None and not args.untuned:
        tune()
    annotators = make_annotators(PipelineConfig())
    warm, timed_rows = rows[: args.warm], rows[args.warm :]
    for row in warm:  # imports, and the DensePose colour table, which fills as new colours appear
        annotate_row(row, Path(root), annotators)
    totals = dict.fromkeys(STAGES, 0.0)
    _wrap_stages(totals)
    started = time.perf_counter()
    for row in timed_rows:
        annotate_row(row, Path(root), annotators)
    per_row = 1000 / len(timed_rows)
    wall = (time.perf_counter() - started) * per_row
    print(f"annotate_row: {wall:.1f} ms per sample ({len(timed_rows)} samples after {len(warm)} untimed)\n")
    for stage, seconds in totals.items():
        print(f"{stage:<40}{seconds * per_row:>8.1f} ms")
    print(f"{'other':<40}{wall - sum(totals.values()) * per_row:>8.1f} ms")
    if args.top:
        profile = cProfile.Profile()
        profile.enable()
        for row in timed_rows:
            annotate_row(row, Path(root), annotators)
        profile.disable()
        print()
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
