"""Synthetic generator benchmark: samples per second for one layout, and an optional contact sheet.

Generates into a throw-away folder (or --out), prints the rate, and with --sheet saves a picture of the
first persons beside their in-shop garments, read back from the written files, to look at.

    python -m benchmarks.synthetic.run [--layout vitonhd] [--samples 200] [--size 512x384] [--workers 1]
                                       [--sheet /tmp/synth_sheet.png]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

from preprocess.synthetic import LAYOUTS, generate_dataset, read_truth


def contact_sheet(root: Path, count: int = 12, columns: int = 4, height: int = 256) -> np.ndarray:
    """BGR image of the first `count` samples: person (first frame of a clip) beside its garment."""
    tiles = []
    for record in read_truth(root)[:count]:
        person = record["frames"][0]["person"] if record.get("frames") else record["person"]
        pair = [cv2.imread(str(root / person)), cv2.imread(str(root / record["garment"]))]
        pair = [cv2.resize(img, (int(img.shape[1] * height / img.shape[0]), height)) for img in pair]
        tiles.append(np.hstack(pair))
    while len(tiles) % columns:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i : i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", choices=LAYOUTS, default="vitonhd")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--size", default="512x384", help="HxW")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, help="keep the dataset here (default: a temporary folder)")
    parser.add_argument("--sheet", type=Path, help="save a contact sheet of 12 samples to this PNG")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as tmp:
        out = args.out or Path(tmp) / args.layout
        report = generate_dataset(
            args.layout, args.samples, out, seed=args.seed, size=(h, w), workers=args.workers, overwrite=True
        )
        print(report.summary())
        print(f"{report.samples_per_second:.1f} samples/s ({args.workers} worker(s))")
        if args.sheet:
            cv2.imwrite(str(args.sheet), contact_sheet(out))
            print(f"contact sheet: {args.sheet}")


if __name__ == "__main__":
    main()
