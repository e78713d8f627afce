"""Evaluation assets: `paper_results` (the seed papers' published numbers) and one evaluation asset per model,
partitioned by dataset, made by `evaluation_asset`, the factory every model family plugs its predictions into.

Thin wrappers: `metrics.evaluation` matches predictions to the dataset's ground truth (its shards), computes
the metric suite per setting and category and writes `eval_runs`, `eval_metrics` and `sample_metrics`;
`models.baselines` writes the baselines' prediction folders. The demo's models need no training:

- `eval_identity_tryon`: the person image as the prediction (paired);
- `eval_paste_garment`: the in-shop garment box-fitted onto the person's garment region (paired);
- `eval_agnostic_mask`: the shards' rough try-on masks scored as masks against the synthetic generator's
  garment regions (skipped, with the reason, for datasets that ship no such truth).

Trained families follow their predictions asset (eager automation: evaluation after every new checkpoint):

- `eval_autoarm`: Auto-ARM's refined masks M_f (model `autoarm`, setting `mask`, metric `mask_iou`) and
- `eval_rough_mask`: the rough masks M_r it refines (model `rough_mask`), both against the garment region of
  the person's parsing for the sample's category, on the paired samples of the test split; the warehouse's
  vs_paper view sets `autoarm` beside the paper's Auto-ARM (0.8242 VITON-HD, 0.8498 DressCode) for datasets
  in a benchmark's layout that are not synthetic.

Each run shows its metric table and a bar chart (PNG under VTON_HOME/evaluations/<dataset>/<run_id>/) in the
Dagster UI. The default suites need no weights; name others (lpips, fid, ...) in the asset's config, and a
missing weights file fails the run with the `vton weights import` command.
"""

import base64
import hashlib
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from assets.predictions import StoredPredictions, autoarm_predictions, read_predictions
from assets.reporting import markdown_table
from assets.shards import dataset_shards, shard_dir
from metrics.evaluation import (
    EvaluationError,
    EvaluationReport,
    GroundTruth,
    GroundTruthError,
    SettingInputs,
    evaluate_run,
    export_member,
)
from metrics.evaluation.ground_truth import AGNOSTIC_MEMBER
from metrics.evaluation.plot import run_plot
from metrics.protocols import PROTOCOLS, get_protocol
from models.baselines import BASELINES, Baseline
from orchestration.partitions import datasets_partitions
from orchestration.resources import PathsResource
from preprocess.dataset_registry import DatasetRegistry, DatasetRegistryError
from preprocess.manifest import SUMMARY_FILE
from vton import atomic_files
from vton.home import VtonHome
from vton.weights.errors import WeightsError
from warehouse.paper_results import PACKAGED_CSV, load_paper_results, read_csv_text
from warehouse.report import mask_grid_path
from warehouse.views import connect
from warehouse.vocabulary import DATASETS
from warehouse.writer import warehouse_root

EVALUATION_GROUP = "evaluation"
PLOT_FILE = "metrics.png"
PAPER_RESULTS_FILE = "paper_results.parquet"
PREVIEW_ROWS = 20
MISSING_SHOWN = 10
# Layouts whose datasets are the papers' benchmarks (a registered copy of VITON-HD is VITON-HD).
BENCHMARK_LAYOUTS = frozenset(DATASETS.values())


class EvaluationConfig(dg.Config):
    """What an evaluation computes; the defaults need no weights."""

    metrics: list[str] | None = Field(
        default=None,
        description="Metric suite, e.g. ['ssim', 'lpips', 'fid']. Unset: the setting's weight-free default "
        "(paired/video: ssim, psnr, mse; mask: mask_iou, cpa; unpaired: fid, kid).",
    )
    protocol: str = Field(
        default="torch_fidelity", description=f"Metric protocol: one of {', '.join(PROTOCOLS)}."
    )
    kid_subset_size: int | None = Field(
        default=None, ge=2, description="Override the protocol's KID subset size (small test sets)."
    )
    split: str | None = Field(default="test", description="Split to evaluate; null for every split.")
    device: str = Field(default="cpu", description="cpu or cuda[:N] for networks (LPIPS, Inception, ...).")
    batch_size: int = Field(default=8, ge=1)


class BaselineEvaluationConfig(EvaluationConfig):
    """As EvaluationConfig, but every split by default: a training-free model has seen none of the samples."""

    split: str | None = Field(default=None, description="Split to evaluate; null (default) for every split.")


@dataclass(frozen=True)
class EvaluationContext:
    """What a model's prediction function gets: where to write, the dataset and its ground truth."""

    home: VtonHome
    dataset: str
    truth: GroundTruth
    log: logging.Logger | Any

    def predictions_dir(self, model: str) -> Path:
        """Where a model's predictions for this dataset go: VTON_HOME/predictions/<model>/<dataset>."""
        return self.home.root / "predictions" / model / self.dataset


@dataclass(frozen=True)
class ModelPredictions:
    """A model's predictions for one dataset: key -> file, the checkpoint that made them, where they are."""

    checkpoint: str | None
    files: Mapping[str, Path]
    source: str  # the folder, named in messages
    targets: Mapping[str, Path] | None = None  # None: the setting's default ground truth
    notes: Mapping[str, Any] = field(default_factory=dict)  # extra metadata (skipped samples, fallbacks)


class SkipEvaluation(Exception):
    """A prediction function's way to say the dataset cannot be evaluated this way; the message says why."""


Predict = Callable[[EvaluationContext], ModelPredictions]


def _dataset_root_and_layout(home: VtonHome, dataset: str) -> tuple[Path, str]:
    try:
        root = Path(DatasetRegistry(home).get(dataset).root)
    except DatasetRegistryError as exc:
        raise dg.Failure(description=f"dataset {dataset!r}: {exc}") from None
    summary = home.manifest_dir(dataset) / SUMMARY_FILE
    layout = json.loads(summary.read_text()).get("layout", "") if summary.is_file() else ""
    return root, layout


def default_targets(ctx: EvaluationContext, setting: str) -> dict[str, Path]:
    """Ground truth of a setting: the shards' person images (paired, unpaired, video) or the synthetic
    generator's garment-region masks (mask)."""
    if setting == "mask":
        return ctx.truth.synthetic_masks()
    cache = ctx.home.root / "evaluations" / ctx.dataset / "targets" / "person"
    return ctx.truth.person_targets(cache)


def _metric_table(report: EvaluationReport) -> str:
    parts = []
    for result in report.results:
        categories = list(dict.fromkeys(v.category for v in result.values))
        cells = {(v.category, v.metric): v for v in result.values}
        rows = []
        for category in categories:
            n = next(v.n for v in result.values if v.category == category)
            rows.append([category, n, *(f"{cells[(category, m)].value:.4g}" for m in result.metrics)])
        parts.append(f"**{result.setting}**\n\n" + markdown_table(["category", "n", *result.metrics], rows))
    return "\n\n".join(parts)


def _missing_note(report: EvaluationReport) -> dict[str, Any]:
    missing = sorted(k for r in report.results for k in r.missing)
    unexpected = sorted(k for r in report.results for k in r.unexpected)
    return {
        "matched": sum(len(r.matched) for r in report.results),
        "missing_predictions": len(missing),
        "unexpected_predictions": len(unexpected),
        "missing_examples": dg.MetadataValue.json(missing[:MISSING_SHOWN]),
    }


def evaluation_asset(
    name: str,
    model: str,
    setting: str,
    predict: Predict,
    description: str,
    deps: tuple[Any, ...] = (dataset_shards,),
    config_class: type[EvaluationConfig] = EvaluationConfig,
) -> dg.AssetsDefinition:
    """An asset (partitioned by dataset) that runs `predict` and evaluates its output in `setting`.

    `predict(ctx)` returns the model's prediction files (written wherever it likes, typically
    `ctx.predictions_dir(model)`), or raises SkipEvaluation when the dataset does not apply.
    `config_class` sets the defaults (BaselineEvaluationConfig: every split).
    """

    @dg.asset(
        name=name,
        partitions_def=datasets_partitions,
        group_name=EVALUATION_GROUP,
        kinds={"parquet"},
        deps=list(deps),
        description=description,
        automation_condition=dg.AutomationCondition.eager()
        & dg.AutomationCondition.all_deps_blocking_checks_passed(),
    )
    def _evaluate(
        context: dg.AssetExecutionContext, config: config_class, paths: PathsResource
    ) -> dg.MaterializeResult:
        dataset = context.partition_key
        home = paths.vton_home()
        root, layout = _dataset_root_and_layout(home, dataset)
        try:
            truth = GroundTruth.from_shards(dataset, shard_dir(home, dataset), root, config.split)
            ctx = EvaluationContext(home, dataset, truth, context.log)
            try:
                made = predict(ctx)
            except SkipEvaluation as exc:
                context.log.warning(f"{name} skipped for {dataset}: {exc}")
                return dg.MaterializeResult(
                    metadata={"dataset": dataset, "model": model, "skipped": str(exc)}
                )
            targets = made.targets if made.targets is not None else default_targets(ctx, setting)
            protocol = get_protocol(config.protocol)
            if config.kid_subset_size is not None:
                protocol = protocol.with_options(kid_subset_size=config.kid_subset_size)
            benchmark = layout if layout in BENCHMARK_LAYOUTS and not truth.is_synthetic else None
            report = evaluate_run(
                truth,
                model,
                [SettingInputs(setting, made.files, targets, config.metrics, made.source)],
                checkpoint=made.checkpoint,
                protocol=protocol,
                device=config.device,
                batch_size=config.batch_size,
                benchmark=benchmark,
                home=home,
            )
        except (EvaluationError, GroundTruthError, WeightsError, FileNotFoundError, ValueError) as exc:
            raise dg.Failure(description=f"{name} on dataset {dataset!r}: {exc}") from None
        result = report.result(setting)
        if result.missing:
            context.log.warning(
                f"{name} on {dataset}: {len(result.missing)} of {result.expected} samples have no prediction "
                f"in {made.source}, e.g. {', '.join(result.missing[:3])}"
            )
        plot = run_plot(report)
        plot_path = home.root / "evaluations" / dataset / report.run_id / PLOT_FILE
        atomic_files.write_bytes(plot_path, plot)
        values = {v.metric: v.value for v in result.values if v.category == "all" and math.isfinite(v.value)}
        metadata: dict[str, Any] = {
            "dataset": dataset,
            "model": model,
            "setting": setting,
            "run_id": report.run_id,
            "checkpoint": made.checkpoint or "",
            "dataset_version": truth.dataset_version,
            "split": config.split or "all",
            **_missing_note(report),
            **values,
            "metrics": dg.MetadataValue.md(_metric_table(report)),
            "plot": dg.MetadataValue.path(str(plot_path)),
            "plot_image": dg.MetadataValue.md(
                f"![{model} metrics](data:image/png;base64,{base64.b64encode(plot).decode()})"
            ),
            "predictions": dg.MetadataValue.path(made.source),
            "eval_metrics_rows": report.rows["eval_metrics"],
            "sample_metrics_rows": report.rows["sample_metrics"],
            **made.notes,
        }
        return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(report.run_id))

    return _evaluate


def baseline_predictions(baseline: Baseline) -> Predict:
    """The prediction function of a registered baseline: its folder under VTON_HOME/predictions."""

    def predict(ctx: EvaluationContext) -> ModelPredictions:
        run = baseline.predict(ctx.truth.shard_dir, ctx.predictions_dir(baseline.name), ctx.truth.split)
        notes: dict[str, Any] = {"skipped_samples": len(run.skipped)} | dict(run.notes)
        if run.skipped:
            notes["skipped_examples"] = dg.MetadataValue.json(
                [f"{k}: {v}" for k, v in sorted(run.skipped.items())[:MISSING_SHOWN]]
            )
        return ModelPredictions(f"v{baseline.version}", run.files(), str(run.folder), notes=notes)

    return predict


def rough_mask_predictions(ctx: EvaluationContext) -> ModelPredictions:
    """The shards' `agnostic_mask.png` of each sample, against the synthetic generator's garment regions."""
    if not ctx.truth.is_synthetic:
        raise SkipEvaluation(
            "the dataset ships no truth masks (only synthetic datasets do); nothing to score the rough masks on"
        )
    versions = ctx.truth.annotators.get("agnostic_mask") or {}
    checkpoint = "+".join(version for _, version in sorted(versions.items())) or None  # e.g. catvton-1
    folder = ctx.predictions_dir("agnostic_mask")
    files = {
        k: p
        for k, p in export_member(ctx.truth.shard_dir, AGNOSTIC_MEMBER, folder).items()
        if k in ctx.truth.samples
    }
    return ModelPredictions(checkpoint, files, str(folder), targets=ctx.truth.synthetic_masks())


eval_identity_tryon = evaluation_asset(
    "eval_identity_tryon",
    "identity_tryon",
    "paired",
    baseline_predictions(BASELINES["identity_tryon"]),
    "Identity try-on baseline (the person image as the prediction), paired setting.",
    config_class=BaselineEvaluationConfig,
)
eval_paste_garment = evaluation_asset(
    "eval_paste_garment",
    "paste_garment",
    "paired",
    baseline_predictions(BASELINES["paste_garment"]),
    "Paste-the-warped-garment baseline (in-shop garment box-fitted onto the parse's garment region), paired.",
    config_class=BaselineEvaluationConfig,
)
eval_agnostic_mask = evaluation_asset(
    "eval_agnostic_mask",
    "agnostic_mask",
    "mask",
    rough_mask_predictions,
    "The shards' rough try-on masks scored against the synthetic generator's garment regions (IoU, CPA).",
    config_class=BaselineEvaluationConfig,
)
EVALUATION_ASSETS = (eval_identity_tryon, eval_paste_garment, eval_agnostic_mask)


def _stored_predictions(ctx: EvaluationContext, family: str) -> StoredPredictions:
    """The family's latest predictions on this dataset, checked against the shards being evaluated."""
    stored = read_predictions(ctx.home, family, ctx.dataset)
    if (
        stored.dataset_version
        and ctx.truth.dataset_version
        and stored.dataset_version != ctx.truth.dataset_version
    ):
        raise EvaluationError(
            f"the {family} predictions in {stored.folder} were made on version {stored.dataset_version} of "
            f"dataset {ctx.dataset!r}, but its shards are now version {ctx.truth.dataset_version}; predict "
            f"again (vton predict {family} --dataset {ctx.dataset})"
        )
    return stored


def _paired_truth(ctx: EvaluationContext, stored: StoredPredictions) -> dict[str, Path]:
    """The truth masks (garment region of the parsing) of the evaluated split's samples: the paired ones."""
    return {k: p for k, p in stored.truth.items() if k in ctx.truth.samples}


def _grid_note(home: VtonHome, family: str, dataset: str) -> dict[str, Any]:
    grid = mask_grid_path(home, family, dataset)
    if not grid.is_file():
        return {}
    encoded = base64.b64encode(grid.read_bytes()).decode()
    return {
        "mask_grid": dg.MetadataValue.path(str(grid)),
        "mask_grid_image": dg.MetadataValue.md(
            f"rough | refined | truth\n\n![{family} masks](data:image/png;base64,{encoded})"
        ),
    }


def refined_mask_predictions(family: str) -> Predict:
    """A mask family's refined masks (its predictions asset's output) against the parse-derived truth."""

    def predict(ctx: EvaluationContext) -> ModelPredictions:
        stored = _stored_predictions(ctx, family)
        files = {k: p for k, p in stored.files.items() if k in ctx.truth.samples}
        notes = {"model_version": stored.model_version, **_grid_note(ctx.home, family, ctx.dataset)}
        return ModelPredictions(
            stored.model_version, files, str(stored.folder), targets=_paired_truth(ctx, stored), notes=notes
        )

    return predict


def rough_mask_input_predictions(family: str) -> Predict:
    """The rough masks a mask family started from, scored against the same truth as its refined masks."""

    def predict(ctx: EvaluationContext) -> ModelPredictions:
        stored = _stored_predictions(ctx, family)
        versions = ctx.truth.annotators.get("agnostic_mask") or {}
        checkpoint = "+".join(version for _, version in sorted(versions.items())) or None  # e.g. catvton-1
        files = {k: p for k, p in stored.rough.items() if k in ctx.truth.samples}
        folder = str(Path(next(iter(files.values()))).parent) if files else str(stored.folder)
        notes = {"refined_by": stored.model_version}
        return ModelPredictions(checkpoint, files, folder, targets=_paired_truth(ctx, stored), notes=notes)

    return predict


eval_autoarm = evaluation_asset(
    "eval_autoarm",
    "autoarm",
    "mask",
    refined_mask_predictions("autoarm"),
    "Auto-ARM's refined masks M_f against the garment region of the person's parsing (mask_iou, cpa), paired "
    "test samples; beside the paper's 0.8242 (VITON-HD) and 0.8498 (DressCode).",
    deps=(autoarm_predictions,),
)
eval_rough_mask = evaluation_asset(
    "eval_rough_mask",
    "rough_mask",
    "mask",
    rough_mask_input_predictions("autoarm"),
    "The rough masks M_r Auto-ARM refines, against the same parse-derived truth: the baseline Auto-ARM must beat.",
    deps=(autoarm_predictions,),
)
# Evaluation assets per trained family: they follow the family's predictions, not the shards.
FAMILY_EVALUATION_ASSETS = {"autoarm": (eval_autoarm, eval_rough_mask)}


@dg.asset(group_name=EVALUATION_GROUP, kinds={"parquet", "duckdb"})
def paper_results(paths: PathsResource) -> dg.MaterializeResult:
    """The seed papers' published numbers (the packaged CSV, in the platform's vocabulary) as Parquet in the
    warehouse, for engines besides the platform's DuckDB views (which read the packaged copy directly)."""
    home = paths.vton_home()
    table = load_paper_results()
    target = warehouse_root(home) / "paper_results" / PAPER_RESULTS_FILE
    atomic_files.write_parquet(target, table)
    served = connect(home).execute("SELECT count(*) FROM paper_results").fetchall()[0][0]
    if served != table.num_rows:
        raise dg.Failure(
            description=f"the warehouse's paper_results view serves {served} rows but {PACKAGED_CSV} has "
            f"{table.num_rows}; reinstall the package (pip install -e .)"
        )
    rows = table.to_pylist()
    per_seed: dict[str, int] = {}
    for row in rows:
        per_seed[row["seed"]] = per_seed.get(row["seed"], 0) + 1
    columns = ("seed", "source_table", "dataset", "setting", "method", "metric", "value", "scale")
    preview = markdown_table(columns, [[r[c] for c in columns] for r in rows[:PREVIEW_ROWS]])
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": table.num_rows,
            "seeds": len(per_seed),
            "methods": len({r["method"] for r in rows}),
            "datasets": dg.MetadataValue.json(sorted({r["dataset"] for r in rows})),
            "per_seed": dg.MetadataValue.md(markdown_table(["seed", "numbers"], sorted(per_seed.items()))),
            "preview": dg.MetadataValue.md(
                f"first {min(PREVIEW_ROWS, len(rows))} of {len(rows)} rows\n\n{preview}"
            ),
            "csv": dg.MetadataValue.path(str(PACKAGED_CSV)),
            "parquet": dg.MetadataValue.path(str(target)),
        },
        data_version=dg.DataVersion(hashlib.sha256(read_csv_text().encode()).hexdigest()[:16]),
    )


defs = dg.Definitions(
    assets=[
        *EVALUATION_ASSETS,
        *(a for group in FAMILY_EVALUATION_ASSETS.values() for a in group),
        paper_results,
    ]
)
