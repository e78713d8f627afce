"""A self-contained HTML report of the warehouse: leaderboard, metric trends, ours-vs-paper bars, worst samples,
and the mask grids (rough | refined | truth) of the mask models' latest runs.

Everything is inline (plots as base64 PNG from matplotlib, gallery thumbnails as base64 JPEG), so the file can be
mailed or opened from anywhere. Image paths in `sample_metrics` are absolute or relative to VTON_HOME.
"""

from __future__ import annotations

import base64
import html
import io
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import matplotlib
import pyarrow as pa

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image, UnidentifiedImageError  # noqa: E402

from vton.atomic_files import write_bytes  # noqa: E402
from vton.home import VtonHome  # noqa: E402
from warehouse.query import worst_samples  # noqa: E402
from warehouse.views import connect  # noqa: E402

GALLERY_K = 4
GALLERY_COLUMNS = (
    ("person_path", "person"),
    ("garment_path", "garment"),
    ("prediction_path", "output"),
    ("target_path", "ground truth"),
)
THUMB = (144, 192)
MASK_GRID_FILE = "mask_grid.png"
MASK_GRID_WIDTH = 720  # pixels the grid is shown at, at most

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1200px;color:#222}
h1{margin-bottom:4px} h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
.muted{color:#777} table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right} th{background:#f3f3f3}
td.t,th.t{text-align:left} img.plot{max-width:100%;border:1px solid #eee}
.sample{display:inline-block;margin:6px 10px 14px 0;vertical-align:top;border:1px solid #e3e3e3;padding:6px}
.sample figure{display:inline-block;margin:0 4px;text-align:center;font-size:11px}
.sample img{display:block;width:96px;height:128px;object-fit:contain;background:#fafafa}
.missing{width:96px;height:128px;display:flex;align-items:center;justify-content:center;background:#f6f6f6;
font-size:10px;color:#999;word-break:break-all}
"""


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _html_table(table: pa.Table, max_rows: int = 200) -> str:
    if table.num_rows == 0:
        return '<p class="muted">no rows</p>'
    rows = table.slice(0, max_rows).to_pylist()
    text_cols = {f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_timestamp(f.type)}

    def cls(col: str) -> str:
        return ' class="t"' if col in text_cols else ""

    head = "".join(f"<th{cls(c)}>{html.escape(c)}</th>" for c in table.column_names)
    body = "".join(
        "<tr>"
        + "".join(f"<td{cls(c)}>{html.escape(_fmt(row[c]))}</td>" for c in table.column_names)
        + "</tr>"
        for row in rows
    )
    more = (
        f'<p class="muted">{table.num_rows - max_rows} more rows not shown</p>'
        if table.num_rows > max_rows
        else ""
    )
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _metric_grid(rows: list[dict], row_height: float) -> tuple[list[str], Any, Any]:
    """One subplot per metric (at most nine, three to a row)."""
    metrics = sorted({r["metric"] for r in rows})[:9]
    cols = min(3, len(metrics))
    nrows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, row_height * nrows), squeeze=False)
    return metrics, fig, axes


def _trends_plot(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = (
        con.sql(
            "SELECT model, dataset, setting, metric, started_at, value FROM metric_trends "
            "WHERE category = 'all' AND value IS NOT NULL AND started_at IS NOT NULL ORDER BY metric, started_at"
        )
        .to_arrow_table()
        .to_pylist()
    )
    if not rows:
        return None
    metrics, fig, axes = _metric_grid(rows, row_height=3.0)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        series: dict[str, list[tuple[datetime, float]]] = {}
        for r in rows:
            if r["metric"] == metric and math.isfinite(r["value"]):  # PSNR of identical images is inf
                series.setdefault(f"{r['model']} · {r['dataset']} · {r['setting']}", []).append(
                    (r["started_at"], r["value"])
                )
        for label, points in sorted(series.items()):
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
        ax.set_title(metric)
        stamps = [p[0] for points in series.values() for p in points] or [r["started_at"] for r in rows]
        if max(stamps) - min(stamps) < timedelta(hours=2):  # runs minutes apart: centre them in a day
            middle = min(stamps) + (max(stamps) - min(stamps)) / 2
            ax.set_xlim(middle - timedelta(hours=12), middle + timedelta(hours=12))
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def _vs_paper_plot(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = (
        con.sql(
            "SELECT model, benchmark, setting, metric, ours_as_printed AS ours, paper, paper_table, paper_seed "
            "FROM vs_paper WHERE ours_as_printed IS NOT NULL ORDER BY metric, model, benchmark, setting"
        )
        .to_arrow_table()
        .to_pylist()
    )
    if not rows:
        return None
    metrics, fig, axes = _metric_grid(rows, row_height=3.2)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        picked = [r for r in rows if r["metric"] == metric]
        labels = [f"{r['model']}\n{r['benchmark']} {r['setting']}\n{r['paper_table']}" for r in picked]
        xs = range(len(picked))
        ours = ax.bar(
            [x - 0.2 for x in xs], [r["ours"] for r in picked], width=0.4, label="ours", color="#3b7dd8"
        )
        paper = ax.bar(
            [x + 0.2 for x in xs], [r["paper"] for r in picked], width=0.4, label="paper", color="#c9c9c9"
        )
        ax.bar_label(ours, fmt="%.4g", fontsize=7)
        ax.bar_label(paper, fmt="%.4g", fontsize=7)
        ax.set_xticks(list(xs), labels, fontsize=6)
        ax.set_xlim(-0.9, max(len(picked), 3) - 0.1)
        ax.margins(y=0.15)
        ax.set_title(metric)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def _thumbnail(path: str | None, home: VtonHome) -> str:
    if not path:
        return '<div class="missing">not recorded</div>'
    file = Path(path) if Path(path).is_absolute() else home.root / path
    try:
        with Image.open(file) as image:
            image = image.convert("RGB")
            image.thumbnail(THUMB)
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=85)
    except (OSError, UnidentifiedImageError):
        return f'<div class="missing">missing: {html.escape(file.name)}</div>'
    return f'<img src="data:image/jpeg;base64,{base64.b64encode(buffer.getvalue()).decode()}" alt="{html.escape(file.name)}">'


def _gallery(con: duckdb.DuckDBPyConnection, home: VtonHome) -> str:
    targets = (
        con.sql(
            "SELECT DISTINCT l.run_id, l.model, l.dataset, s.setting, s.metric FROM latest_runs l "
            "JOIN sample_metrics s ON s.run_id = l.run_id AND (s.setting IS NULL OR s.setting = l.setting) "
            "ORDER BY l.model, l.dataset, s.setting, s.metric"
        )
        .to_arrow_table()
        .to_pylist()
    )
    if not targets:
        return '<p class="muted">no per-sample metrics recorded yet</p>'
    parts = []
    for target in targets:
        worst = worst_samples(
            target["run_id"], target["metric"], GALLERY_K, setting=target["setting"], con=con
        )
        title = f"{target['model']} · {target['dataset']} · {target['setting'] or 'all settings'} · worst {target['metric']}"
        cards = []
        for row in worst.to_pylist():
            figures = "".join(
                f"<figure>{_thumbnail(row[column], home)}<figcaption>{label}</figcaption></figure>"
                for column, label in GALLERY_COLUMNS
            )
            caption = f"{html.escape(row['sample_id'])}: {target['metric']} = {_fmt(row['value'])}"
            cards.append(f'<div class="sample"><div>{caption}</div>{figures}</div>')
        parts.append(
            f"<h3>{html.escape(title)} <span class='muted'>(run {html.escape(target['run_id'])})</span></h3>"
        )
        parts.append("".join(cards))
    return "".join(parts)


def mask_grid_path(home: VtonHome, model: str, dataset: str) -> Path:
    """Where a mask model's prediction step leaves its rough | refined | truth grid for `dataset`:
    VTON_HOME/predictions/<model>/<dataset>/mask_grid.png (the report shows it beside the model's mask run)."""
    return home.root / "predictions" / model / dataset / MASK_GRID_FILE


def _mask_grids(con: duckdb.DuckDBPyConnection, home: VtonHome) -> str:
    runs = (
        con.sql(
            "SELECT model, dataset, run_id FROM latest_runs WHERE setting = 'mask' ORDER BY model, dataset"
        )
        .to_arrow_table()
        .to_pylist()
    )
    parts = []
    for run in runs:
        grid = mask_grid_path(home, run["model"], run["dataset"])
        if not grid.is_file():
            continue
        encoded = base64.b64encode(grid.read_bytes()).decode()
        title = f"{run['model']} · {run['dataset']}"
        parts.append(
            f"<h3>{html.escape(title)} <span class='muted'>(run {html.escape(run['run_id'])}): rough | refined | "
            f"truth</span></h3><img class='plot' style='max-width:{MASK_GRID_WIDTH}px' "
            f"src='data:image/png;base64,{encoded}' alt='{html.escape(title)} mask grid'>"
        )
    return "".join(parts) or '<p class="muted">no mask model has predictions with a grid yet</p>'


def build_report(home: VtonHome | None = None) -> str:
    """The report's HTML text for the warehouse of `home` (default: VTON_HOME)."""
    home = home or VtonHome.from_env()
    con = connect(home)
    runs = con.execute("SELECT count(*) FROM eval_runs").fetchall()[0][0]
    leaderboard = con.sql(
        "SELECT * FROM leaderboard ORDER BY dataset, setting, category, model"
    ).to_arrow_table()
    trends = _trends_plot(con)
    vs_paper = _vs_paper_plot(con)
    vs_table = con.sql(
        "SELECT model, benchmark, setting, metric, ours, ours_as_printed, paper, difference, ours_better, "
        "paper_table, paper_method FROM vs_paper ORDER BY metric, model"
    ).to_arrow_table()
    papers = con.sql(
        "SELECT seed, count(*) AS numbers, count(DISTINCT method) AS methods, "
        "string_agg(DISTINCT dataset, ', ' ORDER BY dataset) AS datasets FROM paper_results GROUP BY seed ORDER BY seed"
    ).to_arrow_table()

    def plot(data: str | None, empty: str) -> str:
        return (
            f'<img class="plot" src="data:image/png;base64,{data}">'
            if data
            else f'<p class="muted">{empty}</p>'
        )

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        "<h1>vton-pipeline evaluation report</h1>",
        f'<p class="muted">generated {stamp} from {html.escape(str(home.warehouse))} · {runs} evaluation runs</p>',
        "<h2>Leaderboard</h2><p class='muted'>latest run per model × dataset × setting</p>",
        _html_table(leaderboard),
        "<h2>Metric trends</h2>",
        plot(trends, "no evaluation runs yet"),
        "<h2>Ours vs paper</h2><p class='muted'>our latest value (in the paper's printed units) beside the "
        "published number for the same method, dataset, setting and metric</p>",
        plot(vs_paper, "no run matches a published method, dataset, setting and metric yet"),
        _html_table(vs_table),
        "<h2>Worst samples</h2>",
        _gallery(con, home),
        "<h2>Masks</h2><p class='muted'>a few test samples of each mask model's latest run</p>",
        _mask_grids(con, home),
        "<h2>Reference numbers</h2>",
        _html_table(papers),
    ]
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>vton-pipeline report</title>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>"
    )


def write_report(out: Path, home: VtonHome | None = None) -> Path:
    """Write the report to `out` atomically and return the path."""
    write_bytes(out, build_report(home).encode("utf-8"))
    return out
