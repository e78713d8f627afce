"""The seed papers' published numbers, shipped as package data and normalised to the platform's vocabulary.

The CSV (`warehouse/data/paper_results.csv`, a copy of `shared/reference/paper_results.csv`) is read from the
installed package, so `paper_results` is queryable in a fresh, empty VTON_HOME. See `warehouse.vocabulary`
for the name mapping.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa

from warehouse import vocabulary
from warehouse.schemas import PAPER_RESULTS

PACKAGED_CSV = Path(__file__).resolve().parent / "data" / "paper_results.csv"
CSV_COLUMNS = ("seed", "table", "dataset", "setting", "method", "metric", "value", "note")


class PaperResultsError(ValueError):
    """The reference CSV is malformed: names the line and what to fix."""


def read_csv_text() -> str:
    """The packaged CSV's text."""
    return PACKAGED_CSV.read_text(encoding="utf-8")


def load_paper_results(text: str | None = None) -> pa.Table:
    """Parse the reference CSV (default: the packaged copy) into a table with the PAPER_RESULTS schema."""
    reader = csv.DictReader(io.StringIO(read_csv_text() if text is None else text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise PaperResultsError(f"paper_results.csv: missing columns {missing}; expected {list(CSV_COLUMNS)}")
    rows = []
    for line_no, raw in enumerate(reader, start=2):
        try:
            value = float(raw["value"])
        except (TypeError, ValueError):
            raise PaperResultsError(
                f"paper_results.csv line {line_no}: value {raw['value']!r} is not a number; fix that line"
            ) from None
        note = raw.get("note") or ""
        setting, resolution = vocabulary.setting_name(raw["setting"])
        metric, scale = vocabulary.metric_name(raw["metric"], note)
        rows.append(
            {
                "seed": raw["seed"],
                "source_table": raw["table"],
                "dataset": vocabulary.dataset_name(raw["dataset"]),
                "setting": setting,
                "method": vocabulary.method_name(raw["method"], raw["seed"]),
                "metric": metric,
                "value": value,
                "scale": scale,
                "value_natural": value / scale if scale else None,
                "resolution": resolution,
                "higher_is_better": vocabulary.HIGHER_IS_BETTER.get(metric),
                "dataset_raw": raw["dataset"],
                "setting_raw": raw["setting"],
                "method_raw": raw["method"],
                "metric_raw": raw["metric"],
                "note": note or None,
            }
        )
    return pa.Table.from_pylist(rows, schema=PAPER_RESULTS)
