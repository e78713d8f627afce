"""The annotator chain end to end: Ray Data and in-process builds agree, in-house backends fill gaps, bad inputs
are quarantined at the annotation stage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fixtures.bad_inputs import write_bad_image_corpus

from preprocess.annotation_pipeline import PipelineConfig, build_dataset_shards
from preprocess.annotators.inhouse_network import preset
from preprocess.annotators.inhouse_training import TrainConfig, train_from_dataset
from preprocess.manifest import build_manifest
from preprocess.shards.reader import iter_samples
from preprocess.synthetic import generate_dataset


@pytest.fixture(scope="module")
def tiny_vitonhd(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pipe") / "vitonhd"
    generate_dataset("vitonhd", 10, root, seed=4, size=(128, 96))
    result = build_manifest(root, "pipe", root.parent / "manifest", "vitonhd", use_ray=False)
    return root, Path(result.manifest)


def test_ray_data_and_in_process_builds_write_the_same_shards(tiny_vitonhd, tmp_path, ray_local):
    root, manifest = tiny_vitonhd
    local = build_dataset_shards(manifest, root, tmp_path / "local", use_ray=False, samples_per_shard=4)
    remote = build_dataset_shards(
        manifest, root, tmp_path / "ray", use_ray=True, samples_per_shard=4, local_max_rows=0
    )
    assert local.samples == remote.samples == pq.read_table(manifest).num_rows
    assert local.dataset_version == remote.dataset_version
    for name in sorted(p.name for p in (tmp_path / "local").glob("shard-*.tar")):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes()


def test_inhouse_parsing_fills_a_dataset_without_parse_maps(tiny_vitonhd, tmp_path):
    root, manifest = tiny_vitonhd
    rows = pq.read_table(manifest).to_pylist()
    config = TrainConfig(net=preset("tiny", "parse"), steps=20, batch_size=8)
    model = train_from_dataset(root, rows, tmp_path / "parse_model", config, dataset="pipe").model_dir

    bare = tmp_path / "bare"
    shutil.copytree(root, bare)
    for split in ("train", "test"):
        shutil.rmtree(bare / split / "image-parse-v3", ignore_errors=True)
    bare_manifest = build_manifest(bare, "bare", tmp_path / "bare_manifest", "vitonhd", use_ray=False)
    without = build_dataset_shards(Path(bare_manifest.manifest), bare, tmp_path / "s0", use_ray=False)
    sample = next(iter_samples(tmp_path / "s0", decode=True))
    assert "parse" not in sample and "parse" in sample["meta"]["missing"]

    inhouse = PipelineConfig(parse_backend="inhouse", inhouse_parse_dir=str(model))
    built = build_dataset_shards(Path(bare_manifest.manifest), bare, tmp_path / "s1", inhouse, use_ray=False)
    assert built.samples == without.samples
    for sample in iter_samples(tmp_path / "s1", decode=True):
        assert sample["parse"].shape == sample["person"].shape[:2] and sample["parse"].max() <= 19
        assert sample["meta"]["annotators"]["parse"]["name"] == "inhouse_parse"


def test_inhouse_backend_without_a_model_says_what_to_do(tiny_vitonhd, tmp_path):
    root, manifest = tiny_vitonhd
    with pytest.raises(ValueError, match="inhouse_parse_dir"):
        build_dataset_shards(
            manifest, root, tmp_path / "s", PipelineConfig(parse_backend="inhouse"), use_ray=False
        )


def test_undecodable_person_is_quarantined_at_annotation(tiny_vitonhd, tmp_path):
    root, _ = tiny_vitonhd
    broken = tmp_path / "broken"
    shutil.copytree(root, broken)
    person = sorted((broken / "train" / "image").glob("*.jpg"))[0]
    # A PNG whose pixel data is cut but which still ends properly: the cheap probe passes, decoding cannot.
    (case,) = [c for c in write_bad_image_corpus(tmp_path / "corpus") if c.name == "idat_cut_png"]
    person.write_bytes(case.path.read_bytes())
    result = build_manifest(broken, "broken", tmp_path / "m", "vitonhd", use_ray=False)
    built = build_dataset_shards(Path(result.manifest), broken, tmp_path / "s", use_ray=False)
    assert built.samples + built.quarantined == result.samples
    assert built.quarantined == 1, "the cut scan data must be refused at decode, not written to a shard"
    (row,) = built.quarantine
    assert row.stage == "annotate" and person.name in row.path
