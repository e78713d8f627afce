"""PCK@0.05 of both garment landmark estimators on a synthetic held-out set, per category.

    .venv/bin/python benchmarks/landmarks/run.py [--samples 300] [--size 256x192] [--epochs 60]

Each category's heatmap net trains on the generator's train split and both estimators are scored on the
test split; the PCK normaliser is the garment mask's bounding-box diagonal (`bbox_diagonal`).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--size", default="256x192")
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate_dataset("dresscode", args.samples, root, seed=7, size=(h, w))
        records = read_truth(root)
        examples = load_landmark_labels(root)
        print(f"{'category':9s} {'train':>5s} {'test':>5s} {'geometric':>9s} {'heatmap':>8s}")
        for category in ("upper", "lower", "dresses"):
            pairs = [(r, ex) for r, ex in zip(records, examples, strict=True) if r["category"] == category]
            train = [ex for r, ex in pairs if r["split"] == "train"]
            test = [ex for r, ex in pairs if r["split"] == "test"]
            masks = [garment_mask(ex.image) for ex in test]
            diags = np.array([bbox_diagonal(m) for m in masks])
            truth = np.stack([ex.points for ex in test])
            geo = np.stack([geometric_landmarks(m, category).points for m in masks])
            net = train_landmark_net(train, epochs=args.epochs)
            heat = np.stack([p.points for p in predict_landmarks(net, [ex.image for ex in test])])
            print(
                f"{category:9s} {len(train):5d} {len(test):5d} {pck(geo, truth, 0.05, diags):9.3f} "
                f"{pck(heat, truth, 0.05, diags):8.3f}"
            )


if __name__ == "__main__":
    main()
