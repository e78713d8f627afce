"""Synthetic datasets generated once per test session, small enough to keep the suite fast."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from preprocess.synthetic import SynthReport, generate_dataset, read_truth


@dataclass
class Generated:
    root: Path
    report: SynthReport
    truth: list[dict]


def _generate(tmp_path_factory, layout: str, samples: int, size: tuple[int, int], seed: int) -> Generated:
    root = tmp_path_factory.mktemp(f"synth-{layout}") / "data"
    report = generate_dataset(layout, samples, root, seed=seed, size=size)
    return Generated(root, report, read_truth(root))


@pytest.fixture(scope="session")
def vitonhd(tmp_path_factory) -> Generated:
    return _generate(tmp_path_factory, "vitonhd", 12, (256, 192), seed=11)


@pytest.fixture(scope="session")
def dresscode(tmp_path_factory) -> Generated:
    """256x192 images, so Dress Code's 384x512 keypoint space is a real 2x rescale."""
    return _generate(tmp_path_factory, "dresscode", 12, (256, 192), seed=5)


@pytest.fixture(scope="session")
def vvt(tmp_path_factory) -> Generated:
    return _generate(tmp_path_factory, "vvt", 6, (128, 96), seed=2)
