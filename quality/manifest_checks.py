"""great-expectations 1.x suites for a raw manifest, returning plain results (no Dagster here).

Five checks, each a group of expectations run on one whole-DataFrame batch: unique and valid sample ids,
every path relative and inside the dataset root, the files the layout requires present, sha256 content
hashes, and split/category/kind/pair_mode in their allowed sets. `assets/sources.py` turns the results
into blocking Dagster asset checks. The GE context is ephemeral and created once per process (it is slow
to build and holds no state worth keeping between runs).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from preprocess.samples import CATEGORIES, KINDS, PAIR_MODES, SPLITS

# Layouts whose every sample is a person image/clip paired with an in-shop garment.
PAIRED_LAYOUTS = ("vitonhd", "dresscode", "vvt", "vivid", "streettryon")
# Layouts whose samples may be a person alone or a garment alone, but never neither.
EITHER_FILE_LAYOUTS = ("folder",)

# A path that is absolute (POSIX root, Windows drive or UNC) or has a '..' segment, or is empty.
ESCAPING_PATH_REGEX = r"^$|^(?:/|\\|[A-Za-z]:)|(?:^|[/\\])\.\.(?:[/\\]|$)"
SAMPLE_ID_REGEX = r"^[A-Za-z0-9_\-]+$"
CONTENT_HASH_REGEX = r"^[0-9a-f]{64}$"
MAX_EXAMPLES = 5

REQUIRED_COLUMNS = (
    "sample_id",
    "split",
    "category",
    "kind",
    "pair_mode",
    "person_path",
    "garment_path",
    "files",
    "content_hash",
)


@dataclass(frozen=True)
class ManifestCheck:
    """A named group of expectations; becomes one Dagster asset check."""

    name: str
    description: str


MANIFEST_CHECKS: tuple[ManifestCheck, ...] = (
    ManifestCheck(
        "manifest_unique_ids",
        "Every sample_id is present, unique and a valid WebDataset key ([A-Za-z0-9_-], no dots).",
    ),
    ManifestCheck(
        "manifest_paths_inside_root",
        "person_path, garment_path and every entry of files are relative paths inside the dataset root "
        "(not empty, not absolute, no '..' segment).",
    ),
    ManifestCheck(
        "manifest_required_files",
        "The files the layout requires are present: person and garment for paired layouts "
        f"({', '.join(PAIRED_LAYOUTS)}), at least one of them for plain folders.",
    ),
    ManifestCheck(
        "manifest_content_hashes", "Every content_hash is a sha256 digest (64 lowercase hex digits)."
    ),
    ManifestCheck(
        "manifest_allowed_values",
        "split, category, kind and pair_mode are present and within their allowed sets.",
    ),
)


@dataclass(frozen=True)
class ExpectationOutcome:
    """One great-expectations result, reduced to what a person reads in the Dagster UI."""

    expectation: str  # the GE expectation type, e.g. expect_column_values_to_be_unique
    column: str
    success: bool
    unexpected_count: int
    examples: list[str]


@dataclass(frozen=True)
class ManifestCheckResult:
    """The outcome of one check over a whole manifest."""

    name: str
    description: str
    passed: bool
    rows: int  # rows of the frame the check looked at (samples, or sample paths for the path check)
    unexpected_count: int
    examples: list[str]  # up to MAX_EXAMPLES offending values, each naming its sample
    expectations: list[ExpectationOutcome] = field(default_factory=list)


class ManifestSchemaError(ValueError):
    """The manifest lacks columns the checks need, or its layout has no required-file rule."""


@dataclass
class _Runtime:
    """The process-wide ephemeral GE context and its two whole-DataFrame batch definitions."""

    samples: Any  # BatchDefinition over the per-sample frame
    paths: Any  # BatchDefinition over the exploded (sample_id, field, path) frame
    lock: threading.Lock


@functools.cache
def ge_runtime() -> _Runtime:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("vton_manifest")
    samples = source.add_dataframe_asset("samples").add_batch_definition_whole_dataframe("all")
    paths = source.add_dataframe_asset("paths").add_batch_definition_whole_dataframe("all")
    return _Runtime(samples=samples, paths=paths, lock=threading.Lock())


def _required_file_expectations(layout: str) -> list[tuple[str, str, dict]]:
    if layout in PAIRED_LAYOUTS:
        return [
            ("ExpectColumnValuesToNotBeNull", "person_path", {}),
            ("ExpectColumnValuesToNotBeNull", "garment_path", {}),
        ]
    if layout in EITHER_FILE_LAYOUTS:
        return [("ExpectColumnValuesToNotBeNull", "person_or_garment", {})]
    raise ManifestSchemaError(
        f"layout {layout!r} has no required-file rule; add it to PAIRED_LAYOUTS or EITHER_FILE_LAYOUTS "
        "in quality/manifest_checks.py"
    )


def _sample_expectations(layout: str) -> dict[str, list[tuple[str, str, dict]]]:
    """Check name -> (GE expectation class, column, extra kwargs) over the per-sample frame."""
    allowed = {"split": SPLITS, "category": CATEGORIES, "kind": KINDS, "pair_mode": PAIR_MODES}
    return {
        "manifest_unique_ids": [
            ("ExpectColumnValuesToNotBeNull", "sample_id", {}),
            ("ExpectColumnValuesToBeUnique", "sample_id", {}),
            ("ExpectColumnValuesToMatchRegex", "sample_id", {"regex": SAMPLE_ID_REGEX}),
        ],
        "manifest_required_files": _required_file_expectations(layout),
        "manifest_content_hashes": [
            ("ExpectColumnValuesToNotBeNull", "content_hash", {}),
            ("ExpectColumnValuesToMatchRegex", "content_hash", {"regex": CONTENT_HASH_REGEX}),
        ],
        "manifest_allowed_values": [
            item
            for column, values in allowed.items()
            for item in (
                ("ExpectColumnValuesToNotBeNull", column, {}),
                ("ExpectColumnValuesToBeInSet", column, {"value_set": list(values)}),
            )
        ],
    }


PATH_EXPECTATIONS: dict[str, list[tuple[str, str, dict]]] = {
    "manifest_paths_inside_root": [
        ("ExpectColumnValuesToNotBeNull", "path", {}),
        ("ExpectColumnValuesToNotMatchRegex", "path", {"regex": ESCAPING_PATH_REGEX}),
    ],
}


def _blank_to_none(series: pd.Series) -> pd.Series:
    values = series.astype(object)
    return values.where(values.notna() & (values.astype(str) != ""), None)


def _samples_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The scalar columns the sample checks read; empty paths count as missing files."""
    columns = ("sample_id", "split", "category", "kind", "pair_mode", "content_hash")
    out = pd.DataFrame({column: df[column].astype(object).to_numpy() for column in columns})
    person = _blank_to_none(df["person_path"]).to_numpy()
    garment = _blank_to_none(df["garment_path"]).to_numpy()
    out["person_path"] = person
    out["garment_path"] = garment
    out["person_or_garment"] = [p if p is not None else g for p, g in zip(person, garment, strict=True)]
    return out


def _paths_frame(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (sample, field, path) for person_path, garment_path and every element of files."""
    rows: list[tuple[Any, str, Any]] = []
    for sample_id, person, garment, files in zip(
        df["sample_id"], df["person_path"], df["garment_path"], df["files"], strict=True
    ):
        for name, value in (("person_path", person), ("garment_path", garment)):
            if value is not None and not (isinstance(value, float) and pd.isna(value)):
                rows.append((sample_id, name, value))
        for value in _as_list(files):
            rows.append((sample_id, "files", value))
    return pd.DataFrame(rows, columns=["sample_id", "field", "path"], dtype=object)


def _as_list(value: Any) -> list:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return list(value)


def build_suite(name: str, groups: dict[str, list[tuple[str, str, dict]]]) -> Any:
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=name)
    for check, items in groups.items():
        for class_name, column, kwargs in items:
            expectation_class = getattr(gx.expectations, class_name)
            suite.add_expectation(expectation_class(column=column, meta={"check": check}, **kwargs))
    return suite


def _example(record: Any, column: str) -> str:
    """'sample_id=x field=files: path='../a'' from GE's unexpected_index_list entry."""
    if not isinstance(record, dict):
        return repr(record)
    where = " ".join(f"{key}={value}" for key, value in record.items() if key != column)
    value = record.get(column)
    shown = "missing" if value is None or (isinstance(value, float) and pd.isna(value)) else repr(value)
    return f"{where}: {column}={shown}" if where else f"{column}={shown}"


def run_suite(batch_definition: Any, frame: pd.DataFrame, suite: Any, index_columns: list[str]) -> list[Any]:
    runtime = ge_runtime()
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": index_columns}
    with runtime.lock:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(suite, result_format=result_format)
    return list(validation.results)


def expectation_outcomes(results: Iterable[Any]) -> dict[str, list[ExpectationOutcome]]:
    grouped: dict[str, list[ExpectationOutcome]] = {}
    for res in results:
        config = res.expectation_config
        if res.exception_info and res.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"great-expectations could not evaluate {config.type} on {config.kwargs.get('column')}: "
                f"{res.exception_info.get('exception_message')}"
            )
        column = config.kwargs.get("column")
        records = res.result.get("unexpected_index_list") or res.result.get("partial_unexpected_list") or []
        examples = list(dict.fromkeys(_example(r, column) for r in records))[:MAX_EXAMPLES]
        grouped.setdefault(config.meta["check"], []).append(
            ExpectationOutcome(
                expectation=config.type,
                column=column,
                success=bool(res.success),
                unexpected_count=int(res.result.get("unexpected_count") or 0),
                examples=examples,
            )
        )
    return grouped


def validate_manifest(df: pd.DataFrame, layout: str) -> list[ManifestCheckResult]:
    """Run every manifest check on `df` (a manifest as a DataFrame) for a dataset of `layout`."""
    missing = [column for column in REQUIRED_COLUMNS if column not in df.columns]
    if missing:
        raise ManifestSchemaError(
            f"manifest lacks column(s) {', '.join(missing)}; rebuild it with preprocess.manifest.build_manifest"
        )
    sample_groups = _sample_expectations(layout)
    samples = _samples_frame(df)
    paths = _paths_frame(df)
    runtime = ge_runtime()
    grouped = expectation_outcomes(
        run_suite(runtime.samples, samples, build_suite("manifest_samples", sample_groups), ["sample_id"])
    )
    grouped |= expectation_outcomes(
        run_suite(
            runtime.paths, paths, build_suite("manifest_paths", PATH_EXPECTATIONS), ["sample_id", "field"]
        )
    )
    results = []
    for check in MANIFEST_CHECKS:
        outcomes = grouped[check.name]
        examples = [example for outcome in outcomes if not outcome.success for example in outcome.examples]
        results.append(
            ManifestCheckResult(
                name=check.name,
                description=check.description,
                passed=all(outcome.success for outcome in outcomes),
                rows=len(paths) if check.name in PATH_EXPECTATIONS else len(samples),
                unexpected_count=sum(outcome.unexpected_count for outcome in outcomes),
                examples=list(dict.fromkeys(examples))[:MAX_EXAMPLES],
                expectations=outcomes,
            )
        )
    return results


def validate_manifest_file(path: Path, layout: str) -> list[ManifestCheckResult]:
    """Read a manifest Parquet file and run every manifest check on it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"manifest {path} does not exist; materialize raw_manifest for this dataset first"
        )
    return validate_manifest(pq.read_table(path).to_pandas(), layout)
