"""hyperIQA (Su et al., CVPR 2020): blind image quality from a self-adaptive hypernetwork, higher = better.

A ResNet-50 backbone feeds two paths. Local distortion-aware (LDA) modules pool layer1..layer4 features into
the target network's 224-d input vector; a hypernetwork turns the layer4 map into the weights and biases of
a five-layer fully connected target network (sigmoid between layers), which maps that vector to a score.
Module and parameter names follow the authors' `models.py` (`res`, `conv1`, `fc1w_conv`, `fc1b_fc`, ...,
`fc5w_fc`, `fc5b_fc`), so their published `koniq_pretrained.pkl` loads with `strict=True`.

Scoring follows the authors' demo: resize to 512×384 (H×W), ImageNet normalisation, random 224×224 crops,
score per crop averaged (10 crops in the demo, 25 in the paper's test protocol). Crops are drawn from a
generator seeded per image with `seed`, so a score never depends on batch order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torchvision
from torch import nn
from torchvision.transforms.v2 import functional as TF

PATCH_SIZE = 224
DEMO_RESIZE = (512, 384)  # (height, width), torchvision Resize((512, 384)) in the authors' demo
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ResNetLDABackbone(nn.Module):
    """ResNet-50 (torchvision's blocks, the authors' key names) plus the four LDA modules.

    Returns the layer4 map (N×2048×7×7, the hypernetwork's input) and the target network's input vector: LDA
    features of layer1..3 (`lda_out_channels` each) and of layer4 (the rest of `target_in_size`).
    """

    def __init__(self, lda_out_channels: int = 16, target_in_size: int = 224) -> None:
        super().__init__()
        resnet = torchvision.models.resnet50(weights=None)
        self.conv1, self.bn1, self.relu, self.maxpool = resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = (
            resnet.layer1,
            resnet.layer2,
            resnet.layer3,
            resnet.layer4,
        )
        # LDA i: 1×1 conv to few channels, 7×7 average pooling, then a linear layer on the flattened grid.
        for i, (channels, reduced, grid) in enumerate(((256, 16, 8), (512, 32, 4), (1024, 64, 2)), start=1):
            pool = nn.Sequential(nn.Conv2d(channels, reduced, 1, bias=False), nn.AvgPool2d(7, stride=7))
            setattr(self, f"lda{i}_pool", pool)
            setattr(self, f"lda{i}_fc", nn.Linear(reduced * grid * grid, lda_out_channels))
        self.lda4_pool = nn.AvgPool2d(7, stride=7)
        self.lda4_fc = nn.Linear(2048, target_in_size - 3 * lda_out_channels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        lda1 = self.lda1_fc(self.lda1_pool(x).flatten(1))
        x = self.layer2(x)
        lda2 = self.lda2_fc(self.lda2_pool(x).flatten(1))
        x = self.layer3(x)
        lda3 = self.lda3_fc(self.lda3_pool(x).flatten(1))
        x = self.layer4(x)
        lda4 = self.lda4_fc(self.lda4_pool(x).flatten(1))
        return x, torch.cat([lda1, lda2, lda3, lda4], 1)


class HyperNet(nn.Module):
    """The hyperIQA network: backbone + hypernetwork; `forward` gives the per-image target-network parameters.

    Defaults are the published model, `HyperNet(16, 112, 224, 112, 56, 28, 14, 7)` in the authors' demo. Each
    target FC weight comes from a 3×3 conv on the 7×7 hyper feature map reshaped to (out, in); each bias (and
    the last layer's weight) from a linear layer on its global average.
    """

    def __init__(
        self,
        lda_out_channels: int = 16,
        hyper_in_channels: int = 112,
        target_in_size: int = 224,
        target_fc_sizes: Sequence[int] = (112, 56, 28, 14),
        feature_size: int = 7,
    ) -> None:
        super().__init__()
        f1, f2, f3, f4 = target_fc_sizes
        self.sizes = (target_in_size, f1, f2, f3, f4)
        cells = feature_size**2
        for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            if (a * b) % cells:
                raise ValueError(f"target FC {a}→{b} has {a * b} weights, not divisible by {feature_size}²")
        self.res = ResNetLDABackbone(lda_out_channels, target_in_size)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.conv1 = nn.Sequential(
            nn.Conv2d(2048, 1024, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(1024, 512, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(512, hyper_in_channels, 1),
            nn.ReLU(inplace=True),
        )
        for i, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True), start=1):
            setattr(self, f"fc{i}w_conv", nn.Conv2d(hyper_in_channels, a * b // cells, 3, padding=1))
            setattr(self, f"fc{i}b_fc", nn.Linear(hyper_in_channels, b))
        self.fc5w_fc = nn.Linear(hyper_in_channels, f4)
        self.fc5b_fc = nn.Linear(hyper_in_channels, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Target-network input `target_in_vec` (N×in) and `target_fc{i}w` (N×out×in), `target_fc{i}b` (N×out).

        `x`: N×3×224×224 ImageNet-normalised patches.
        """
        if x.ndim != 4 or x.shape[1:] != (3, PATCH_SIZE, PATCH_SIZE):
            raise ValueError(f"hyperIQA takes N×3×{PATCH_SIZE}×{PATCH_SIZE} patches, got {tuple(x.shape)}")
        n = x.shape[0]
        feat, vec = self.res(x)
        hyper = self.conv1(feat)
        pooled = self.pool(hyper).flatten(1)
        paras = {"target_in_vec": vec}
        for i, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True), start=1):
            paras[f"target_fc{i}w"] = getattr(self, f"fc{i}w_conv")(hyper).reshape(n, b, a)
            paras[f"target_fc{i}b"] = getattr(self, f"fc{i}b_fc")(pooled)
        paras["target_fc5w"] = self.fc5w_fc(pooled).reshape(n, 1, self.sizes[-1])
        paras["target_fc5b"] = self.fc5b_fc(pooled)
        return paras

    @torch.no_grad()
    def score_patches(self, x: torch.Tensor) -> torch.Tensor:
        """Quality score of each normalised 224×224 patch (N values)."""
        return target_network(self(x))


def target_network(paras: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """The authors' TargetNet, batched: four FC layers with sigmoids, then a last FC to one score per image."""
    q = paras["target_in_vec"].unsqueeze(2)
    for i in range(1, 6):
        q = torch.baddbmm(paras[f"target_fc{i}b"].unsqueeze(2), paras[f"target_fc{i}w"], q)
        if i < 5:
            q = torch.sigmoid(q)
    return q.flatten()


def load_hypernet(path: Path) -> HyperNet:
    """The published HyperNet (`koniq_pretrained.pkl`, a state dict) loaded strictly into `HyperNet()`."""
    from metrics.perceptual import load_state_dict_file

    net = HyperNet()
    state = load_state_dict_file(path)
    missing, unexpected = _key_mismatch(net, state)
    if missing or unexpected:
        raise ValueError(
            f"{path} is not the hyperIQA HyperNet state dict (koniq_pretrained.pkl): "
            f"{len(missing)} missing keys (e.g. {', '.join(missing[:3]) or '-'}), {len(unexpected)} unexpected "
            f"(e.g. {', '.join(unexpected[:3]) or '-'}); import the file from github.com/SSL92/hyperIQA"
        )
    net.load_state_dict(state, strict=True)
    return net.eval()


def _key_mismatch(net: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    expected = set(net.state_dict())
    # Checkpoints from before torch 0.4.1 have no BatchNorm counters; load_state_dict fills those in.
    optional = {k for k in expected if k.endswith("num_batches_tracked")}
    missing = sorted(expected - set(state) - optional)
    unexpected = sorted(set(state) - expected)
    return missing, unexpected


def _as_image_list(images: torch.Tensor | Sequence[torch.Tensor]) -> list[torch.Tensor]:
    items = list(images.unbind(0)) if isinstance(images, torch.Tensor) and images.ndim == 4 else list(images)
    if not items:
        raise ValueError("hyperIQA got no images to score")
    for i, im in enumerate(items):
        if im.ndim != 3 or im.shape[0] != 3:
            raise ValueError(f"hyperIQA image {i} should be 3×H×W RGB in [0, 1], got shape {tuple(im.shape)}")
    return items


def crop_offsets(height: int, width: int, patches: int, seed: int) -> list[tuple[int, int]]:
    """(top, left) of `patches` random 224×224 crops, from a generator seeded with `seed` (same image → same crops)."""
    if height < PATCH_SIZE or width < PATCH_SIZE:
        raise ValueError(
            f"an image of {height}×{width} is smaller than hyperIQA's {PATCH_SIZE}px crop; keep resize on "
            "(the demo's 512×384) or pass larger images"
        )
    g = torch.Generator().manual_seed(seed)
    tops = torch.randint(0, height - PATCH_SIZE + 1, (patches,), generator=g)
    lefts = torch.randint(0, width - PATCH_SIZE + 1, (patches,), generator=g)
    return list(zip(tops.tolist(), lefts.tolist(), strict=True))


@torch.no_grad()
def hyperiqa_score(
    images: torch.Tensor | Sequence[torch.Tensor],
    net: HyperNet | None = None,
    patches: int = 10,
    seed: int = 0,
    resize: tuple[int, int] | None = DEMO_RESIZE,
    batch_size: int = 32,
    paths: Mapping[str, Path] | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """No-reference hyperIQA score per image (N values, higher = better; about 0..100 with the KonIQ model).

    `images`: N×3×H×W or a list of 3×H×W floats in [0, 1]. `net`: a loaded HyperNet, else the registry's
    `hyperiqa` (weights from the store, or `paths`). `patches`: random crops averaged per image (demo 10, paper
    25); `resize`: (H, W) before cropping (bilinear with antialias, as PIL in the demo), None to keep the size.
    """
    if patches < 1:
        raise ValueError(f"hyperIQA needs at least one patch per image, got patches={patches}")
    if net is None:
        from metrics.extractors import build_extractor

        net = build_extractor("hyperiqa", paths=paths, device=device or "cpu")
    device = torch.device(device) if device is not None else next(net.parameters()).device
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(3, 1, 1)
    crops = []
    for image in _as_image_list(images):
        im = image.to(device=device, dtype=torch.float32)
        if resize is not None and tuple(im.shape[-2:]) != tuple(resize):
            im = TF.resize(im, list(resize), interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
        im = (im - mean) / std
        for top, left in crop_offsets(im.shape[-2], im.shape[-1], patches, seed):
            crops.append(im[:, top : top + PATCH_SIZE, left : left + PATCH_SIZE])
    scores = [
        net.score_patches(torch.stack(crops[i : i + batch_size])) for i in range(0, len(crops), batch_size)
    ]
    return torch.cat(scores).view(-1, patches).mean(1).cpu()
