"""Backgrounds of synthetic photographs: plain studio colours, gradients and simple rooms or outdoor scenes.

Each is a few vectorised numpy operations on an (H, W, 3) RGB array, so a background costs about a
millisecond. The in-shop background is plain near-white, as product photos are.
"""

from __future__ import annotations

import numpy as np

BACKGROUND_KINDS = ("plain", "gradient", "room", "outdoor")


def _rgb(rng: np.random.Generator, low: int, high: int) -> np.ndarray:
    return rng.uniform(low, high, 3).astype(np.float32)


def _vertical(h: int, w: int, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    return np.broadcast_to(top * (1 - t) + bottom * t, (h, w, 3)).copy()


def sample_background(rng: np.random.Generator, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """A random background (H, W, 3) uint8 RGB and its kind."""
    h, w = size
    kind = str(rng.choice(BACKGROUND_KINDS, p=[0.3, 0.3, 0.25, 0.15]))
    if kind == "plain":
        img = np.broadcast_to(_rgb(rng, 60, 245), (h, w, 3)).copy()
    elif kind == "gradient":
        img = _vertical(h, w, _rgb(rng, 40, 250), _rgb(rng, 40, 250))
    elif kind == "room":
        horizon = int(h * rng.uniform(0.62, 0.85))
        wall, floor = _rgb(rng, 120, 240), _rgb(rng, 50, 180)
        img = np.empty((h, w, 3), np.float32)
        img[:horizon] = wall
        img[horizon:] = _vertical(h - horizon, w, floor * 1.1, floor * 0.8)
        img[max(0, horizon - max(2, h // 60)) : horizon] = wall * 0.7  # skirting board
        for _ in range(int(rng.integers(0, 3))):  # framed pictures or a window on the wall
            x0, y0 = int(rng.uniform(0, 0.8) * w), int(rng.uniform(0.05, 0.4) * h)
            x1, y1 = (
                min(w, x0 + int(rng.uniform(0.1, 0.3) * w)),
                min(horizon, y0 + int(rng.uniform(0.1, 0.3) * h)),
            )
            img[y0:y1, x0:x1] = wall * 0.55
            pad = max(1, w // 80)
            img[y0 + pad : y1 - pad, x0 + pad : x1 - pad] = _rgb(rng, 60, 250)
    else:
        horizon = int(h * rng.uniform(0.45, 0.7))
        img = np.empty((h, w, 3), np.float32)
        img[:horizon] = _vertical(
            horizon, w, np.array([120, 170, 235], np.float32), np.array([200, 225, 250], np.float32)
        )
        img[horizon:] = _vertical(
            h - horizon, w, _rgb(rng, 70, 140) * np.array([0.8, 1.0, 0.7], np.float32), _rgb(rng, 40, 100)
        )
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        for _ in range(int(rng.integers(1, 4))):  # trees or bushes on the horizon
            cx, r = rng.uniform(0, w), rng.uniform(0.06, 0.18) * w
            blob = ((xx - cx) ** 2 + ((yy - horizon) * 1.3) ** 2) < r * r
            img[blob] = _rgb(rng, 30, 90) * np.array([0.6, 1.0, 0.5], np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), kind


def shop_background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A plain near-white product-photo background with a faint vertical falloff."""
    h, w = size
    base = rng.uniform(238, 252)
    tint = rng.uniform(-3, 3, 3).astype(np.float32)
    top = np.full(3, base, np.float32) + tint
    return np.clip(_vertical(h, w, top, top - rng.uniform(0, 6)), 0, 255).astype(np.uint8)
