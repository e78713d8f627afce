"""Rough try-on mask benchmark: coverage of the garment and spill onto face and hands, per strategy and category.

Generates a synthetic Dress Code dataset (upper, lower and dresses in equal thirds), reads each sample's
exact LIP parse, pose and DensePose back from its files, builds both strategies' masks and scores them
against the generator's garment regions. Samples a strategy cannot mask (no shoulders or hips in view)
are counted as failures.

    python -m benchmarks.agnostic.run [--per-category 60] [--size 512x384] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from preprocess.annotators.agnostic_mask import CATEGORIES, STRATEGIES, agnostic_mask
from preprocess.annotators.agnostic_score import score_agnostic, synthetic_inputs
from preprocess.synthetic import generate_dataset, read_truth

METRICS = ("coverage", "face_spill", "hand_spill", "area", "outside_garment")


def benchmark(root: Path) -> list[dict]:
    """One summary row per (strategy, category): sample count, failures, mean (and worst) of each score."""
    scores: dict[tuple[str, str], list[dict[str, float]]] = {}
    failures: dict[tuple[str, str], int] = {}
    seconds: dict[str, float] = dict.fromkeys(STRATEGIES, 0.0)
    for record in read_truth(root):
        inputs = synthetic_inputs(root, record)
        category = inputs["category"]
        for strategy in STRATEGIES:
            key = (strategy, category)
            start = time.perf_counter()
            try:
                mask = agnostic_mask(strategy, category, inputs["parse"], inputs["pose"], inputs["densepose"])
            except ValueError:
                failures[key] = failures.get(key, 0) + 1
                continue
            finally:
                seconds[strategy] += time.perf_counter() - start
            scores.setdefault(key, []).append(
                score_agnostic(mask, inputs["garment_region"], inputs["parse"], inputs["densepose"])
            )
    rows = []
    for strategy in STRATEGIES:
        for category in CATEGORIES:
            found = scores.get((strategy, category), [])
            row = {"strategy": strategy, "category": category, "n": len(found)}
            row["failed"] = failures.get((strategy, category), 0)
            for metric in METRICS:
                values = np.array([s[metric] for s in found], dtype=np.float64)
                row[metric] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
            coverage = [s["coverage"] for s in found if np.isfinite(s["coverage"])]
            face = [s["face_spill"] for s in found if np.isfinite(s["face_spill"])]
            row["coverage_min"] = min(coverage, default=float("nan"))
            row["face_spill_max"] = max(face, default=float("nan"))
            row["ms_per_mask"] = (
                1000 * seconds[strategy] / max(1, sum(len(scores.get((strategy, c), [])) for c in CATEGORIES))
            )
            rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    """The rows as a fixed-width text table."""
    head = ("strategy", "category", "n", "failed", "coverage", "coverage_min", "face_spill", "face_spill_max",
            "hand_spill", "area", "outside_garment", "ms_per_mask")  # fmt: skip
    lines = ["  ".join(f"{h:>14}" for h in head)]
    for row in rows:
        cells = [f"{row[h]:>14.3f}" if isinstance(row[h], float) else f"{row[h]!s:>14}" for h in head]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-category", type=int, default=60)
    parser.add_argument("--size", default="512x384", help="HxW")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="also print the rows as one JSON line")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="agnostic-bench-") as tmp:
        root = Path(tmp) / "dresscode"
        generate_dataset("dresscode", 3 * args.per_category, root, seed=args.seed, size=(h, w))
        rows = benchmark(root)
    print(
        f"rough try-on masks on {3 * args.per_category} synthetic Dress Code samples at {h}x{w} (seed {args.seed})"
    )
    print(table(rows))
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
