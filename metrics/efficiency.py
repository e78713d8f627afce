"""Efficiency of any nn.Module on example inputs: parameters, GFLOPs, FPS and peak memory, on CPU or CUDA.

Conventions, stated because papers differ: `gflops` counts a multiply-add as TWO floating-point operations
(torch.utils.flop_counter); `gmacs` counts it as one (what thop/ptflops-based tables usually print as
"GFLOPs"). FPS runs batch 1 after warm-up with device synchronisation around the timed loop. Memory is
reported both ways: `peak_cuda_mb` = torch.cuda.max_memory_allocated during one forward (None on CPU), and
`param_buffer_mb` = bytes of parameters + buffers, the definition DM-VTON's table uses.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class Efficiency:
    """One model's measurements and the conventions behind them."""

    params_m: float
    gflops: float  # multiply-add = 2 FLOPs
    gmacs: float  # multiply-add = 1
    fps: float
    param_buffer_mb: float
    peak_cuda_mb: float | None
    device: str
    batch_size: int = 1

    def as_dict(self) -> dict:
        return asdict(self)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (shared tensors counted once)."""
    seen = {id(p): p for p in model.parameters() if p.requires_grad or not trainable_only}
    return sum(p.numel() for p in seen.values())


def param_buffer_bytes(model: nn.Module) -> int:
    """Bytes held by parameters and buffers (DM-VTON's 'memory')."""
    tensors = {id(t): t for t in [*model.parameters(), *model.buffers()]}
    return sum(t.numel() * t.element_size() for t in tensors.values())


def _as_args(inputs: torch.Tensor | Sequence[torch.Tensor]) -> tuple:
    return (inputs,) if isinstance(inputs, torch.Tensor) else tuple(inputs)


def count_flops(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor]) -> int:
    """FLOPs of one forward pass, a multiply-add counted as two (torch's FlopCounterMode)."""
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(*_as_args(inputs))
    return int(counter.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_fps(
    model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor], warmup: int = 10, iterations: int = 50
) -> float:
    """Forward passes per second at the inputs' batch size, after `warmup` passes, synchronised on CUDA."""
    args = _as_args(inputs)
    device = args[0].device
    with torch.no_grad():
        for _ in range(warmup):
            model(*args)
        _sync(device)
        start = time.perf_counter()
        for _ in range(iterations):
            model(*args)
        _sync(device)
    return iterations / (time.perf_counter() - start)


def peak_cuda_memory_mb(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor]) -> float | None:
    """Peak CUDA allocation (MiB) during one forward pass, model weights included; None on CPU."""
    args = _as_args(inputs)
    device = args[0].device
    if device.type != "cuda":
        return None
    _sync(device)
    torch.cuda.reset_peak_memory_stats(device)
    with torch.no_grad():
        model(*args)
    _sync(device)
    return torch.cuda.max_memory_allocated(device) / 2**20


def measure_efficiency(
    model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor], warmup: int = 10, iterations: int = 50
) -> Efficiency:
    """All efficiency numbers for `model` on example `inputs` (batch 1 expected; put both on the target device)."""
    args = _as_args(inputs)
    batch = int(args[0].shape[0]) if args[0].ndim else 1
    if batch != 1:
        raise ValueError(f"efficiency is measured at batch size 1 (the papers' protocol); got batch {batch}")
    was_training = model.training
    model.eval()
    try:
        flops = count_flops(model, args)
        return Efficiency(
            params_m=count_parameters(model) / 1e6,
            gflops=flops / 1e9,
            gmacs=flops / 2e9,
            fps=measure_fps(model, args, warmup, iterations),
            param_buffer_mb=param_buffer_bytes(model) / 2**20,
            peak_cuda_mb=peak_cuda_memory_mb(model, args),
            device=str(args[0].device),
        )
    finally:
        model.train(was_training)
