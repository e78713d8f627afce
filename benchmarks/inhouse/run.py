"""Held-out mIoU of the in-house parsing and DensePose part-index networks on a synthetic VITON-HD set.

    .venv/bin/python benchmarks/inhouse/run.py [--samples 400] [--size 256x192] [--preset default]
        [--steps 1500] [--batch-size 16] [--ray] [--workers 1] [--out DIR]

Each task trains on the generator's train split (its provided labels are exact) and is scored on the test
split against the provided labels, beside the majority-class floor; the last line is the JSON summary.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from preprocess.annotators.inhouse_network import preset
from preprocess.annotators.inhouse_training import (
    TrainConfig,
    examples_from_dataset,
    split_heldout,
    train_inhouse,
)
from preprocess.formats import read_dataset
from preprocess.synthetic import generate_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--size", default="256x192", help="generated image size HxW")
    parser.add_argument("--preset", default="default", choices=("tiny", "default"))
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--ray", action="store_true", help="train through Ray Train's TorchTrainer")
    parser.add_argument("--workers", type=int, default=1, help="Ray Train workers (with --ray)")
    parser.add_argument("--out", type=Path, default=None, help="keep the trained models under this folder")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    summary: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vitonhd"
        generate_dataset("vitonhd", args.samples, root, seed=11, size=(h, w), workers=2)
        samples = read_dataset(root, "synthetic", "vitonhd").samples
        out = args.out or Path(tmp) / "models"
        print(
            f"{'task':10s} {'train':>5s} {'test':>5s} {'mIoU':>6s} {'pixacc':>6s} {'majority':>8s} {'seconds':>7s}"
        )
        for task in ("parse", "densepose"):
            examples, skipped = examples_from_dataset(root, samples, task)
            train, heldout = split_heldout(examples)
            config = TrainConfig(
                net=preset(args.preset, task),
                steps=args.steps,
                batch_size=args.batch_size,
                use_ray=args.ray,
                num_workers=args.workers,
                report_every=max(1, args.steps // 10),
            )
            result = train_inhouse(train, heldout, out / task, config, dataset="synthetic-vitonhd")
            a = result.agreement
            print(
                f"{task:10s} {len(train):5d} {len(heldout):5d} {a['miou']:6.3f} {a['pixel_accuracy']:6.3f} "
                f"{a['majority_baseline_miou']:8.3f} {result.seconds:7.1f}"
            )
            summary[task] = {
                "miou": a["miou"],
                "pixel_accuracy": a["pixel_accuracy"],
                "majority_baseline_miou": a["majority_baseline_miou"],
                "n": a["n"],
                "skipped": len(skipped),
                "seconds": result.seconds,
            }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
