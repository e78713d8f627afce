"""Warehouse benchmark: p50 latency of the leaderboard and worst-samples queries over 1,000,000 sample_metrics rows.

Writes a synthetic warehouse (runs x metrics x samples = rows, through `warehouse.writer`, so the Parquet layout
is the real one) into a throw-away VTON_HOME, opens one read-only connection and times each query `--repeats`
times after one warm-up. Opening the connection (building the views) is timed separately. Goal: p50 <= 200 ms.

    python -m benchmarks.warehouse.run [--rows 1000000] [--runs 10] [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from vton.home import VtonHome
from warehouse.query import worst_samples
from warehouse.views import connect
from warehouse.writer import write_rows

METRICS = ("ssim", "lpips", "psnr", "dists", "mse")
MODELS = ("igr", "dpidm", "autoarm", "mgvton", "garment_transfer")


def build(home: VtonHome, rows: int, runs: int) -> list[str]:
    """Write `runs` evaluation runs whose sample_metrics add up to `rows`; return the run ids."""
    rng = np.random.default_rng(0)
    per_run = rows // runs
    samples = per_run // len(METRICS)
    sample_ids = pa.array([f"{i:06d}_00" for i in range(samples)])
    run_ids = []
    for r in range(runs):
        run_id, model = f"bench-{r:03d}", MODELS[r % len(MODELS)]
        dataset = "vitonhd" if r % 2 == 0 else "dresscode"
        started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=r)
        write_rows(
            "eval_runs", [{"run_id": run_id, "model": model, "dataset": dataset, "started_at": started}], home
        )
        values = {m: rng.random(samples) for m in METRICS}
        write_rows(
            "eval_metrics",
            [
                {
                    "run_id": run_id,
                    "model": model,
                    "dataset": dataset,
                    "setting": "paired",
                    "category": "all",
                    "metric": m,
                    "value": float(v.mean()),
                    "n": samples,
                    "higher_is_better": m in ("ssim", "psnr"),
                }
                for m, v in values.items()
            ],
            home,
        )
        n = samples * len(METRICS)
        table = pa.table(
            {
                "run_id": pa.array([run_id] * n),
                "model": pa.array([model] * n),
                "dataset": pa.array([dataset] * n),
                "setting": pa.array(["paired"] * n),
                "sample_id": pa.concat_arrays([sample_ids] * len(METRICS)),
                "metric": pa.array([m for m in METRICS for _ in range(samples)]),
                "value": np.concatenate([values[m] for m in METRICS]),
                "higher_is_better": pa.array(
                    [m in ("ssim", "psnr") for m in METRICS for _ in range(samples)]
                ),
                "prediction_path": pa.array(
                    [f"predictions/{run_id}/{i % samples:06d}_00.jpg" for i in range(n)]
                ),
            }
        )
        write_rows("sample_metrics", table, home)
        run_ids.append(run_id)
    return run_ids


def p50_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(p50, max) wall time in ms over `repeats` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vton-warehouse-bench-") as tmp:
        home = VtonHome(Path(tmp))
        start = time.perf_counter()
        run_ids = build(home, args.rows, args.runs)
        print(
            f"wrote {args.rows:,} sample_metrics rows in {args.runs} runs in {time.perf_counter() - start:.1f}s"
        )
        con = connect(home)
        total = con.execute("SELECT count(*) FROM sample_metrics").fetchall()[0][0]
        target = run_ids[len(run_ids) // 2]
        results = {
            "rows": total,
            "connect_ms": p50_ms(lambda: connect(home), args.repeats),
            "leaderboard_ms": p50_ms(lambda: con.sql("SELECT * FROM leaderboard").fetchall(), args.repeats),
            "worst_samples_fn_ms": p50_ms(lambda: worst_samples(target, "lpips", 10, con=con), args.repeats),
            "worst_samples_view_ms": p50_ms(
                lambda: con.sql(
                    f"SELECT * FROM worst_samples WHERE run_id = '{target}' AND metric = 'lpips' AND worst_rank <= 10"
                ).fetchall(),
                args.repeats,
            ),
        }
    for name, value in results.items():
        if isinstance(value, tuple):
            verdict = (
                ""
                if name == "connect_ms"
                else ("  (goal <= 200 ms: met)" if value[0] <= 200 else "  (goal <= 200 ms: MISSED)")
            )
            print(f"{name[:-3]:22s} p50 {value[0]:8.1f} ms   max {value[1]:8.1f} ms{verdict}")
    print(json.dumps({k: (v[0] if isinstance(v, tuple) else v) for k, v in results.items()}))


if __name__ == "__main__":
    main()
