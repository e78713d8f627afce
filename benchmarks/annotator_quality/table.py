"""The annotator quality table: one row per (annotator, backend or strategy, metric), rendered and stored.

Columns: annotator | backend/strategy | metric | value | n | goal. A metric is named `<subset>.<measure>`
(`upper.coverage`, `vitonhd.occluded.recall`), the way the shard assets name `annotation_stats` rows
(`upper.present`); `n` is what the value is computed over (samples, or for precision the flagged ones);
`goal` is set only where the issue sets one and the cell then says whether the value meets it. A value
that could not be measured (nothing to divide by) is NaN, never a convention such as 1.0.

The rows are printed as plain text, saved as Markdown and JSON under VTON_HOME/bench/, and written to the
warehouse `annotation_stats` table, whose schema fits them: `annotator`, `annotator_version`, `field` map
one to one, `stat` is `quality.<backend>.<metric>` with `n` as a companion `<stat>.n` row, and `dataset` is
the generated set the row was measured on. The goals stay in the code and the JSON (the table has no
column for them, and its schema is shared with the shard assets).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vton.atomic_files import write_bytes, write_json
from vton.home import VtonHome
from warehouse.writer import write_rows

HEADER = ("annotator", "backend/strategy", "metric", "value", "n", "goal")
WAREHOUSE_TABLE = "annotation_stats"
STAT_PREFIX = "quality"


@dataclass(frozen=True)
class QualityRow:
    """One measured quality number of one annotator backend."""

    annotator: str  # the annotator's registered name (garment_mask, agnostic_mask, ...) or hqft_filter
    backend: str  # backend or strategy: rule-based, geometric, heatmap, catvton, hrviton, inhouse-tiny, ...
    metric: str  # "<subset>.<measure>", e.g. "upper.coverage"
    value: float  # NaN when there was nothing to measure
    n: int  # samples (or flagged / labelled cases) the value is computed over
    dataset: str  # the generated set it was measured on, e.g. "synthetic-dresscode"
    field: str | None = None  # the shard field the annotator fills (None for the filter)
    version: str | None = None  # the annotator's version string
    goal: float | None = None  # the bar, where it sets one
    higher_is_better: bool = True

    @property
    def goal_met(self) -> bool | None:
        """Whether the value meets the goal (None without a goal or without a value)."""
        if self.goal is None or not math.isfinite(self.value):
            return None
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def goal_text(self) -> str:
        """`>= 0.9 ok`, `>= 0.9 MISSED`, `>= 0.9 n/a`, or empty without a goal."""
        if self.goal is None:
            return ""
        state = {True: "ok", False: "MISSED", None: "n/a"}[self.goal_met]
        return f"{'>=' if self.higher_is_better else '<='} {self.goal:g} {state}"

    def cells(self) -> tuple[str, ...]:
        value = f"{self.value:.3f}" if math.isfinite(self.value) else "nan"
        return (self.annotator, self.backend, self.metric, value, str(self.n), self.goal_text())

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> QualityRow:
        """The row `as_json` wrote (null value back to NaN; the verdict is recomputed)."""
        values = {f.name: obj[f.name] for f in fields(cls) if f.name in obj}
        values["value"] = math.nan if values.get("value") is None else float(values["value"])
        return cls(**values)

    def as_json(self) -> dict[str, Any]:
        """The row as JSON-ready values (NaN becomes null) with the goal verdict."""
        out = asdict(self)
        out["value"] = self.value if math.isfinite(self.value) else None
        out["goal_met"] = self.goal_met
        return out


def text_table(rows: Sequence[QualityRow]) -> str:
    """Fixed-width plain text: text columns left-aligned, value and n right-aligned."""
    cells = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[k]) for line in cells) for k in range(len(HEADER))]
    right = {3, 4}
    lines = []
    for line in cells:
        parts = [
            c.rjust(w) if k in right else c.ljust(w)
            for k, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: Sequence[QualityRow]) -> str:
    """A GitHub Markdown table (pipes in cells escaped)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * 3 + "---:|---:|---|"]
    for row in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row.cells()) + " |")
    return "\n".join(lines)


def summary_line(rows: Sequence[QualityRow]) -> str:
    """How many goals are met, missed or unmeasurable, naming the missed ones."""
    judged = [r for r in rows if r.goal is not None]
    missed = [f"{r.annotator} {r.metric}" for r in judged if r.goal_met is False]
    unknown = sum(r.goal_met is None for r in judged)
    text = f"goals: {len(judged) - len(missed) - unknown} met, {len(missed)} missed, {unknown} not measurable"
    return text + (f" (missed: {', '.join(missed)})" if missed else "")


def default_run_id(now: datetime | None = None) -> str:
    """`annotator_quality-<UTC timestamp>`: one warehouse key per run."""
    return f"annotator_quality-{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}"


def save_table(
    rows: Sequence[QualityRow], folder: Path, name: str, run_id: str, settings: dict[str, Any]
) -> tuple[Path, Path]:
    """Write `<name>.md` and `<name>.json` into `folder` (atomically); return both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / f"{name}.md"
    js = folder / f"{name}.json"
    described = ", ".join(f"{k}={v}" for k, v in settings.items())
    text = f"# Annotator quality\n\nrun `{run_id}`; {described}\n\n{markdown_table(rows)}\n\n{summary_line(rows)}\n"
    write_bytes(md, text.encode())
    payload = {"run_id": run_id, "settings": settings, "rows": [row.as_json() for row in rows]}
    write_json(js, payload)
    return md, js


def annotation_stat_rows(
    rows: Iterable[QualityRow], run_id: str, dataset_version: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The rows in the warehouse `annotation_stats` schema: a value row and an `.n` row per quality row."""
    created = now or datetime.now(UTC)
    out = []
    for row in rows:
        stat = f"{STAT_PREFIX}.{row.backend}.{row.metric}"
        base = {
            "run_id": run_id,
            "dataset": row.dataset,
            "dataset_version": dataset_version,
            "annotator": row.annotator,
            "annotator_version": row.version,
            "field": row.field,
            "created_at": created,
        }
        value = row.value if math.isfinite(row.value) else None
        out += [base | {"stat": stat, "value": value}, base | {"stat": f"{stat}.n", "value": float(row.n)}]
    return out


def store_in_warehouse(
    rows: Sequence[QualityRow], run_id: str, dataset_version: str, home: VtonHome | None = None
) -> list[Path]:
    """Replace run `run_id`'s rows in `annotation_stats` with these; return the Parquet files written."""
    return write_rows(WAREHOUSE_TABLE, annotation_stat_rows(rows, run_id, dataset_version), home)
