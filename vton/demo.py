"""The demo job (`make demo`): synthetic VITON-HD, DressCode and VVT datasets, built into shards through Dagster,
then the training-free baselines and the rough try-on masks evaluated on demo_vitonhd."""

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
DEMO_EVALUATED = "demo_vitonhd"  # evaluated after the builds; `make demo` ends with its leaderboard


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
