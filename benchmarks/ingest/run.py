"""Ingest benchmark: manifest build rate against the raw cost of reading and hashing the same bytes.

Both sides run in the same process, on the same files, with the same number of workers, after the page
cache is warm: the baseline reads every file of every sample and SHA-256es it in a thread pool (hashlib
releases the GIL); the manifest build does that plus listing, pair parsing, image probing, Ray scheduling
and the Parquet writes. The figure is the ratio of their sample rates (goal >= 0.8).

    python -m benchmarks.ingest.run [--samples 2000] [--size 1024x768] [--repeats 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from preprocess.formats import read_dataset
from preprocess.manifest import build_manifest
from vton.home import VtonHome


def ensure_dataset(root: Path, samples: int, size: tuple[int, int], seed: int = 0) -> None:
    """Generate the benchmark dataset once; later runs reuse it."""
    from preprocess.synthetic import generate_dataset

    stamp = root / ".bench.json"
    wanted = {"samples": samples, "size": list(size), "seed": seed}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return
    print(f"generating {samples} VITON-HD samples at {size[0]}x{size[1]} into {root} (once) ...", flush=True)
    generate_dataset(
        "vitonhd",
        samples,
        root,
        seed=seed,
        size=size,
        progress=True,
        workers=os.cpu_count() or 1,
        overwrite=True,
    )
    stamp.write_text(json.dumps(wanted))


def _hash_files(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        data = path.read_bytes()
        hashlib.sha256(data).hexdigest()
        total += len(data)
    return total


def baseline_read_and_hash(root: Path, workers: int) -> tuple[float, int, int]:
    """Seconds, samples and bytes to read + SHA-256 every file of every sample the reader lists."""
    read = read_dataset(root, "bench", "vitonhd")
    per_sample = [[root / rel for rel in s.files()] for s in read.samples]
    chunks = [sum(per_sample[i : i + 32], []) for i in range(0, len(per_sample), 32)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        total = sum(pool.map(_hash_files, chunks))
    return time.perf_counter() - started, len(per_sample), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.lower().split("x"))

    home = VtonHome.from_env()
    bench_dir = home.root / "bench"
    root = bench_dir / f"vitonhd_{args.samples}_{h}x{w}"
    ensure_dataset(root, args.samples, (h, w))

    from vton.ray_runtime import ensure_ray

    t0 = time.perf_counter()
    ensure_ray(num_cpus=args.workers)
    ray_start = time.perf_counter() - t0

    baseline_read_and_hash(root, args.workers)  # warm the page cache for both sides
    base_times, build_times = [], []
    for _ in range(args.repeats):
        seconds, n_samples, n_bytes = baseline_read_and_hash(root, args.workers)
        base_times.append(seconds)
        t0 = time.perf_counter()
        result = build_manifest(root, "bench", bench_dir / "manifest", "vitonhd", use_ray=True)
        build_times.append(time.perf_counter() - t0)
    base_rate = n_samples / statistics.median(base_times)
    build_rate = result.samples / statistics.median(build_times)
    report = {
        "samples": result.samples,
        "quarantined": result.quarantined,
        "bytes": n_bytes,
        "size": f"{h}x{w}",
        "workers": args.workers,
        "ray_start_seconds": round(ray_start, 2),
        "baseline_seconds": [round(t, 3) for t in base_times],
        "manifest_seconds": [round(t, 3) for t in build_times],
        "baseline_samples_per_s": round(base_rate, 1),
        "manifest_samples_per_s": round(build_rate, 1),
        "baseline_mb_per_s": round(n_bytes / statistics.median(base_times) / 1e6, 1),
        "ratio": round(build_rate / base_rate, 3),
        "goal": 0.8,
    }
    out = bench_dir / "ingest_result.json"
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(
        f"\nmanifest build {build_rate:.0f} samples/s vs read+hash {base_rate:.0f} samples/s: "
        f"ratio {report['ratio']:.2f} (goal >= 0.8)"
    )


if __name__ == "__main__":
    main()
