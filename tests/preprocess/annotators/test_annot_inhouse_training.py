"""In-house parsing / DensePose training on a generated VITON-HD tree: the trained tiny net agrees with the
exact provided labels far better than an untrained net and the majority-class baseline, in-process and on
Ray Train; examples also come from shards; the flip swap tables match the label definitions."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from preprocess.annotators.inhouse_network import InhouseSegNet, preset
from preprocess.annotators.inhouse_training import (
    TrainConfig,
    confusion_matrix,
    evaluate,
    examples_from_dataset,
    examples_from_shards,
    flip_permutation,
    miou_from_confusion,
    split_heldout,
    train_inhouse,
)
from preprocess.formats import read_dataset
from preprocess.shards.codec import encode_sample
from preprocess.shards.writer import shard_name, write_shard
from preprocess.synthetic import generate_dataset
from preprocess.synthetic import labels as synth

MARGIN = 0.05


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("inhouse") / "vitonhd"
    generate_dataset("vitonhd", 40, root, seed=3, size=(128, 96))
    return root, read_dataset(root, "synth", "vitonhd").samples


def _majority_miou(train, heldout) -> float:
    """Independent check of the floor: IoU of the most frequent training label, over present classes."""
    counts = np.bincount(np.concatenate([e.labels.ravel() for e in train]))
    majority = int(np.argmax(counts))
    truth = np.concatenate([e.labels.ravel() for e in heldout])
    # predicting one label everywhere: its IoU is its pixel share, every other present class scores 0
    return float(np.mean(truth == majority) / len(np.unique(truth)))


@pytest.mark.parametrize("task", ["parse", "densepose"])
def test_trained_net_beats_untrained_and_majority(tree, tmp_path, task):
    root, samples = tree
    examples, skipped = examples_from_dataset(root, samples, task)
    assert not skipped
    train, heldout = split_heldout(examples)
    assert heldout and {e.split for e in heldout} == {"test"} and {e.split for e in train} == {"train"}
    torch.set_num_threads(1)
    config = TrainConfig(net=preset("tiny", task), steps=150, batch_size=8, seed=0)
    result = train_inhouse(train, heldout, tmp_path / "model", config, dataset="synth")

    torch.manual_seed(0)
    untrained = evaluate(InhouseSegNet(config.net), heldout)["miou"]
    majority = _majority_miou(train, heldout)
    assert result.agreement["miou"] > untrained + MARGIN
    assert result.agreement["miou"] > majority + MARGIN
    assert result.agreement["majority_baseline_miou"] == pytest.approx(majority)
    assert result.losses[-1] < 0.6 * result.losses[0]
    recorded = json.loads((tmp_path / "model" / "config.json").read_text())["agreement"]
    assert recorded["miou"] == pytest.approx(result.agreement["miou"])
    assert (recorded["n"], recorded["dataset"]) == (len(heldout), "synth")


def test_training_on_ray_train_one_cpu_worker(tree, tmp_path, ray_local):
    root, samples = tree
    train, heldout = split_heldout(examples_from_dataset(root, samples, "parse")[0])
    config = TrainConfig(
        net=preset("tiny", "parse"), steps=60, batch_size=8, use_ray=True, use_gpu=False, report_every=20
    )
    result = train_inhouse(train, heldout, tmp_path / "ray_model", config, dataset="synth")
    assert result.agreement["trained_on"] == "ray"
    assert len(result.losses) == 3 and result.losses[-1] < result.losses[0]
    assert result.agreement["miou"] > _majority_miou(train, heldout) + MARGIN
    loaded = InhouseSegNet.from_pretrained(tmp_path / "ray_model")
    assert evaluate(loaded, heldout)["miou"] == pytest.approx(result.agreement["miou"])


def test_examples_from_shards_carry_split_and_part_index(tree, tmp_path):
    root, samples = tree
    examples = examples_from_dataset(root, samples[:6], "densepose")[0]
    folder = tmp_path / "shards"
    folder.mkdir()
    members = {}
    for example in examples:
        iuv = np.zeros((*example.labels.shape, 3), np.uint8)
        iuv[..., 0] = example.labels
        meta = {"split": example.split, "height": 128, "width": 96}
        fields = {"person": example.image, "densepose": iuv}
        members[example.sample_id] = encode_sample(example.sample_id, fields, meta)
    members["nolabel"] = encode_sample("nolabel", {"person": examples[0].image}, {"split": "train"})
    write_shard(folder, shard_name(0), members)
    (folder / "shards.json").write_text(json.dumps({"shards": [{"name": shard_name(0)}]}))

    from_shards, skipped = examples_from_shards(folder, "densepose")
    assert [key for key, _ in skipped] == ["nolabel"]
    by_id = {e.sample_id: e for e in from_shards}
    for example in examples:
        got = by_id[example.sample_id]
        assert got.split == example.split
        np.testing.assert_array_equal(got.labels, example.labels)  # PNG part index is lossless


def test_unreadable_parse_map_is_skipped_with_its_file_named(tree, tmp_path):
    root, samples = tree
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    broken = dict(samples[0].annotations)["parse"]
    (copy / broken).write_bytes(b"not a png")
    examples, skipped = examples_from_dataset(copy, samples[:3], "parse")
    assert len(examples) == 2
    assert skipped[0][0] == samples[0].sample_id and broken in skipped[0][1]


def test_miou_on_a_hand_built_case():
    true = np.array([[0, 0, 1, 1], [0, 0, 1, 1]])
    pred = np.array([[0, 0, 0, 1], [0, 0, 1, 2]])
    scores = miou_from_confusion(confusion_matrix(pred, true, 3))
    # class 0: 4 / 5; class 1: 2 / 4; class 2 is absent from the labels and not averaged
    assert scores["per_class"] == {0: pytest.approx(0.8), 1: pytest.approx(0.5)}
    assert scores["miou"] == pytest.approx(0.65)
    assert scores["pixel_accuracy"] == pytest.approx(6 / 8)


def test_flip_tables_swap_left_and_right_labels():
    lip = flip_permutation("parse", 20)
    assert [lip[14], lip[16], lip[18], lip[13], lip[5]] == [15, 17, 19, 13, 5]
    dp = flip_permutation("densepose", 25)
    pairs = [
        (synth.DP_LEFT_HAND, synth.DP_RIGHT_HAND),
        (synth.DP_LEFT_FOOT, synth.DP_RIGHT_FOOT),
        (synth.DP_LEFT_UPPER_LEG, synth.DP_RIGHT_UPPER_LEG),
        (synth.DP_LEFT_LOWER_LEG, synth.DP_RIGHT_LOWER_LEG),
        (synth.DP_LEFT_UPPER_ARM, synth.DP_RIGHT_UPPER_ARM),
        (synth.DP_LEFT_LOWER_ARM, synth.DP_RIGHT_LOWER_ARM),
        (synth.DP_LEFT_HEAD, synth.DP_RIGHT_HEAD),
    ]
    for left, right in pairs:
        assert (dp[left], dp[right]) == (right, left)
    assert dp[synth.DP_TORSO_FRONT] == synth.DP_TORSO_FRONT and dp[0] == 0
    for perm in (lip, dp):
        np.testing.assert_array_equal(perm[perm], np.arange(len(perm)))
