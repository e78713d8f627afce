"""benchmarks/autoarm_gpu: the CPU smoke run works and reports its figures; without CUDA the GPU run stops with
exit code 2 and says how to smoke-test instead; the generated batches look like Auto-ARM examples."""

from __future__ import annotations

import json

import pytest
import torch

from benchmarks.autoarm_gpu.run import NO_CUDA_EXIT, generated_batch, main


def test_cpu_smoke_run_reports_throughput(capsys):
    assert (
        main(["--device", "cpu", "--steps", "2", "--warmup", "0", "--size", "64x48", "--batch-size", "2"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (result,) = summary["results"]
    assert summary["preset"] == "tiny" and summary["size"] == "64x48" and summary["device"] == "cpu"
    assert result["workers"] == 1 and result["steps"] == 2 and result["batch_size"] == 2
    assert result["images_per_second"] == pytest.approx(4 / result["seconds"], rel=0.02)
    assert result["peak_memory_mib"] is None and result["precision"] == "fp32"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_gpu_run_without_cuda_exits_2_with_the_smoke_command(capsys):
    assert main([]) == NO_CUDA_EXIT
    assert "--device cpu --steps 5" in capsys.readouterr().err


def test_generated_batches_have_the_example_layout():
    batch = generated_batch(3, 32, 24, torch.Generator().manual_seed(0))
    assert batch["inputs"].shape == (3, 5, 32, 24) and batch["truth"].shape == (3, 1, 32, 24)
    truth, rough = batch["truth"].bool(), batch["inputs"][:, :1].bool()
    assert truth.any() and (rough & truth).eq(truth).all() and (rough & ~truth).any()  # M_r covers and spills
