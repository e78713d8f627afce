"""PCK@0.05 of both garment landmark estimators on a synthetic held-out set, per category.

    .venv/bin/python benchmarks/landmarks/run.py [--samples 300] [--size 256x192] [--epochs 60] [--seed 7]

Each category's heatmap net trains on the generator's train split and both estimators are scored on the
test split; the PCK normaliser is the garment mask's bounding-box diagonal (`bbox_diagonal`).
`benchmark(root)` returns the rows for other reports (benchmarks.annotator_quality).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from preprocess.annotators.garment_landmark_net import (
    load_landmark_labels,
    predict_landmarks,
    train_landmark_net,
)
from preprocess.annotators.garment_landmarks import bbox_diagonal, geometric_landmarks, pck
from preprocess.annotators.garment_mask import garment_mask
from preprocess.synthetic import generate_dataset, read_truth

CATEGORIES = ("upper", "lower", "dresses")
PCK_THRESHOLD = 0.05


def benchmark(root: Path, epochs: int = 60) -> list[dict]:
    """One row per category of a generated Dress Code set at `root`: train/test counts and the PCK@0.05 of
    the geometric and the heatmap estimator on the test split (NaN where a split is empty)."""
    records = read_truth(root)
    examples = load_landmark_labels(root)
    rows = []
    for category in CATEGORIES:
        pairs = [(r, ex) for r, ex in zip(records, examples, strict=True) if r["category"] == category]
        train = [ex for r, ex in pairs if r["split"] == "train"]
        test = [ex for r, ex in pairs if r["split"] == "test"]
        row = {"category": category, "train": len(train), "test": len(test)}
        row["geometric"] = row["heatmap"] = float("nan")
        if test:
            masks = [garment_mask(ex.image) for ex in test]
            diags = np.array([bbox_diagonal(m) for m in masks])
            truth = np.stack([ex.points for ex in test])
            geo = np.stack([geometric_landmarks(m, category).points for m in masks])
            row["geometric"] = pck(geo, truth, PCK_THRESHOLD, diags)
            if train:
                net = train_landmark_net(train, epochs=epochs)
                heat = np.stack([p.points for p in predict_landmarks(net, [ex.image for ex in test])])
                row["heatmap"] = pck(heat, truth, PCK_THRESHOLD, diags)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--size", default="256x192")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate_dataset("dresscode", args.samples, root, seed=args.seed, size=(h, w))
        rows = benchmark(root, args.epochs)
    print(f"{'category':9s} {'train':>5s} {'test':>5s} {'geometric':>9s} {'heatmap':>8s}")
    for row in rows:
        print(
            f"{row['category']:9s} {row['train']:5d} {row['test']:5d} {row['geometric']:9.3f} "
            f"{row['heatmap']:8.3f}"
        )


if __name__ == "__main__":
    main()
