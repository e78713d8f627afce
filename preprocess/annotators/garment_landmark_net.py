"""The in-house garment landmark estimator (DPIDM §3.3 trains its own): a small heatmap network.

`LandmarkHeatmapNet` maps a garment image (resized to `input_size`) to K heatmaps at half resolution,
decoded by soft-argmax into normalised (x, y) so training can regress coordinates directly. It trains on
labelled landmarks in the generator's truth form (`synthetic_truth.jsonl` records with `garment`,
`category`, `landmarks_garment`; a user's labels in the same JSONL form work the same) with
`train_landmark_net` (a plain PyTorch loop on CPU; a later issue moves it onto the Ray Train driver),
and is stored as safetensors weights plus a JSON config. `HeatmapLandmarkAnnotator.version` carries each
net's weights digest (`weights_digest`), so retrained nets re-annotate the garments they fed.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from safetensors.torch import load_file, save, save_file
from torch import nn

from preprocess.annotators.base import AnnotationError, AnnotationInput, GarmentLandmarks
from preprocess.annotators.garment_landmarks import LANDMARK_SETS
from preprocess.images import BadImageError, decode_image

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
SHORT_DIGEST = 12  # hex digits of the weights' sha256 in the annotator's version


@dataclass(frozen=True)
class LandmarkNetConfig:
    """Shape of the network: garment category (fixes K), input size (H, W) and base channel width."""

    category: str = "upper"
    input_size: tuple[int, int] = (64, 48)
    width: int = 16

    @property
    def num_landmarks(self) -> int:
        return len(LANDMARK_SETS[self.category])


def _block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class LandmarkHeatmapNet(nn.Module):
    """Encoder (two stride-2 stages) and decoder (one upsampling) to K heatmaps at half input resolution."""

    def __init__(self, config: LandmarkNetConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.encoder = nn.Sequential(
            _block(3, w),
            _block(w, 2 * w, 2),
            _block(2 * w, 2 * w),
            _block(2 * w, 4 * w, 2),
            _block(4 * w, 4 * w),
        )
        self.decoder = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"), _block(4 * w, 2 * w))
        self.head = nn.Conv2d(2 * w, config.num_landmarks, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) images in [0, 1] -> (B, K, H/2, W/2) heatmap logits."""
        return self.head(self.decoder(self.encoder(images)))

    @staticmethod
    def decode(heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Soft-argmax: (B, K, h, w) logits -> (B, K, 2) normalised x, y in [0, 1] and (B, K) peak confidence."""
        b, k, h, w = heatmaps.shape
        prob = torch.softmax(heatmaps.reshape(b, k, -1), dim=-1).reshape(b, k, h, w)
        xs = (torch.arange(w, dtype=prob.dtype, device=prob.device) + 0.5) / w
        ys = (torch.arange(h, dtype=prob.dtype, device=prob.device) + 0.5) / h
        x = (prob.sum(dim=2) * xs).sum(dim=-1)
        y = (prob.sum(dim=3) * ys).sum(dim=-1)
        return torch.stack([x, y], dim=-1), prob.reshape(b, k, -1).amax(dim=-1)


@dataclass
class LabelledGarment:
    """One training example: an in-shop garment image and its landmarks (K, 3) in its pixels."""

    image: np.ndarray
    points: np.ndarray
    category: str
    name: str = ""


def load_landmark_labels(root: Path, labels_file: str = "synthetic_truth.jsonl") -> list[LabelledGarment]:
    """Labelled garments from a JSONL file under `root` (records with garment, category, landmarks_garment)."""
    root = Path(root)
    path = root / labels_file
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: landmark labels are JSON lines with 'garment' (path relative to {root}), "
            "'category' and 'landmarks_garment' ([[x, y, v], ...] in garment-image pixels)"
        )
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        missing = {"garment", "category", "landmarks_garment"} - set(record)
        if missing:
            raise ValueError(f"{path}:{n}: label record lacks {sorted(missing)}")
        points = np.asarray(record["landmarks_garment"], np.float32).reshape(-1, 3)
        expected = len(LANDMARK_SETS[record["category"]])
        if len(points) != expected:
            raise ValueError(
                f"{path}:{n}: {len(points)} landmarks, the {record['category']} set has {expected}"
            )
        try:
            image = decode_image(root / record["garment"], record["garment"], role="garment image")
        except BadImageError as err:
            raise ValueError(f"{path}:{n}: {err.reason}") from err
        out.append(LabelledGarment(image, points, record["category"], record["garment"]))
    return out


def _to_tensor(images: list[np.ndarray], size: tuple[int, int]) -> torch.Tensor:
    h, w = size
    batch = np.stack([cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA) for img in images])
    return torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255.0


def _targets(examples: list[LabelledGarment]) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised (N, K, 2) coordinates and (N, K) weights (1 where the label's visibility > 0)."""
    xy, weight = [], []
    for ex in examples:
        h, w = ex.image.shape[:2]
        xy.append(ex.points[:, :2] / np.array([w, h], np.float32))
        weight.append((ex.points[:, 2] > 0).astype(np.float32))
    return torch.from_numpy(np.stack(xy)), torch.from_numpy(np.stack(weight))


def train_landmark_net(
    examples: list[LabelledGarment],
    config: LandmarkNetConfig | None = None,
    *,
    epochs: int = 60,
    batch_size: int = 16,
    lr: float = 3e-3,
    seed: int = 0,
    time_limit_s: float | None = None,
) -> LandmarkHeatmapNet:
    """Train a LandmarkHeatmapNet on labelled garments of one category (L1 on soft-argmax coordinates).

    Light augmentation (horizontal flip with left/right swapped) doubles the data; `time_limit_s` stops
    early after that many seconds.
    """
    config = config or LandmarkNetConfig(category=examples[0].category if examples else "upper")
    wrong = [ex.name for ex in examples if ex.category != config.category]
    if not examples or wrong:
        raise ValueError(f"need labelled {config.category} garments; other categories given: {wrong[:3]}")
    torch.manual_seed(seed)
    net = LandmarkHeatmapNet(config)
    images = _to_tensor([ex.image for ex in examples], config.input_size)
    xy, weight = _targets(examples)
    images, xy, weight = _with_flips(images, xy, weight, config.category)
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * max(1, -(-len(images) // batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        for i in range(0, len(images), batch_size):
            idx = order[i : i + batch_size]
            pred, _ = net.decode(net(images[idx]))
            loss = ((pred - xy[idx]).abs().sum(-1) * weight[idx]).sum() / weight[idx].sum().clamp(min=1)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        if time_limit_s is not None and time.perf_counter() - start > time_limit_s:
            break
    return net.eval()


def _flip_order(category: str) -> list[int]:
    """Index permutation that swaps each left/right landmark pair (for mirrored images)."""
    names = LANDMARK_SETS[category]
    swap = {"left": "right", "right": "left"}

    def mirrored(name: str) -> str:
        parts = name.split("_")
        return "_".join(swap.get(p, p) for p in parts)

    return [names.index(mirrored(n)) for n in names]


def _with_flips(
    images: torch.Tensor, xy: torch.Tensor, weight: torch.Tensor, category: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    order = _flip_order(category)
    flipped_xy = xy[:, order].clone()
    flipped_xy[..., 0] = 1.0 - flipped_xy[..., 0]
    return (
        torch.cat([images, images.flip(-1)]),
        torch.cat([xy, flipped_xy]),
        torch.cat([weight, weight[:, order]]),
    )


@torch.no_grad()
def predict_landmarks(net: LandmarkHeatmapNet, images: list[np.ndarray]) -> list[GarmentLandmarks]:
    """Landmarks in each image's own pixels (confidence = soft-argmax peak probability, rescaled to [0, 1])."""
    if not images:
        return []
    config = net.config
    device = next(net.parameters()).device
    xy, peak = net.decode(net.eval()(_to_tensor(images, config.input_size).to(device)))
    out = []
    for img, p, c in zip(images, xy.cpu().numpy(), peak.cpu().numpy(), strict=True):
        h, w = img.shape[:2]
        points = np.concatenate([p * np.array([w, h]), np.clip(c * 10, 0, 1)[:, None]], axis=1)
        names = LANDMARK_SETS[config.category]
        out.append(GarmentLandmarks(config.category, names, points.astype(np.float32), method="heatmap"))
    return out


def _weights(net: LandmarkHeatmapNet) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous().cpu() for k, v in net.state_dict().items()}


def weights_digest(net: LandmarkHeatmapNet) -> str:
    """sha256 of the net's safetensors weights: the same bytes `save_landmark_net` writes to
    `model.safetensors`, so a net loaded from a folder has that file's digest."""
    return hashlib.sha256(save(_weights(net))).hexdigest()


def save_landmark_net(net: LandmarkHeatmapNet, folder: Path) -> Path:
    """Write `model.safetensors` and `config.json` into `folder`; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(_weights(net), str(folder / WEIGHTS_FILE))
    config = asdict(net.config) | {"architecture": "LandmarkHeatmapNet"}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")
    return folder


def load_landmark_net(folder: Path, device: str = "cpu") -> LandmarkHeatmapNet:
    """Load a network written by `save_landmark_net` (safetensors only: no pickled code is executed)."""
    folder = Path(folder)
    for name in (WEIGHTS_FILE, CONFIG_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder / name} not found: a landmark net folder holds {WEIGHTS_FILE} and {CONFIG_FILE} "
                "(train one with train_landmark_net and save it with save_landmark_net)"
            )
    raw = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    config = LandmarkNetConfig(
        category=raw["category"], input_size=tuple(raw["input_size"]), width=int(raw["width"])
    )
    net = LandmarkHeatmapNet(config)
    net.load_state_dict(load_file(str(folder / WEIGHTS_FILE), device=device))
    return net.to(device).eval()


class HeatmapLandmarkAnnotator:
    """Annotator "garment_landmarks" (heatmap backend): one trained net per category.

    `version` is "heatmap-1:<category>=<sha256[:12] of its weights>,..." (categories sorted), so replacing a
    net's weights file re-annotates the garments; `from_folders` loads nets written by `save_landmark_net`.
    """

    name = "garment_landmarks"
    code_version = "heatmap-1"
    outputs = ("garment_landmarks",)
    needs = ("garment",)

    def __init__(self, nets: dict[str, LandmarkHeatmapNet]) -> None:
        self.nets = nets
        digests = ",".join(f"{c}={weights_digest(nets[c])[:SHORT_DIGEST]}" for c in sorted(nets))
        self.version = f"{self.code_version}:{digests}"

    @classmethod
    def from_folders(cls, folders: dict[str, Path], device: str = "cpu") -> HeatmapLandmarkAnnotator:
        """The annotator over nets saved by `save_landmark_net`, one folder per category."""
        nets = {category: load_landmark_net(folder, device) for category, folder in folders.items()}
        wrong = {c: n.config.category for c, n in nets.items() if n.config.category != c}
        if wrong:
            raise ValueError(
                f"landmark net folders hold nets of other categories ({wrong}, given category: net's); "
                "pass each folder under the category its config.json names"
            )
        return cls(nets)

    def __call__(self, batch: list[AnnotationInput]) -> list[dict[str, Any]]:
        results = []
        for item in batch:
            category = item.row.get("category")
            if item.garment is None or category not in self.nets:
                raise AnnotationError(
                    f"{item.sample_id}: heatmap landmarks need a decoded garment image and a net for category "
                    f"{category!r} (have {sorted(self.nets)}); train one with train_landmark_net",
                    item.sample_id,
                )
            results.append({"garment_landmarks": predict_landmarks(self.nets[category], [item.garment])[0]})
        return results
