"""Profile the per-sample annotation pipeline (`annotate_row`, one process, no Ray) on benchmark rows.

Prints the mean milliseconds per sample of each pipeline stage and cProfile's top functions, to show where
a shard build spends its time. Run after `benchmarks.shards.run` has built the benchmark manifest:

    python -m benchmarks.shards.profile_rows [--samples 2000] [--size 1024x768] [--rows 40] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

import pyarrow.parquet as pq

from preprocess.annotation_pipeline import PipelineConfig, annotate_row, make_annotators
from vton.home import VtonHome

# stage -> the functions whose cumulative time it is (file suffix, function name); disjoint by construction
STAGES = {
    "decode person + garment JPEG": [("images.py", "decode_image")],
    "provided: parse map -> LIP": [("provided.py", "_parse")],
    "provided: DensePose colour inversion": [("provided.py", "_densepose")],
    "provided: pose JSON": [("provided.py", "_pose")],
    "provided: garment mask": [("provided.py", "_garment_mask")],
    "garment landmarks": [("garment_landmarks.py", "geometric_landmarks")],
    "skeleton render": [("skeleton.py", "render_skeleton")],
    "agnostic mask": [("agnostic_mask.py", "agnostic_mask")],
    "encode members (PNG, JSON)": [("codec.py", "encode_sample")],
}


def _cumulative(stats: pstats.Stats, file_suffix: str, function: str) -> float:
    total = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == function and filename.endswith(file_suffix):
            total += cumtime
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.lower().split("x"))
    bench_dir = VtonHome.from_env().root / "bench"
    root = bench_dir / f"vitonhd_{args.samples}_{h}x{w}"
    manifest = bench_dir / f"shards_{args.samples}_{h}x{w}" / "manifest" / "manifest.parquet"
    if not manifest.exists():
        raise SystemExit(f"{manifest} does not exist: run python -m benchmarks.shards.run first")
    rows = pq.read_table(manifest).slice(0, args.rows + 1).to_pylist()
    for row in rows:
        row["annotations"] = dict(row.get("annotations") or [])
        row["annotation_frames"] = dict(row.get("annotation_frames") or [])
    annotators = make_annotators(PipelineConfig())
    annotate_row(rows[0], Path(root), annotators)  # warm caches (colour table, imports)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for row in rows[1:]:
        annotate_row(row, Path(root), annotators)
    profile.disable()
    wall = (time.perf_counter() - started) / len(rows[1:]) * 1000
    stats = pstats.Stats(profile)
    per_row = 1000 / len(rows[1:])
    total = _cumulative(stats, "annotation_pipeline.py", "annotate_row") * per_row
    print(f"annotate_row: {wall:.1f} ms per sample wall, {total:.1f} ms profiled\n")
    accounted = 0.0
    for stage, functions in STAGES.items():
        ms = sum(_cumulative(stats, f, n) for f, n in functions) * per_row
        if stage.startswith("decode person"):  # decode_image also runs inside the provided readers
            ms -= _decode_in_provided(stats) * per_row
        accounted += ms
        print(f"{stage:<40}{ms:>8.1f} ms")
    print(f"{'other':<40}{total - accounted:>8.1f} ms\n")
    stats.sort_stats("tottime").print_stats(args.top)


def _decode_in_provided(stats: pstats.Stats) -> float:
    """Seconds of decode_image called by the provided readers (DensePose image, garment mask)."""
    seconds = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, _cum, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == "decode_image" and filename.endswith("images.py"):
            for (caller_file, _l, _caller), timing in callers.items():
                if caller_file.endswith("provided.py"):
                    seconds += timing[3]
    return seconds


if __name__ == "__main__":
    main()
