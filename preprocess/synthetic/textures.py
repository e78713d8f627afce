"""Fabric textures of synthetic garments, evaluated per pixel from garment coordinates.

A texture is a function of the garment's own surface coordinates (head units along and across each
garment piece), so the worn garment and its flat in-shop image show the same pattern at the same scale.
Patterns: solid, stripes, checks, dots, and a printed logo or text on the chest over any of them.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import cv2
import numpy as np

TEXTURE_KINDS = ("solid", "stripes", "checks", "dots", "print")
PRINT_WORDS = ("VTON", "SYN", "ABC", "GO", "72", "NEW", "XO", "ZEN")
STAMP_RES = 48  # stamp pixels per head unit


@dataclass(frozen=True)
class Texture:
    """A fabric: base and accent colours (RGB) and a pattern with its scale in head units."""

    kind: str
    base: tuple[int, int, int]
    accent: tuple[int, int, int]
    period: float = 0.4
    duty: float = 0.5
    angle: float = 0.0  # stripe direction, degrees
    print_kind: str = ""  # "", "circle", "star", "triangle", "text"
    print_text: str = ""
    print_colour: tuple[int, int, int] = (255, 255, 255)
    print_size: float = 0.7  # width of the print in head units


def _colour(rng: np.random.Generator, light: float | None = None) -> tuple[int, int, int]:
    h = rng.random()
    s = rng.choice([rng.uniform(0.05, 0.25), rng.uniform(0.35, 0.9)], p=[0.3, 0.7])
    v = rng.uniform(0.25, 0.95) if light is None else light
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


def _contrast(rng: np.random.Generator, base: tuple[int, int, int]) -> tuple[int, int, int]:
    lum = (0.3 * base[0] + 0.59 * base[1] + 0.11 * base[2]) / 255
    return _colour(rng, light=rng.uniform(0.05, 0.3) if lum > 0.55 else rng.uniform(0.75, 1.0))


def sample_texture(rng: np.random.Generator) -> Texture:
    """A random fabric (colours chosen to stay distinguishable from a near-white background)."""
    kind = str(rng.choice(TEXTURE_KINDS, p=[0.3, 0.22, 0.16, 0.14, 0.18]))
    base = _colour(rng)
    while min(base) > 225:  # keep garments off the in-shop background's near-white
        base = _colour(rng)
    accent = _contrast(rng, base)
    print_kind, text = "", ""
    if kind == "print":
        print_kind = str(rng.choice(["circle", "star", "triangle", "text"]))
        text = str(rng.choice(PRINT_WORDS)) if print_kind == "text" else ""
    elif rng.random() < 0.12:
        print_kind, text = "text", str(rng.choice(PRINT_WORDS))
    return Texture(
        kind=kind,
        base=base,
        accent=accent,
        period=float(rng.uniform(0.18, 0.55)),
        duty=float(rng.uniform(0.3, 0.6)),
        angle=float(rng.choice([0.0, 90.0, 45.0, -45.0], p=[0.45, 0.3, 0.125, 0.125])),
        print_kind=print_kind,
        print_text=text,
        print_colour=_contrast(rng, base),
        print_size=float(rng.uniform(0.5, 0.85)),
    )


def pattern_mask(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Where the accent colour shows (float 0..1) at garment coordinates u (across) and v (along)."""
    p = texture.period
    if texture.kind in ("solid", "print"):
        return np.zeros_like(u)
    if texture.kind == "stripes":
        t = math.radians(texture.angle)
        s = (u * math.sin(t) + v * math.cos(t)) / p
        return ((s - np.floor(s)) < texture.duty).astype(np.float32)
    if texture.kind == "checks":
        a = ((u / p) - np.floor(u / p)) < texture.duty
        b = ((v / p) - np.floor(v / p)) < texture.duty
        return (a.astype(np.float32) + b.astype(np.float32)) * 0.5
    if texture.kind == "dots":
        gu, gv = u / p, v / p
        row = np.floor(gv)
        du = gu - np.floor(gu + 0.5 * (row % 2)) - 0.5 * (row % 2)
        dv = gv - row - 0.5
        return ((du * du + dv * dv) < (0.25 * texture.duty) ** 2 * 4).astype(np.float32)
    raise ValueError(f"unknown texture kind {texture.kind!r}; known: {TEXTURE_KINDS}")


def fabric_colours(texture: Texture, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """RGB float32 (N, 3) of the fabric at garment coordinates (before shading)."""
    m = pattern_mask(texture, u, v)[:, None]
    base = np.asarray(texture.base, np.float32)
    accent = np.asarray(texture.accent, np.float32)
    return base * (1 - m) + accent * m


@dataclass(frozen=True)
class Stamp:
    """A printed motif placed on a garment's chest: alpha bitmap and its box in garment coordinates."""

    alpha: np.ndarray  # (h, w) float32 0..1
    u0: float  # left edge (across coordinate)
    v0: float  # top edge (along coordinate)
    colour: tuple[int, int, int]

    def apply(self, rgb: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Composite the print over fabric colours `rgb` (N, 3) at coordinates u, v."""
        h, w = self.alpha.shape
        col = np.floor((u - self.u0) * STAMP_RES).astype(np.int32)
        row = np.floor((v - self.v0) * STAMP_RES).astype(np.int32)
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        if not inside.any():
            return rgb
        a = np.zeros(len(u), np.float32)
        a[inside] = self.alpha[row[inside], col[inside]]
        return rgb * (1 - a[:, None]) + np.asarray(self.colour, np.float32) * a[:, None]


def make_stamp(texture: Texture, chest_v: float) -> Stamp | None:
    """The chest print of a texture centred at along-coordinate `chest_v`, or None for plain fabrics."""
    if not texture.print_kind:
        return None
    w = max(8, int(round(texture.print_size * STAMP_RES)))
    h = w if texture.print_kind != "text" else max(8, int(w * 0.45))
    canvas = np.zeros((h, w), np.uint8)
    c = (w // 2, h // 2)
    r = int(min(w, h) * 0.45)
    if texture.print_kind == "circle":
        cv2.circle(canvas, c, r, 255, -1, cv2.LINE_AA)
        cv2.circle(canvas, c, int(r * 0.55), 0, -1, cv2.LINE_AA)
    elif texture.print_kind == "star":
        angles = np.arange(10) * math.pi / 5 - math.pi / 2
        radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
        pts = np.stack([c[0] + radii * np.cos(angles), c[1] + radii * np.sin(angles)], 1)
        cv2.fillPoly(canvas, [np.round(pts * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    elif texture.print_kind == "triangle":
        pts = np.array([[c[0], c[1] - r], [c[0] + r, c[1] + r * 0.8], [c[0] - r, c[1] + r * 0.8]])
        cv2.fillPoly(canvas, [np.round(pts * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    else:
        font = cv2.FONT_HERSHEY_DUPLEX
        (tw, th), _ = cv2.getTextSize(texture.print_text, font, 1.0, 2)
        scale = min((w * 0.9) / tw, (h * 0.8) / th)
        (tw, th), _ = cv2.getTextSize(texture.print_text, font, scale, max(1, int(scale * 2)))
        org = ((w - tw) // 2, (h + th) // 2)
        cv2.putText(canvas, texture.print_text, org, font, scale, 255, max(1, int(scale * 2)), cv2.LINE_AA)
    return Stamp(
        alpha=canvas.astype(np.float32) / 255.0,
        u0=-w / STAMP_RES / 2,
        v0=chest_v - h / STAMP_RES / 2,
        colour=texture.print_colour,
    )
