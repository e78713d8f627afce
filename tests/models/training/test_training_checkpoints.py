"""Checkpoint folders: safetensors round trip (live, EMA, optimizer state), atomic layout, best-k pruning."""

from __future__ import annotations

import json

import pytest
import torch

from models.training.checkpoints import (
    TrainingState,
    best_checkpoint,
    clean_temp_checkpoints,
    latest_checkpoint,
    list_checkpoints,
    load_ema_state,
    load_weights,
    prune_checkpoints,
    read_config,
    read_optimizer_state,
    read_state,
    save_checkpoint,
)
from models.training.ema import ExponentialMovingAverage


class TiedNet(torch.nn.Module):
    """Embedding and output layer share one weight (safetensors refuses shared storage unless handled)."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(5, 3)
        self.out = torch.nn.Linear(3, 5, bias=False)
        self.out.weight = self.embed.weight
        self.norm = torch.nn.BatchNorm1d(3)


def _trained(seed: int) -> tuple[TiedNet, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    net = TiedNet()
    opt = torch.optim.AdamW(net.parameters(), lr=0.1)
    for _ in range(3):
        loss = net.out(net.norm(net.embed(torch.tensor([0, 1, 2, 3])))).pow(2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
    return net, opt


def test_round_trip_restores_weights_ema_optimizer_and_state(tmp_path):
    net, opt = _trained(0)
    ema = ExponentialMovingAverage(net, 0.5)
    with torch.no_grad():
        net.embed.weight.add_(1.0)
    ema.update(net)
    state = TrainingState(epoch=2, step=7, metrics={"val_loss": 0.25}, history=[{"epoch": 1}, {"epoch": 2}])
    folder = save_checkpoint(
        tmp_path,
        model=net,
        state=state,
        config_record={"family": "tiny", "preset": None, "config": {"lr": 0.1}, "config_hash": "abc"},
        optimizer_state={"optimizer": opt.state_dict()},
        ema_state=ema.state_dict(),
    )
    assert folder.name == "step-00000007"
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "ema.safetensors",
        "model.safetensors",
        "optimizer.pt",
        "state.json",
    ]
    fresh, fresh_opt = _trained(1)
    assert not torch.equal(fresh.embed.weight, net.embed.weight)
    assert load_weights(folder, fresh, ema=False).name == "model.safetensors"
    for name, value in net.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], value), name
    assert fresh.out.weight is fresh.embed.weight  # still tied after loading
    load_weights(folder, fresh, ema=True)
    for name, value in ema.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], value), name
    assert torch.equal(load_ema_state(folder)["embed.weight"], ema.shadow["embed.weight"])
    fresh_opt.load_state_dict(read_optimizer_state(folder)["optimizer"])
    saved, loaded = opt.state_dict()["state"], fresh_opt.state_dict()["state"]
    assert all(torch.equal(saved[k]["exp_avg"], loaded[k]["exp_avg"]) for k in saved)
    assert read_state(folder) == state
    assert read_config(folder)["config_hash"] == "abc"


def test_wrong_architecture_is_refused_with_the_file_named(tmp_path):
    net, _ = _trained(0)
    folder = save_checkpoint(tmp_path, model=net, state=TrainingState(step=1), config_record={})
    with pytest.raises(ValueError, match="model.safetensors does not fit Linear"):
        load_weights(folder, torch.nn.Linear(3, 5))


def test_only_complete_folders_count_and_leftovers_are_cleaned(tmp_path):
    net = torch.nn.Linear(2, 1)
    for step in (3, 10):
        save_checkpoint(tmp_path, model=net, state=TrainingState(step=step), config_record={})
    (tmp_path / "step-00000020").mkdir()  # no state.json: an unfinished copy, not a checkpoint
    (tmp_path / ".step-00000030.tmp-123").mkdir()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000003", "step-00000010"]
    assert latest_checkpoint(tmp_path).name == "step-00000010"
    assert clean_temp_checkpoints(tmp_path) == [".step-00000030.tmp-123"]
    assert latest_checkpoint(tmp_path / "absent") is None


def _scored(tmp_path, values):
    net = torch.nn.Linear(2, 1)
    for step, value in enumerate(values, start=1):
        metrics = {} if value is None else {"val_iou": value}
        save_checkpoint(
            tmp_path, model=net, state=TrainingState(step=step, metrics=metrics), config_record={}
        )


@pytest.mark.parametrize(
    ("mode", "kept"),
    [
        ("max", ["step-00000002", "step-00000004", "step-00000006"]),
        ("min", ["step-00000001", "step-00000005", "step-00000006"]),
    ],
)
def test_prune_keeps_best_k_and_the_latest(tmp_path, mode, kept):
    # steps 1..6; step 3 was taken inside an epoch (no metric); step 6 is the latest
    _scored(tmp_path, [0.2, 0.9, None, 0.7, 0.3, 0.5])
    removed = prune_checkpoints(tmp_path, keep_best=2, monitor="val_iou", mode=mode)
    assert [p.name for p in list_checkpoints(tmp_path)] == kept
    assert sorted(removed + kept) == [f"step-{i:08d}" for i in range(1, 7)]
    assert best_checkpoint(tmp_path, "val_iou", mode).name == kept[0]  # 0.9 (max) or 0.2 (min)


def test_state_json_is_plain_json(tmp_path):
    folder = save_checkpoint(
        tmp_path,
        model=torch.nn.Linear(1, 1),
        state=TrainingState(step=2, resumed_steps=[1]),
        config_record={},
    )
    assert json.loads((folder / "state.json").read_text())["resumed_steps"] == [1]
