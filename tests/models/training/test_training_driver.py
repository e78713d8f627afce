"""The Ray Train driver end to end on tiny shards (2-CPU session Ray, V2 API): reproducible runs, resume with
more epochs, a worker killed mid-run, two ranks fed from one shard, early stopping and best-k pruning."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file
from tiny_family import FAMILY, NAME, TinyCopyConfig
from tiny_shards import build_tiny_shards

from models.registry import list_models, register_model
from models.training.checkpoints import list_checkpoints, read_state
from models.training.driver import train

pytestmark = pytest.mark.slow


def _weights(checkpoint):
    return load_file(str(checkpoint / "model.safetensors"))


def _same(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _without_time(history):
    return [{k: v for k, v in record.items() if k != "seconds"} for record in history]


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    # 24 train samples in two shards, 6 val samples in a third; 1 worker x batch 4 -> 6 steps per epoch
    return build_tiny_shards(tmp_path_factory.mktemp("drv") / "shards", {"train": 24, "val": 6}, per_shard=12)


@pytest.fixture(scope="module")
def runs(shards, tmp_path_factory, ray_local):
    """Run A: 2 epochs, progress bar on, its on_epoch records kept. Run B: same seed, 3 epochs, checkpoints every 4 steps and
    its worker SIGKILLed during step 10 (once: the marker file stops the retry from dying again)."""
    base = tmp_path_factory.mktemp("runs")
    seen = []
    a = train(
        NAME,
        TinyCopyConfig.preset("tiny", keep_best=10),
        [shards],
        base / "a",
        progress=True,
        on_epoch=seen.append,
    )
    marker = base / "killed-once"
    b_config = TinyCopyConfig.preset(
        "tiny", keep_best=10, epochs=3, checkpoint_every_steps=4, kill_at_call=10, kill_marker=str(marker)
    )
    b = train(NAME, b_config, [shards], base / "b", max_failures=1, progress=False)
    return {"a": a, "b": b, "seen": seen, "marker": marker, "b_config": b_config}


def test_same_seed_gives_the_same_weights(runs):
    a, b, seen = runs["a"], runs["b"], runs["seen"]
    assert (a.steps, a.epochs_run) == (12, 2)
    assert [p.name for p in list_checkpoints(a.run_dir)] == ["step-00000006", "step-00000012"]
    assert _same(_weights(a.run_dir / "step-00000006"), _weights(b.run_dir / "step-00000006"))
    assert _without_time(a.history[:1]) == _without_time(b.history[:1])
    config = TinyCopyConfig.preset("tiny", keep_best=10)
    torch.manual_seed(config.seed)
    assert not _same(_weights(a.final_checkpoint), FAMILY.build_model(config).state_dict())  # it did train
    assert a.history[-1]["val_loss"] < a.history[0]["val_loss"]
    # the driver's record: on_epoch once per epoch, metrics.jsonl, loss.png, the last epoch's metrics
    assert [r["epoch"] for r in seen] == [1, 2]
    lines = [json.loads(x) for x in (a.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert lines == a.history
    assert (a.run_dir / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert a.metrics["val_loss"] == a.history[-1]["val_loss"] and "epoch" not in a.metrics
    assert json.loads((a.final_checkpoint / "config.json").read_text())["config_hash"] == config.config_hash()


def test_killed_worker_resumes_from_the_last_checkpoint_and_registers_once(runs, tmp_path):
    a, b = runs["a"], runs["b"]
    assert runs["marker"].exists()  # the first worker process really was killed
    state = read_state(b.final_checkpoint)
    assert state.resumed_steps == [8]  # the retry continued from the checkpoint taken at step 8
    assert (b.steps, b.epochs_run, state.finished, b.resumed_from) == (18, 3, True, None)
    assert [r["epoch"] for r in b.history] == [1, 2, 3]
    # the replayed batches and restored optimizer make the retry invisible: step 12 is run A's step 12
    assert _same(_weights(b.run_dir / "step-00000012"), _weights(a.final_checkpoint))
    assert _without_time(b.history[:2]) == _without_time(a.history)
    # mid-epoch checkpoints (4, 8, 16) were pruned once later ones existed
    assert [p.name for p in list_checkpoints(b.run_dir)] == [
        "step-00000006",
        "step-00000012",
        "step-00000018",
    ]

    home = tmp_path / "home"
    kwargs = dict(
        family=NAME,
        preset="tiny",
        checkpoint=b.final_checkpoint,
        train_dataset="tiny",
        dataset_version="tiny-0",
        config_hash=runs["b_config"].config_hash(),
        metrics=b.metrics,
    )
    version = register_model(home, **kwargs)
    assert register_model(home, **kwargs) == version
    rows = list_models(home)
    assert [r["model_version"] for r in rows] == [version]
    assert rows[0]["checkpoint"] == str(b.final_checkpoint)


def test_relaunch_with_more_epochs_continues_from_the_checkpoint(runs, shards):
    a, b = runs["a"], runs["b"]
    three = TinyCopyConfig.preset("tiny", keep_best=10, epochs=3)
    more = train(NAME, three, [shards], a.run_dir, progress=False)
    assert more.resumed_from == a.final_checkpoint
    assert (more.steps, more.epochs_run) == (18, 3)
    assert [r["epoch"] for r in more.history] == [1, 2, 3]
    assert more.history[:2] == a.history  # carried over, not re-run
    assert read_state(more.final_checkpoint).resumed_steps == [12]
    # weights, optimizer state and the epoch-3 data order all continued: the same as run B's 3 epochs
    assert _same(_weights(more.final_checkpoint), _weights(b.final_checkpoint))

    again = train(NAME, three, [shards], a.run_dir, progress=False)
    assert again.final_checkpoint == more.final_checkpoint and again.steps == 18  # finished: nothing to do
    with pytest.raises(ValueError, match=r"other settings \(lr differ"):
        train(NAME, TinyCopyConfig.preset("tiny", epochs=4, lr=0.1), [shards], a.run_dir, progress=False)


def test_resume_false_starts_the_folder_over_with_new_settings(runs, shards, tmp_path):
    run_dir = tmp_path / "copy"
    shutil.copytree(runs["a"].run_dir, run_dir)
    before = list_checkpoints(run_dir)
    assert before, "the copied run has checkpoints"
    other = TinyCopyConfig.preset("tiny", epochs=1, lr=0.1)  # settings the old run would refuse to resume
    fresh = train(NAME, other, [shards], run_dir, resume=False, progress=False)
    assert fresh.resumed_from is None and (fresh.steps, fresh.epochs_run) == (6, 1)
    assert [r["epoch"] for r in fresh.history] == [1]  # the old metrics.jsonl is gone
    assert read_state(fresh.final_checkpoint).resumed_steps == []
    assert all(not path.exists() for path in before if path not in list_checkpoints(run_dir))
    assert json.loads((fresh.final_checkpoint / "config.json").read_text())["config"]["lr"] == 0.1


def test_two_workers_share_one_shard_then_stop_early_and_prune(tmp_path, ray_local):
    one = build_tiny_shards(tmp_path / "one", {"train": 16, "val": 4}, per_shard=100)
    trace = tmp_path / "trace"
    # lr 0: the validation loss never improves after epoch 1, so patience 2 stops the run after epoch 3
    config = TinyCopyConfig.preset(
        "tiny",
        lr=0.0,
        epochs=10,
        early_stopping_patience=2,
        checkpoint_every_steps=1,
        keep_best=1,
        trace_dir=str(trace),
    )
    result = train(NAME, config, [one], tmp_path / "run", workers=2, progress=False)

    ranks = {}
    for path in trace.glob("rank*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            ranks.setdefault(record["rank"], []).append(record["keys"])
    assert sorted(ranks) == [0, 1]
    assert [len(b) for b in ranks.values()] == [6, 6]  # 2 steps per epoch x 3 epochs, on each rank
    for epoch in range(3):  # within an epoch the ranks split the 16 train samples between them
        keys = [k for r in (0, 1) for batch in ranks[r][2 * epoch : 2 * epoch + 2] for k in batch]
        assert sorted(keys) == [f"train-{i:03d}" for i in range(16)]

    assert result.stopped_early and result.epochs_run == 3 and result.steps == 6
    assert [r["improved"] for r in result.history] == [True, False, False]
    assert result.history[-1]["stopped_early"] is True
    # best (epoch 1, step 2) and latest (step 6) kept; the step checkpoints and epoch 2 pruned
    assert [p.name for p in list_checkpoints(result.run_dir)] == ["step-00000002", "step-00000006"]
    assert result.best_checkpoint.name == "step-00000002"
