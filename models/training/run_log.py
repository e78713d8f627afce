"""The human-facing record of a run: `metrics.jsonl` (one line per epoch) and `loss.png` (the loss curves).

Both are rebuilt whole from the history stored in the latest checkpoint, so an epoch redone after a retry is
never listed twice. The Dagster training asset attaches both to its materialization metadata.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vton import atomic_files

METRICS_FILE = "metrics.jsonl"
LOSS_PLOT = "loss.png"


def write_history(run_dir: Path, history: Sequence[dict[str, Any]]) -> Path:
    """Replace `run_dir/metrics.jsonl` with one sorted-key JSON line per epoch record."""
    path = Path(run_dir) / METRICS_FILE
    body = "".join(json.dumps(record, sort_keys=True) + "\n" for record in history)
    atomic_files.write_bytes(path, body.encode())
    return path


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    """The epoch records of `run_dir/metrics.jsonl` (empty when the run has none yet)."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_losses(run_dir: Path, history: Sequence[dict[str, Any]], monitor: str, title: str = "") -> Path:
    """`run_dir/loss.png`: train and validation loss per epoch; a monitored metric that is not a loss (e.g.
    val_iou) on a second axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [record["epoch"] for record in history]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for key, marker in (("train_loss", "o"), ("val_loss", "s")):
        if any(key in record for record in history):
            ax.plot(epochs, [record.get(key, float("nan")) for record in history], marker=marker, label=key)
    if "loss" not in monitor and any(monitor in record for record in history):
        other = ax.twinx()
        values = [record.get(monitor, float("nan")) for record in history]
        other.plot(epochs, values, marker="^", color="tab:green", label=monitor)
        other.set_ylabel(monitor)
        other.legend(loc="upper right")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper left")
    ax.set_title(title or Path(run_dir).name)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(run_dir) / LOSS_PLOT
    with atomic_files.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
