"""The agnostic-mask annotator as the pipeline calls it, the scores, and HR-VITON's geometry on hand-built poses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from preprocess.annotators.agnostic_hrviton import hrviton_mask
from preprocess.annotators.agnostic_mask import AgnosticMaskAnnotator
from preprocess.annotators.agnostic_score import score_agnostic
from preprocess.annotators.base import AnnotationError, AnnotationInput, Annotator, Pose

H, W = 200, 160


def _figure() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A front-facing stick figure: LIP parse, OpenPose-18 body and DensePose I drawn by hand."""
    parse = np.zeros((H, W), np.uint8)
    parts = np.zeros((H, W), np.uint8)
    parse[20:50, 65:95] = 13  # face
    parts[20:50, 65:95] = 23
    parse[55:120, 50:110] = 5  # upper clothes
    parts[55:120, 50:110] = 2
    parse[120:190, 55:105] = 9  # pants
    parts[120:190, 55:105] = 9
    parse[55:120, 30:45] = 15  # right arm (image left), hand at rows 120..140
    parse[55:120, 115:130] = 14
    parse[120:140, 30:45] = 15
    parse[120:140, 115:130] = 14
    parts[125:140, 30:45] = 3
    parts[125:140, 115:130] = 4
    body = np.zeros((18, 3), np.float32)
    for k, (x, y) in {
        0: (80, 35), 1: (80, 52), 2: (48, 56), 3: (38, 88), 4: (37, 118), 5: (112, 56), 6: (122, 88),
        7: (123, 118), 8: (65, 120), 9: (65, 155), 10: (65, 185), 11: (95, 120), 12: (95, 155), 13: (95, 185),
    }.items():  # fmt: skip
        body[k] = (x, y, 0.9)
    return parse, body, np.dstack([parts, parts * 0, parts * 0])


def _input(sid: str, category: str = "upper", **outputs) -> AnnotationInput:
    return AnnotationInput(sample_id=sid, row={"category": category}, root=Path("."), outputs=outputs)


@pytest.mark.parametrize("strategy", ["catvton", "hrviton"])
def test_annotator_follows_the_protocol(strategy):
    parse, body, dp = _figure()
    annotator = AgnosticMaskAnnotator(strategy)
    assert isinstance(annotator, Annotator)
    assert annotator.name == "agnostic_mask" and annotator.outputs == ("agnostic_mask",)
    assert set(annotator.needs) == {"parse", "pose", "densepose"}
    batch = [
        _input(f"s{k}", c, parse=parse, pose=Pose(body), densepose=dp)
        for k, c in enumerate(["upper", "lower"])
    ]
    upper, lower = (out["agnostic_mask"] for out in annotator(batch))
    assert upper.shape == (H, W) and set(np.unique(upper)) <= {0, 255}
    assert (upper[60:110, 60:100] > 0).all() and not (upper[130:180, 60:100] > 0).any()
    assert (lower[130:180, 60:100] > 0).all() and not (lower[60:110, 60:100] > 0).any()


def test_versions_differ_per_strategy_and_unknown_names_are_refused():
    assert AgnosticMaskAnnotator("catvton").version != AgnosticMaskAnnotator("hrviton").version
    with pytest.raises(ValueError, match="choose one of catvton, hrviton"):
        AgnosticMaskAnnotator("openpose")


def test_missing_inputs_and_bad_samples_name_the_sample():
    parse, body, dp = _figure()
    with pytest.raises(AnnotationError, match="needs densepose") as err:
        AgnosticMaskAnnotator("catvton")([_input("s7", parse=parse, pose=Pose(body))])
    assert err.value.sample_id == "s7"
    with pytest.raises(AnnotationError, match="no shoulders") as err:
        AgnosticMaskAnnotator("hrviton")([_input("s8", parse=parse, pose=Pose(body * 0), densepose=dp)])
    assert err.value.sample_id == "s8"
    with pytest.raises(AnnotationError, match="unknown category 'shoes'"):
        AgnosticMaskAnnotator("catvton")([_input("s9", "shoes", parse=parse, pose=Pose(body), densepose=dp)])
    with pytest.raises(AnnotationError, match="share one size"):
        AgnosticMaskAnnotator("catvton")([_input("s10", parse=parse, pose=Pose(body), densepose=dp[:50])])


def test_hrviton_gives_back_the_hand_beyond_the_wrist_disc_and_the_head():
    parse, body, _ = _figure()
    parse[140:190, 30:45] = 15  # a long hand hanging below the right wrist (y=118)
    mask = hrviton_mask(parse, body, "upper") > 0
    r = int(64 / 16) + 1
    assert mask[118, 37] and not mask[118 + 4 * r + 10 :, 30:45].any()
    assert not mask[parse == 13].any() and not mask[parse == 9].any()


def test_hrviton_extrapolates_hips_outside_an_upper_body_crop():
    parse, body, _ = _figure()
    full = hrviton_mask(parse, body, "upper") > 0
    body[8:14] = 0  # hips, knees, ankles outside the image, as OpenPose writes them
    cropped = hrviton_mask(parse, body, "upper") > 0
    garment = parse == 5
    assert (cropped & garment).sum() == garment.sum()
    assert (cropped[55:120] == full[55:120]).mean() > 0.9
    with pytest.raises(ValueError, match="no hips"):
        hrviton_mask(parse, body, "lower")


def test_score_agnostic_counts_coverage_and_spill():
    parse, _, dp = _figure()
    region = parse == 5
    mask = np.zeros((H, W), np.uint8)
    mask[55:120, 50:80] = 255  # half the garment
    mask[20:35, 65:95] = 255  # half the face
    mask[125:140, 30:45] = 255  # one of two hands
    score = score_agnostic(mask, region, parse, dp)
    assert score["coverage"] == pytest.approx(0.5)
    assert score["face_spill"] == pytest.approx(0.5)
    assert score["hand_spill"] == pytest.approx(0.5)
    assert score["area"] == pytest.approx((mask > 0).mean())
    assert np.isnan(score_agnostic(mask, region, parse)["hand_spill"])
    assert np.isnan(score_agnostic(mask, region * 0, parse)["coverage"])
    with pytest.raises(ValueError, match="share one size"):
        score_agnostic(mask[:10], region, parse)
