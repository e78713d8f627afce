"""Garment landmarks: sets match the generator, PCK against a hand computation, the geometric estimator's
PCK on synthetic upper garments, the heatmap net's training, and its safetensors round trip."""

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from preprocess.annotators.base import AnnotationError, AnnotationInput
from preprocess.annotators.garment_landmark_net import (
    LandmarkHeatmapNet,
    load_landmark_labels,
    load_landmark_net,
    predict_landmarks,
    save_landmark_net,
    train_landmark_net,
)
from preprocess.annotators.garment_landmarks import (
    LANDMARK_SETS,
    GeometricLandmarkAnnotator,
    _Shape,
    _sleeves,
    bbox_diagonal,
    geometric_landmarks,
    pck,
)
from preprocess.annotators.garment_mask import read_cloth_mask
from preprocess.synthetic import generate_dataset, read_truth
from preprocess.synthetic.garments import LANDMARK_NAMES


def test_sets_match_generator_truth() -> None:
    assert LANDMARK_SETS == LANDMARK_NAMES
    assert len(LANDMARK_SETS["upper"]) == 9


def test_pck_against_hand_computation() -> None:
    truth = np.array([[[0, 0, 2], [10, 0, 2], [0, 10, 1], [10, 10, 0]]], float)  # last one not counted
    pred = np.array([[[0.4, 0.3], [10, 2], [0, 10.6], [50, 50]]], float)
    # diagonal 100: threshold 5 px -> errors 0.5, 2, 0.6 all correct; at 0.01 (1 px) two of three
    assert pck(pred, truth, 0.05, diagonals=np.array([100.0])) == 1.0
    assert pck(pred, truth, 0.01, diagonals=np.array([100.0])) == pytest.approx(2 / 3)
    # default normaliser: the truth points' own box, diagonal sqrt(200) = 14.14 -> 0.05 is 0.707 px
    assert pck(pred, truth) == pytest.approx(2 / 3)
    mask = np.zeros((20, 30), np.uint8)
    mask[2:5, 3:7] = 255
    assert bbox_diagonal(mask) == pytest.approx(5.0)


@pytest.fixture(scope="module")
def upper_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vh")
    generate_dataset("vitonhd", 80, root, seed=11, size=(128, 96))
    return root


def test_geometric_pck_on_synthetic_upper(upper_set: Path) -> None:
    preds, truths, diags = [], [], []
    for record in read_truth(upper_set):
        mask = read_cloth_mask(upper_set / record["garment"].replace("/cloth/", "/cloth-mask/"))
        preds.append(geometric_landmarks(mask, "upper").points)
        truths.append(record["landmarks_garment"])
        diags.append(bbox_diagonal(mask))
    score = pck(np.stack(preds), np.array(truths, float), 0.05, np.array(diags))
    assert score >= 0.7, score


def test_geometric_annotator_needs_the_mask() -> None:
    annotator = GeometricLandmarkAnnotator()
    with pytest.raises(AnnotationError, match="run the garment_mask annotator first"):
        annotator([AnnotationInput("s1", {"category": "upper"}, Path("."))])
    with pytest.raises(ValueError, match="unknown garment category"):
        geometric_landmarks(np.full((10, 10), 255, np.uint8), "hats")


def test_heatmap_net_trains_beats_untrained_and_round_trips(upper_set: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    examples = load_landmark_labels(upper_set)
    train, held = examples[:60], examples[60:]
    start = time.perf_counter()
    net = train_landmark_net(train, epochs=30, time_limit_s=18)
    assert time.perf_counter() - start < 20
    truth = np.stack([ex.points for ex in held])
    masks = [read_cloth_mask(upper_set / ex.name.replace("/cloth/", "/cloth-mask/")) for ex in held]
    diags = np.array([bbox_diagonal(m) for m in masks])
    trained = pck(
        np.stack([p.points for p in predict_landmarks(net, [ex.image for ex in held])]), truth, 0.05, diags
    )
    torch.manual_seed(1)
    fresh = LandmarkHeatmapNet(net.config).eval()
    untrained = pck(
        np.stack([p.points for p in predict_landmarks(fresh, [ex.image for ex in held])]), truth, 0.05, diags
    )
    assert trained >= untrained + 0.3, (trained, untrained)
    loaded = load_landmark_net(save_landmark_net(net, tmp_path / "net"))
    image = held[0].image
    np.testing.assert_allclose(
        predict_landmarks(loaded, [image])[0].points, predict_landmarks(net, [image])[0].points, atol=1e-5
    )
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_landmark_net(tmp_path / "missing")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shape_and_sleeve_pixels_equal_those_listed_from_every_foreground_pixel(seed):
    """`_Shape` and `_sleeves` read boxes, column sums and sub-rectangles of the mask; written out over the
    list of every foreground pixel (what they replace) they must give the same numbers and pixels, in order."""
    rng = np.random.default_rng(seed)
    for _ in range(30):
        h, w = (int(v) for v in rng.integers(40, 300, 2))
        mask = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 5))):
            y, x = int(rng.integers(-10, h)), int(rng.integers(-10, w))
            mask[max(0, y) : y + int(rng.integers(3, 120)), max(0, x) : x + int(rng.integers(3, 120))] = 255
        ys, xs = np.nonzero(mask)
        if len(xs) < 20:
            continue
        shape = _Shape(mask)
        assert (shape.x0, shape.x1, shape.y0, shape.y1) == (xs.min(), xs.max(), ys.min(), ys.max())
        assert shape.xc == xs.mean() and shape.count == len(xs)
        left, right = sorted(float(v) for v in rng.uniform(shape.x0, shape.x1, 2))
        margin = 0.03 * shape.w
        upper = ys <= shape.y0 + 0.85 * shape.h
        sleeves = _sleeves(shape, left, right)
        for side, outside in ((1, xs > right + margin), (-1, xs < left - margin)):
            keep = upper & outside
            expected = np.stack([xs[keep], ys[keep]], axis=1).astype(np.float64)
            assert np.array_equal(sleeves[side], expected.reshape(-1, 2)), (side, left, right)
