"""The demo job (`make demo`): synthetic VITON-HD, DressCode and VVT datasets, built into shards through Dagster,
the training-free baselines and the rough try-on masks evaluated on demo_vitonhd, then Auto-ARM trained
(`tiny` preset), predicted and evaluated on demo_vitonhd and demo_dresscode: refined against rough mask IoU.

Everything runs in this process through Dagster's jobs, so the runs show in the UI; the retraining schedule
stays off (it is off by default) and no sensor runs, as no Dagster daemon is started."""

from __future__ import annotations

import json
from pathlib import Path

from vton.home import VtonHome

# (layout, dataset name, samples scale, size HxW): VVT counts clips of several frames, so fewer of them.
DEMO_DATASETS = (
    ("vitonhd", "demo_vitonhd", 1.0, (512, 384)),
    ("dresscode", "demo_dresscode", 1.0, (512, 384)),
    ("vvt", "demo_vvt", 0.25, (256, 192)),
)
DEMO_SEED = 0
DEMO_EVALUATED = "demo_vitonhd"  # the baselines are evaluated on it after the builds
DEMO_FAMILY = "autoarm"
DEMO_PRESET = "tiny"
DEMO_TRAINED = ("demo_vitonhd", "demo_dresscode")  # Auto-ARM is trained, predicted and evaluated on each


def _generate_once(layout: str, out: Path, samples: int, size: tuple[int, int]) -> None:
    """Generate unless the same dataset (layout, samples, size, seed) is already there: re-runs are cheap."""
    from preprocess.synthetic import generate_dataset

    stamp = out / ".vton_demo.json"
    wanted = {"layout": layout, "samples": samples, "size": list(size), "seed": DEMO_SEED}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return
    generate_dataset(layout, samples, out, seed=DEMO_SEED, size=size, progress=True, overwrite=True)
    stamp.write_text(json.dumps(wanted))


def run_demo(samples: int = 48) -> list[dict]:
    """Generate, register and build the demo datasets (manifest, shards, HQFT subset) through Dagster; return
    their summaries."""
    from orchestration.runs import materialize_dataset
    from preprocess.dataset_registry import DatasetRegistry

    home = VtonHome.from_env()
    registry = DatasetRegistry(home)
    summaries = []
    for layout, name, scale, size in DEMO_DATASETS:
        out = home.raw / name
        _generate_once(layout, out, max(2, int(samples * scale)), size)
        registry.register(name, out, layout)
        summaries.append(materialize_dataset(name))
    return summaries


def run_demo_evaluation(dataset: str = DEMO_EVALUATED) -> list[dict]:
    """Run the evaluation assets (identity and paste baselines, paired; rough masks, mask setting) on a built
    demo dataset through Dagster; return each evaluation's summary."""
    from orchestration.runs import evaluate_dataset

    return evaluate_dataset(dataset)


def _paper_mask_iou(layout: str) -> float | None:
    """The Auto-ARM paper's mask IoU on the real dataset a demo dataset imitates (None when it gives none)."""
    from warehouse.paper_results import load_paper_results

    for row in load_paper_results().to_pylist():
        if (row["method"], row["dataset"], row["setting"], row["metric"]) == (
            DEMO_FAMILY,
            layout,
            "mask",
            "mask_iou",
        ):
            return float(row["value"])
    return None


def run_demo_training(datasets: tuple[str, ...] = DEMO_TRAINED, preset: str = DEMO_PRESET) -> list[dict]:
    """Train Auto-ARM (`preset`), predict its test masks and evaluate refined and rough masks on each built demo
    dataset through Dagster; return per dataset: model_version, epochs, steps, train/predict/evaluate seconds,
    rough_iou, refined_iou, paper_iou (the paper's number on the real dataset, for scale) and the grid."""
    from orchestration.training_runs import evaluate_family, predict_family, train_family

    layouts = {name: layout for layout, name, _, _ in DEMO_DATASETS}
    results = []
    for dataset in datasets:
        trained = train_family(DEMO_FAMILY, dataset, preset=preset)
        predicted = predict_family(DEMO_FAMILY, dataset)
        evaluated = {s["model"]: s for s in evaluate_family(DEMO_FAMILY, dataset)}
        results.append(
            {
                "dataset": dataset,
                "model_version": trained["model_version"],
                "epochs": trained["epochs"],
                "steps": trained["steps"],
                "train_seconds": trained["seconds"],
                "predict_seconds": predicted["seconds"],
                "predicted": predicted["predicted"],
                "scored": evaluated[DEMO_FAMILY]["matched"],
                "rough_iou": evaluated["rough_mask"]["mask_iou"],
                "refined_iou": evaluated[DEMO_FAMILY]["mask_iou"],
                "paper_iou": _paper_mask_iou(layouts.get(dataset, "")),
                "mask_grid": predicted.get("mask_grid"),
            }
        )
    return results
