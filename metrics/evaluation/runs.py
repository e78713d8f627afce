"""An evaluation run: one model's predictions on one dataset, scored in one or more settings and written to
the warehouse tables `eval_runs`, `eval_metrics` and `sample_metrics` (ARCHITECTURE §3).

The run id is a hash of model, checkpoint, dataset, dataset version and the hash of the evaluation config
(settings, metric suites, protocol, split), so evaluating the same thing again replaces its own rows and
nothing else (`warehouse.writer.write_rows` is idempotent per run id), while a new checkpoint, dataset
version or metric suite makes a new run beside the old ones.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from metrics.evaluation.ground_truth import GroundTruth
from metrics.evaluation.suite import SettingResult, evaluate_setting, resolve_suite
from metrics.protocols import Protocol, get_protocol
from vton.home import REPO_ROOT, VtonHome
from warehouse.vocabulary import HIGHER_IS_BETTER, slug
from warehouse.writer import delete_key, write_rows

TABLES = ("eval_runs", "eval_metrics", "sample_metrics")


@dataclass(frozen=True)
class RunIdentity:
    """What makes two evaluations the same run: the model and checkpoint, the dataset and its version, the config."""

    model: str
    checkpoint: str | None
    dataset: str
    dataset_version: str
    config: Mapping[str, Any]

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.config, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @property
    def run_id(self) -> str:
        parts = (self.model, self.checkpoint or "", self.dataset, self.dataset_version, self.config_hash)
        digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
        return f"{slug(self.model) or 'model'}-{digest}"


@dataclass(frozen=True)
class SettingInputs:
    """One setting of a run: predictions and targets (key -> file), the metric suite (None: the default)."""

    setting: str
    predictions: Mapping[str, Path]
    targets: Mapping[str, Path]
    metrics: Sequence[str] | None = None
    source: str = "predictions"  # where the predictions are, for messages (their folder)


@dataclass
class EvaluationReport:
    """A finished run: its identity, each setting's result and the warehouse rows written per table."""

    identity: RunIdentity
    results: list[SettingResult]
    started_at: datetime
    finished_at: datetime
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.identity.run_id

    def result(self, setting: str) -> SettingResult:
        for result in self.results:
            if result.setting == setting:
                return result
        raise KeyError(f"run {self.run_id} has no {setting} setting")


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version, plus the git commit when running from a checkout (`0.1.0+g1a2b3c4d5e`)."""
    version = metadata.version("vton-pipeline")
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=10", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return version
    commit = done.stdout.strip()
    return f"{version}+g{commit}" if done.returncode == 0 and commit else version


def run_config(inputs: Sequence[SettingInputs], protocol: Protocol, split: str | None) -> dict[str, Any]:
    """The evaluation config the run id depends on: settings with their suites, the protocol and the split."""
    return {
        "settings": {i.setting: list(resolve_suite(i.setting, i.metrics)) for i in inputs},
        "protocol": protocol.as_dict(),
        "split": split,
    }


def _higher_is_better(metric: str) -> bool:
    return HIGHER_IS_BETTER.get(metric, True)


def warehouse_rows(
    report: EvaluationReport, truth: GroundTruth, device: str, benchmark: str | None
) -> dict[str, list[dict[str, Any]]]:
    """The rows of the three evaluation tables for a finished run."""
    ident = report.identity
    run = {
        "run_id": ident.run_id,
        "model": ident.model,
        "checkpoint": ident.checkpoint,
        "dataset": ident.dataset,
        "dataset_version": ident.dataset_version,
        "benchmark": benchmark,
        "config_hash": ident.config_hash,
        "code_version": code_version(),
        "device": device,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
    }
    common = {"run_id": ident.run_id, "model": ident.model, "dataset": ident.dataset}
    metrics, samples = [], []
    for result in report.results:
        protocol = json.dumps(result.protocol, sort_keys=True)
        metrics += [
            common
            | {
                "setting": result.setting,
                "category": v.category,
                "metric": v.metric,
                "value": v.value,
                "n": v.n,
                "higher_is_better": _higher_is_better(v.metric),
                "protocol": protocol,
            }
            for v in result.values
        ]
        for sample_id, values in result.per_sample.items():
            sample = truth.samples[sample_id]
            paths = {
                "person_path": truth.input_path(sample.person_path),
                "garment_path": truth.input_path(sample.garment_path),
                "prediction_path": str(result.predictions[sample_id])
                if sample_id in result.predictions
                else None,
                "target_path": str(result.targets[sample_id]) if sample_id in result.targets else None,
            }
            samples += [
                common
                | {
                    "setting": result.setting,
                    "sample_id": sample_id,
                    "metric": metric,
                    "value": value,
                    "higher_is_better": _higher_is_better(metric),
                }
                | paths
                for metric, value in values.items()
            ]
    return {"eval_runs": [run], "eval_metrics": metrics, "sample_metrics": samples}


def evaluate_run(
    truth: GroundTruth,
    model: str,
    inputs: Sequence[SettingInputs],
    checkpoint: str | None = None,
    protocol: Protocol | str = "torch_fidelity",
    device: str = "cpu",
    batch_size: int = 8,
    paths: Mapping[str, Path] | None = None,
    benchmark: str | None = None,
    home: VtonHome | None = None,
    write: bool = True,
) -> EvaluationReport:
    """Score `model`'s predictions on `truth` in every setting of `inputs`; with `write`, replace the run's
    rows in eval_runs, eval_metrics and sample_metrics (under `home`, default VTON_HOME)."""
    if not inputs:
        raise ValueError("an evaluation run needs at least one setting")
    settings = [i.setting for i in inputs]
    if len(set(settings)) != len(settings):
        raise ValueError(f"each setting once per run, got {settings}")
    proto = get_protocol(protocol) if isinstance(protocol, str) else protocol
    identity = RunIdentity(
        model, checkpoint, truth.dataset, truth.dataset_version, run_config(inputs, proto, truth.split)
    )
    started = datetime.now(UTC)
    results = [
        evaluate_setting(
            i.setting,
            i.predictions,
            i.targets,
            truth.samples,
            i.metrics,
            proto,
            device,
            batch_size,
            paths,
            i.source,
        )
        for i in inputs
    ]
    report = EvaluationReport(identity, results, started, datetime.now(UTC))
    if write:
        tables = warehouse_rows(report, truth, device, benchmark)
        for table in TABLES:
            rows = tables[table]
            if rows:
                write_rows(table, rows, home)
            else:  # e.g. only distribution metrics: no per-sample values; drop any left by an earlier run
                delete_key(table, identity.run_id, home)
            report.rows[table] = len(rows)
    return report
