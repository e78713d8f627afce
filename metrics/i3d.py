"""Inception-3D (I3D, RGB stream; Carreira & Zisserman 2017): the 1024-d video features of VFID_I3D.

The module and parameter names follow piergiaj's PyTorch port (`pytorch-i3d`), so its converted DeepMind
ImageNet+Kinetics checkpoint `rgb_imagenet.pt` loads with `load_state_dict(strict=True)`: `Unit3D` blocks
holding `conv3d` (+ `bn`, eps 1e-3), `Conv3d_1a_7x7` … `Mixed_5c`, and the 1×1×1 `logits` convolution. As
in that port (and the TF original), convolutions and max pools use TensorFlow "SAME" padding computed from
the input size, with zeros.

Input: RGB clips N×3×T×H×W in [-1, 1] (VFID feeds T = 10 frames at 224×224). The feature is the average of
the last inception block (`Mixed_5c`, 1024 channels) over time and space, before dropout and the logits.
VFID implementations pool the same tensor: pytorch-i3d's `extract_features` applies a 2×7×7 average pool,
the vfid-metrics toolkit a 1×7×7 pool then the mean over time; for 10 or 16 frames at 224×224 the block's
output is 2×7×7 and all three are the same number.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

FEATURE_DIM = 1024
NUM_CLASSES = 400

# (name, input channels, [branch0, branch1 reduce, branch1, branch2 reduce, branch2, pool projection])
_MIXED: tuple[tuple[str, int, tuple[int, ...]], ...] = (
    ("Mixed_3b", 192, (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", 256, (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", 480, (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", 512, (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", 512, (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", 512, (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", 528, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5b", 832, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", 832, (384, 192, 384, 48, 128, 128)),
)


def same_padding(sizes: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...]) -> tuple[int, ...]:
    """TensorFlow "SAME" padding for T, H, W, as `F.pad` takes it (last dim first; the extra pixel at the end)."""
    pad: list[int] = []
    for n, k, s in zip(reversed(sizes), reversed(kernel), reversed(stride), strict=True):
        total = max(k - (s if n % s == 0 else n % s), 0)
        pad += [total // 2, total - total // 2]
    return tuple(pad)


class MaxPool3dSame(nn.Module):
    """3-D max pool after zero "SAME" padding (as the port does; inputs are post-ReLU, so zeros never win
    over a real activation except where all are zero)."""

    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, same_padding(tuple(x.shape[2:]), self.kernel, self.stride))
        return F.max_pool3d(x, self.kernel, self.stride)


class Unit3D(nn.Module):
    """Convolution with "SAME" padding, then batch norm (eps 1e-3) and ReLU; the logits unit has neither."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: tuple[int, int, int] = (1, 1, 1),
        stride: tuple[int, int, int] = (1, 1, 1),
        batch_norm: bool = True,
        bias: bool = False,
        relu: bool = True,
    ) -> None:
        super().__init__()
        self.kernel, self.stride, self.relu = kernel, stride, relu
        self.conv3d = nn.Conv3d(cin, cout, kernel, stride=stride, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(cout, eps=1e-3, momentum=0.01) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(F.pad(x, same_padding(tuple(x.shape[2:]), self.kernel, self.stride)))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class InceptionBlock3D(nn.Module):
    """An inflated inception block: 1×1, 1×1→3×3×3, 1×1→3×3×3 and 3×3×3-max-pool→1×1 branches, concatenated."""

    def __init__(self, cin: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        c0, c1a, c1b, c2a, c2b, c3 = widths
        self.b0 = Unit3D(cin, c0)
        self.b1a = Unit3D(cin, c1a)
        self.b1b = Unit3D(c1a, c1b, (3, 3, 3))
        self.b2a = Unit3D(cin, c2a)
        self.b2b = Unit3D(c2a, c2b, (3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(cin, c3)
        self.out_channels = c0 + c1b + c2b + c3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], 1)


class InceptionI3D(nn.Module):
    """I3D RGB stream; `forward` gives the pooled 1024-d features VFID uses, `logits` the 400 Kinetics scores."""

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        for name, cin, widths in _MIXED:
            if name == "Mixed_4b":
                self.MaxPool3d_4a_3x3 = MaxPool3dSame((3, 3, 3), (2, 2, 2))
            elif name == "Mixed_5b":
                self.MaxPool3d_5a_2x2 = MaxPool3dSame((2, 2, 2), (2, 2, 2))
            setattr(self, name, InceptionBlock3D(cin, widths))
        self.logits = Unit3D(FEATURE_DIM, num_classes, batch_norm=False, bias=True, relu=False)
        self.eval()

    def feature_map(self, clips: torch.Tensor) -> torch.Tensor:
        """`Mixed_5c`'s output, N×1024×T'×H'×W' (T' = ⌈T/8⌉, H' = ⌈H/32⌉)."""
        if clips.ndim != 5 or clips.shape[1] != 3:
            raise ValueError(f"I3D takes RGB clips N×3×T×H×W in [-1, 1], got shape {tuple(clips.shape)}")
        x = clips.float()
        for layer in self.children():
            if layer is self.logits:
                break
            x = layer(x)
        return x

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """Pooled features, N×1024: the mean of `Mixed_5c` over time and space."""
        return self.feature_map(clips).mean((2, 3, 4))

    def logits_per_step(self, feature_map: torch.Tensor) -> torch.Tensor:
        """Kinetics-400 logits N×400×T'' from `feature_map`'s output as the port computes them: a 2×7×7
        average pool (so 224×224 input), then the 1×1×1 conv."""
        x = F.avg_pool3d(feature_map, (2, 7, 7), stride=1)
        return self.logits(x).squeeze(4).squeeze(3)


def load_i3d(path: Path) -> InceptionI3D:
    """I3D with pytorch-i3d's `rgb_imagenet.pt` (weights-store entry `i3d_rgb_imagenet`), strictly loaded."""
    from metrics.checkpoints import load_published_state_dict

    net = InceptionI3D()
    load_published_state_dict(net, path, "i3d_rgb_imagenet", "pytorch-i3d RGB I3D (rgb_imagenet.pt)")
    return net.eval()
