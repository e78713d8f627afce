"""Prediction assets: a model family's outputs on a dataset's test split, made with its latest checkpoint.

`autoarm_predictions` runs `models.autoarm.predict.predict_masks` with the newest Auto-ARM model registered
for the dataset (or the one named in the config) on the test split's paired and unpaired samples: the refined
masks M_f, beside the rough masks M_r it started from and, for paired samples, the truth (the garment region
of the person's parsing). The three maps are listed in `index.json` beside the masks folder, so the evaluation
assets that follow (eager automation) score both against the same truth; a grid of rough | refined | truth for
a few samples shows in the Dagster UI and in `vton report`.
"""

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
from PIL import Image
from pydantic import Field

from assets.shards import shard_dir
from assets.training import autoarm_checkpoint
from orchestration.partitions import datasets_partitions
from orchestration.resources import PathsResource
from preprocess.shards.reader import SHARDS_JSON
from vton import atomic_files
from vton.home import VtonHome
from warehouse.report import mask_grid_path

PREDICTIONS_GROUP = "predictions"
INDEX_FILE = "index.json"  # beside the masks folder (predict_masks writes its own predictions.json inside)
MASKS_FOLDER = "masks"
GRID_SAMPLES = 4
SKIPPED_SHOWN = 10


class PredictionConfig(dg.Config):
    """Which model predicts, on which split, where."""

    model_version: str | None = Field(
        default=None, description="A registered model version; unset: the newest one trained on this dataset."
    )
    split: str = Field(default="test", description="Split to predict.")
    device: str = Field(default="cpu", description="cpu or cuda[:N].")
    batch_size: int = Field(default=8, ge=1)


@dataclass(frozen=True)
class StoredPredictions:
    """What a prediction asset wrote for one dataset (read back from its index.json)."""

    family: str
    dataset: str
    model_version: str
    checkpoint: str
    dataset_version: str
    folder: Path
    files: dict[str, Path]  # sample id -> the family's prediction
    rough: dict[str, Path]  # sample id -> the input rough mask (Auto-ARM)
    truth: dict[str, Path]  # sample id -> ground truth (paired samples only)


def predictions_root(home: VtonHome, family: str, dataset: str) -> Path:
    """VTON_HOME/predictions/<family>/<dataset>: the masks folder, index.json and the mask grid."""
    return home.root / "predictions" / family / dataset


def read_predictions(home: VtonHome, family: str, dataset: str) -> StoredPredictions:
    """The latest predictions of `family` on `dataset`; FileNotFoundError naming the command when none exist."""
    index = predictions_root(home, family, dataset) / INDEX_FILE
    if not index.is_file():
        raise FileNotFoundError(
            f"{index} does not exist: predict first (vton predict {family} --dataset {dataset}, or materialize "
            f"{family}_predictions)"
        )
    raw = json.loads(index.read_text())

    def paths(key: str) -> dict[str, Path]:
        return {k: Path(v) for k, v in raw[key].items()}

    return StoredPredictions(
        raw["family"], raw["dataset"], raw["model_version"], raw["checkpoint"], raw["dataset_version"],
        Path(raw["folder"]), paths("files"), paths("rough"), paths("truth"),
    )  # fmt: skip


def _registered_model(home: VtonHome, family: str, dataset: str, version: str | None) -> dict[str, Any]:
    from models.registry import latest_model, list_models

    if version is None:
        model = latest_model(home, family, dataset)
        if model is None:
            raise dg.Failure(
                description=f"no {family} model is registered for dataset {dataset!r}; train one first "
                f"(vton train {family} --dataset {dataset}, or materialize {family}_checkpoint)"
            )
        return model
    for model in list_models(home, family):
        if model["model_version"] == version:
            return model
    raise dg.Failure(
        description=f"model version {version!r} is not registered for {family}; see vton models list --family {family}"
    )


def _mask(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L")) > 127


def grid_rows(
    files: dict[str, Path], rough: dict[str, Path], truth: dict[str, Path], count: int = GRID_SAMPLES
) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(sample id, rough, refined, truth) for `count` samples that have all three, spread evenly over the id
    order (ids often start with the category, so the grid shows several)."""
    candidates = [k for k in sorted(truth) if k in files and k in rough]
    if len(candidates) > count:
        candidates = [candidates[i * len(candidates) // count] for i in range(count)]
    keys = candidates
    return [(k, _mask(rough[k]), _mask(files[k]), _mask(truth[k])) for k in keys]


@dg.asset(
    partitions_def=datasets_partitions,
    group_name=PREDICTIONS_GROUP,
    kinds={"pytorch"},
    deps=[autoarm_checkpoint],
    automation_condition=dg.AutomationCondition.eager(),
)
def autoarm_predictions(
    context: dg.AssetExecutionContext, config: PredictionConfig, paths: PathsResource
) -> dg.MaterializeResult:
    """Refined try-on masks (Auto-ARM) for the test split's paired and unpaired samples, beside the rough masks
    and the parse-derived truth; a rough | refined | truth grid of a few samples."""
    from models.autoarm.predict import mask_grid, predict_masks

    dataset = context.partition_key
    home = paths.vton_home()
    model = _registered_model(home, "autoarm", dataset, config.model_version)
    checkpoint = Path(model["checkpoint"])
    if not checkpoint.is_dir():
        raise dg.Failure(
            description=f"model {model['model_version']}'s checkpoint {checkpoint} is gone; train again "
            f"(vton train autoarm --dataset {dataset})"
        )
    root = predictions_root(home, "autoarm", dataset)
    try:
        made = predict_masks(
            checkpoint,
            shard_dir(home, dataset),
            root / MASKS_FOLDER,
            split=config.split,
            pair_mode=None,
            batch_size=config.batch_size,
            device=config.device,
        )
    except (FileNotFoundError, ValueError) as exc:
        raise dg.Failure(description=f"autoarm_predictions on dataset {dataset!r}: {exc}") from None
    if not made.files:
        raise dg.Failure(
            description=f"autoarm predicted no masks for the {config.split} split of {dataset!r}: it holds no "
            "image samples Auto-ARM applies to (a person with parsing and a rough mask)"
        )
    dataset_version = str(model.get("dataset_version") or "")
    shards_json = shard_dir(home, dataset) / SHARDS_JSON
    if shards_json.is_file():
        dataset_version = str(json.loads(shards_json.read_text()).get("dataset_version") or dataset_version)
    index = {
        "family": "autoarm",
        "dataset": dataset,
        "model_version": model["model_version"],
        "checkpoint": str(checkpoint),
        "dataset_version": dataset_version,
        "split": config.split,
        "folder": str(made.folder),
        "files": {k: str(v) for k, v in sorted(made.files.items())},
        "rough": {k: str(v) for k, v in sorted(made.rough.items())},
        "truth": {k: str(v) for k, v in sorted(made.truth.items())},
    }
    atomic_files.write_bytes(root / INDEX_FILE, json.dumps(index, indent=1).encode())
    metadata: dict[str, Any] = {
        "dataset": dataset,
        "model_version": model["model_version"],
        "checkpoint": str(checkpoint),
        "dataset_version": dataset_version,
        "split": config.split,
        "predicted": len(made.files),
        "paired": len(made.truth),
        "unpaired": len(made.files) - len(made.truth),
        "dagster/row_count": len(made.files),
        "skipped": len(made.skipped),
        "predictions": dg.MetadataValue.path(str(made.folder)),
    }
    if made.skipped:
        metadata["skipped_examples"] = dg.MetadataValue.json(
            [f"{k}: {v}" for k, v in sorted(made.skipped.items())[:SKIPPED_SHOWN]]
        )
    rows = grid_rows(made.files, made.rough, made.truth)
    if rows:
        grid = mask_grid(rows)
        target = mask_grid_path(home, "autoarm", dataset)
        atomic_files.write_bytes(target, grid)
        metadata["mask_grid"] = dg.MetadataValue.path(str(target))
        metadata["mask_grid_image"] = dg.MetadataValue.md(
            "rough | refined | truth\n\n"
            f"![autoarm masks](data:image/png;base64,{base64.b64encode(grid).decode()})"
        )
    digest = hashlib.sha256(f"{model['model_version']}:{dataset_version}:{config.split}".encode()).hexdigest()
    return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(digest[:16]))


PREDICTION_ASSETS = {"autoarm": autoarm_predictions}

defs = dg.Definitions(assets=list(PREDICTION_ASSETS.values()))
