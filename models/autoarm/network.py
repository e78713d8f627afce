"""Auto-ARM's network: an Attention U-Net (Oktay et al. 2018) with an additive attention gate on every skip.

Seed 000 §4.2 feeds the rough mask M_r, the garment mask M_g and the pose skeleton P (5 channels) through
"an Attention U-Net [12] architecture equipped with integrated AG" and reads the refined mask M_f off the
output. The layout follows Oktay et al.'s Attention U-Net:

- encoder: per level two 3x3 conv + BatchNorm + ReLU, 2x2 max-pooling between levels; widths
  64, 128, 256, 512, 1024 (four down-samplings) in the paper preset;
- decoder: a 2x2 transposed convolution up to the skip's resolution, concatenation with the gated skip,
  two 3x3 conv + BatchNorm + ReLU; a 1x1 conv to one logit channel (sigmoid gives M_f);
- attention gate on each skip x, gated by g = the decoder feature one level coarser (the bottleneck for
  the deepest skip): q = ReLU(W_x x + W_g g + b_g) with W_x a 2x2 stride-2 conv (x brought to g's grid, no
  bias) and W_g a 1x1 conv; α = σ(ψ q + b_ψ) with ψ a 1x1 conv to one channel; α is resampled bilinearly
  to x's size and the skip becomes x' = α·x (the paper's Eq. 6-7; Eq. 6 folds ψ and the ReLU into its
  weights). Oktay gates every skip but the finest; Auto-ARM's issue asks for a gate on every skip, so the
  finest level is gated too. Oktay's extra output transform (1x1 conv + BatchNorm after α·x) is left
  out so the gate is exactly Eq. 7.

Inputs whose sides are not multiples of 2**depth are zero-padded on the bottom/right and the logits cropped
back, so any person size works.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

INPUT_CHANNELS = 5  # rough mask, garment mask, skeleton RGB
PAPER_WIDTHS = (64, 128, 256, 512, 1024)


class AttentionGate(nn.Module):
    """Additive attention gate: x' = α·x with α = σ(ψ(ReLU(W_x x + W_g g + b_g)) + b_ψ), resampled to x."""

    def __init__(self, x_channels: int, g_channels: int, inter_channels: int | None = None) -> None:
        super().__init__()
        inter = inter_channels or max(1, x_channels // 2)
        self.w_x = nn.Conv2d(x_channels, inter, kernel_size=2, stride=2, bias=False)
        self.w_g = nn.Conv2d(g_channels, inter, kernel_size=1, bias=True)
        self.psi = nn.Conv2d(inter, 1, kernel_size=1, bias=True)

    def coefficients(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """α, (N, 1, H, W) at x's size, in (0, 1)."""
        theta = self.w_x(x)
        phi = self.w_g(g)
        if phi.shape[-2:] != theta.shape[-2:]:
            phi = F.interpolate(phi, size=theta.shape[-2:], mode="bilinear", align_corners=False)
        alpha = torch.sigmoid(self.psi(F.relu(theta + phi)))
        return F.interpolate(alpha, size=x.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return x * self.coefficients(x, g)


NORMS = ("batch", "group")
GROUP_SIZE = 2  # channels per group for norm="group"


def norm_layer(kind: str, channels: int) -> nn.Module:
    """BatchNorm (Oktay's choice, "batch") or GroupNorm with GROUP_SIZE channels per group ("group")."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(max(1, channels // GROUP_SIZE), channels)
    raise ValueError(f"unknown norm {kind!r}; choose one of {', '.join(NORMS)}")


class ConvBlock(nn.Sequential):
    """Two 3x3 convolutions, each followed by normalisation and ReLU (the U-Net level block)."""

    def __init__(self, in_channels: int, out_channels: int, norm: str = "batch") -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            norm_layer(norm, out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            norm_layer(norm, out_channels),
            nn.ReLU(inplace=True),
        )


class AttentionUNet(nn.Module):
    """Attention U-Net: (N, in_channels, H, W) -> (N, out_channels, H, W) logits.

    `widths` are the channel counts per level, finest first; `len(widths) - 1` down-samplings, one
    attention gate per skip connection (`self.gates`, finest first).
    """

    def __init__(
        self,
        in_channels: int = INPUT_CHANNELS,
        out_channels: int = 1,
        widths: Sequence[int] = PAPER_WIDTHS,
        norm: str = "batch",
    ) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(
                f"AttentionUNet widths {widths} need at least two positive levels (e.g. 64, 128, 256, 512, 1024)"
            )
        self.widths = widths
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.norm = norm
        self.encoders = nn.ModuleList(
            ConvBlock(in_channels if level == 0 else widths[level - 1], width, norm)
            for level, width in enumerate(widths)
        )
        skips = range(len(widths) - 1)
        self.gates = nn.ModuleList(AttentionGate(widths[i], widths[i + 1]) for i in skips)
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(widths[i + 1], widths[i], kernel_size=2, stride=2) for i in skips
        )
        self.decoders = nn.ModuleList(ConvBlock(2 * widths[i], widths[i], norm) for i in skips)
        self.head = nn.Conv2d(widths[0], out_channels, kernel_size=1)

    @property
    def depth(self) -> int:
        """Number of down-samplings (= skip connections = attention gates)."""
        return len(self.widths) - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        multiple = 2**self.depth
        pad_h, pad_w = -height % multiple, -width % multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        skips = []
        h = x
        for level, encoder in enumerate(self.encoders):
            if level:
                h = F.max_pool2d(h, 2)
            h = encoder(h)
            skips.append(h)
        g = skips.pop()  # the bottleneck gates the deepest skip
        for level in reversed(range(self.depth)):
            skip = self.gates[level](skips[level], g)
            g = self.decoders[level](torch.cat([skip, self.ups[level](g)], dim=1))
        return self.head(g)[..., :height, :width]
