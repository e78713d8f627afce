"""Auto-ARM training throughput on a GPU: the `paper` preset (512 x 384, batch 6, the paper's U-Net widths) for
200 optimizer steps on generated batches, reporting images/s and peak GPU memory, and 1 worker against 2
Ray Train workers (DDP, one GPU each) where two GPUs exist.

What is timed is the driver's optimizer step (`models.training.optimization.Optimization`: forward and BCE
loss through `FAMILY.training_step`, backward, AdamW) under the preset's mixed precision (bf16 autocast on
CUDA, fp32 on CPU), after `--warmup` steps that are not counted. The batches are generated once on the device (an ellipse of garment per sample, a rough mask that
spills over it, an in-shop garment mask and a faint pose render), so data loading is not part of the
figure; `models.training` streams the shards with DataLoader workers beside this. Peak memory is
`torch.cuda.max_memory_allocated` over the timed steps, per worker.

    python -m benchmarks.autoarm_gpu.run                       # CUDA: 200 steps, 1 worker (and 2 with 2 GPUs)
    python -m benchmarks.autoarm_gpu.run --device cpu --steps 5   # smoke run anywhere: checks that it runs

Size and batch default to the preset's (paper: 512 x 384, batch 6). On CPU the preset defaults to `tiny`
(128 x 96, batch 4): the paper network takes minutes a step on a few CPU cores, and a smoke run only checks
the code path; `--preset paper` still forces it. Without CUDA the default run stops at once with exit code 2
and says so. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

NO_CUDA_EXIT = 2
BENCHMARK_SEED = 0
GENERATED_BATCHES = 4  # distinct generated batches cycled through the timed steps


@dataclass(frozen=True)
class BenchmarkSettings:
    """One measurement: preset, input size, batch, steps, device and the Ray Train worker count."""

    preset: str = "paper"
    height: int = 512
    width: int = 384
    batch_size: int = 6
    steps: int = 200
    warmup: int = 10
    device: str = "cuda"
    workers: int = 1


@dataclass(frozen=True)
class Throughput:
    """What one measurement found (per-worker peak memory; images/s over all workers)."""

    workers: int
    steps: int
    batch_size: int
    seconds: float
    images_per_second: float
    peak_memory_mib: float | None
    final_loss: float
    parameters_m: float
    precision: str


def generated_batch(
    batch_size: int, height: int, width: int, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """{"inputs": (B, 5, H, W), "truth": (B, 1, H, W)} shaped like `FAMILY.example`'s output: per sample an
    elliptic garment region (truth), a rough mask that covers it and spills over, an in-shop garment mask
    and a faint skeleton render."""
    ys = torch.linspace(-1.0, 1.0, height).view(1, height, 1)
    xs = torch.linspace(-1.0, 1.0, width).view(1, 1, width)
    centre = torch.rand(batch_size, 2, generator=generator) * 0.4 - 0.2
    radii = torch.rand(batch_size, 2, generator=generator) * 0.3 + 0.25
    cy, cx = centre[:, 0].view(-1, 1, 1), centre[:, 1].view(-1, 1, 1)
    ry, rx = radii[:, 0].view(-1, 1, 1), radii[:, 1].view(-1, 1, 1)
    distance = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2
    truth = (distance <= 1.0).float()
    rough = (distance <= 1.6).float()
    garment = ((ys / 0.7) ** 2 + (xs / 0.5) ** 2 <= 1.0).float().expand(batch_size, height, width)
    skeleton = torch.rand(batch_size, 3, height, width, generator=generator) * 0.1
    inputs = torch.cat([rough[:, None], garment[:, None], skeleton], dim=1)
    return {"inputs": inputs.contiguous(), "truth": truth[:, None].contiguous()}


def _config(settings: BenchmarkSettings):
    from models.autoarm.config import AutoArmConfig

    return AutoArmConfig.preset(
        settings.preset, height=settings.height, width=settings.width, batch_size=settings.batch_size
    )


def measure_steps(
    settings: BenchmarkSettings, model: torch.nn.Module | None = None, rank: int = 0
) -> dict[str, Any]:
    """Time `settings.steps` training steps of the family on generated batches on this process's device.

    `model` is a prepared (DDP) model in a Ray Train worker; None builds a plain one here.
    """
    from models.autoarm.family import FAMILY
    from models.training.optimization import Optimization

    config = _config(settings)
    device = torch.device(settings.device)
    torch.manual_seed(BENCHMARK_SEED + rank)
    if model is None:
        model = FAMILY.build_model(config).to(device)
    model.train()
    optimization = Optimization(model, config, device)  # the driver's own step: AdamW, autocast, scaler
    precision = str(optimization.dtype).removeprefix("torch.") if optimization.dtype is not None else "fp32"
    generator = torch.Generator().manual_seed(BENCHMARK_SEED + rank)
    batches = [
        {
            k: v.to(device)
            for k, v in generated_batch(config.batch_size, config.height, config.width, generator).items()
        }
        for _ in range(GENERATED_BATCHES)
    ]

    def step(index: int) -> float:
        loss, _ = optimization.backward(FAMILY, model, batches[index % len(batches)])
        optimization.step()
        return loss

    for index in range(settings.warmup):
        step(index)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    started = time.perf_counter()
    loss = float("nan")
    for index in range(settings.steps):
        loss = step(index)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    parameters = sum(p.numel() for p in model.parameters()) / 1e6
    return {
        "seconds": seconds,
        "images": settings.steps * config.batch_size,
        "peak_memory_mib": peak,
        "final_loss": loss,
        "parameters_m": parameters,
        "precision": precision,
    }


def _ray_worker(config: dict[str, Any]) -> None:
    """Ray Train worker: the same timed loop on this worker's GPU with the model wrapped in DDP."""
    import ray.train
    import ray.train.torch

    from models.autoarm.family import FAMILY

    result_file = Path(config.pop("result_file"))
    settings = BenchmarkSettings(**{**config, "device": str(ray.train.torch.get_device())})
    model = ray.train.torch.prepare_model(FAMILY.build_model(_config(settings)))
    rank = ray.train.get_context().get_world_rank()
    result = measure_steps(settings, model=model, rank=rank)
    if rank == 0:  # every rank runs the same steps in lockstep (DDP); rank 0 speaks for them
        result_file.write_text(json.dumps(result))


def measure_workers(settings: BenchmarkSettings) -> Throughput:
    """One worker in this process, or `settings.workers` Ray Train workers (DDP, one GPU each)."""
    if settings.workers == 1:
        found = measure_steps(settings)
        seconds, images, peak = found["seconds"], found["images"], found["peak_memory_mib"]
        loss, parameters, precision = found["final_loss"], found["parameters_m"], found["precision"]
    else:
        import ray
        from ray.train import RunConfig, ScalingConfig
        from ray.train.torch import TorchTrainer

        from vton.home import VtonHome
        from vton.ray_runtime import ensure_ray

        ensure_ray()
        if ray.cluster_resources().get("GPU", 0) < settings.workers and settings.device != "cpu":
            raise SystemExit(f"{settings.workers} workers need {settings.workers} GPUs in Ray")
        scratch = Path(tempfile.mkdtemp(prefix="autoarm-gpu-bench-", dir=VtonHome.from_env().tmp))
        result_file = scratch / "rank0.json"
        trainer = TorchTrainer(
            _ray_worker,
            train_loop_config={**asdict(settings), "result_file": str(result_file)},
            scaling_config=ScalingConfig(num_workers=settings.workers, use_gpu=settings.device != "cpu"),
            run_config=RunConfig(
                name=f"autoarm_gpu_bench_{settings.workers}w",
                storage_path=str(VtonHome.from_env().root / "ray_results"),
            ),
        )
        trainer.fit()
        metrics = json.loads(result_file.read_text())
        shutil.rmtree(scratch, ignore_errors=True)
        seconds, peak = metrics["seconds"], metrics["peak_memory_mib"]
        images = metrics["images"] * settings.workers
        loss, parameters, precision = metrics["final_loss"], metrics["parameters_m"], metrics["precision"]
    return Throughput(
        workers=settings.workers,
        steps=settings.steps,
        batch_size=settings.batch_size,
        seconds=round(seconds, 3),
        images_per_second=round(images / seconds, 2),
        peak_memory_mib=round(peak, 1) if peak is not None else None,
        final_loss=round(loss, 5),
        parameters_m=round(parameters, 2),
        precision=precision,
    )


def _size(value: str) -> tuple[int, int]:
    height, _, width = value.lower().partition("x")
    return int(height), int(width)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--preset", default=None, help="paper (default on CUDA) or tiny (default on CPU).")
    parser.add_argument("--size", type=_size, default=None, help="HxW input size [the preset's: 512x384].")
    parser.add_argument("--batch-size", type=int, default=None, help="[the preset's: 6]")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=None, help="Untimed steps first [10; 1 on CPU].")
    parser.add_argument(
        "--workers", default=None, help="Comma-separated worker counts [1, plus 2 where two GPUs exist]."
    )
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            "benchmarks.autoarm_gpu: no CUDA device here (torch.cuda.is_available() is False); run it on a GPU "
            "machine, or check that it runs with: python -m benchmarks.autoarm_gpu.run --device cpu --steps 5",
            file=sys.stderr,
        )
        return NO_CUDA_EXIT
    gpus = torch.cuda.device_count() if args.device == "cuda" else 0
    if args.workers:
        counts = [int(c) for c in args.workers.split(",")]
    else:
        counts = [1, 2] if gpus >= 2 else [1]
    warmup = args.warmup if args.warmup is not None else (10 if args.device == "cuda" else 1)
    from models.autoarm.config import AutoArmConfig

    preset = args.preset or ("paper" if args.device == "cuda" else "tiny")
    defaults = AutoArmConfig.preset(preset)
    height, width = args.size or (defaults.height, defaults.width)
    batch_size = args.batch_size or defaults.batch_size
    results = []
    for workers in counts:
        settings = BenchmarkSettings(
            preset, height, width, batch_size, args.steps, warmup, args.device, workers
        )
        result = measure_workers(settings)
        results.append(result)
        memory = f"{result.peak_memory_mib:.0f} MiB peak" if result.peak_memory_mib is not None else "CPU"
        print(
            f"{workers} worker(s) on {args.device}: {result.images_per_second:.1f} images/s "
            f"({result.steps} steps x {result.batch_size} in {result.seconds:.1f}s, {memory}, "
            f"{result.precision}, {result.parameters_m:.1f}M parameters, final loss {result.final_loss:.4f})"
        )
    summary: dict[str, Any] = {
        "preset": preset,
        "size": f"{height}x{width}",
        "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
        "results": [asdict(r) for r in results],
    }
    by_workers = {r.workers: r for r in results}
    if 1 in by_workers and 2 in by_workers:
        efficiency = by_workers[2].images_per_second / (2 * by_workers[1].images_per_second)
        summary["scaling_efficiency_2_workers"] = round(efficiency, 3)
        print(f"2 workers give {efficiency:.0%} of twice the 1-worker throughput")
    if any(not math.isfinite(r.final_loss) for r in results):
        print("warning: the loss is not finite; the measurement is of a diverged run", file=sys.stderr)
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
