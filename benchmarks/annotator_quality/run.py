"""Annotator quality table: garment-mask IoU, landmark PCK, rough-mask coverage and spill, in-house mIoU and
HQFT precision/recall, measured on generated data with exact ground truth, in one table.

    python -m benchmarks.annotator_quality.run [--quick] [--seed 7] [--size 256x192]
        [--dresscode-samples 300] [--vitonhd-samples 400] [--out DIR] [--run-id ID] [--no-warehouse]

Prints annotator | backend/strategy | metric | value | n | goal, saves it as `annotator_quality.md` and
`.json` (`annotator_quality_quick.*` with --quick) under VTON_HOME/bench/ (or --out), and writes the rows to
the warehouse `annotation_stats` table under run id `annotator_quality-<UTC time>`. `--quick` (128x96,
60 samples per set, short training) takes a few minutes on 2 CPU cores; the full run trains the in-house
networks at 256x192 and takes much longer. What each row measures: `benchmarks/annotator_quality/measure.py`.
Exit status 1 when a value misses the issue's goal (today only the HQFT filter's 0.9 bars are goals).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.annotator_quality.measure import FULL, QUICK, QualitySettings, measure_quality
from benchmarks.annotator_quality.table import (
    default_run_id,
    save_table,
    store_in_warehouse,
    summary_line,
    text_table,
)
from vton.home import VtonHome


def image_size(text: str) -> tuple[int, int]:
    """`HxW` (e.g. 256x192) as (H, W); anything else is a usage error."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not HxW in pixels, e.g. 256x192")
    return int(parts[0]), int(parts[1])


def settings_from_args(args: argparse.Namespace) -> QualitySettings:
    """The preset (--quick or full) with the seed and any sizes given on the command line."""
    settings = QUICK if args.quick else FULL
    changes: dict = {"seed": args.seed}
    if args.size:
        changes["size"] = args.size
    if args.dresscode_samples:
        changes["dresscode_samples"] = args.dresscode_samples
    if args.vitonhd_samples:
        changes["vitonhd_samples"] = args.vitonhd_samples
    return replace(settings, **changes)


def main(argv: list[str] | None = None) -> int:
    """Measure, print, save and store the table; exit 1 when a goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sets and short training (a few minutes)")
    parser.add_argument("--seed", type=int, default=FULL.seed, help="seed of both generated sets")
    parser.add_argument(
        "--size",
        type=image_size,
        default=None,
        help="HxW of the generated images (default 256x192, quick 128x96)",
    )
    parser.add_argument("--dresscode-samples", type=int, default=None)
    parser.add_argument("--vitonhd-samples", type=int, default=None)
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the .md and .json (VTON_HOME/bench)"
    )
    parser.add_argument("--run-id", default=None, help="warehouse key (default annotator_quality-<UTC time>)")
    parser.add_argument("--no-warehouse", action="store_true", help="do not write annotation_stats rows")
    args = parser.parse_args(argv)
    settings = settings_from_args(args)
    home = VtonHome.from_env()
    run_id = args.run_id or default_run_id()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="annotator-quality-") as tmp:
        rows = measure_quality(settings, Path(tmp), log=lambda line: print(line, file=sys.stderr, flush=True))
    seconds = time.perf_counter() - start
    print(f"annotator quality, run {run_id}: {settings.tag()} ({seconds:.0f} s)")
    print(text_table(rows))
    print(summary_line(rows))
    name = "annotator_quality_quick" if args.quick else "annotator_quality"
    md, js = save_table(rows, args.out or home.root / "bench", name, run_id, settings.as_dict())
    print(f"saved {md} and {js}")
    if not args.no_warehouse:
        files = store_in_warehouse(rows, run_id, settings.tag(), home)
        print(
            f"warehouse annotation_stats: {len(rows)} rows (+ n) under run_id {run_id} in {len(files)} file(s)"
        )
    return 1 if any(row.goal_met is False for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
