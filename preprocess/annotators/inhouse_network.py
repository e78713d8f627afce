"""The in-house segmentation network: a compact U-Net the platform trains to distil parsing or DensePose.

One class serves both tasks (ARCHITECTURE §4 `inhouse` backend): "parse" predicts the 20 LIP labels,
"densepose" the 25 DensePose part indices (0 = background). A model is a `InhouseNetConfig` plus the
module, saved as `model.safetensors` with `config.json` beside it (never pickle), diffusers-style.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TASK_CLASSES = {"parse": 20, "densepose": 25}
# ImageNet statistics: the usual input normalisation of parsing and DensePose networks.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class InhouseNetConfig:
    """Architecture and input size: `width` channels at full resolution, doubled at each of `depth` levels."""

    task: str = "parse"
    width: int = 32
    depth: int = 4
    input_size: tuple[int, int] = (256, 192)  # (H, W) the network sees; outputs are resized back
    num_classes: int = field(default=0)  # 0: the task's class count

    def __post_init__(self) -> None:
        if self.task not in TASK_CLASSES:
            raise ValueError(f"task {self.task!r} is unknown; use one of {', '.join(TASK_CLASSES)}")
        if self.num_classes == 0:
            object.__setattr__(self, "num_classes", TASK_CLASSES[self.task])
        object.__setattr__(self, "input_size", tuple(int(v) for v in self.input_size))
        if self.width < 1 or self.depth < 1:
            raise ValueError(f"width and depth must be >= 1 (got width={self.width}, depth={self.depth})")
        step = 2**self.depth
        if any(v % step for v in self.input_size):
            raise ValueError(
                f"input_size {self.input_size} must be divisible by 2**depth = {step}; pick a multiple of {step}"
            )

    def to_json(self) -> dict[str, Any]:
        """The config as JSON-ready values."""
        out = asdict(self)
        out["input_size"] = list(self.input_size)
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> InhouseNetConfig:
        """The config from `to_json` output; unknown keys (e.g. the recorded agreement) are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if k == "input_size" else v) for k, v in obj.items() if k in names})


# tiny: tests, trains in seconds on CPU. small: the CPU preset (a quarter of default's width squared and a
# quarter of its pixels: ~0.25 s per batch of 16 on 2 cores, 1,500 steps in ~6 min). default: the GPU preset
# (~5.5 s per batch of 16 on 2 CPU cores, hours for 1,500 steps on a CPU).
PRESETS = {
    "tiny": {"width": 8, "depth": 3, "input_size": (64, 48)},
    "small": {"width": 16, "depth": 4, "input_size": (128, 96)},
    "default": {"width": 32, "depth": 4, "input_size": (256, 192)},
}


def preset(name: str, task: str) -> InhouseNetConfig:
    """The named preset ("tiny", "small" or "default") for `task` ("parse" or "densepose")."""
    if name not in PRESETS:
        raise ValueError(f"preset {name!r} is unknown; use one of {', '.join(PRESETS)}")
    return InhouseNetConfig(task=task, **PRESETS[name])


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class InhouseSegNet(nn.Module):
    """U-Net: `depth` down-sampling levels, skip connections, a 1x1 head with `num_classes` logits."""

    def __init__(self, config: InhouseNetConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.width * 2**i for i in range(config.depth + 1)]
        self.stem = _block(3, widths[0])
        self.down = nn.ModuleList(_block(widths[i], widths[i + 1]) for i in range(config.depth))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in reversed(range(config.depth))
        )
        self.fuse = nn.ModuleList(_block(2 * widths[i], widths[i]) for i in reversed(range(config.depth)))
        self.head = nn.Conv2d(widths[0], config.num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, num_classes, H, W) for normalised images (N, 3, H, W) at the config's input size."""
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(F.max_pool2d(skips[-1], 2)))
        y = skips.pop()
        for up, fuse in zip(self.up, self.fuse, strict=True):
            y = fuse(torch.cat([up(y), skips.pop()], dim=1))
        return self.head(y)

    def save_pretrained(self, folder: Path, extra: dict[str, Any] | None = None) -> Path:
        """Write `model.safetensors` and `config.json` (config plus `extra`, e.g. the agreement) to `folder`."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(folder / WEIGHTS_FILE))
        (folder / CONFIG_FILE).write_text(json.dumps(self.config.to_json() | (extra or {}), indent=2))
        return folder

    @classmethod
    def from_pretrained(cls, folder: Path, device: str | torch.device = "cpu") -> InhouseSegNet:
        """Load a model written by `save_pretrained`, in eval mode on `device`."""
        folder = Path(folder)
        config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
        for path in (config_path, weights_path):
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path} does not exist: train an in-house model first "
                    "(preprocess.annotators.inhouse_training.train_inhouse or benchmarks/inhouse/run.py)"
                )
        model = cls(InhouseNetConfig.from_json(json.loads(config_path.read_text())))
        model.load_state_dict(load_file(str(weights_path)))
        return model.to(device).eval()

    @torch.no_grad()
    def predict(self, images: list[np.ndarray], batch_size: int = 16) -> list[np.ndarray]:
        """Label maps (H, W) uint8 at each image's own size, for (H, W, 3) uint8 RGB images."""
        self.eval()
        device = next(self.parameters()).device
        out: list[np.ndarray] = []
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            x = images_to_tensor([resize_image(im, self.config.input_size) for im in chunk]).to(device)
            logits = self(x)
            for image, one in zip(chunk, logits, strict=True):
                full = F.interpolate(one[None], size=image.shape[:2], mode="bilinear", align_corners=False)
                out.append(full[0].argmax(0).to(torch.uint8).cpu().numpy())
        return out


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An RGB image resized to (H, W) `size` (area when shrinking, bilinear when enlarging)."""
    h, w = size
    if image.shape[:2] == (h, w):
        return image
    shrink = image.shape[0] > h or image.shape[1] > w
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A label map resized to (H, W) `size` with nearest neighbour (labels are never blended)."""
    h, w = size
    if labels.shape[:2] == (h, w):
        return labels
    return cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)


def images_to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    """Same-size (H, W, 3) uint8 RGB images as a normalised float tensor (N, 3, H, W)."""
    return normalise_batch(torch.from_numpy(np.stack(images)))


def normalise_batch(images: torch.Tensor) -> torch.Tensor:
    """A uint8 (N, H, W, 3) RGB batch (on any device) as the float (N, 3, H, W) input the network takes."""
    x = images.permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def weights_digest(folder: Path) -> str:
    """The first 12 hex digits of the sha256 of a model folder's weights file (its version tag)."""
    digest = hashlib.sha256()
    with open(Path(folder) / WEIGHTS_FILE, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]
