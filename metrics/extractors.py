"""Feature-extractor registry: a name → a builder that makes the real network and loads its published weights.

Weights come only from the local weights store (`WeightsStore.from_env().path(entry)`), which fails fast with
one line naming the file and the `vton weights import` command; `paths=` overrides the store per entry (tests,
or a user's own copy). Like torch-fidelity and timm, options are explicit keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from metrics.hyperiqa import load_hypernet
from metrics.i3d import load_i3d
from metrics.inception import InceptionV3TF
from metrics.perceptual import DISTS, LPIPS, load_state_dict_file
from metrics.resnext3d import load_resnext101


def weights_path(entry: str, paths: Mapping[str, Path] | None = None) -> Path:
    """The file for weights-store entry `entry`: from `paths` when given there, else the verified store copy."""
    if paths and entry in paths:
        path = Path(paths[entry])
        if not path.exists():
            raise FileNotFoundError(f"weights file for {entry} not found: {path}")
        return path
    from vton.weights.store import WeightsStore

    return WeightsStore.from_env().path(entry)


@dataclass(frozen=True)
class ExtractorSpec:
    """A registered extractor: its weights-store entries and the builder taking their paths in that order."""

    name: str
    weights: tuple[str, ...]
    build: Callable[..., nn.Module]
    description: str


def _inception(inception: Path) -> nn.Module:
    net = InceptionV3TF()
    net.load_state_dict(load_state_dict_file(inception))
    return net


class CLIPImageFeatures(nn.Module):
    """CLIP ViT-B/32 image embeddings (the projection output, as clean-fid's CLIP-FID uses) for 0..255 images."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        from transformers import AutoConfig, CLIPVisionModelWithProjection

        # A full CLIP folder (as published) keeps the projection size at its top level, not in vision_config.
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
        vision = getattr(config, "vision_config", config)
        vision.projection_dim = getattr(config, "projection_dim", vision.projection_dim)
        self.model = CLIPVisionModelWithProjection.from_pretrained(
            str(folder), config=vision, local_files_only=True
        )
        size = self.model.config.image_size
        self.size = size
        self.register_buffer("mean", torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1))
        self.eval()

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float() / 255
        h, w = x.shape[-2:]
        scale = self.size / min(h, w)
        x = nn.functional.interpolate(
            x, size=(round(h * scale), round(w * scale)), mode="bicubic", align_corners=False, antialias=True
        )
        top, left = (x.shape[-2] - self.size) // 2, (x.shape[-1] - self.size) // 2
        x = x[..., top : top + self.size, left : left + self.size]
        return self.model(pixel_values=(x - self.mean) / self.std).image_embeds


EXTRACTORS: dict[str, ExtractorSpec] = {
    s.name: s
    for s in (
        ExtractorSpec(
            "inception_v3_tf",
            ("fid_inception",),
            _inception,
            "torch-fidelity's TF-compatible InceptionV3 (FID, KID, IS): pool3 2048-d and 1008 logits",
        ),
        ExtractorSpec(
            "lpips_alex",
            ("torchvision_alexnet", "lpips_alex_v0_1"),
            lambda backbone, heads: LPIPS("alex", backbone, heads),
            "LPIPS v0.1 with the AlexNet backbone",
        ),
        ExtractorSpec(
            "lpips_vgg",
            ("torchvision_vgg16", "lpips_vgg_v0_1"),
            lambda backbone, heads: LPIPS("vgg", backbone, heads),
            "LPIPS v0.1 with the VGG16 backbone",
        ),
        ExtractorSpec(
            "lpips_squeeze",
            ("torchvision_squeezenet1_1", "lpips_squeeze_v0_1"),
            lambda backbone, heads: LPIPS("squeeze", backbone, heads),
            "LPIPS v0.1 with the SqueezeNet 1.1 backbone",
        ),
        ExtractorSpec(
            "dists_vgg16",
            ("torchvision_vgg16", "dists_alpha_beta"),
            lambda backbone, alpha_beta: DISTS(backbone, alpha_beta),
            "DISTS: VGG16 with L2 pooling and learned alpha/beta",
        ),
        ExtractorSpec(
            "clip_vit_b32",
            ("clip_vit_b32",),
            CLIPImageFeatures,
            "CLIP ViT-B/32 image embeddings (CLIP-FID), transformers folder",
        ),
        ExtractorSpec(
            "hyperiqa",
            ("hyperiqa_koniq",),
            load_hypernet,
            "hyperIQA HyperNet (ResNet-50 + LDA + hypernetwork), KonIQ-10k weights: no-reference quality",
        ),
        ExtractorSpec(
            "i3d_rgb_imagenet",
            ("i3d_rgb_imagenet",),
            load_i3d,
            "I3D RGB (pytorch-i3d rgb_imagenet.pt): 1024-d Mixed_5c mean over time and space (VFID_I3D); "
            "clips N×3×T×H×W in [-1, 1]",
        ),
        ExtractorSpec(
            "resnext101_kinetics",
            ("resnext101_kinetics",),
            load_resnext101,
            "3D-ResNeXt-101 Kinetics (Hara et al.): 2048-d pooled layer4 (VFID_ResNeXt); "
            "clips N×3×T×H×W in [-1, 1]",
        ),
    )
}


def build_extractor(
    name: str, paths: Mapping[str, Path] | None = None, device: str | torch.device = "cpu"
) -> nn.Module:
    """Build registered extractor `name` in eval mode on `device`, its weights from the store (or `paths`)."""
    try:
        spec = EXTRACTORS[name]
    except KeyError:
        raise ValueError(
            f"unknown feature extractor {name!r}; registered: {', '.join(sorted(EXTRACTORS))}"
        ) from None
    files = [weights_path(entry, paths) for entry in spec.weights]
    return spec.build(*files).to(device).eval()
