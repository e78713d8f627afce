"""The inhouse_parse / inhouse_densepose annotators: canonical encodings at the person's size, a version
tied to the weights, an exact save/load round trip, and clear errors for a wrong or missing model."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from preprocess.annotators.base import AnnotationError, AnnotationInput, Annotator
from preprocess.annotators.inhouse import InhouseDensePoseAnnotator, InhouseParsingAnnotator
from preprocess.annotators.inhouse_network import InhouseNetConfig, InhouseSegNet, preset
from preprocess.annotators.inhouse_training import (
    TrainConfig,
    examples_from_dataset,
    split_heldout,
    train_inhouse,
)
from preprocess.formats import read_dataset
from preprocess.images import decode_image
from preprocess.synthetic import generate_dataset


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("inhouse_annot")
    root = base / "vitonhd"
    generate_dataset("vitonhd", 12, root, seed=7, size=(128, 96))
    samples = read_dataset(root, "synth", "vitonhd").samples
    torch.set_num_threads(1)
    models = {}
    for task in ("parse", "densepose"):
        train, heldout = split_heldout(examples_from_dataset(root, samples, task)[0])
        config = TrainConfig(net=preset("tiny", task), steps=30, batch_size=4)
        models[task] = train_inhouse(train, heldout, base / task, config, dataset="synth").model_dir
    items = [
        AnnotationInput(s.sample_id, dataclasses.asdict(s), root, person=decode_image(root / s.person_path))
        for s in samples[:3]
    ]
    # a person image of another size: outputs follow the input, not the network's input size
    items.append(AnnotationInput("odd", {}, root, person=np.asarray(items[0].person[:100, :90])))
    return models, items


def test_parsing_annotator_returns_lip_labels_at_person_size(setup):
    models, items = setup
    annotator = InhouseParsingAnnotator(models["parse"], device="cpu")
    assert isinstance(annotator, Annotator)
    assert (annotator.name, annotator.outputs, annotator.needs) == ("inhouse_parse", ("parse",), ("person",))
    results = annotator(items)
    assert len(results) == len(items)
    for item, result in zip(items, results, strict=True):
        parse = result["parse"]
        assert parse.dtype == np.uint8 and parse.shape == item.person.shape[:2]
        assert parse.max() < 20
    assert len(np.unique(results[0]["parse"])) > 1  # a trained net does not paint one label everywhere


def test_densepose_annotator_returns_part_index_with_zero_uv(setup):
    models, items = setup
    annotator = InhouseDensePoseAnnotator(models["densepose"], device="cpu")
    assert (annotator.name, annotator.outputs) == ("inhouse_densepose", ("densepose",))
    for item, result in zip(items, annotator(items), strict=True):
        iuv = result["densepose"]
        assert iuv.dtype == np.uint8 and iuv.shape == (*item.person.shape[:2], 3)
        assert iuv[..., 0].max() <= 24 and not iuv[..., 1:].any()
    assert annotator.agreement["dataset"] == "synth" and annotator.agreement["n"] > 0


def test_version_tracks_the_weights_and_round_trip_is_exact(setup, tmp_path):
    models, items = setup
    first = InhouseParsingAnnotator(models["parse"], device="cpu")
    assert first.version.startswith("1:") and len(first.version) == 14
    again = InhouseParsingAnnotator(models["parse"], device="cpu")
    assert again.version == first.version
    for a, b in zip(first(items), again(items), strict=True):
        np.testing.assert_array_equal(a["parse"], b["parse"])

    model = InhouseSegNet.from_pretrained(models["parse"])
    logits = model(torch.zeros(1, 3, *model.config.input_size))
    model.save_pretrained(tmp_path / "copy")
    reloaded = InhouseSegNet.from_pretrained(tmp_path / "copy")
    assert torch.equal(reloaded(torch.zeros(1, 3, *model.config.input_size)), logits)
    with torch.no_grad():
        model.head.bias.add_(0.5)
    model.save_pretrained(tmp_path / "changed")
    assert InhouseParsingAnnotator(tmp_path / "changed").version != first.version
    assert not list(tmp_path.glob("**/*.pt")) and not list(tmp_path.glob("**/*.pkl"))


def test_wrong_task_missing_model_and_missing_person_are_clear(setup, tmp_path):
    models, items = setup
    with pytest.raises(ValueError, match="'densepose' model but inhouse_parse needs a 'parse'"):
        InhouseParsingAnnotator(models["densepose"])
    with pytest.raises(FileNotFoundError, match="config.json does not exist: train an in-house model"):
        InhouseDensePoseAnnotator(tmp_path / "nowhere")
    annotator = InhouseParsingAnnotator(models["parse"], device="cpu")
    with pytest.raises(AnnotationError, match="needs the decoded person image") as info:
        annotator([dataclasses.replace(items[0], person=None)])
    assert info.value.sample_id == items[0].sample_id


def test_config_validation_and_json_round_trip():
    config = InhouseNetConfig(task="densepose", width=4, depth=2, input_size=(32, 24))
    assert config.num_classes == 25
    assert InhouseNetConfig.from_json(json.loads(json.dumps(config.to_json()))) == config
    with pytest.raises(ValueError, match="divisible by 2\\*\\*depth = 8"):
        InhouseNetConfig(depth=3, input_size=(60, 44))
    with pytest.raises(ValueError, match="task 'pose' is unknown"):
        InhouseNetConfig(task="pose")
