"""Held-out mIoU of the in-house parsing and DensePose part-index networks on a synthetic VITON-HD set.

    .venv/bin/python benchmarks/inhouse/run.py [--samples 400] [--size 256x192] [--preset default]
        [--steps 1500] [--batch-size 16] [--seed 11] [--ray] [--workers 1] [--out DIR]

Each task trains on the generator's train split (its provided labels are exact) and is scored on the test
split against the provided labels, beside the majority-class floor; the last line is the JSON summary.
`benchmark(root, out)` returns the rows for other reports (benchmarks.annotator_quality).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from preprocess.annotators.inhouse_network import preset as net_preset
from preprocess.annotators.inhouse_training import (
    TrainConfig,
    examples_from_dataset,
    split_heldout,
    train_inhouse,
)
from preprocess.formats import read_dataset
from preprocess.synthetic import generate_dataset

TASKS = ("parse", "densepose")


def benchmark(
    root: Path,
    out: Path,
    *,
    preset: str = "default",
    steps: int = 1500,
    batch_size: int = 16,
    use_ray: bool = False,
    workers: int = 1,
) -> list[dict]:
    """Train and score both tasks on the generated VITON-HD set at `root`, models written under `out/<task>`;
    one row per task: train/test counts, held-out mIoU, pixel accuracy, majority floor, skipped, seconds."""
    samples = read_dataset(root, "synthetic", "vitonhd").samples
    rows = []
    for task in TASKS:
        examples, skipped = examples_from_dataset(root, samples, task)
        train, heldout = split_heldout(examples)
        config = TrainConfig(
            net=net_preset(preset, task),
            steps=steps,
            batch_size=batch_size,
            use_ray=use_ray,
            num_workers=workers,
            report_every=max(1, steps // 10),
        )
        result = train_inhouse(train, heldout, Path(out) / task, config, dataset="synthetic-vitonhd")
        a = result.agreement
        rows.append(
            {
                "task": task,
                "train": len(train),
                "test": len(heldout),
                "miou": a["miou"],
                "pixel_accuracy": a["pixel_accuracy"],
                "majority_baseline_miou": a["majority_baseline_miou"],
                "n": a["n"],
                "skipped": len(skipped),
                "seconds": result.seconds,
                "model_dir": str(result.model_dir),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--size", default="256x192", help="generated image size HxW")
    parser.add_argument("--preset", default="default", choices=("tiny", "small", "default"))
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=11, help="seed of the generated dataset")
    parser.add_argument("--ray", action="store_true", help="train through Ray Train's TorchTrainer")
    parser.add_argument("--workers", type=int, default=1, help="Ray Train workers (with --ray)")
    parser.add_argument("--out", type=Path, default=None, help="keep the trained models under this folder")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vitonhd"
        generate_dataset("vitonhd", args.samples, root, seed=args.seed, size=(h, w), workers=2)
        rows = benchmark(
            root,
            args.out or Path(tmp) / "models",
            preset=args.preset,
            steps=args.steps,
            batch_size=args.batch_size,
            use_ray=args.ray,
            workers=args.workers,
        )
    print(
        f"{'task':10s} {'train':>5s} {'test':>5s} {'mIoU':>6s} {'pixacc':>6s} {'majority':>8s} {'seconds':>7s}"
    )
    for row in rows:
        print(
            f"{row['task']:10s} {row['train']:5d} {row['test']:5d} {row['miou']:6.3f} "
            f"{row['pixel_accuracy']:6.3f} {row['majority_baseline_miou']:8.3f} {row['seconds']:7.1f}"
        )
    keys = ("miou", "pixel_accuracy", "majority_baseline_miou", "n", "skipped", "seconds")
    print(json.dumps({row["task"]: {k: row[k] for k in keys} for row in rows}))


if __name__ == "__main__":
    main()
