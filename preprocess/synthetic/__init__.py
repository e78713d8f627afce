"""Synthetic try-on datasets with exact ground truth, written in the published VITON-HD, Dress Code and
VVT layouts so the same readers serve real and synthetic data.

    from preprocess.synthetic import generate_dataset
    report = generate_dataset("vitonhd", samples=200, out=Path("data/synth-vitonhd"), seed=0)

People are articulated figures posed from a 3D skeleton and seen at a yaw; garments are built on the
same skeleton for the worn and the flat in-shop view; parse maps, DensePose, keypoints, garment masks,
agnostic images and landmark truth all come from the one render. Modules: `skeleton` (bodies, poses,
motion), `garments`, `textures`, `scenes` (backgrounds), `pieces` and `figure` (rendering), `labels`
(label sets, palettes, DensePose colours), `keypoints` (pose files), `agnostic`, `scenario` (one
sample), `layouts` (file writers), `truth` (the truth file), `generator` (the dataset).
"""

from preprocess.synthetic.generator import LAYOUTS, SynthReport, generate_dataset, plan_dataset
from preprocess.synthetic.layouts import NATIVE_SIZES
from preprocess.synthetic.truth import LABELS, TRUTH_FILE, read_truth

__all__ = [
    "LABELS",
    "LAYOUTS",
    "NATIVE_SIZES",
    "TRUTH_FILE",
    "SynthReport",
    "generate_dataset",
    "plan_dataset",
    "read_truth",
]
