"""Rough try-on (agnostic) masks for video clips: one mask per frame, from that frame's parse, pose and DensePose.

DPIDM (seed 002) conditions every frame on its own agnostic mask, so a clip gets the mask of each frame
by the same configured strategy as image samples (`AgnosticMaskAnnotator` in the chain: "catvton" or
"hrviton"; the clip's category). The frames hold what the clip ships per frame (VVT: LIP parse, OpenPose-18
and IUV DensePose per frame; see `preprocess.formats.vvt`). Masks are stored per frame as
`f0000.agnostic_mask.png`, ... beside `f0000.person.jpg` (the shard codec's per-frame members).

All or nothing: a clip whose every frame gets a mask carries them; otherwise no frame carries one and the
clip's `missing` names the first frame that failed and why (a loader never sees a clip with gaps, and a
mask is never copied from a neighbouring frame).

A clip's `agnostic_mask` version is the image annotator's plus `CLIP_MASKS_TAG` (`clip_field_versions`,
applied to every manifest row by `preprocess.shards.index.row_versions`): clips sharded before per-frame
masks existed carry the bare version, so an incremental build re-annotates exactly those clips and leaves
image samples alone. Change the tag when the per-frame rules change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from preprocess.annotators.agnostic_mask import AgnosticMaskAnnotator, agnostic_mask
from preprocess.annotators.base import Annotator

CLIP_MASKS_TAG = "+clip"


def configured_strategy(annotators: Iterable[Annotator]) -> str | None:
    """The strategy of the chain's agnostic-mask annotator, or None when the chain has none."""
    for annotator in annotators:
        if isinstance(annotator, AgnosticMaskAnnotator):
            return annotator.strategy
    return None


def clip_field_versions(
    versions: Mapping[str, tuple[str, str]], row: Mapping[str, Any]
) -> dict[str, tuple[str, str]]:
    """The field -> (annotator, version) map of one manifest row with, for a video clip, `CLIP_MASKS_TAG`
    appended to the `agnostic_mask` version (once: applying this twice changes nothing)."""
    out = {field: (str(name), str(version)) for field, (name, version) in versions.items()}
    if row.get("kind") == "video" and "agnostic_mask" in out:
        name, version = out["agnostic_mask"]
        if not version.endswith(CLIP_MASKS_TAG):
            out["agnostic_mask"] = (name, version + CLIP_MASKS_TAG)
    return out


def add_clip_agnostic_masks(
    frames: list[dict[str, Any]], row: Mapping[str, Any], annotators: Iterable[Annotator]
) -> dict[str, str]:
    """Put an `agnostic_mask` ((H, W) uint8 {0, 255}) into every frame dict of a clip, in place, by the
    chain's strategy; return `{}` when every frame got one, else `{"agnostic_mask": reason}` (the clip's
    `missing` entry) and leave all frames without a mask."""
    strategy = configured_strategy(annotators)
    if strategy is None:
        return {"agnostic_mask": "the annotator chain has no agnostic_mask annotator"}
    if not frames:
        return {"agnostic_mask": "the clip has no frames"}
    category = str(row.get("category"))
    needs = ("parse", "densepose") if strategy == "catvton" else ("parse", "pose")
    masks = []
    for index, frame in enumerate(frames):
        lacking = [name for name in needs if frame.get(name) is None]
        if lacking:
            return {
                "agnostic_mask": f"frame {index} has no {', '.join(lacking)}: the {strategy} mask needs "
                f"{' and '.join(needs)} per frame (the dataset ships none for this clip)"
            }
        try:
            masks.append(
                agnostic_mask(
                    strategy,
                    category,
                    frame["parse"],
                    pose=frame.get("pose"),
                    densepose=frame.get("densepose"),
                )
            )
        except ValueError as exc:
            return {"agnostic_mask": f"frame {index}: agnostic_mask ({strategy}): {exc}"}
    for frame, mask in zip(frames, masks, strict=True):
        frame["agnostic_mask"] = mask
    return {}
