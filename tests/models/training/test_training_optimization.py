"""Optimizer step pieces: gradient accumulation equals one big batch, clipping, EMA arithmetic, early stopping."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.nn import functional as F

from models.training.early_stopping import EarlyStopping
from models.training.ema import ExponentialMovingAverage
from models.training.optimization import Optimization, autocast_dtype
from models.training.settings import TrainingSettings

CPU = torch.device("cpu")


class LinearFamily:
    """Mean squared error of a linear model: the loss is a batch mean, as the driver expects."""

    def training_step(self, model, batch, config):
        return F.mse_loss(model(batch["x"]), batch["y"]), {}


def _data(n: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    return {"x": torch.randn(n, 5, generator=gen), "y": torch.randn(n, 2, generator=gen)}


@pytest.mark.parametrize("optimizer", ["adamw", "adam"])
def test_k_micro_batches_of_b_give_the_gradient_and_step_of_one_batch_of_k_b(optimizer):
    k, b = 4, 3
    data = _data(k * b)
    torch.manual_seed(0)
    accumulated = torch.nn.Linear(5, 2)
    single = copy.deepcopy(accumulated)
    settings = {"lr": 0.05, "optimizer": optimizer, "weight_decay": 0.01}
    acc_opt = Optimization(accumulated, TrainingSettings(grad_accum_steps=k, **settings), CPU)
    one_opt = Optimization(single, TrainingSettings(grad_accum_steps=1, **settings), CPU)
    for i in range(k):
        micro = {key: value[i * b : (i + 1) * b] for key, value in data.items()}
        acc_opt.backward(LinearFamily(), accumulated, micro, last_micro_batch=i == k - 1)
    one_opt.backward(LinearFamily(), single, data)

    # the analytic gradient of mean((W x + c - y)^2) over the whole k*b batch
    residual = data["x"] @ single.weight.T + single.bias - data["y"]
    analytic = 2 * residual.T @ data["x"] / residual.numel()
    torch.testing.assert_close(single.weight.grad, analytic)
    torch.testing.assert_close(accumulated.weight.grad, single.weight.grad, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(accumulated.bias.grad, single.bias.grad, rtol=1e-6, atol=1e-7)

    acc_opt.step()
    one_opt.step()
    torch.testing.assert_close(accumulated.weight, single.weight, rtol=1e-6, atol=1e-7)
    assert accumulated.weight.grad is None  # cleared for the next step


def test_clipping_reports_the_norm_before_clipping_and_scales_gradients():
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 2)
    opt = Optimization(model, TrainingSettings(grad_clip_norm=1e-3, lr=0.0), CPU)
    opt.backward(LinearFamily(), model, _data(8))
    expected = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.parameters()]))
    grads = {}
    opt.optimizer.register_step_pre_hook(
        lambda o, a, kw: grads.update(
            norm=torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.parameters()]))
        )
    )
    norm = opt.step()
    assert norm == pytest.approx(float(expected), rel=1e-6)
    assert float(grads["norm"]) == pytest.approx(1e-3, rel=1e-4)


def test_non_finite_loss_is_reported_with_what_to_change():
    class NanFamily:
        def training_step(self, model, batch, config):
            return model(batch["x"]).sum() * float("nan"), {}

    model = torch.nn.Linear(5, 2)
    with pytest.raises(FloatingPointError, match="grad_clip_norm"):
        Optimization(model, TrainingSettings(), CPU).backward(NanFamily(), model, _data(2))


def test_mixed_precision_only_on_cuda():
    assert autocast_dtype(TrainingSettings(mixed_precision="bf16"), CPU) is None
    assert autocast_dtype(TrainingSettings(mixed_precision="bf16"), torch.device("cuda")) == torch.bfloat16
    assert autocast_dtype(TrainingSettings(mixed_precision="fp16"), torch.device("cuda")) == torch.float16
    assert autocast_dtype(TrainingSettings(mixed_precision="no"), torch.device("cuda")) is None


def test_ema_follows_the_formula_copies_counters_and_swaps_back():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
    ema = ExponentialMovingAverage(model, decay=0.9)
    start = copy.deepcopy(model.state_dict())
    model.train()
    model(torch.randn(4, 3))  # BatchNorm updates its running stats and counter
    with torch.no_grad():
        model[0].weight.add_(1.0)
    ema.update(model)
    live = model.state_dict()
    for name, value in ema.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, 0.9 * start[name] + 0.1 * live[name])
        else:
            assert torch.equal(value, live[name]) and int(value) == 1
    with ema.applied_to(model):
        torch.testing.assert_close(model[0].weight, ema.shadow["0.weight"])
    torch.testing.assert_close(model[0].weight, live["0.weight"])


@pytest.mark.parametrize(
    ("mode", "values", "stop_after"),
    [
        ("min", [1.0, 0.9, 0.95, 0.91, 0.8], 4),
        ("max", [0.1, 0.3, 0.3, 0.2, 0.5], 4),
        ("min", [1.0, float("nan"), 2.0], 3),
    ],
)
def test_early_stopping_counts_epochs_without_strict_improvement(mode, values, stop_after):
    stopper = EarlyStopping(patience=2, mode=mode)
    stopped = None
    for epoch, value in enumerate(values, start=1):
        stopper.update(value)
        if stopper.should_stop:
            stopped = epoch
            break
    assert stopped == stop_after
    resumed = EarlyStopping(patience=2, mode=mode)
    resumed.load_state_dict(stopper.state_dict())
    assert resumed.should_stop and resumed.best == stopper.best
    assert not EarlyStopping(patience=None).should_stop
