"""3D-ResNeXt-101 (Hara et al., CVPR 2018, Kinetics-400): the 2048-d video features of VFID_ResNeXt.

Parameter names follow kenshohara/3D-ResNets-PyTorch (cardinality 32, shortcut type B = 1×1×1 convolution +
batch norm on the first block of each stage), so its `resnext-101-kinetics.pth` (a training checkpoint whose
`state_dict` carries DataParallel's `module.` prefix) loads strictly once the prefix is removed.

Input: RGB clips N×3×T×H×W in [-1, 1], the range every VFID extractor here takes. Hara et al. trained on
16-frame 112×112 clips of 0..255 pixels minus the ActivityNet mean (114.7748, 107.7354, 99.4750), std 1
(`--norm_value 1 --mean_dataset activitynet`, no std normalisation); `normalization="hara"` (the default)
converts to that. VFID in video try-on feeds 10-frame 224×224 clips: the vfid-metrics toolkit builds the
model with `sample_size=224, sample_duration=10` and passes the [-1, 1] clip unchanged, which
`normalization="minus_one_one"` reproduces. VFID sets it from the video protocol (`vfid_resnext_input`:
`minus_one_one` under `vfid_toolkit`, `hara` under `vfid_centre`); on a built extractor, assign
`net.normalization`.
The network is fully convolutional; where Hara's code has a fixed average pool of (⌈T/16⌉, ⌈S/32⌉, ⌈S/32⌉),
this module averages the last stage globally, the same number for 16×112 and 10×224 inputs (both end at
1×⌈S/32⌉×⌈S/32⌉) and defined for other sizes too.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

FEATURE_DIM = 2048
NUM_CLASSES = 400
ACTIVITYNET_MEAN = (114.7748, 107.7354, 99.4750)
NORMALIZATIONS = ("hara", "minus_one_one")
RESNEXT101_LAYERS = (3, 4, 23, 3)


class ResNeXtBottleneck3D(nn.Module):
    """1×1×1 reduce, grouped 3×3×3 (stride here), 1×1×1 expand ×2; residual through `downsample` when given."""

    expansion = 2

    def __init__(
        self, cin: int, planes: int, cardinality: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        mid = cardinality * (planes // 32)
        self.conv1 = nn.Conv3d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(mid)
        self.conv2 = nn.Conv3d(mid, mid, 3, stride=stride, padding=1, groups=cardinality, bias=False)
        self.bn2 = nn.BatchNorm3d(mid)
        self.conv3 = nn.Conv3d(mid, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(planes * self.expansion)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        return F.relu(out + residual)


class ResNeXt3D(nn.Module):
    """3D-ResNeXt; defaults build ResNeXt-101 32×4d. `forward` gives pooled features, `logits` Kinetics scores.

    `layers`, `cardinality`, `stem_channels` and `base_planes` exist so tests can run a narrow, shallow
    network through the same code; the published file needs the defaults.
    """

    def __init__(
        self,
        layers: tuple[int, int, int, int] = RESNEXT101_LAYERS,
        cardinality: int = 32,
        num_classes: int = NUM_CLASSES,
        stem_channels: int = 64,
        base_planes: int = 128,
        normalization: str = "hara",
    ) -> None:
        super().__init__()
        if base_planes % 32:
            raise ValueError(f"base_planes must be a multiple of 32 (bottleneck width), got {base_planes}")
        self.normalization = normalization
        self.conv1 = nn.Conv3d(3, stem_channels, 7, stride=(1, 2, 2), padding=3, bias=False)
        self.bn1 = nn.BatchNorm3d(stem_channels)
        self.maxpool = nn.MaxPool3d(3, stride=2, padding=1)
        self._cin = stem_channels
        for i, blocks in enumerate(layers):
            stage = self._stage(base_planes * 2**i, blocks, cardinality, stride=1 if i == 0 else 2)
            setattr(self, f"layer{i + 1}", stage)
        self.feature_dim = self._cin
        self.fc = nn.Linear(self._cin, num_classes)
        self.register_buffer("mean", torch.tensor(ACTIVITYNET_MEAN).view(1, 3, 1, 1, 1), persistent=False)
        self.eval()

    def _stage(self, planes: int, blocks: int, cardinality: int, stride: int) -> nn.Sequential:
        cout = planes * ResNeXtBottleneck3D.expansion
        downsample = None
        if stride != 1 or self._cin != cout:  # shortcut type B: a projection where the shape changes
            downsample = nn.Sequential(
                nn.Conv3d(self._cin, cout, 1, stride=stride, bias=False), nn.BatchNorm3d(cout)
            )
        stage = [ResNeXtBottleneck3D(self._cin, planes, cardinality, stride, downsample)]
        stage += [ResNeXtBottleneck3D(cout, planes, cardinality) for _ in range(blocks - 1)]
        self._cin = cout
        return nn.Sequential(*stage)

    @property
    def normalization(self) -> str:
        """What `normalize` turns the [-1, 1] input into: `hara` (0..255 minus the mean) or `minus_one_one`."""
        return self._normalization

    @normalization.setter
    def normalization(self, value: str) -> None:
        if value not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {value!r}")
        self._normalization = value

    def normalize(self, clips: torch.Tensor) -> torch.Tensor:
        """[-1, 1] clips → what the network was trained on (`hara`) or the vfid-metrics input (`minus_one_one`)."""
        if clips.ndim != 5 or clips.shape[1] != 3:
            raise ValueError(
                f"3D-ResNeXt takes RGB clips N×3×T×H×W in [-1, 1], got shape {tuple(clips.shape)}"
            )
        x = clips.float()
        if self.normalization == "hara":
            x = (x + 1) * 127.5 - self.mean
        return x

    def feature_map(self, clips: torch.Tensor) -> torch.Tensor:
        """The last stage's output, N×2048×T'×H'×W'."""
        x = self.maxpool(F.relu(self.bn1(self.conv1(self.normalize(clips)))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """Pooled features, N×2048 (the input of `fc`)."""
        return self.feature_map(clips).mean((2, 3, 4))

    def logits(self, clips: torch.Tensor) -> torch.Tensor:
        """Kinetics-400 scores, N×400."""
        return self.fc(self(clips))


def load_resnext101(path: Path) -> ResNeXt3D:
    """ResNeXt-101 with `resnext-101-kinetics.pth` (weights-store entry `resnext101_kinetics`), strictly loaded."""
    from metrics.checkpoints import load_published_state_dict

    net = ResNeXt3D()
    load_published_state_dict(
        net, path, "resnext101_kinetics", "3D-ResNets-PyTorch ResNeXt-101 Kinetics (resnext-101-kinetics.pth)"
    )
    return net.eval()
