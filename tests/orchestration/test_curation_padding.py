"""hqft_subset carries IGR's resize-and-pad of kept extreme-proportion pairs: one box per image, that
re-frames the person and the in-shop garment at the canvas aspect without distorting them."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow.parquet as pq
import pytest

from assets.curation import HQFT_FILE, hqft_subset
from orchestration.resources import PathsResource
from preprocess.filters.hqft import PaddingBox, apply_padding
from preprocess.filters.hqft_inputs import load_hqft_input
from preprocess.formats import read_dataset
from preprocess.shards.codec import encode_sample
from preprocess.shards.reader import SHARDS_JSON
from preprocess.shards.writer import shard_name, write_shard
from preprocess.synthetic import generate_dataset, read_truth

DATASET = "padded"


@pytest.fixture()
def shard_folder(vton_home: Path, tmp_path: Path) -> tuple[Path, dict]:
    """Shards of a generated Dress Code set (parse, pose, garment mask): the members hqft_subset reads."""
    root = tmp_path / "dresscode"
    generate_dataset("dresscode", 60, root, seed=7, size=(128, 96))
    truth = {r["person"]: r for r in read_truth(root)}
    samples, inputs = {}, {}
    for sample in read_dataset(root, DATASET, "dresscode").samples:
        inp = load_hqft_input(sample, root)
        meta = {"category": sample.category, "kind": "image", "height": 128, "width": 96}
        fields = {"parse": inp.parse, "pose": inp.pose, "garment_mask": inp.garment_mask}
        samples[sample.sample_id] = encode_sample(sample.sample_id, fields, meta)
        inputs[sample.sample_id] = (inp, truth[sample.person_path])
    folder = vton_home / "shards" / DATASET
    folder.mkdir(parents=True)
    write_shard(folder, shard_name(0), samples)
    (folder / SHARDS_JSON).write_text(json.dumps({"shards": [{"name": shard_name(0)}]}))
    return folder, inputs


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _check_reframed(content: np.ndarray, box: PaddingBox) -> None:
    """The box keeps the content whole and undistorted, centred on the canvas of the image's size."""
    assert box.size == content.shape
    out = apply_padding(content.astype(np.uint8) * 255, box, fill=0) > 0
    assert out.shape == content.shape
    x0, y0, x1, y1 = _bbox(content)
    u0, v0, u1, v1 = _bbox(out)
    cx, cy = box.crop[:2]
    dx, dy = box.offset
    for src, dst, origin, shift in ((x0, u0, cx, dx), (y0, v0, cy, dy), (x1, u1, cx, dx), (y1, v1, cy, dy)):
        assert abs(box.scale * (src - origin) + shift - dst) <= 1.5  # the mapping the box documents
    assert (u1 - u0) / (v1 - v0) == pytest.approx((x1 - x0) / (y1 - y0), rel=0.08)  # no distortion
    h, w = content.shape
    crop_w, crop_h = box.crop[2] - box.crop[0], box.crop[3] - box.crop[1]
    assert round(crop_w * box.scale) == w or round(crop_h * box.scale) == h  # fills one side of the canvas
    assert abs((box.offset[0] * 2 + round(crop_w * box.scale)) - w) <= 1  # centred
    assert abs((box.offset[1] * 2 + round(crop_h * box.scale)) - h) <= 1


def test_kept_extreme_pairs_carry_their_resize_and_pad_boxes(shard_folder, ephemeral_instance):
    folder, inputs = shard_folder
    ephemeral_instance.add_dynamic_partitions("datasets", [DATASET])
    result = dg.materialize(
        [hqft_subset],
        partition_key=DATASET,
        instance=ephemeral_instance,
        resources={"paths": PathsResource(home=str(folder.parent.parent))},
    )
    assert result.success
    metadata = result.asset_materializations_for_node("hqft_subset")[0].metadata
    rows = pq.read_table(folder / HQFT_FILE).to_pylist()
    assert {r["sample_id"] for r in rows} == set(inputs)
    padded = [r for r in rows if r["resize_pad"]]
    assert metadata["resized_and_padded"].value == len(padded) >= 2
    for row in rows:
        extreme = any(reason.startswith("extreme proportion") for reason in row["reasons"])
        assert row["resize_pad"] == (row["keep"] and extreme), row["reasons"]
        assert (row["padding"] is not None) == row["resize_pad"]
    labelled = [r for r in rows if inputs[r["sample_id"]][1]["extreme_proportion"]]
    assert sum(r["resize_pad"] for r in labelled) >= len(padded) - 1, "the padded pairs are the extreme ones"
    for row in padded:
        inp = inputs[row["sample_id"]][0]
        boxes = {name: PaddingBox.from_json(box) for name, box in json.loads(row["padding"]).items()}
        assert set(boxes) == {"person", "garment"}
        _check_reframed(inp.parse > 0, boxes["person"])
        _check_reframed(inp.garment_mask > 0, boxes["garment"])
    plain = next(r for r in rows if r["keep"] and not r["resize_pad"])
    assert plain["padding"] is None
