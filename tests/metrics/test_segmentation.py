"""IoU and CPA per class on hand-countable label maps; binary mask IoU."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metrics.segmentation import mask_iou, segmentation_scores


def test_iou_and_cpa_per_class_by_hand():
    gt = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 2]])
    pred = np.array([[0, 1, 1, 1], [0, 0, 1, 2], [2, 2, 0, 2]])
    s = segmentation_scores(pred, gt, num_classes=4)
    # class 0: TP 3, predicted 4, actual 4 -> IoU 3/5, CPA 3/4
    # class 1: TP 3, predicted 4, actual 4 -> IoU 3/5, CPA 3/4
    # class 2: TP 3, predicted 4, actual 4 -> IoU 3/5, CPA 3/4 ; class 3 absent -> NaN
    assert s.iou[:3] == pytest.approx([0.6, 0.6, 0.6])
    assert s.cpa[:3] == pytest.approx([0.75, 0.75, 0.75])
    assert math.isnan(s.iou[3]) and math.isnan(s.cpa[3])
    assert s.mean_iou == pytest.approx(0.6) and s.mean_cpa == pytest.approx(0.75)


def test_class_never_predicted_has_zero_cpa_and_sizes_must_match():
    gt = np.array([0, 1, 1, 1])
    pred = np.array([0, 0, 0, 0])
    s = segmentation_scores(pred, gt, num_classes=2)
    assert s.cpa == pytest.approx([0.25, 0.0]) and s.iou == pytest.approx([0.25, 0.0])
    with pytest.raises(ValueError, match="differ in size"):
        segmentation_scores(pred, gt[:3], num_classes=2)


def test_mask_iou():
    a = np.zeros((4, 4), np.uint8)
    b = np.zeros((4, 4), np.uint8)
    a[:2] = 255
    b[1:3] = 1
    assert mask_iou(a, b) == pytest.approx(4 / 12)
    assert mask_iou(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0
