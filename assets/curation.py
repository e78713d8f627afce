"""Curated subsets: `hqft_subset`, IGR's high-quality fine-tune selection (IGR §3.2) over a dataset's shards.

Reads parse, pose and garment mask of every image sample from the shards (the JPEGs are not decoded),
scores each pair with `preprocess.filters.hqft.decide`, keeps the best `fraction` with `select_hqft`, and
writes `hqft.parquet` (sample_id, keep, hard_case, selected, scores as JSON, reasons, resize_pad,
padding) atomically into the shard folder. Video clips and samples lacking parse or pose are listed with
keep=False and the reason.

IGR resizes and pads the pairs of extreme proportions it keeps. The shards stay as they are (raw data is
never rewritten); a kept extreme pair (`resize_pad`) carries in `padding` the boxes that do it, as JSON
{"person": box, "garment": box} (`PaddingBox.to_json`: crop, scale, offset, size). A loader applies them
with `preprocess.filters.hqft.apply_padding(image, PaddingBox.from_json(box))`: the person box to
person.jpg (fill 255) and to the maps of the same size (parse, densepose, masks: fill 0), the garment box
to garment.jpg and garment_mask.png; keypoints map as x' = scale * (x - x0) + dx.
"""

import json
from pathlib import Path

import dagster as dg
import pyarrow as pa
from pydantic import Field

from assets.reporting import markdown_table
from assets.shards import dataset_shards, shard_dir
from orchestration.partitions import datasets_partitions
from orchestration.resources import PathsResource
from preprocess.filters.hqft import HQFTDecision, decide, padding_boxes, select_hqft
from preprocess.filters.hqft_inputs import HQFTInput
from preprocess.shards.codec import MEMBERS, META_MEMBER, decode_sample
from preprocess.shards.reader import iter_tar, shard_names
from vton import atomic_files

HQFT_FILE = "hqft.parquet"
HQFT_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("keep", pa.bool_()),
        ("hard_case", pa.bool_()),
        ("selected", pa.bool_()),
        ("scores", pa.string()),  # JSON object of the criterion scores
        ("reasons", pa.list_(pa.string())),
        ("resize_pad", pa.bool_()),
        ("padding", pa.string()),  # JSON {"person": box, "garment": box} when resize_pad, else null
    ]
)
_HQFT_MEMBERS = (MEMBERS["parse"], MEMBERS["pose"], MEMBERS["garment_mask"], META_MEMBER)


class HQFTConfig(dg.Config):
    """How much of the dataset the fine-tune subset keeps."""

    fraction: float = Field(
        default=0.2, gt=0.0, le=1.0, description="Share of all image pairs to select (IGR: 0.2)."
    )


def hqft_inputs(folder: Path) -> tuple[list[HQFTInput], list[HQFTDecision]]:
    """Filter inputs for the image samples of a shard folder, and ready decisions for those it cannot score."""
    inputs: list[HQFTInput] = []
    skipped: list[HQFTDecision] = []
    for name in shard_names(folder):
        for key, members in iter_tar(folder / name):
            sample = decode_sample({m: members[m] for m in _HQFT_MEMBERS if m in members})
            meta = sample.get("meta", {})
            if meta.get("kind") == "video":
                skipped.append(
                    HQFTDecision(key, False, False, {}, ["video clip: the filter scores image pairs"])
                )
            elif "parse" not in sample or "pose" not in sample:
                lacking = [f for f in ("parse", "pose") if f not in sample]
                skipped.append(
                    HQFTDecision(
                        key, False, False, {}, [f"no {' or '.join(lacking)} in the shards: add an annotator"]
                    )
                )
            else:
                inputs.append(
                    HQFTInput(
                        key,
                        str(meta.get("category") or "upper"),
                        sample["parse"],
                        sample["pose"],
                        sample.get("garment_mask"),
                    )
                )
    return inputs, skipped


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0]


@dg.asset(
    partitions_def=datasets_partitions,
    group_name="curation",
    kinds={"parquet"},
    deps=[dataset_shards],
    automation_condition=dg.AutomationCondition.eager()
    & dg.AutomationCondition.all_deps_blocking_checks_passed(),
)
def hqft_subset(
    context: dg.AssetExecutionContext, config: HQFTConfig, paths: PathsResource
) -> dg.MaterializeResult:
    """IGR's high-quality fine-tune subset of a dataset's image pairs: hqft.parquet beside its shards."""
    dataset = context.partition_key
    folder = shard_dir(paths.vton_home(), dataset)
    if not (folder / "shards.json").is_file():
        raise dg.Failure(
            description=f"dataset {dataset!r} has no shards in {folder}; materialize dataset_shards first"
        )
    inputs, skipped = hqft_inputs(folder)
    decisions = decide(inputs) if inputs else []
    selected = {d.sample_id for d in select_hqft(decisions, config.fraction)} if decisions else set()
    padding = {
        d.sample_id: json.dumps({name: box.to_json() for name, box in padding_boxes(inp).items()})
        for inp, d in zip(inputs, decisions, strict=True)
        if d.resize_pad
    }
    rows = [
        {
            "sample_id": d.sample_id,
            "keep": d.keep,
            "hard_case": d.hard_case,
            "selected": d.sample_id in selected,
            "scores": json.dumps(d.scores, sort_keys=True),
            "reasons": list(d.reasons),
            "resize_pad": d.resize_pad,
            "padding": padding.get(d.sample_id),
        }
        for d in sorted([*decisions, *skipped], key=lambda d: d.sample_id)
    ]
    atomic_files.write_parquet(folder / HQFT_FILE, pa.Table.from_pylist(rows, schema=HQFT_SCHEMA))
    dropped: dict[str, int] = {}
    for d in [*decisions, *skipped]:
        if not d.keep:
            for kind in {_reason_kind(r) for r in d.reasons if not r.startswith("hard case")}:
                dropped[kind] = dropped.get(kind, 0) + 1
    kept = sum(d.keep for d in decisions)
    return dg.MaterializeResult(
        metadata={
            "dataset": dataset,
            "fraction": config.fraction,
            "image_samples": len(decisions),
            "skipped": len(skipped),
            "kept": kept,
            "hard_cases": sum(d.hard_case for d in decisions),
            "resized_and_padded": len(padding),
            "dropped": len(decisions) + len(skipped) - kept,
            "selected": len(selected),
            "dropped_by_reason": dg.MetadataValue.md(
                markdown_table(["reason", "samples"], sorted(dropped.items(), key=lambda kv: (-kv[1], kv[0])))
                if dropped
                else "_nothing dropped_"
            ),
            "hqft": dg.MetadataValue.path(str(folder / HQFT_FILE)),
        }
    )


defs = dg.Definitions(assets=[hqft_subset])
