"""DWPose annotator: YOLOX/SimCC pre- and post-processing on hand-built outputs, and end to end on tiny ONNX
models with the published names and shapes (YOLOX "images" 1x3x640x640 -> (1, 8400, 85); dw-ll_ucoco_384
"input" 1x3x384x288 -> "simcc_x" (1, 133, 576), "simcc_y" (1, 133, 768)), imported into a weights store.

The tiny detector scores stride-32 cells by their brightest pixel and proposes a fixed 320-pixel box; the
tiny pose model places each keypoint at the brightest column/row of one colour channel of its crop, so a
coloured blob drawn in the image is where the keypoints reading that channel must land.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fixtures.onnx_weights import export_onnx, store_with

from preprocess.annotators.base import OPENPOSE18_NAMES, AnnotationError, AnnotationInput, Annotator
from preprocess.annotators.dwpose import (
    DETECTOR_WEIGHTS,
    POSE_WEIGHTS,
    DWPoseAnnotator,
    box_center_scale,
    crop_matrix,
    crop_person,
    crop_to_image,
    decode_simcc,
    letterbox,
    person_boxes,
    to_openpose,
    yolox_decode,
)
from preprocess.images import decode_image
from vton.weights import MissingWeightsError

# COCO-WholeBody's 17 body points in the published order (mmpose's coco_wholebody dataset info).
COCO_BODY = (
    "nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow",
    "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
)  # fmt: skip
RED, GREEN, BLUE = 0, 1, 2
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_WRIST, RIGHT_WRIST = 5, 6, 9, 10  # COCO indices
WEAK_GAIN = 0.1  # the tiny pose model's gain for the left wrist: a low-confidence point
BOX = 320.0  # the tiny detector's box side, letterbox pixels


class TinyYolox(torch.nn.Module):
    """YOLOX-shaped head: stride-32 cells whose brightest pixel exceeds 200 propose a centred 320 px person box."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        bright = images.amax(dim=1, keepdim=True)
        levels = []
        for stride in (8, 16, 32):
            pooled = F.max_pool2d(bright, stride)
            zero = pooled * 0
            objectness = torch.sigmoid((pooled - 200) / 10) if stride == 32 else zero
            classes = torch.cat([zero + 0.99, (zero + 0.01).expand(-1, 79, -1, -1)], dim=1)
            size = zero + math.log(BOX / stride)
            level = torch.cat([zero + 0.5, zero + 0.5, size, size, objectness, classes], dim=1)
            levels.append(level.flatten(2))
        return torch.cat(levels, dim=2).permute(0, 2, 1)


class TinySimCC(torch.nn.Module):
    """SimCC-shaped head: keypoint k's x/y logits are the column/row maxima of one channel, upsampled x2."""

    def __init__(self) -> None:
        super().__init__()
        weight = torch.zeros(133, 3, 1)
        weight[:, BLUE] = 1.0
        weight[LEFT_SHOULDER] = torch.tensor([[1.0], [0.0], [0.0]])
        weight[RIGHT_SHOULDER] = torch.tensor([[0.0], [1.0], [0.0]])
        weight[LEFT_WRIST, BLUE] = WEAK_GAIN
        weight[RIGHT_WRIST] = 0.0
        bias = torch.zeros(133)
        bias[RIGHT_WRIST] = -1.0  # never positive: a point the model cannot place
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)

    def forward(self, crop: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        simcc_x = F.conv1d(crop.amax(dim=2), self.weight, self.bias)
        simcc_y = F.conv1d(crop.amax(dim=3), self.weight, self.bias)
        return F.interpolate(simcc_x, scale_factor=2.0), F.interpolate(simcc_y, scale_factor=2.0)


def export_models(folder: Path, dynamic_batch: bool) -> dict[str, Path]:
    detector = export_onnx(
        TinyYolox(), torch.zeros(1, 3, 640, 640), folder / "yolox_l.onnx", "images", ["output"], dynamic_batch
    )
    pose = export_onnx(
        TinySimCC(),
        torch.zeros(1, 3, 384, 288),
        folder / "dw-ll_ucoco_384.onnx",
        "input",
        ["simcc_x", "simcc_y"],
        dynamic_batch,
    )
    return {DETECTOR_WEIGHTS: detector, POSE_WEIGHTS: pose}


@pytest.fixture(scope="module", params=[False, True], ids=["fixed-batch", "dynamic-batch"])
def annotator(request, tmp_path_factory) -> DWPoseAnnotator:
    folder = tmp_path_factory.mktemp("dwpose")
    store = store_with(folder / "store", export_models(folder / "export", request.param))
    return DWPoseAnnotator(store=store, device="cpu")


def blob_image(
    size_hw: tuple[int, int], blobs: dict[int, tuple[float, float]], peak: float = 255.0
) -> np.ndarray:
    """Black RGB image with a Gaussian blob (sigma 1.5 px) per channel, centred on the given (x, y)."""
    ys, xs = np.mgrid[: size_hw[0], : size_hw[1]]
    image = np.zeros((*size_hw, 3), dtype=np.float64)
    for channel, (x, y) in blobs.items():
        image[..., channel] = peak * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * 1.5**2))
    return np.round(image).astype(np.uint8)


def item(image: np.ndarray, sample_id: str = "s0") -> AnnotationInput:
    return AnnotationInput(sample_id=sample_id, row={}, root=Path("."), person=image)


# -- detector pre- and post-processing ---------------------------------------------------------------


def test_letterbox_places_the_scaled_image_top_left_on_grey_and_maps_back():
    image = np.zeros((300, 200, 3), dtype=np.uint8)
    image[100:120, 50:70] = 255
    canvas, ratio = letterbox(image)

    assert canvas.shape == (3, 640, 640) and canvas.dtype == np.float32
    assert ratio == pytest.approx(640 / 300)
    assert (canvas[:, :, int(200 * ratio) :] == 114).all()  # right of the image: padding
    assert (canvas[:, :, : int(200 * ratio) - 1] != 114).all()
    ys, xs = np.nonzero(canvas[0] > 127)
    found = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) / ratio
    np.testing.assert_allclose(found, [50, 100, 70, 120], atol=1.0)


def test_yolox_decoding_and_nms_keep_the_best_person_boxes_in_image_pixels():
    raw = np.zeros((1, 8400, 85), dtype=np.float32)

    def put(index: int, xy, wh_raw, obj: float, person: float, other: float = 0.0) -> None:
        raw[0, index, :4] = [*xy, *wh_raw]
        raw[0, index, 4], raw[0, index, 5], raw[0, index, 6] = obj, person, other

    # stride 8, cell (x=10, y=20): centre (84, 162), size 100 x 200 in letterbox pixels, score 0.81
    put(20 * 80 + 10, (0.5, 0.25), (math.log(12.5), math.log(25)), 0.9, 0.9)
    # stride 16, cell (5, 10): centre (88, 168), size 96 x 192, score 0.5: overlaps the first, suppressed
    put(6400 + 10 * 40 + 5, (0.5, 0.5), (math.log(6), math.log(12)), 1.0, 0.5)
    # stride 32, cell (15, 4): centre (496, 144), size 64 x 128, score 0.4: far away, kept
    put(8000 + 4 * 20 + 15, (0.5, 0.5), (math.log(2), math.log(4)), 0.8, 0.5)
    # below the person score (0.25), and a confident non-person: both dropped
    put(8000 + 15 * 20 + 2, (0.5, 0.5), (0.0, 0.0), 0.5, 0.5)
    put(8000 + 15 * 20 + 10, (0.5, 0.5), (0.0, 0.0), 1.0, 0.01, 0.99)

    decoded = yolox_decode(raw)
    np.testing.assert_allclose(decoded[0, 20 * 80 + 10, :4], [84, 162, 100, 200], rtol=1e-5)
    boxes, scores = person_boxes(decoded[0], ratio=2.0)

    np.testing.assert_allclose(scores, [0.81, 0.4], rtol=1e-5)
    np.testing.assert_allclose(boxes, [[17, 31, 67, 131], [232, 40, 264, 104]], rtol=1e-5)


def test_yolox_output_of_the_wrong_shape_is_refused_with_the_expected_one():
    with pytest.raises(ValueError, match=r"\(N, 8400, 5 \+ classes\)"):
        yolox_decode(np.zeros((1, 2100, 85), dtype=np.float32))


# -- pose pre- and post-processing -------------------------------------------------------------------


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a - b
    return b + np.array([-d[1], d[0]])


def test_crop_matrix_equals_the_three_point_affine_dwpose_builds():
    box = np.array([100.0, 50.0, 220.0, 330.0])
    center, scale = box_center_scale(box, 288 / 384)
    np.testing.assert_allclose(center, [160, 190])
    np.testing.assert_allclose(scale, [280 * 1.25 * 0.75, 280 * 1.25])  # taller than 3:4: width follows

    src = np.array([center, center + [0, -scale[0] / 2], [0, 0]], dtype=np.float32)
    src[2] = _third_point(src[0], src[1])
    dst = np.array([[144, 192], [144, 192 - 144], [0, 0]], dtype=np.float32)
    dst[2] = _third_point(dst[0], dst[1])
    np.testing.assert_allclose(
        crop_matrix(center, scale, (288, 384)), cv2.getAffineTransform(src, dst), atol=1e-4
    )


def test_simcc_peaks_decode_onto_the_known_pixels_after_back_projection():
    rng = np.random.default_rng(3)
    box = np.array([100.0, 50.0, 220.0, 330.0])
    center, scale = box_center_scale(box, 288 / 384)
    targets = np.stack([rng.uniform(100, 220, 133), rng.uniform(50, 330, 133)], axis=1)
    in_crop = cv2.transform(targets[None], crop_matrix(center, scale, (288, 384)))[0]
    simcc_x = rng.uniform(-0.5, 0.2, (1, 133, 576)).astype(np.float32)
    simcc_y = rng.uniform(-0.5, 0.2, (1, 133, 768)).astype(np.float32)
    peaks_x, peaks_y = rng.uniform(0.4, 0.9, 133), rng.uniform(0.4, 0.9, 133)
    simcc_x[0, np.arange(133), np.round(in_crop[:, 0] * 2).astype(int)] = peaks_x
    simcc_y[0, np.arange(133), np.round(in_crop[:, 1] * 2).astype(int)] = peaks_y
    simcc_x[0, 40] = -1.0  # nowhere positive: undetected

    points, scores = decode_simcc(simcc_x, simcc_y)
    in_image = crop_to_image(points[0], center, scale)

    placed = np.arange(133) != 40
    assert np.abs(in_image[placed] - targets[placed]).max() <= 1.0
    np.testing.assert_allclose(scores[0, placed], np.minimum(peaks_x, peaks_y)[placed], rtol=1e-6)
    assert scores[0, 40] < 0 and (points[0, 40] == -0.5).all()
    assert (to_openpose(in_image, scores[0])[41] == 0).all()  # COCO 40 sits at 41 after the neck


def test_crop_content_lands_where_back_projection_says():
    image = blob_image((240, 180), {GREEN: (61.0, 143.0)})
    crop, center, scale = crop_person(image, np.array([30.0, 80.0, 130.0, 220.0]))
    assert crop.shape == (3, 384, 288) and crop.dtype == np.float32
    y, x = np.unravel_index(np.argmax(crop[GREEN]), crop[GREEN].shape)
    np.testing.assert_allclose(
        crop_to_image(np.array([[x, y]], dtype=np.float64), center, scale)[0], [61, 143], atol=1.0
    )
    # normalised with mmpose's ImageNet mean/std on 0-255 RGB: black is (0 - 123.675) / 58.395 in red
    assert crop[RED, 0, 0] == pytest.approx(-123.675 / 58.395, rel=1e-5)


def test_neck_is_inserted_from_the_shoulders_and_body_follows_openpose_order():
    points = np.stack([np.arange(133) * 2.0, 1000.0 + np.arange(133)], axis=1)
    scores = np.full(133, 0.9, dtype=np.float32)
    scores[COCO_BODY.index("l_shoulder")] = 0.6
    scores[COCO_BODY.index("r_shoulder")] = 0.2  # one weak shoulder: a weak neck

    whole = to_openpose(points, scores)

    assert whole.shape == (134, 3)
    for slot, name in enumerate(OPENPOSE18_NAMES):
        if name == "neck":
            continue
        coco = COCO_BODY.index(name)
        np.testing.assert_allclose(whole[slot], [*points[coco], scores[coco]], err_msg=name)
    shoulders = points[[COCO_BODY.index("l_shoulder"), COCO_BODY.index("r_shoulder")]]
    np.testing.assert_allclose(whole[1], [*shoulders.mean(axis=0), 0.2])
    np.testing.assert_allclose(whole[18:, :2], points[17:])  # feet, face, hands keep their order
    np.testing.assert_allclose(whole[18:, 2], scores[17:])


# -- the annotator -----------------------------------------------------------------------------------


def test_missing_weights_fail_fast_with_the_store_one_line_error(tmp_path):
    store = store_with(tmp_path / "store", {}, missing=(DETECTOR_WEIGHTS, POSE_WEIGHTS))
    with pytest.raises(MissingWeightsError) as err:
        DWPoseAnnotator(store=store, device="cpu")
    message = str(err.value)
    assert "\n" not in message
    assert "yolox_l.onnx" in message and "vton weights import /path/to/yolox_l.onnx" in message


def test_end_to_end_keypoints_land_on_the_blobs_in_openpose_order(annotator):
    assert isinstance(annotator, Annotator)
    first = {RED: (104.0, 100.0), GREEN: (88.0, 101.0), BLUE: (96.0, 112.0)}
    second = {RED: (60.0, 150.0), GREEN: (45.0, 148.0), BLUE: (52.0, 170.0)}
    images = [blob_image((256, 192), first), blob_image((256, 192), second)]

    detections = annotator.detect(images)
    results = annotator([item(images[0], "a"), item(images[1], "b")])

    assert [len(boxes) for boxes, _ in detections] == [1, 1]  # neighbouring cells merged by NMS
    for blobs, (boxes, _), result in zip((first, second), detections, results, strict=True):
        x1, y1, x2, y2 = boxes[0]
        assert x2 - x1 == pytest.approx(BOX / 2.5) and all(
            x1 < x < x2 and y1 < y < y2 for x, y in blobs.values()
        )
        pose = result["pose"]
        assert pose.source == "dwpose" and pose.body.shape == (18, 3) and pose.wholebody.shape == (134, 3)
        np.testing.assert_array_equal(pose.body, pose.wholebody[:18])
        body = {name: pose.body[i] for i, name in enumerate(OPENPOSE18_NAMES)}
        np.testing.assert_allclose(body["l_shoulder"][:2], blobs[RED], atol=1.0)
        np.testing.assert_allclose(body["r_shoulder"][:2], blobs[GREEN], atol=1.0)
        np.testing.assert_allclose(body["neck"][:2], np.mean([blobs[RED], blobs[GREEN]], axis=0), atol=1.0)
        assert body["neck"][2] == pytest.approx(min(body["l_shoulder"][2], body["r_shoulder"][2]))
        for name in ("nose", "r_elbow", "l_hip", "r_ankle", "l_ear"):
            np.testing.assert_allclose(body[name][:2], blobs[BLUE], atol=1.0, err_msg=name)
            assert body[name][2] > 1.0
        np.testing.assert_allclose(pose.wholebody[18:, :2], np.tile(blobs[BLUE], (116, 1)), atol=1.0)
        np.testing.assert_allclose(body["l_wrist"][:2], blobs[BLUE], atol=1.0)  # kept, but low confidence
        assert 0 < body["l_wrist"][2] < 0.3
        assert (body["r_wrist"] == 0).all()  # undetected


def test_without_a_detection_the_whole_image_is_the_person(annotator):
    image = blob_image((200, 120), {BLUE: (70.0, 40.0)}, peak=150.0)  # too dim for the tiny detector

    ((boxes, _),) = annotator.detect([image])
    (result,) = annotator([item(image)])

    assert len(boxes) == 0
    np.testing.assert_allclose(result["pose"].body[0, :2], [70, 40], atol=1.0)


def test_reads_the_person_file_when_not_given_and_reports_bad_files(annotator, tmp_path):
    from preprocess.formats import read_dataset
    from preprocess.synthetic import generate_dataset

    root = tmp_path / "vitonhd"
    generate_dataset("vitonhd", 1, root, seed=1, size=(128, 96))
    (sample,) = read_dataset(root, "synth", "vitonhd").samples[:1]
    row = {"person_path": sample.person_path}
    decoded = decode_image(root / sample.person_path)

    from_file = annotator([AnnotationInput(sample.sample_id, row, root)])[0]["pose"]
    given = annotator([AnnotationInput(sample.sample_id, row, root, person=decoded)])[0]["pose"]
    np.testing.assert_array_equal(from_file.wholebody, given.wholebody)

    (root / "broken.jpg").write_bytes(b"")
    with pytest.raises(AnnotationError) as err:
        annotator([AnnotationInput("broken", {"person_path": "broken.jpg"}, root)])
    assert "broken.jpg" in err.value.reason and err.value.sample_id == "broken"
