"""The annotator chain end to end: a Ray Data build (map_batches on an actor pool) writes the shards an in-process
build writes, closing its pipeline early frees the actors, the pool asks for GPUs only where they help, in-house
backends fill gaps, bad inputs are quarantined at the annotation stage."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fixtures.bad_inputs import write_bad_image_corpus

from preprocess.annotation_pipeline import (
    AnnotationPool,
    PipelineConfig,
    _RayDataAnnotations,
    build_dataset_shards,
    plan_annotation_pool,
)
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


def test_ray_data_build_writes_the_shards_an_in_process_build_writes(tiny_vitonhd, tmp_path, ray_local):
    root, manifest = tiny_vitonhd
    local = build_dataset_shards(manifest, root, tmp_path / "local", use_ray=False, samples_per_shard=4)
    remote = build_dataset_shards(
        manifest, root, tmp_path / "ray", samples_per_shard=4, local_max_rows=0, ray_batch_size=2
    )
    assert (local.annotation_engine, local.annotation_actors) == ("in_process", 0)
    assert remote.annotation_engine == "ray_data" and 1 <= remote.annotation_actors <= ray_local["cpus"]
    assert local.samples == remote.samples == pq.read_table(manifest).num_rows
    assert local.dataset_version == remote.dataset_version
    names = sorted(p.name for p in (tmp_path / "local").glob("shard-*.tar"))
    assert names == sorted(p.name for p in (tmp_path / "ray").glob("shard-*.tar")) and len(names) == 3
    for name in names:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes()


def test_closing_the_ray_data_pipeline_early_gives_its_actors_cpus_back(tiny_vitonhd, ray_local):
    import ray

    root, manifest = tiny_vitonhd
    rows = pq.read_table(manifest).to_pylist() * 100  # seconds of work left after the first batch
    for row in rows:
        row["annotations"] = dict(row["annotations"] or [])
    pipeline = _RayDataAnnotations(rows, root, PipelineConfig(), batch_size=2)
    assert isinstance(pipeline(rows[:1])[0], dict)
    pipeline.close()  # what a failed build does
    deadline = time.monotonic() + 5
    while ray.available_resources().get("CPU", 0) < ray_local["cpus"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ray.available_resources().get("CPU", 0) == ray_local["cpus"]


def test_the_actor_pool_asks_for_a_gpu_per_actor_only_for_network_backends_on_a_gpu_cluster():
    networks = PipelineConfig(pose_backend="dwpose")
    gpu_pool = plan_annotation_pool({"cpus": 16, "gpus": 2}, 10, networks)
    assert (gpu_pool.size, gpu_pool.num_gpus) == (2, 1)
    options = gpu_pool.map_batches_options()
    assert options["num_gpus"] == 1 and "num_cpus" not in options
    compute = options["compute"]
    assert (compute.min_size, compute.max_size, compute.initial_size) == (1, 2, 2)

    rule_based = plan_annotation_pool({"cpus": 16, "gpus": 2}, 10, PipelineConfig())
    assert (rule_based.size, rule_based.num_gpus) == (10, 0)  # CPU work: one actor per CPU, not per GPU
    assert rule_based.map_batches_options()["num_cpus"] == 1
    assert "num_gpus" not in rule_based.map_batches_options()
    forced_cpu = plan_annotation_pool(
        {"cpus": 16, "gpus": 2}, 40, PipelineConfig(pose_backend="dwpose", device="cpu")
    )
    assert (forced_cpu.size, forced_cpu.num_gpus) == (16, 0)
    assert plan_annotation_pool({"cpus": 2, "gpus": 0}, 10, networks) == AnnotationPool(size=2)
    assert plan_annotation_pool({"cpus": 2, "gpus": 0}, 1, PipelineConfig()).size == 1


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
