"""HQFT filter on generated datasets: each criterion against the generator's labels (measured on the render),
selection, reasons, resize-and-pad boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from preprocess.annotators.base import AnnotationError, Pose
from preprocess.filters.hqft import (
    HQFTDecision,
    HQFTThresholds,
    PaddingBox,
    apply_padding,
    decide,
    pad_to_aspect,
    padding_box,
    select_hqft,
)
from preprocess.filters.hqft_calibration import REASON_OF_LABEL, decide_synthetic, flags, score_criteria
from preprocess.filters.hqft_inputs import HQFTInput, load_hqft_input
from preprocess.filters.hqft_measures import body_proportions, torso_frame
from preprocess.formats import read_dataset
from preprocess.synthetic import generate_dataset
from preprocess.synthetic import truth as T

BAR = 0.9


@pytest.fixture(scope="module", params=["vitonhd", "dresscode"])
def scored(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("hqft") / request.param
    generate_dataset(request.param, 60, root, seed=7, size=(128, 96))  # held out: calibrated on 3
    decisions, records = decide_synthetic(root, request.param)
    return decisions, records, score_criteria(decisions, records)


@pytest.mark.parametrize("label", list(REASON_OF_LABEL))
def test_criterion_meets_bar(scored, label):
    score = scored[2][label]
    assert score.positives >= 5, "the seed must give enough labelled cases to measure"
    assert score.precision >= BAR and score.recall >= BAR, (label, score)


def test_flagged_pairs_are_dropped_with_reasons(scored):
    decisions, records, _ = scored
    for decision, record in zip(decisions, records, strict=True):
        flagged = flags(decision)
        failed = [k for k in ("truncated", "side_view", "occluded") if flagged[k]]
        assert decision.keep == (not failed), decision.reasons
        assert decision.resize_pad == (decision.keep and flagged["extreme_proportion"]), decision.reasons
        assert decision.hard_case == (
            decision.keep and any(r.startswith("hard case") for r in decision.reasons)
        )
        for reason in decision.reasons:
            assert decision.sample_id not in reason and len(reason) > 20 and ":" in reason
        if record["truncated"]:
            assert any("runs off the image border" in r for r in decision.reasons)
    assert any(d.resize_pad for d in decisions) and any(d.hard_case for d in decisions)


def test_filter_limits_are_the_labels_definitions():
    """The generator labels with the same limits the filter decides with (a change must move both)."""
    th = HQFTThresholds()
    assert (th.occlusion_fail, th.occlusion_mild) == (T.OCCLUDED_SLAB, T.MILD_SLAB)
    assert (th.torso_heads, th.build, th.hem) == (T.TORSO_HEADS, T.BUILD, T.HEM)
    assert (th.ease, th.flare) == (T.EASE, T.FLARE)


def test_select_hqft_keeps_the_requested_fraction(scored):
    decisions = scored[0]
    for fraction in (0.1, 0.2, 0.3):
        chosen = select_hqft(decisions, fraction)
        assert len(chosen) == round(fraction * len(decisions))
        assert all(d.keep for d in chosen)
        assert len({d.sample_id for d in chosen}) == len(chosen)
    assert select_hqft(decisions, 0.2) == select_hqft(list(reversed(decisions)), 0.2)
    with pytest.raises(ValueError, match="fraction"):
        select_hqft(decisions, 1.5)


def _figure(case: int) -> HQFTInput:
    """A hand-built frontal figure: upper garment on the torso; 1: a lock of hair over the collar,
    2: both forearms folded across the chest."""
    h, w = 128, 96
    parse = np.zeros((h, w), np.uint8)
    parse[10:28, 38:58] = 13  # face
    parse[30:80, 30:66] = 5  # upper clothes
    parse[80:125, 34:62] = 9  # pants
    body = np.zeros((18, 3), np.float32)
    for index, (x, y) in {0: (48, 16), 1: (48, 30), 2: (34, 32), 5: (62, 32), 8: (38, 78), 11: (58, 78),
                          16: (40, 16), 17: (56, 16), 9: (38, 100), 12: (58, 100)}.items():  # fmt: skip
        body[index] = (x, y, 0.9)
    body[3] = (26, 50, 0.9)
    body[6] = (70, 50, 0.9)
    body[4] = (24, 70, 0.9)
    body[7] = (72, 70, 0.9)
    if case == 1:
        parse[32:36, 44:50] = 2
    if case == 2:
        parse[40:56, 40:58] = 14
        body[4], body[7] = (44, 55, 0.9), (50, 45, 0.9)
    return HQFTInput(f"fig{case}", "upper", parse, Pose(body=body, source="test"))


def test_mild_occlusion_is_kept_as_hard_case_and_heavy_one_dropped():
    clean, mild, heavy = decide([_figure(0), _figure(1), _figure(2)])
    assert clean.keep and not clean.hard_case, clean.reasons
    assert mild.keep and mild.hard_case, mild.scores
    assert any(r.startswith("hard case: mild occlusion of the upper garment's collar") for r in mild.reasons)
    assert not heavy.keep and any(r.startswith("occluded:") for r in heavy.reasons), heavy.scores
    assert clean.scores["occlusion"] < mild.scores["occlusion"] < heavy.scores["occlusion"]
    # the hair lock covers 24 of the collar slab's 15 x 16 pixels (the band between x 41 and 55)
    assert mild.scores["occlusion_collar"] == pytest.approx(24 / (15 * 16), abs=0.02)


def test_body_proportions_from_pose_flag_a_small_head_as_extreme():
    usual = _figure(0)
    heads, build = body_proportions(usual, torso_frame(usual.pose.body))
    assert 1.96 < heads < 2.75 and 0.75 < build < 1.25, (heads, build)
    small_head = _figure(0)
    small_head.pose.body[0] = (48, 22, 0.9)  # nose close to the neck: a head much smaller than the torso
    assert body_proportions(small_head, torso_frame(small_head.pose.body))[0] > heads + 2
    unseen = _figure(0)
    unseen.pose.body[0, 2] = 0.0
    assert np.isnan(body_proportions(unseen, torso_frame(unseen.pose.body))).all()
    clean, extreme = decide([usual, small_head])
    assert clean.keep and not clean.resize_pad, clean.reasons
    assert extreme.keep and extreme.resize_pad, "IGR keeps extreme proportions, resized and padded"
    assert any(r.startswith("extreme proportion: the torso is") for r in extreme.reasons), extreme.reasons


def test_a_narrow_frontal_figure_is_no_side_view_unless_an_ear_is_hidden():
    narrow = _figure(0)
    narrow.pose.body[2, 0], narrow.pose.body[5, 0] = 42, 54  # shoulders 12 px apart over a 46 px torso
    frontal = decide([narrow])[0]
    assert not any(r.startswith("side view") for r in frontal.reasons), frontal.reasons
    narrow.pose.body[17, 2] = 0.0  # the far ear turned away
    turned = decide([narrow])[0]
    assert not turned.keep and any(r.startswith("side view") for r in turned.reasons), turned.reasons


def test_thresholds_are_explicit_parameters():
    mild = _figure(1)
    strict = decide([mild], HQFTThresholds(occlusion_fail=0.01, occlusion_mild=0.005))[0]
    assert not strict.keep
    assert isinstance(decide([mild])[0], HQFTDecision)


def test_pad_to_aspect_keeps_content_undistorted():
    tall = np.zeros((200, 50, 3), np.uint8)
    tall[:, :] = (10, 200, 30)
    out, (scale, dx, dy) = pad_to_aspect(tall, aspect=0.75, fill=255)
    assert out.shape == (200, 150, 3) and scale == 1.0 and (dx, dy) == (50, 0)
    assert (out[:, :50] == 255).all() and (out[:, 50:100] == (10, 200, 30)).all()
    labels = np.full((40, 120), 7, np.uint8)
    out, (scale, dx, dy) = pad_to_aspect(labels, aspect=0.75, size=(128, 96), fill=0)
    assert out.shape == (128, 96) and set(np.unique(out)) == {0, 7}
    assert dy == (128 - round(40 * scale)) // 2 and dx == 0


def test_padding_box_reframes_the_content_at_the_canvas_aspect():
    parse = np.zeros((128, 96), np.uint8)
    parse[20:120, 40:56] = 5  # a tall, thin figure: 16 x 100 pixels
    box = padding_box(parse, margin=0.1)
    assert box is not None and box.size == (128, 96)
    assert box.crop == (38, 10, 58, 128)  # grown by 10% (2 and 10 pixels), clipped at the bottom
    out = apply_padding(parse, box, fill=0)
    assert out.shape == (128, 96) and set(np.unique(out)) == {0, 5}
    ys, xs = np.nonzero(out)
    assert abs((xs.min() + xs.max()) / 2 - 47.5) <= 1 and ys.max() - ys.min() + 1 == pytest.approx(
        100 * box.scale, abs=1
    )
    dx, dy = box.offset
    x0, y0 = box.crop[:2]
    assert (
        abs(xs.min() - (box.scale * (40 - x0) + dx)) <= 1
        and abs(ys.min() - (box.scale * (20 - y0) + dy)) <= 1
    )
    assert PaddingBox.from_json(box.to_json()) == box
    rgb = np.dstack([parse * 40] * 3).astype(np.uint8)
    assert apply_padding(rgb, box).shape == (128, 96, 3)
    assert padding_box(np.zeros((8, 8), np.uint8)) is None


def test_missing_annotation_is_a_clear_error(tmp_path):
    root = tmp_path / "ds"
    generate_dataset("vitonhd", 2, root, seed=1, size=(64, 48))
    sample = read_dataset(root, "ds", "vitonhd").samples[0]
    sample.annotations.pop("pose")
    with pytest.raises(AnnotationError, match="needs a 'pose' annotation"):
        load_hqft_input(sample, root)
    sample = read_dataset(root, "ds", "vitonhd").samples[0]
    (root / sample.annotations["pose"]).write_text("{not json", encoding="utf-8")
    with pytest.raises(AnnotationError, match="pose file .* unreadable"):
        load_hqft_input(sample, root)
    assert Path(root / sample.annotations["parse"]).is_file()
