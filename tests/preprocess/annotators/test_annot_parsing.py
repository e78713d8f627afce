"""SCHP parsing annotator: SCHP's affine, align-corners upsampling and inverse warp, and end to end on tiny
ONNX models with the exports' names and shapes (input "input.1" 1x3x473x473 for LIP, 1x3x512x512 for ATR;
three outputs parsing, fusion, edge at a quarter of the input size), imported into a weights store.

The tiny models label each pixel by its nearest reference colour in SCHP's normalised BGR space, in the
fusion output only (the parsing output is deliberately wrong), so a painted figure must come back as the
painted label map when the image is prepared, read and warped back as SCHP does.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fixtures.onnx_weights import export_onnx, store_with

from preprocess.annotators.base import AnnotationInput, Annotator
from preprocess.annotators.human_parsing import (
    MODELS,
    HumanParsingAnnotator,
    person_center_scale,
    prepare,
    schp_affine,
    upsample_align_corners,
)
from preprocess.annotators.label_maps import ATR_LABELS, LIP_LABELS
from preprocess.images import decode_image
from vton.weights import MissingWeightsError

# The painted figure: region -> RGB colour, LIP label, ATR label.
REGIONS = {
    "background": ((0, 0, 0), "Background", "background"),
    "hair": ((20, 150, 40), "Hair", "hair"),  # not a blend of neighbouring colours
    "face": ((235, 185, 150), "Face", "head"),
    "upper": ((220, 30, 30), "Upper-clothes", "upper_clothes"),
    "pants": ((30, 40, 200), "Pants", "pants"),
}


class NearestColour(torch.nn.Module):
    """SCHP-shaped stand-in: per-class logits 2c.x - |c|^2 for reference colours c (normalised BGR)."""

    def __init__(self, classes: int, colours: dict[int, tuple[int, int, int]], out_size: int) -> None:
        super().__init__()
        weight = torch.zeros(classes, 3, 1, 1)
        bias = torch.full((classes,), -1e3)  # classes without a colour never win
        for label, rgb in colours.items():
            bgr = np.array(rgb[::-1]) / 255.0
            c = torch.tensor((bgr - [0.406, 0.456, 0.485]) / [0.225, 0.224, 0.229], dtype=torch.float32)
            weight[label, :, 0, 0] = 2 * c
            bias[label] = -(c * c).sum()
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)
        self.out_size = out_size

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        small = F.interpolate(x, size=(self.out_size, self.out_size), mode="bilinear", align_corners=False)
        logits = F.conv2d(small, self.weight, self.bias)
        return -logits, logits, logits[:, :2]


def export_parser(path: Path, labels: str, classes: int | None = None, dynamic_batch: bool = False) -> Path:
    model = MODELS[labels]
    names = LIP_LABELS if labels == "lip" else ATR_LABELS
    column = 1 if labels == "lip" else 2
    colours = {names.index(spec[column]): spec[0] for spec in REGIONS.values()}
    size = model.input_hw[0]
    module = NearestColour(classes or model.classes, colours, (size + 3) // 4)
    return export_onnx(
        module, torch.zeros(1, 3, size, size), path, "input.1", ["parsing", "fusion", "edge"], dynamic_batch
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schp")
    files = {
        "schp_lip_onnx": export_parser(folder / "export" / "parsing_lip.onnx", "lip"),
        "schp_atr_onnx": export_parser(folder / "export" / "parsing_atr.onnx", "atr", dynamic_batch=True),
    }
    return store_with(folder / "store", files)


def painted(size_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """An RGB figure and its LIP label map: hair and face on top, shirt, trousers, black background."""
    h, w = size_hw
    truth = np.zeros(size_hw, dtype=np.uint8)
    cx = w // 2
    cv2.ellipse(truth, (cx, h // 6), (w // 8, h // 10), 0, 0, 360, LIP_LABELS.index("Hair"), -1)
    cv2.ellipse(truth, (cx, h // 5), (w // 11, h // 12), 0, 0, 360, LIP_LABELS.index("Face"), -1)
    cv2.rectangle(
        truth, (cx - w // 4, h // 3), (cx + w // 4, h * 3 // 5), LIP_LABELS.index("Upper-clothes"), -1
    )
    cv2.rectangle(
        truth, (cx - w // 5, h * 3 // 5 + 1), (cx + w // 5, h * 9 // 10), LIP_LABELS.index("Pants"), -1
    )
    palette = np.zeros((len(LIP_LABELS), 3), dtype=np.uint8)
    for rgb, lip, _ in REGIONS.values():
        palette[LIP_LABELS.index(lip)] = rgb
    return palette[truth], truth


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


# -- geometry ----------------------------------------------------------------------------------------


def test_whole_image_box_is_widened_to_the_input_aspect():
    center, scale = person_center_scale(121, 181, (473, 473))
    np.testing.assert_allclose(center, [60, 90])
    np.testing.assert_allclose(scale, [180, 180])
    center, scale = person_center_scale(161, 101, (512, 512))
    np.testing.assert_allclose(scale, [160, 160])


def _third(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a - b
    return b + np.array([-d[1], d[0]], dtype=np.float32)


@pytest.mark.parametrize("size_wh", [(121, 181), (161, 101)])
def test_affine_matches_schp_three_point_construction_and_maps_the_long_side_end_to_end(size_wh):
    center, scale = person_center_scale(*size_wh, (473, 473))
    src = np.zeros((3, 2), dtype=np.float32)
    dst = np.zeros((3, 2), dtype=np.float32)
    src[0], src[1] = center, center + [0, -scale[0] * 0.5]
    dst[0], dst[1] = [236, 236], [236, 236 - 236]
    src[2], dst[2] = _third(src[0], src[1]), _third(dst[0], dst[1])
    matrix = schp_affine(center, scale, (473, 473))

    np.testing.assert_allclose(matrix, cv2.getAffineTransform(src, dst), atol=1e-4)
    w, h = size_wh
    corners = cv2.transform(np.array([[[0, 0], [w - 1, h - 1]]], dtype=np.float64), matrix)[0]
    long_axis = 0 if w > h else 1
    np.testing.assert_allclose(corners[:, long_axis], [0, 472], atol=1e-6)


def test_upsampling_equals_torch_align_corners_bilinear():
    logits = np.random.default_rng(0).normal(size=(5, 30, 30)).astype(np.float32)
    ours = upsample_align_corners(logits, (119, 119))
    theirs = F.interpolate(
        torch.from_numpy(logits)[None], size=(119, 119), mode="bilinear", align_corners=True
    )
    np.testing.assert_allclose(ours, theirs[0].numpy(), atol=1e-5)


def test_input_is_bgr_scaled_to_unit_range_and_normalised_with_bgr_imagenet_statistics():
    image = np.zeros((50, 50, 3), dtype=np.uint8)
    image[..., 0] = 255  # pure red
    net_input, _ = prepare(image, MODELS["lip"])
    assert net_input.shape == (3, 473, 473) and net_input.dtype == np.float32
    centre = net_input[:, 236, 236]
    np.testing.assert_allclose(
        centre, [(0 - 0.406) / 0.225, (0 - 0.456) / 0.224, (1 - 0.485) / 0.229], rtol=1e-5
    )


# -- the annotator -----------------------------------------------------------------------------------


@pytest.mark.parametrize("labels", ["lip", "atr"])
@pytest.mark.parametrize("size_hw", [(180, 120), (100, 160)])
def test_end_to_end_the_painted_figure_comes_back_in_lip_labels(store, labels, size_hw):
    annotator = HumanParsingAnnotator(labels, store=store, device="cpu")
    assert isinstance(annotator, Annotator) and annotator.name == f"schp_{labels}"
    image, truth = painted(size_hw)
    other, other_truth = painted((size_hw[0] + 20, size_hw[1]))

    results = annotator(
        [AnnotationInput("a", {}, Path("."), person=image), AnnotationInput("b", {}, Path("."), person=other)]
    )

    for result, expected in zip(results, (truth, other_truth), strict=True):
        parse = result["parse"]
        assert parse.shape == expected.shape and parse.dtype == np.uint8
        assert (parse == expected).mean() > 0.97
        for _, lip, _ in REGIONS.values():
            label = LIP_LABELS.index(lip)
            assert iou(parse == label, expected == label) > 0.85, lip
    if labels == "atr":
        raw = results[0]["parse_atr"]
        assert set(results[0]) == {"parse", "parse_atr"}
        assert iou(raw == ATR_LABELS.index("head"), truth == LIP_LABELS.index("Face")) > 0.85
        assert iou(raw == ATR_LABELS.index("pants"), truth == LIP_LABELS.index("Pants")) > 0.85
    else:
        assert set(results[0]) == {"parse"}


def test_missing_weights_fail_fast_with_the_store_one_line_error(tmp_path):
    store = store_with(tmp_path / "store", {}, missing=("schp_atr_onnx",))
    with pytest.raises(MissingWeightsError) as err:
        HumanParsingAnnotator("atr", store=store, device="cpu")
    assert "\n" not in str(err.value) and "vton weights import /path/to/parsing_atr.onnx" in str(err.value)


def test_unknown_model_and_a_model_with_the_wrong_classes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="choose one of lip, atr"):
        HumanParsingAnnotator("cihp", store=store_with(tmp_path / "empty", {}))
    wrong = export_parser(tmp_path / "export" / "parsing_lip.onnx", "lip", classes=18)
    annotator = HumanParsingAnnotator("lip", store=store_with(tmp_path / "store", {"schp_lip_onnx": wrong}))
    image, _ = painted((60, 40))
    with pytest.raises(ValueError, match=r"parsing_lip.onnx gives logits of shape \(1, 18, 119, 119\)"):
        annotator([AnnotationInput("a", {}, Path("."), person=image)])


def test_reads_the_person_file_when_not_given(store, tmp_path):
    from preprocess.formats import read_dataset
    from preprocess.synthetic import generate_dataset

    root = tmp_path / "vitonhd"
    generate_dataset("vitonhd", 1, root, seed=2, size=(128, 96))
    sample = read_dataset(root, "synth", "vitonhd").samples[0]
    row = {"person_path": sample.person_path}
    annotator = HumanParsingAnnotator("lip", store=store, device="cpu")

    from_file = annotator([AnnotationInput(sample.sample_id, row, root)])[0]["parse"]
    given = annotator(
        [AnnotationInput(sample.sample_id, row, root, person=decode_image(root / sample.person_path))]
    )

    assert from_file.shape == (128, 96)
    np.testing.assert_array_equal(from_file, given[0]["parse"])
