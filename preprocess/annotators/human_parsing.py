"""SCHP human parsing on onnxruntime: the LIP (473x473) and ATR (512x512) models from the weights store.

Pre- and post-processing follow Self-Correction-Human-Parsing's `simple_extractor` (as OOTDiffusion and
IDM-VTON run its ONNX exports): the person box is the whole image [0, 0, W-1, H-1], widened to the
input's aspect, and warped by SCHP's affine (box centre to the input centre, (size-1)/box-size scale)
with bilinear sampling and black borders; the image is BGR, scaled to [0, 1] and normalised with the
ImageNet mean/std in BGR order; the fusion logits (the second of the export's three outputs: parsing,
fusion, edge) are upsampled bilinearly with align_corners=True to the input size, warped back through
the inverse affine to the image, and the argmax taken. ATR labels are mapped to the canonical LIP set
with `label_maps.ATR_TO_LIP`; the raw ATR-18 map is kept as `parse_atr` (CatVTON's AutoMasker reads it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from preprocess.annotators.base import AnnotationInput
from preprocess.annotators.label_maps import ATR_LABELS, LIP_LABELS, to_lip
from preprocess.annotators.onnx_runtime import open_session, providers_for, run_batched, weights_version
from preprocess.annotators.person_input import person_image
from vton.weights.store import WeightsStore

MEAN_BGR = np.array([0.406, 0.456, 0.485], dtype=np.float32)
STD_BGR = np.array([0.225, 0.224, 0.229], dtype=np.float32)


@dataclass(frozen=True)
class ParsingModel:
    """One SCHP export: its weights entry, input size (H, W) and label set."""

    labels: str  # "lip" or "atr"
    weights: str
    input_hw: tuple[int, int]
    classes: int


MODELS = {
    "lip": ParsingModel("lip", "schp_lip_onnx", (473, 473), len(LIP_LABELS)),
    "atr": ParsingModel("atr", "schp_atr_onnx", (512, 512), len(ATR_LABELS)),
}


def person_center_scale(width: int, height: int, input_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """SCHP's box for the whole image: centre of [0, 0, W-1, H-1] and its size widened to the input aspect."""
    aspect = input_hw[1] / input_hw[0]
    w, h = float(width - 1), float(height - 1)
    center = np.array([w * 0.5, h * 0.5])
    if w > aspect * h:
        h = w / aspect
    elif w < aspect * h:
        w = h * aspect
    return center, np.array([w, h])


def schp_affine(center: np.ndarray, scale: np.ndarray, input_hw: tuple[int, int]) -> np.ndarray:
    """2x3 affine image -> network input, as SCHP's get_affine_transform (rotation 0) builds it."""
    s = (input_hw[1] - 1) / scale[0]
    return np.array(
        [
            [s, 0.0, (input_hw[1] - 1) * 0.5 - s * center[0]],
            [0.0, s, (input_hw[0] - 1) * 0.5 - s * center[1]],
        ],
        dtype=np.float64,
    )


def prepare(image: np.ndarray, model: ParsingModel) -> tuple[np.ndarray, np.ndarray]:
    """Network input for one RGB image: (3, H, W) float32 normalised BGR, and the image->input affine."""
    height, width = image.shape[:2]
    matrix = schp_affine(*person_center_scale(width, height, model.input_hw), model.input_hw)
    bgr = np.ascontiguousarray(image[:, :, ::-1])
    warped = cv2.warpAffine(
        bgr,
        matrix,
        (model.input_hw[1], model.input_hw[0]),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    normalised = (warped.astype(np.float32) / 255.0 - MEAN_BGR) / STD_BGR
    return normalised.transpose(2, 0, 1), matrix


def _align_corners_weights(out_size: int, in_size: int) -> np.ndarray:
    """(out, in) linear interpolation weights with align_corners=True (end samples map to end samples)."""
    weights = np.zeros((out_size, in_size), dtype=np.float32)
    positions = np.arange(out_size) * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    low = np.minimum(np.floor(positions).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    frac = (positions - low).astype(np.float32)
    rows = np.arange(out_size)
    np.add.at(weights, (rows, low), 1 - frac)
    np.add.at(weights, (rows, high), frac)
    return weights


def upsample_align_corners(logits: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (C, h, w) to (C, H, W) with align_corners=True, as SCHP's nn.Upsample does."""
    rows = _align_corners_weights(size_hw[0], logits.shape[1])
    cols = _align_corners_weights(size_hw[1], logits.shape[2])
    return np.einsum("yh,chw,xw->cyx", rows, logits.astype(np.float32), cols, optimize=True)


def logits_to_labels(
    logits: np.ndarray, matrix: np.ndarray, model: ParsingModel, size_hw: tuple[int, int]
) -> np.ndarray:
    """(C, h, w) network logits -> (H, W) uint8 labels of the model's set, in image pixels."""
    upsampled = upsample_align_corners(logits, model.input_hw).transpose(1, 2, 0)
    back = cv2.warpAffine(
        np.ascontiguousarray(upsampled),
        cv2.invertAffineTransform(matrix),
        (size_hw[1], size_hw[0]),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return back.reshape(size_hw[0], size_hw[1], -1).argmax(axis=2).astype(np.uint8)


class HumanParsingAnnotator:
    """Annotators "schp_lip" and "schp_atr": canonical LIP-20 parse of the person image (ATR mapped to LIP).

    `version` is "1:<sha256[:12] of the ONNX file>": other weights re-annotate the samples they fed.
    """

    code_version = "1"

    def __init__(self, labels: str = "lip", store: WeightsStore | None = None, device: str = "auto") -> None:
        if labels not in MODELS:
            raise ValueError(f"unknown SCHP model {labels!r}: choose one of {', '.join(MODELS)}")
        self.model = MODELS[labels]
        self.name = f"schp_{labels}"
        self.outputs: tuple[str, ...] = ("parse",) if labels == "lip" else ("parse", "parse_atr")
        self.needs = ("person", f"weights:{self.model.weights}")
        store = store or WeightsStore.from_env()
        self.weights_path: Path = store.path(self.model.weights)
        self.version = weights_version(self.code_version, store, (self.model.weights,))
        providers_for(device)  # an unusable device fails here, not inside a worker
        self.device = device
        self._session = None

    def __getstate__(self) -> dict[str, Any]:
        """Picklable for Ray actors: the session is reopened where the annotator lands."""
        return {**self.__dict__, "_session": None}

    def _open(self):
        if self._session is None:
            self._session = open_session(self.weights_path, self.device)
        return self._session

    def _logits_output(self, session) -> str:
        outputs = session.get_outputs()
        if len(outputs) not in (1, 3):
            raise ValueError(
                f"{self.weights_path} has {len(outputs)} outputs; an SCHP export has 3 (parsing, fusion, "
                f"edge) or just the parsing logits: import SCHP's {self.model.labels.upper()} ONNX model"
            )
        return outputs[1 if len(outputs) == 3 else 0].name

    def parse(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """(H, W) uint8 labels in the model's own set (LIP-20 or ATR-18) for each RGB image, one batched run."""
        session = self._open()
        prepared = [prepare(image, self.model) for image in images]
        (logits,) = run_batched(session, np.stack([p[0] for p in prepared]), [self._logits_output(session)])
        if logits.ndim != 4 or logits.shape[1] != self.model.classes:
            raise ValueError(
                f"{self.weights_path} gives logits of shape {logits.shape}; SCHP {self.model.labels.upper()} "
                f"gives (N, {self.model.classes}, h, w): the file is not the {self.model.weights} model"
            )
        return [
            logits_to_labels(logits[i], matrix, self.model, image.shape[:2])
            for i, (image, (_, matrix)) in enumerate(zip(images, prepared, strict=True))
        ]

    def __call__(self, batch: list[AnnotationInput]) -> list[dict[str, Any]]:
        """One dict per input: `parse` in LIP-20 and, for the ATR model, the raw `parse_atr`."""
        images = [person_image(item) for item in batch]
        if not images:
            return []
        results = []
        for labels in self.parse(images):
            if self.model.labels == "lip":
                results.append({"parse": labels})
            else:
                results.append({"parse": to_lip(labels, "atr", self.weights_path.name), "parse_atr": labels})
        return results
