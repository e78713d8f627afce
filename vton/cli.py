"""The `vton` command line: datasets, weights, the demo and the Dagster UI."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import click

from vton.home import VtonHome
from vton.weights.commands import weights_group
from warehouse.commands import leaderboard_command, report_command, warehouse_group


class UserError(click.ClickException):
    """A problem the user can fix: printed as one line, exit code 1, no traceback."""


def _parse_size(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)[xX](\d+)", value.strip())
    if not match:
        raise click.BadParameter(f"{value!r} is not HxW, e.g. 512x384")
    h, w = int(match.group(1)), int(match.group(2))
    if h < 32 or w < 24:
        raise click.BadParameter(f"{value!r} is too small: at least 32x24")
    return h, w


def _echo_json_last(obj: dict) -> None:
    click.echo(json.dumps(obj, sort_keys=True, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vton-pipeline")
def main() -> None:
    """vton-pipeline: try-on datasets in, shards, models and evaluation results out.

    Everything is written under VTON_HOME (default: .vton/ in the repository root).
    """


@main.group("data")
def data_group() -> None:
    """Generate, register, ingest and build (annotate, shard, curate) try-on datasets."""


@data_group.command("synth")
@click.option("--layout", type=click.Choice(["vitonhd", "dresscode", "vvt"]), required=True)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Pairs for image layouts, clips for vvt.",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--size", default=None, help="Image size HxW [default: 512x384; 256x192 for vvt, its native size]."
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes to render with."
)
@click.option("--overwrite", is_flag=True, help="Replace an earlier synthetic dataset in --out.")
def synth_command(
    layout: str, samples: int, out: Path, seed: int, size: str | None, workers: int, overwrite: bool
) -> None:
    """Write a synthetic try-on dataset in a real dataset's file layout, with exact ground truth."""
    from preprocess.synthetic import generate_dataset

    hw = _parse_size(size) if size else ((256, 192) if layout == "vvt" else (512, 384))
    try:
        report = generate_dataset(
            layout, samples, out, seed=seed, size=hw, progress=True, workers=workers, overwrite=overwrite
        )
    except (FileExistsError, ValueError) as exc:
        raise UserError(str(exc)) from None
    click.echo(
        f"wrote {report.samples} {layout} samples to {report.out} in {report.seconds:.1f}s "
        f"(ground truth: {report.truth_path})"
    )


@data_group.command("register")
@click.argument("name")
@click.argument("root", type=click.Path(path_type=Path))
@click.option("--layout", default="auto", show_default=True, help="A reader name, or auto-detect.")
def register_command(name: str, root: Path, layout: str) -> None:
    """Record a dataset so the platform (and its Dagster sensor) tracks it."""
    entry = _register(name, root, layout)
    click.echo(f"registered {entry.name}: {entry.root} (layout {entry.layout})")


def _register(name: str, root: Path, layout: str):
    from preprocess.dataset_registry import DatasetRegistry, DatasetRegistryError
    from preprocess.formats import READERS, LayoutError, detect_layout

    if layout != "auto" and layout not in READERS:
        raise UserError(f"unknown layout {layout!r}; choose one of: auto, {', '.join(sorted(READERS))}")
    try:
        if layout == "auto" and Path(root).is_dir():
            detect_layout(Path(root))  # fail now, with the reader's advice, rather than in the asset
        return DatasetRegistry().register(name, root, layout)
    except (DatasetRegistryError, LayoutError) as exc:
        raise UserError(str(exc)) from None


@data_group.command("ingest")
@click.argument("root", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Dataset name (default: the folder's name).")
@click.option("--layout", default="auto", show_default=True)
@click.option(
    "--json", "as_json", is_flag=True, help="End with one JSON line (samples, quarantined, manifest)."
)
def ingest_command(root: Path, name: str | None, layout: str, as_json: bool) -> None:
    """Register ROOT and build its raw manifest through Dagster; print a summary."""
    name = name or re.sub(r"[^A-Za-z0-9_\-]", "_", Path(root).resolve().name)
    entry = _register(name, root, layout)
    summary = _materialize(entry.name)
    _print_manifest_table([summary])
    if as_json:
        _echo_json_last(summary)


@data_group.command("build")
@click.argument("root", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Dataset name (default: the folder's name).")
@click.option("--layout", default="auto", show_default=True)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="End with one JSON line (samples, quarantined, shards, hqft_selected, seconds).",
)
def build_command(root: Path, name: str | None, layout: str, as_json: bool) -> None:
    """Register ROOT, then ingest, annotate, shard and curate it through Dagster; print a summary."""
    name = name or re.sub(r"[^A-Za-z0-9_\-]", "_", Path(root).resolve().name)
    entry = _register(name, root, layout)
    summary = _build(entry.name)
    _print_manifest_table([summary])
    if as_json:
        _echo_json_last(summary)


def _build(name: str) -> dict:
    from orchestration.runs import ManifestRunError, materialize_dataset

    try:
        return materialize_dataset(name)
    except ManifestRunError as exc:
        raise UserError(str(exc)) from None


def _materialize(name: str) -> dict:
    from orchestration.runs import ManifestRunError, materialize_manifest

    try:
        return materialize_manifest(name)
    except ManifestRunError as exc:
        raise UserError(str(exc)) from None


def _print_manifest_table(summaries: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    built = all("shards" in s for s in summaries)  # summaries of `vton data build` carry shard counts
    table = Table(title="datasets built" if built else "raw manifests")
    counts = ("candidates", "samples", "quarantined", *(("shards", "hqft_selected") if built else ()))
    for col in ("dataset", "layout", *counts, "version", "seconds"):
        table.add_column(col, justify="right" if col in counts else "left")
    for s in summaries:
        table.add_row(
            str(s["dataset"]),
            str(s["layout"]),
            *(str(s[col]) for col in counts),
            str(s["dataset_version"]),
            f"{float(s['seconds']):.2f}",
        )
    Console(width=max(Console().width, 120)).print(table)
    for s in summaries:
        for warning in s.get("warnings") or []:
            click.echo(f"warning ({s['dataset']}): {warning}")
        for reason, count in (s.get("quarantine_reasons") or {}).items():
            click.echo(f"quarantined ({s['dataset']}): {count} x {reason}")


@data_group.command("list")
def list_command() -> None:
    """Show registered datasets and their latest manifest."""
    from preprocess.dataset_registry import DatasetRegistry
    from preprocess.manifest import SUMMARY_FILE

    home = VtonHome.from_env()
    datasets = DatasetRegistry(home).all()
    if not datasets:
        click.echo("no datasets registered; run: vton data register NAME ROOT")
        return
    for name, entry in datasets.items():
        summary_path = home.manifest_dir(name) / SUMMARY_FILE
        built = json.loads(summary_path.read_text()) if summary_path.exists() else None
        state = (
            f"{built['samples']} samples, {built['quarantined']} quarantined, version {built['dataset_version']}"
            if built
            else "no manifest yet (vton data ingest ROOT)"
        )
        click.echo(f"{name:20s} {entry.layout:12s} {entry.root}  [{state}]")


@main.command("demo")
@click.option("--samples", type=click.IntRange(min=4), default=48, show_default=True)
def demo_command(samples: int) -> None:
    """Generate the three demo datasets, build their shards through Dagster, evaluate the baselines on
    demo_vitonhd, train, predict and evaluate Auto-ARM (tiny) on demo_vitonhd and demo_dresscode, and end
    with the leaderboard."""
    from vton.demo import run_demo, run_demo_evaluation, run_demo_training
    from warehouse.commands import leaderboard_command

    summaries = run_demo(samples=samples)
    _print_manifest_table(summaries)
    _print_evaluations(run_demo_evaluation())
    for result in run_demo_training():
        paper = (
            f"; the paper's Auto-ARM on the real set: {result['paper_iou']:.4f}"
            if result["paper_iou"]
            else ""
        )
        click.echo(
            f"{result['dataset']}: mask IoU rough {result['rough_iou']:.4f} -> Auto-ARM refined "
            f"{result['refined_iou']:.4f} on {result['scored']} paired test samples{paper} "
            f"(model {result['model_version']}: {result['epochs']} epochs, {result['steps']} steps, "
            f"{float(result['train_seconds']):.0f}s)"
        )
    home = VtonHome.from_env()
    click.echo(
        f"\nEverything is under {home.root}. To see the asset graph, the runs and the checks in the Dagster UI:\n"
        "  make ui        (then open http://127.0.0.1:3000)\n"
        "The HTML report with the rough | refined | truth mask grids: vton report\n"
    )
    click.get_current_context().invoke(leaderboard_command, dataset=None, setting=None, fmt="table")


@main.command("train")
@click.argument("family")
@click.option("--dataset", required=True, help="A registered, built dataset (vton data build).")
@click.option(
    "--preset",
    default="paper",
    show_default=True,
    help="The family's named settings: paper (the seed paper's, for GPUs) or tiny (CPU demo, tests).",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Ray Train workers."
)
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Override the preset's epochs.")
@click.option("--json", "as_json", is_flag=True, help="End with one JSON line: the training summary.")
def train_command(
    family: str, dataset: str, preset: str, workers: int, epochs: int | None, as_json: bool
) -> None:
    """Train model FAMILY (autoarm) on DATASET's shards through Dagster (Ray Train) and register the final
    checkpoint; a finished run given more --epochs continues from its latest checkpoint."""
    from orchestration.runs import ManifestRunError
    from orchestration.training_runs import train_family

    try:
        summary = train_family(family, dataset, preset=preset, workers=workers, epochs=epochs)
    except ManifestRunError as exc:
        raise UserError(str(exc)) from None
    finals = ", ".join(
        f"{k.removeprefix('final_')} {v:.4g}" for k, v in sorted(summary.items()) if k.startswith("final_")
    )
    click.echo(
        f"{family} on {dataset}: registered {summary['model_version']} after {summary['epochs']} epoch(s), "
        f"{summary['steps']} steps ({finals}) in {float(summary['seconds']):.1f}s\n"
        f"checkpoint {summary['checkpoint']}"
    )
    if as_json:
        _echo_json_last(summary)


@main.command("predict")
@click.argument("family")
@click.option("--dataset", required=True, help="A registered, built dataset with a trained model.")
@click.option("--model-version", default=None, help="A registered version [default: the newest for DATASET].")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda[:N].")
@click.option("--json", "as_json", is_flag=True, help="End with one JSON line: the prediction summary.")
def predict_command(family: str, dataset: str, model_version: str | None, device: str, as_json: bool) -> None:
    """Predict DATASET's test split (paired and unpaired) with model FAMILY through Dagster."""
    from orchestration.runs import ManifestRunError
    from orchestration.training_runs import predict_family

    try:
        summary = predict_family(family, dataset, model_version=model_version, device=device)
    except ManifestRunError as exc:
        raise UserError(str(exc)) from None
    click.echo(
        f"{family} on {dataset}: {summary['predicted']} predictions ({summary['paired']} paired, "
        f"{summary['unpaired']} unpaired) with {summary['model_version']} in {summary['predictions']}"
    )
    if as_json:
        _echo_json_last(summary)


@main.command("evaluate")
@click.argument("family", required=False)
@click.option("--dataset", required=True, help="A registered, built dataset (vton data build).")
@click.option("--json", "as_json", is_flag=True, help="End with one JSON line: each evaluation's summary.")
def evaluate_command(family: str | None, dataset: str, as_json: bool) -> None:
    """Evaluate on DATASET through Dagster, then print its leaderboard: without FAMILY every baseline (and the
    rough-mask scoring); with FAMILY (autoarm) that family's latest predictions and the inputs it refines."""
    from orchestration.runs import ManifestRunError, evaluate_dataset
    from orchestration.training_runs import evaluate_family
    from warehouse.commands import leaderboard_command

    try:
        summaries = evaluate_family(family, dataset) if family else evaluate_dataset(dataset)
    except ManifestRunError as exc:
        raise UserError(str(exc)) from None
    _print_evaluations(summaries)
    setting = "mask" if family else None
    click.get_current_context().invoke(leaderboard_command, dataset=dataset, setting=setting, fmt="table")
    if as_json:
        click.echo(json.dumps(summaries, sort_keys=True, default=str))


def _print_evaluations(summaries: list[dict]) -> None:
    for s in summaries:
        if "skipped" in s:
            click.echo(f"{s['model']}: skipped ({s['skipped']})")
            continue
        click.echo(
            f"{s['model']} ({s['setting']}): {s['matched']} samples scored, {s['missing_predictions']} without a "
            f"prediction, run {s['run_id']}"
        )


@main.command("ui")
@click.option("--port", type=int, default=3000, show_default=True)
def ui_command(port: int) -> None:
    """Start the Dagster UI (dagster dev) on this platform's instance under VTON_HOME."""
    from orchestration.instance import prepare_dagster_home

    prepare_dagster_home()
    os.environ["TMPDIR"] = str(VtonHome.from_env().tmp)  # dagster dev's sockets and workspace file
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(str(dagster), [str(dagster), "dev", "-m", "orchestration.definitions", "-p", str(port)])


from metrics.commands import metrics_group  # noqa: E402
from models.commands import models_group  # noqa: E402

main.add_command(weights_group)
main.add_command(metrics_group)
main.add_command(warehouse_group)
main.add_command(leaderboard_command)
main.add_command(report_command)
main.add_command(models_group)

if __name__ == "__main__":
    main()
