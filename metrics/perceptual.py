"""Learned perceptual distances: LPIPS (AlexNet, VGG16, SqueezeNet backbones) and DISTS (VGG16), one value per pair.

The networks are torchvision's architectures cut at the layers the original papers tap; weights come from the
published files (torchvision backbones, LPIPS v0.1 linear heads, DISTS alpha/beta), given as paths by
`metrics.extractors`, never downloaded.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

# Backbone → (torchvision constructor, slice boundaries of `.features`, channels of each tapped layer).
LPIPS_BACKBONES: dict[str, tuple[str, tuple[int, ...], tuple[int, ...]]] = {
    "alex": ("alexnet", (0, 2, 5, 8, 10, 12), (64, 192, 384, 256, 256)),
    "vgg": ("vgg16", (0, 4, 9, 16, 23, 30), (64, 128, 256, 512, 512)),
    "squeeze": ("squeezenet1_1", (0, 2, 5, 8, 10, 11, 12, 13), (64, 128, 256, 384, 384, 512, 512)),
}

# LPIPS's fixed input scaling for images in [-1, 1].
_LPIPS_SHIFT = (-0.030, -0.088, -0.188)
_LPIPS_SCALE = (0.458, 0.448, 0.450)
# On CPU, LPIPS runs over chunks of pairs with about this many pixels in all, so that the feature maps stay in
# cache (measurably faster than one pass over a big batch); on GPU the whole batch goes at once.
_CPU_CHUNK_PIXELS = 1 << 20


def load_state_dict_file(path: Path) -> dict[str, torch.Tensor]:
    """A checkpoint's tensors, loaded the safe way (`weights_only=True`); a clear error for the wrong file."""
    try:
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a bad or unsafe file
        raise ValueError(
            f"{path} is not a loadable weights file ({type(exc).__name__}: {exc}); re-import it"
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict of tensors")
    return state


def _features_backbone(arch: str, weights: Path | None) -> nn.Sequential:
    """torchvision `arch`'s `.features` (all LPIPS and DISTS tap), loaded strictly from the `features.*` tensors
    of a torchvision checkpoint; the classifier's tensors are not needed and are skipped, never allocated."""
    if weights is None:
        return getattr(torchvision.models, arch)(weights=None).features
    state = load_state_dict_file(weights)
    part = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    with torch.device("meta"):
        features = getattr(torchvision.models, arch)(weights=None).features
    missing = sorted(set(features.state_dict()) - set(part))
    if missing:
        raise ValueError(
            f"{weights} is not a torchvision {arch} checkpoint (no features.{missing[0]}); "
            f"import the {arch} file the weights catalog names"
        )
    features = features.to_empty(device="cpu")
    features.load_state_dict(part)
    return features


class LPIPS(nn.Module):
    """LPIPS v0.1 (Zhang et al. 2018): unit-normalised deep features, squared differences, 1×1 linear heads."""

    def __init__(
        self, net: str = "alex", backbone_weights: Path | None = None, head_weights: Path | None = None
    ):
        super().__init__()
        if net not in LPIPS_BACKBONES:
            raise ValueError(f"unknown LPIPS backbone {net!r}; choose one of {sorted(LPIPS_BACKBONES)}")
        self.net_name = net
        arch, bounds, channels = LPIPS_BACKBONES[net]
        features = _features_backbone(arch, backbone_weights)
        self.slices = nn.ModuleList(
            nn.Sequential(*features[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        )
        self.heads = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in channels)
        if head_weights is not None:
            state = load_state_dict_file(head_weights)
            for i, head in enumerate(self.heads):
                head.weight.data.copy_(state[f"lin{i}.model.1.weight"])
        self.register_buffer("shift", torch.tensor(_LPIPS_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_LPIPS_SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def forward(self, pred: torch.Tensor, gt: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """Per-pair distance (N values). `normalize=True` takes images in [0, 1], else in [-1, 1]."""
        if pred.shape != gt.shape or pred.ndim != 4 or pred.shape[1] != 3:
            raise ValueError(
                f"LPIPS needs two N×3×H×W batches of equal shape, got {tuple(pred.shape)}, {tuple(gt.shape)}"
            )
        n = pred.shape[0]
        chunk = n if pred.device.type != "cpu" else max(1, _CPU_CHUNK_PIXELS // pred[0, 0].numel())
        return torch.cat(
            [self._distance(pred[i : i + chunk], gt[i : i + chunk], normalize) for i in range(0, n, chunk)]
        )

    def _distance(self, pred: torch.Tensor, gt: torch.Tensor, normalize: bool) -> torch.Tensor:
        n = pred.shape[0]
        # One backbone pass over both batches; [0, 1] → [-1, 1] folded into LPIPS's own shift and scale.
        x = torch.cat([pred, gt]).float()
        if normalize:
            h = (x - (self.shift + 1) / 2) * (2 / self.scale)
        else:
            h = (x - self.shift) / self.scale
        total = torch.zeros(n, device=pred.device)
        for s, head in zip(self.slices, self.heads, strict=True):
            h = s(h)
            unit = h * (1 / (h.pow(2).sum(1, keepdim=True).sqrt() + 1e-10))
            total = total + head((unit[:n] - unit[n:]).pow(2)).mean((1, 2, 3))
        return total


class _L2Pool(nn.Module):
    """DISTS's L2 pooling: √(Hanning-weighted 3×3 mean of x²), stride 2, replacing VGG's max pools."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        a = torch.tensor([0.5, 1.0, 0.5])
        g = a[:, None] * a[None, :]
        self.register_buffer("filter", (g / g.sum()).expand(channels, 1, 3, 3).contiguous())
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (F.conv2d(x.pow(2), self.filter, stride=2, padding=1, groups=self.channels) + 1e-12).sqrt()


DISTS_CHANNELS = (3, 64, 128, 256, 512, 512)


class DISTS(nn.Module):
    """DISTS (Ding et al. 2020): structure and texture similarity of VGG16 features with learned α/β weights."""

    def __init__(self, backbone_weights: Path | None = None, alpha_beta_weights: Path | None = None) -> None:
        super().__init__()
        features = _features_backbone("vgg16", backbone_weights)
        cuts = ((0, 4), (5, 9), (10, 16), (17, 23), (24, 30))
        stages = [nn.Sequential(*features[a:b]) for a, b in cuts]
        for i, ch in enumerate((64, 128, 256, 512), start=1):
            stages[i] = nn.Sequential(_L2Pool(ch), *stages[i])
        self.stages = nn.ModuleList(stages)
        total = sum(DISTS_CHANNELS)
        self.alpha = nn.Parameter(torch.full((1, total, 1, 1), 0.1))
        self.beta = nn.Parameter(torch.full((1, total, 1, 1), 0.1))
        if alpha_beta_weights is not None:
            state = load_state_dict_file(alpha_beta_weights)
            self.alpha.data.copy_(state["alpha"])
            self.beta.data.copy_(state["beta"])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [x]
        h = (x - self.mean) / self.std
        for stage in self.stages:
            h = stage(h)
            feats.append(h)
        return feats

    def forward(self, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        """Per-pair DISTS (N values) for images in [0, 1]; identical images score 0."""
        if pred.shape != gt.shape or pred.ndim != 4 or pred.shape[1] != 3:
            raise ValueError(
                f"DISTS needs two N×3×H×W batches of equal shape, got {tuple(pred.shape)}, {tuple(gt.shape)}"
            )
        n = pred.shape[0]
        feats = self._features(torch.cat([pred, gt]).float())
        w_sum = self.alpha.sum() + self.beta.sum()
        alphas = torch.split(self.alpha / w_sum, DISTS_CHANNELS, dim=1)
        betas = torch.split(self.beta / w_sum, DISTS_CHANNELS, dim=1)
        c1 = c2 = 1e-6
        structure = torch.zeros(n, device=pred.device)
        texture = torch.zeros(n, device=pred.device)
        for f, a, b in zip(feats, alphas, betas, strict=True):
            x, y = f[:n], f[n:]
            mx, my = x.mean((2, 3), keepdim=True), y.mean((2, 3), keepdim=True)
            s1 = (2 * mx * my + c1) / (mx**2 + my**2 + c1)
            vx = (x - mx).pow(2).mean((2, 3), keepdim=True)
            vy = (y - my).pow(2).mean((2, 3), keepdim=True)
            cov = (x * y).mean((2, 3), keepdim=True) - mx * my
            s2 = (2 * cov + c2) / (vx + vy + c2)
            structure = structure + (a * s1).sum((1, 2, 3))
            texture = texture + (b * s2).sum((1, 2, 3))
        return 1 - (structure + texture)
