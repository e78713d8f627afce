"""Efficiency numbers on a model whose parameters and FLOPs can be counted by hand; CUDA when present."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from metrics.efficiency import count_flops, count_parameters, measure_efficiency, param_buffer_bytes


def _model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8 * 16 * 16, 10)
    )


def test_counts_by_hand():
    m = _model()
    conv, bn, lin = 3 * 8 * 9, 16, 8 * 256 * 10 + 10
    assert count_parameters(m) == conv + bn + lin
    # BatchNorm buffers: running mean/var (8 floats each) + num_batches_tracked (one int64).
    assert param_buffer_bytes(m) == (conv + bn + lin) * 4 + 16 * 4 + 8
    macs = 8 * 16 * 16 * 3 * 9 + 8 * 256 * 10
    assert count_flops(m, torch.zeros(1, 3, 16, 16)) == 2 * macs


@pytest.mark.parametrize(
    "device",
    ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))],
)
def test_measure_efficiency(device):
    m = _model().to(device)
    e = measure_efficiency(m, torch.zeros(1, 3, 16, 16, device=device), warmup=2, iterations=5)
    assert e.gflops == pytest.approx(2 * e.gmacs) and e.gflops > 0
    assert e.fps > 0 and e.params_m == pytest.approx(count_parameters(m) / 1e6)
    assert (e.peak_cuda_mb is None) == (device == "cpu")
    assert m.training  # restored
    with pytest.raises(ValueError, match="batch size 1"):
        measure_efficiency(m, torch.zeros(2, 3, 16, 16, device=device))
