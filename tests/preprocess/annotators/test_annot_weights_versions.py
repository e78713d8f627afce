"""Annotator versions carry the digest of the weights they load: swapping a weights file changes the version,
and the incremental shard build then re-annotates exactly the samples that annotator fed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
import torch.nn.functional as F
from fixtures.onnx_weights import export_onnx, store_with

import vton.weights.store as store_module
from preprocess.annotation_pipeline import annotate_row, field_versions
from preprocess.annotators.dwpose import DETECTOR_WEIGHTS, POSE_WEIGHTS, DWPoseAnnotator
from preprocess.annotators.garment_landmark_net import (
    WEIGHTS_FILE,
    HeatmapLandmarkAnnotator,
    LandmarkHeatmapNet,
    LandmarkNetConfig,
    save_landmark_net,
)
from preprocess.annotators.human_parsing import MODELS, HumanParsingAnnotator
from preprocess.annotators.provided import ProvidedAnnotator
from preprocess.manifest import build_manifest
from preprocess.shards import build_shards, iter_samples
from preprocess.shards.index import fields_hash, row_versions
from preprocess.synthetic import generate_dataset


class TinyParser(torch.nn.Module):
    """SCHP-shaped stand-in: 1x1 conv logits (20 LIP classes) at a quarter of the input, three outputs."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(torch.randn(20, 3, 1, 1, generator=generator))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits = F.conv2d(F.avg_pool2d(x, 4), self.weight)
        return logits, logits, logits[:, :2]


def _parser(path: Path, seed: int) -> Path:
    size = MODELS["lip"].input_hw[0]
    return export_onnx(TinyParser(seed), torch.zeros(1, 3, size, size), path, "input.1", ["p", "f", "e"])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> tuple[Path, list[dict]]:
    """A tiny generated VITON-HD set whose test-split rows ship no parse map (the SCHP parser fills it)."""
    base = tmp_path_factory.mktemp("weights-versions")
    generate_dataset("vitonhd", 6, base / "data", seed=2, size=(128, 96))
    manifest = build_manifest(base / "data", "wv", base / "manifest", "vitonhd", use_ray=False).manifest
    out = []
    for row in pq.read_table(manifest).to_pylist():
        row["annotations"] = dict(row["annotations"] or [])
        row["annotation_frames"] = dict(row["annotation_frames"] or [])
        if row["split"] == "test":
            row["annotations"].pop("parse")
        out.append(row)
    assert {r["split"] for r in out} == {"train", "test"}
    return base / "data", out


def test_swapping_the_parser_weights_reannotates_the_samples_it_parsed(rows, tmp_path):
    root, manifest_rows = rows
    first, second = _parser(tmp_path / "a.onnx", 0), _parser(tmp_path / "b.onnx", 1)
    store = store_with(tmp_path / "store", {"schp_lip_onnx": first})
    parser = HumanParsingAnnotator("lip", store=store, device="cpu")
    assert parser.version == f"1:{_sha(first)[:12]}"

    def build(chain):
        def annotate(batch):
            return [annotate_row(row, root, chain) for row in batch]

        return build_shards(tmp_path / "shards", manifest_rows, annotate, field_versions(chain))

    assert build([ProvidedAnnotator(), parser]).new == len(manifest_rows)
    again = build([ProvidedAnnotator(), HumanParsingAnnotator("lip", store=store, device="cpu")])
    assert (again.annotated, again.unchanged) == (0, len(manifest_rows))

    swapped = store_with(tmp_path / "store", {"schp_lip_onnx": second})  # same store, new file
    assert _sha(swapped.path("schp_lip_onnx")) == _sha(second)
    parser = HumanParsingAnnotator("lip", store=swapped, device="cpu")
    assert parser.version == f"1:{_sha(second)[:12]}"
    result = build([ProvidedAnnotator(), parser])
    parsed_here = sorted(r["sample_id"] for r in manifest_rows if "parse" not in r["annotations"])
    assert result.changed == result.annotated == len(parsed_here) > 0
    assert result.unchanged == len(manifest_rows) - len(parsed_here)
    metas = {s["__key__"]: s["meta"] for s in iter_samples(tmp_path / "shards", decode=True)}
    assert (
        sorted(k for k, m in metas.items() if m["annotators"]["parse"]["name"] == "schp_lip") == parsed_here
    )
    assert {metas[k]["annotators"]["parse"]["version"] for k in parsed_here} == {parser.version}


def test_dwpose_version_names_both_models_and_follows_each_file(tmp_path):
    conv = torch.nn.Conv2d(3, 2, 1)
    files = {
        DETECTOR_WEIGHTS: export_onnx(
            conv, torch.zeros(1, 3, 8, 8), tmp_path / "det.onnx", "images", ["out"]
        ),
        POSE_WEIGHTS: export_onnx(conv, torch.zeros(1, 3, 8, 6), tmp_path / "pose.onnx", "input", ["out"]),
    }
    store = store_with(tmp_path / "store", files)
    before = DWPoseAnnotator(store=store, device="cpu").version
    assert before == f"1:{_sha(files[DETECTOR_WEIGHTS])[:12]}+{_sha(files[POSE_WEIGHTS])[:12]}"
    with torch.no_grad():
        conv.weight.add_(1.0)
    other = export_onnx(conv, torch.zeros(1, 3, 8, 6), tmp_path / "pose2.onnx", "input", ["out"])
    after = DWPoseAnnotator(
        store=store_with(tmp_path / "store", {**files, POSE_WEIGHTS: other}), device="cpu"
    )
    assert after.version == f"1:{_sha(files[DETECTOR_WEIGHTS])[:12]}+{_sha(other)[:12]}" != before


def test_store_digest_is_the_recorded_one_not_a_rehash(tmp_path, monkeypatch):
    path = _parser(tmp_path / "a.onnx", 0)
    store = store_with(tmp_path / "store", {"schp_lip_onnx": path})

    def no_hashing(_path):
        raise AssertionError("the store re-hashed an imported file")

    monkeypatch.setattr(store_module, "sha256_file", no_hashing)
    assert store.sha256("schp_lip_onnx") == _sha(path)


def test_heatmap_landmark_version_follows_the_weights_file(tmp_path):
    torch.manual_seed(0)
    upper, lower = (
        LandmarkHeatmapNet(LandmarkNetConfig("upper")),
        LandmarkHeatmapNet(LandmarkNetConfig("lower")),
    )
    folders = {
        "upper": save_landmark_net(upper, tmp_path / "upper"),
        "lower": save_landmark_net(lower, tmp_path / "lower"),
    }
    annotator = HeatmapLandmarkAnnotator.from_folders(folders)
    digest = {c: _sha(f / WEIGHTS_FILE)[:12] for c, f in folders.items()}
    assert annotator.version == f"heatmap-1:lower={digest['lower']},upper={digest['upper']}"
    assert HeatmapLandmarkAnnotator({"upper": upper, "lower": lower}).version == annotator.version

    save_landmark_net(LandmarkHeatmapNet(LandmarkNetConfig("upper")), folders["upper"])  # retrained upper net
    retrained = HeatmapLandmarkAnnotator.from_folders(folders)
    assert (
        retrained.version
        == f"heatmap-1:lower={digest['lower']},upper={_sha(folders['upper'] / WEIGHTS_FILE)[:12]}"
    )
    assert retrained.version != annotator.version
    row = {"content_hash": "c" * 64}
    hashes = [
        fields_hash(row["content_hash"], row_versions(field_versions([a]), row))
        for a in (annotator, retrained)
    ]
    assert hashes[0] != hashes[1]
    with pytest.raises(ValueError, match="other categories"):
        HeatmapLandmarkAnnotator.from_folders({"dresses": folders["upper"]})
