"""DWPose on onnxruntime: YOLOX-L finds people, the whole-body RTMPose (SimCC) model places 133 points.

The pre- and post-processing follow DWPose's published ONNX pipeline (IDEA-Research/DWPose,
ControlNet-v1-1-nightly/annotator/dwpose): 640x640 letterbox at the top-left on grey 114, YOLOX grid and
stride decoding, person score obj*cls > 0.3 and NMS at IoU 0.45 (on image-pixel boxes, +1 area
convention); each box padded by 1.25, widened to the model's 3:4 aspect and warped to 288x384; ImageNet
mean/std on 0-255 values; SimCC decoding (argmax of simcc_x and simcc_y, split ratio 2, score = the
smaller of the two maxima); back-projection through the crop; a neck inserted between the shoulders;
COCO-WholeBody order rewritten to OpenPose order. Like DWPose's ControlNet annotator, both networks see
the image in RGB order. Weights come from the local store (`dwpose_yolox_l`, `dwpose_dw_ll_ucoco_384`).

Output: the canonical `Pose` (base.py) of the main person, the one with the largest detected box;
`wholebody` is the 134-point DWPose layout (body 18, feet 6, face 68, left hand 21, right hand 21).
Points keep their coordinates and confidence; those below `LOW_CONFIDENCE` (0.3, DWPose's drawing
threshold) are the low-confidence ones consumers drop; points the model could not place at all
(non-positive SimCC maximum) are (0, 0, 0), OpenPose's "undetected".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from preprocess.annotators.base import AnnotationInput, Pose
from preprocess.annotators.onnx_runtime import open_session, providers_for, run_batched, weights_version
from preprocess.annotators.person_input import person_image
from vton.weights.store import WeightsStore

DETECTOR_WEIGHTS = "dwpose_yolox_l"
POSE_WEIGHTS = "dwpose_dw_ll_ucoco_384"

DETECTOR_INPUT_HW = (640, 640)
LETTERBOX_FILL = 114
YOLOX_STRIDES = (8, 16, 32)
NMS_IOU = 0.45
PERSON_SCORE = 0.3
PERSON_CLASS = 0

POSE_INPUT_WH = (288, 384)  # dw-ll_ucoco_384 (width, height); read from the model when it states it
BBOX_PADDING = 1.25
SIMCC_SPLIT_RATIO = 2.0
POSE_MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
POSE_STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)
COCO_WHOLEBODY_POINTS = 133
LOW_CONFIDENCE = 0.3

COCO17_NAMES = (
    "nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow",
    "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
)  # fmt: skip
_NECK = 17  # where DWPose inserts the neck, right after the 17 COCO body points
# For each OpenPose-18 slot, the index in the neck-extended COCO array it takes its point from.
OPENPOSE_FROM_COCO = (0, _NECK, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)


# -- detector ---------------------------------------------------------------------------------------


def letterbox(image: np.ndarray, size_hw: tuple[int, int] = DETECTOR_INPUT_HW) -> tuple[np.ndarray, float]:
    """YOLOX input: the image scaled by r to fit `size_hw`, placed top-left on grey 114; (3, H, W) float32, r."""
    h, w = image.shape[:2]
    ratio = min(size_hw[0] / h, size_hw[1] / w)
    new_h, new_w = max(1, int(h * ratio)), max(1, int(w * ratio))
    canvas = np.full((size_hw[0], size_hw[1], 3), LETTERBOX_FILL, dtype=np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return canvas.transpose(2, 0, 1).astype(np.float32), ratio


def yolox_decode(
    raw: np.ndarray, size_hw: tuple[int, int] = DETECTOR_INPUT_HW, strides: tuple[int, ...] = YOLOX_STRIDES
) -> np.ndarray:
    """Grid/stride decoding of YOLOX's raw head output (N, A, 5+C): centre, size in input pixels; copy."""
    grids, steps = [], []
    for stride in strides:
        rows, cols = size_hw[0] // stride, size_hw[1] // stride
        xs, ys = np.meshgrid(np.arange(cols), np.arange(rows))
        grids.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        steps.append(np.full((rows * cols, 1), stride))
    grid = np.concatenate(grids).astype(np.float32)
    step = np.concatenate(steps).astype(np.float32)
    if raw.ndim != 3 or raw.shape[1] != len(grid) or raw.shape[2] < 6:
        raise ValueError(
            f"YOLOX output has shape {raw.shape}; a {size_hw[0]}x{size_hw[1]} YOLOX with strides {strides} "
            f"gives (N, {len(grid)}, 5 + classes): the detector weights are not a matching YOLOX export"
        )
    out = raw.astype(np.float32, copy=True)
    out[..., :2] = (out[..., :2] + grid) * step
    out[..., 2:4] = np.exp(out[..., 2:4]) * step
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU) -> np.ndarray:
    """Greedy non-maximum suppression (YOLOX's, areas with +1); indices kept, best score first."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        inter_w = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        inter_h = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        inter = inter_w * inter_h
        overlap = inter / (areas[best] + areas[rest] - inter)
        order = rest[overlap <= iou]
    return np.asarray(keep, dtype=np.int64)


def person_boxes(
    decoded: np.ndarray, ratio: float, score: float = PERSON_SCORE, iou: float = NMS_IOU
) -> tuple[np.ndarray, np.ndarray]:
    """People in one decoded YOLOX output (A, 5+C): xyxy boxes in image pixels and scores, best first.

    DWPose runs class-aware NMS at score 0.1 and then keeps class 0 above 0.3; a box at or below 0.3 can
    only suppress boxes scored lower still, so thresholding the person class first keeps the same boxes.
    """
    person = decoded[:, 4] * decoded[:, 5 + PERSON_CLASS]
    chosen = person > score
    cx, cy, w, h = decoded[chosen, :4].T
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1) / ratio
    keep = nms(boxes, person[chosen], iou)
    return boxes[keep], person[chosen][keep]


# -- pose -------------------------------------------------------------------------------------------


def box_center_scale(
    box: np.ndarray, aspect_wh: float, padding: float = BBOX_PADDING
) -> tuple[np.ndarray, np.ndarray]:
    """Centre and (w, h) of the crop for an xyxy box: padded, then widened or heightened to `aspect_wh`."""
    x1, y1, x2, y2 = np.asarray(box, dtype=np.float64)
    center = np.array([x1 + x2, y1 + y2]) * 0.5
    w, h = (x2 - x1) * padding, (y2 - y1) * padding
    scale = np.array([w, w / aspect_wh]) if w > h * aspect_wh else np.array([h * aspect_wh, h])
    return center, scale


def crop_matrix(center: np.ndarray, scale: np.ndarray, input_wh: tuple[int, int]) -> np.ndarray:
    """2x3 affine taking image pixels to crop pixels: `center` to the crop centre, width `scale[0]` to W."""
    s = input_wh[0] / scale[0]
    return np.array(
        [[s, 0.0, input_wh[0] / 2 - s * center[0]], [0.0, s, input_wh[1] / 2 - s * center[1]]],
        dtype=np.float64,
    )


def crop_person(
    image: np.ndarray, box: np.ndarray, input_wh: tuple[int, int] = POSE_INPUT_WH
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pose model's input for one box: (3, H, W) normalised float32 crop, its centre and scale."""
    center, scale = box_center_scale(box, input_wh[0] / input_wh[1])
    crop = cv2.warpAffine(image, crop_matrix(center, scale, input_wh), input_wh, flags=cv2.INTER_LINEAR)
    normalised = (crop.astype(np.float32) - POSE_MEAN) / POSE_STD
    return normalised.transpose(2, 0, 1), center, scale


def decode_simcc(
    simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float = SIMCC_SPLIT_RATIO
) -> tuple[np.ndarray, np.ndarray]:
    """SimCC decoding: (N, K, 2) points in crop pixels and (N, K) scores; non-positive maxima give -1/ratio."""
    x_max, y_max = simcc_x.max(axis=-1), simcc_y.max(axis=-1)
    points = np.stack([simcc_x.argmax(axis=-1), simcc_y.argmax(axis=-1)], axis=-1).astype(np.float32)
    scores = np.minimum(x_max, y_max).astype(np.float32)
    points[scores <= 0] = -1
    return points / split_ratio, scores


def crop_to_image(
    points: np.ndarray, center: np.ndarray, scale: np.ndarray, input_wh: tuple[int, int] = POSE_INPUT_WH
) -> np.ndarray:
    """Crop-pixel points (K, 2) back to image pixels: the inverse of `crop_matrix`."""
    return points / np.asarray(input_wh, dtype=np.float64) * scale + center - scale / 2


def to_openpose(points: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """133 COCO-WholeBody points + scores -> (134, 3) DWPose layout: neck inserted, body in OpenPose order.

    The neck is the shoulders' midpoint; its confidence is the lower shoulder score, so it is low-confidence
    exactly when one shoulder is (DWPose's 0/1 neck score says the same at its 0.3 threshold).
    Points with a non-positive score are (0, 0, 0).
    """
    coco = np.concatenate([points, scores[:, None]], axis=1).astype(np.float32)
    neck = np.append(coco[[5, 6], :2].mean(axis=0), coco[[5, 6], 2].min())
    extended = np.insert(coco, _NECK, neck, axis=0)
    extended[:18] = extended[list(OPENPOSE_FROM_COCO)]
    extended[extended[:, 2] <= 0] = 0
    return extended


# -- annotator --------------------------------------------------------------------------------------


class DWPoseAnnotator:
    """Annotator "dwpose": whole-body pose of the main person from the store's DWPose ONNX models.

    `version` is "1:<detector sha256[:12]>+<pose model sha256[:12]>": other weights re-annotate the samples.
    """

    name = "dwpose"
    code_version = "1"
    outputs = ("pose",)
    needs = ("person", f"weights:{DETECTOR_WEIGHTS}", f"weights:{POSE_WEIGHTS}")

    def __init__(self, store: WeightsStore | None = None, device: str = "auto") -> None:
        store = store or WeightsStore.from_env()
        self.detector_path: Path = store.path(DETECTOR_WEIGHTS)
        self.pose_path: Path = store.path(POSE_WEIGHTS)
        self.version = weights_version(self.code_version, store, (DETECTOR_WEIGHTS, POSE_WEIGHTS))
        providers_for(device)  # an unusable device fails here, not inside a worker
        self.device = device
        self._detector = None
        self._pose = None

    def __getstate__(self) -> dict[str, Any]:
        """Picklable for Ray actors: sessions are reopened where the annotator lands."""
        return {**self.__dict__, "_detector": None, "_pose": None}

    def _sessions(self):
        if self._detector is None:
            self._detector = open_session(self.detector_path, self.device)
            self._pose = open_session(self.pose_path, self.device)
        return self._detector, self._pose

    def _pose_geometry(self, session) -> tuple[tuple[int, int], list[str]]:
        shape = session.get_inputs()[0].shape
        h, w = shape[2:4]
        input_wh = (w, h) if isinstance(w, int) and isinstance(h, int) else POSE_INPUT_WH
        names = [o.name for o in session.get_outputs()]
        if not {"simcc_x", "simcc_y"} <= set(names):
            raise ValueError(
                f"{self.pose_path} is not a SimCC whole-body model: outputs are {names}, expected simcc_x "
                f"and simcc_y; import dw-ll_ucoco_384.onnx as {POSE_WEIGHTS}"
            )
        return input_wh, ["simcc_x", "simcc_y"]

    def detect(self, images: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """People in each RGB image: (boxes (n, 4) xyxy image pixels, scores (n,)), best first."""
        detector, _ = self._sessions()
        prepared = [letterbox(image) for image in images]
        (raw,) = run_batched(detector, np.stack([p[0] for p in prepared]), [detector.get_outputs()[0].name])
        decoded = yolox_decode(raw)
        return [person_boxes(decoded[i], ratio) for i, (_, ratio) in enumerate(prepared)]

    def estimate(self, images: list[np.ndarray], boxes: list[np.ndarray]) -> list[np.ndarray]:
        """(n, 134, 3) DWPose-layout keypoints per image for its boxes, all crops in one batched run.

        An image without boxes is treated as one person filling the image, as DWPose does.
        """
        _, pose = self._sessions()
        input_wh, outputs = self._pose_geometry(pose)
        crops, owners, frames = [], [], []
        for index, (image, image_boxes) in enumerate(zip(images, boxes, strict=True)):
            h, w = image.shape[:2]
            for box in image_boxes if len(image_boxes) else [np.array([0.0, 0.0, w, h])]:
                crop, center, scale = crop_person(image, box, input_wh)
                crops.append(crop)
                owners.append(index)
                frames.append((center, scale))
        simcc_x, simcc_y = run_batched(pose, np.stack(crops), outputs)
        want_x = (COCO_WHOLEBODY_POINTS, int(input_wh[0] * SIMCC_SPLIT_RATIO))
        want_y = (COCO_WHOLEBODY_POINTS, int(input_wh[1] * SIMCC_SPLIT_RATIO))
        if simcc_x.shape[1:] != want_x or simcc_y.shape[1:] != want_y:
            raise ValueError(
                f"{self.pose_path} gives simcc_x {simcc_x.shape[1:]} and simcc_y {simcc_y.shape[1:]}; "
                f"dw-ll_ucoco_384 (split ratio 2) gives {want_x} and {want_y}"
            )
        points, scores = decode_simcc(simcc_x, simcc_y)
        people: list[list[np.ndarray]] = [[] for _ in images]
        for k, owner in enumerate(owners):
            center, scale = frames[k]
            in_image = crop_to_image(points[k], center, scale, input_wh)
            people[owner].append(to_openpose(in_image, scores[k]))
        return [np.stack(p) for p in people]

    def __call__(self, batch: list[AnnotationInput]) -> list[dict[str, Any]]:
        """One {"pose": Pose} per input: the person with the largest detected box (or the whole image)."""
        images = [person_image(item) for item in batch]
        if not images:
            return []
        detections = self.detect(images)
        boxes = [found for found, _ in detections]
        results = []
        for image_boxes, people in zip(boxes, self.estimate(images, boxes), strict=True):
            main = int(np.argmax(_areas(image_boxes))) if len(image_boxes) else 0
            wholebody = people[main]
            results.append({"pose": Pose(body=wholebody[:18].copy(), wholebody=wholebody, source="dwpose")})
        return results


def _areas(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
