"""`vton metrics ...`: evaluate two folders of images (or, with --video, of clips) from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click

from metrics.folders import ALL_METRICS
from metrics.protocols import DEFAULT_VIDEO_PROTOCOL, PROTOCOLS, VIDEO_PROTOCOLS
from metrics.video import VFID_EXTRACTORS, VIDEO_METRICS, evaluate_video_folders


@click.group("metrics")
def metrics_group() -> None:
    """Image metrics (SSIM, PSNR, LPIPS, FID, KID, ...) over folders of predictions and ground truth."""


@metrics_group.command("compute")
@click.option("--pred", "pred_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--gt",
    "gt_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Ground-truth folder; only is and hyperiqa (no-reference) run without one.",
)
@click.option(
    "--metrics",
    "metric_list",
    default="ssim,psnr,lpips",
    show_default=True,
    help=f"Comma-separated, from: {','.join(ALL_METRICS)}; with --video: {','.join(VIDEO_METRICS)}.",
)
@click.option(
    "--video",
    is_flag=True,
    help="--pred/--gt hold one sub-folder of frames (or video file) per clip, matched by name; paired "
    "metrics are per-frame means. Implied by vfid_i3d/vfid_resnext.",
)
@click.option(
    "--protocol",
    type=click.Choice(sorted(PROTOCOLS) + sorted(VIDEO_PROTOCOLS)),
    default=None,
    help=f"Named metric settings, recorded with the result. Images: {', '.join(PROTOCOLS)} (default "
    f"torch_fidelity). Videos: {', '.join(VIDEO_PROTOCOLS)} (default {DEFAULT_VIDEO_PROTOCOL}, the video "
    "try-on papers' VFID), or an image protocol for the per-frame settings under the default VFID settings.",
)
@click.option("--kid-subset-size", type=click.IntRange(min=2), default=None, help="Override the protocol's.")
@click.option("--device", default="cpu", show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="End with one JSON line: metric -> value (the settings used are printed on the line before).",
)
def compute_command(
    pred_dir: Path,
    gt_dir: Path | None,
    metric_list: str,
    protocol: str | None,
    kid_subset_size: int | None,
    device: str,
    batch_size: int,
    as_json: bool,
    video: bool,
) -> None:
    """Compute metrics between --pred and --gt, images (or clips) matched by name; paired: mean over pairs."""
    from metrics.folders import evaluate_folders
    from metrics.protocols import get_protocol, get_video_protocol
    from vton.weights.errors import WeightsError

    metrics = [m.strip() for m in metric_list.split(",") if m.strip()]
    video = video or any(m in VFID_EXTRACTORS for m in metrics)
    if video and gt_dir is None:
        raise click.ClickException("video metrics compare clips with ground truth: pass --gt FOLDER")
    if video:
        proto = get_video_protocol(protocol)
    elif protocol in VIDEO_PROTOCOLS:
        raise click.ClickException(
            f"{protocol} is a video protocol: add --video for folders of clips, or choose an image protocol "
            f"({', '.join(PROTOCOLS)})"
        )
    else:
        proto = get_protocol(protocol or "torch_fidelity")
    if kid_subset_size is not None:
        proto = proto.with_options(kid_subset_size=kid_subset_size)
    evaluate = evaluate_video_folders if video else evaluate_folders
    try:
        result = evaluate(pred_dir, gt_dir, metrics, proto, device=device, batch_size=batch_size)
    except (ValueError, FileNotFoundError, WeightsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"protocol {proto.name}: {result.pairs} matched {'clips' if video else 'pairs'}")
    if result.unmatched_pred or result.unmatched_gt:
        click.echo(
            f"warning: {len(result.unmatched_pred)} prediction(s) and {len(result.unmatched_gt)} ground-truth "
            f"{'clip' if video else 'image'}(s) have no partner; paired metrics skip them"
        )
    for name, value in result.values.items():
        click.echo(f"{name:10s} {value:.6g}")
    if as_json:
        click.echo(f"protocol {json.dumps(result.protocol, sort_keys=True, default=str)}")
        click.echo(json.dumps(result.values, sort_keys=True))
