"""Model registry: content-addressed versions, idempotent re-registration, lineage columns, `vton models list`."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import torch
from click.testing import CliRunner

from metrics.evaluation.runs import code_version
from models.registry import latest_model, list_models, model_version, register_model, weights_sha256
from models.training.checkpoints import TrainingState, save_checkpoint
from vton.cli import main


def _checkpoint(folder, seed: int):
    torch.manual_seed(seed)
    return save_checkpoint(folder, model=torch.nn.Linear(3, 2), state=TrainingState(step=5), config_record={})


def _register(home, checkpoint, **overrides):
    kwargs = dict(
        family="autoarm",
        preset="tiny",
        checkpoint=checkpoint,
        train_dataset="demo_vitonhd",
        dataset_version="v1",
        config_hash="0123456789abcdef",
        metrics={"val_iou": 0.5},
    )
    return register_model(home, **(kwargs | overrides))


def test_versions_are_content_ids_and_re_registering_replaces_the_row(vton_home, tmp_path):
    first = _checkpoint(tmp_path / "a", seed=0)
    version = _register(vton_home, first)
    assert version == model_version("autoarm", "0123456789abcdef", "v1", weights_sha256(first))
    assert version.startswith("autoarm-") and len(version) == len("autoarm-") + 12
    created = list_models(vton_home)[0]["created_at"]
    assert _register(vton_home, first, metrics={"val_iou": 0.6}) == version  # same weights: same row
    rows = list_models(vton_home)
    assert len(rows) == 1
    assert rows[0]["metrics"] == {"val_iou": 0.6} and rows[0]["created_at"] == created
    # other weights, another dataset version or another config are other versions
    other = _register(vton_home, _checkpoint(tmp_path / "b", seed=1), parent_version=version)
    assert other != version
    assert _register(vton_home, first, dataset_version="v2") not in (version, other)
    assert len(list_models(vton_home, "autoarm")) == 3
    assert list_models(vton_home, "igr") == []


def test_rows_carry_lineage_and_the_latest_per_dataset(vton_home, tmp_path):
    old = _register(vton_home, _checkpoint(tmp_path / "a", seed=0))
    new = _register(vton_home, _checkpoint(tmp_path / "b", seed=1), parent_version=old)
    _register(vton_home, _checkpoint(tmp_path / "c", seed=2), train_dataset=["dresscode", "demo_vitonhd"])
    files = list((vton_home / "warehouse" / "model_registry" / "model=autoarm").glob("*.parquet"))
    assert len(files) == 3 and "metrics" in pq.read_schema(files[0]).names
    row = latest_model(vton_home, "autoarm", "demo_vitonhd")
    assert row["model_version"] == new and row["parent_version"] == old
    assert row["code_version"] == code_version() and row["checkpoint"].endswith("step-00000005")
    both = latest_model(vton_home, "autoarm", "demo_vitonhd+dresscode")
    assert both is not None and both["model_version"] not in (old, new)
    assert latest_model(vton_home, "autoarm", "vvt") is None


def test_models_list_command(vton_home, tmp_path):
    runner = CliRunner()
    empty = runner.invoke(main, ["models", "list"])
    assert empty.exit_code == 0 and "no registered models" in empty.output
    version = _register(vton_home, _checkpoint(tmp_path / "a", seed=0))
    table = runner.invoke(main, ["models", "list", "--family", "autoarm"])
    assert table.exit_code == 0, table.output
    assert version in table.output and "val_iou=0.5" in table.output
    listed = json.loads(runner.invoke(main, ["models", "list", "--json"]).output)
    assert [r["model_version"] for r in listed] == [version]
    assert listed[0]["metrics"] == {"val_iou": 0.5} and listed[0]["train_dataset"] == "demo_vitonhd"
