"""A bar chart of one evaluation run: one panel per setting and metric, one bar per category (PNG bytes)."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from metrics.evaluation.runs import EvaluationReport  # noqa: E402
from metrics.evaluation.suite import ALL  # noqa: E402


def run_plot(report: EvaluationReport) -> bytes:
    """PNG of every aggregate of the run; +inf values (PSNR of identical images) are drawn as labelled stubs."""
    panels = [
        (r.setting, m, [v for v in r.values if v.metric == m]) for r in report.results for m in r.metrics
    ]
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax, (setting, metric, values) in zip(axes.flat, panels, strict=False):
        values = sorted(values, key=lambda v: (v.category != ALL, v.category))
        finite = [v.value for v in values if math.isfinite(v.value)]
        stub = max(finite, default=1.0) or 1.0
        heights = [v.value if math.isfinite(v.value) else stub for v in values]
        colours = ["#3b7dd8" if v.category == ALL else "#9cbde8" for v in values]
        hatches = ["" if math.isfinite(v.value) else "//" for v in values]  # a stub, not a height
        bars = ax.bar([v.category for v in values], heights, color=colours, hatch=hatches)
        labels = [f"{v.value:.4g}" if math.isfinite(v.value) else str(v.value) for v in values]
        ax.bar_label(
            bars, labels=[f"{label}\nn={v.n}" for label, v in zip(labels, values, strict=True)], fontsize=7
        )
        ax.set_title(f"{setting} · {metric}", fontsize=9)
        ax.margins(y=0.3)
        ax.tick_params(labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.suptitle(f"{report.identity.model} on {report.identity.dataset} (run {report.run_id})", fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()
