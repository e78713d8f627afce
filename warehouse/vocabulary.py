"""The platform's names for datasets, settings, methods and metrics, and how the papers' names map onto them.

Papers print "VITON-HD", "Zalando (VITON)", "KID×1e3", "Ours"; the platform stores lower-case slugs so that
`vs_paper` can join our rows to theirs. The mapping (documented here, applied by `warehouse.paper_results`):

- datasets: the reader layout names (vitonhd, dresscode, vvt, vivid, streettryon), plus viton (the original
  Zalando VITON set) and deepfashion2.
- settings: paired, unpaired, video, mask, efficiency; "paired 512x384" -> paired with resolution 512x384;
  the garment-transfer paper's "transfer A to B (no ground truth)" -> transfer_unpaired, "re-transfer back to
  originator (ground truth)" -> retransfer_paired, "transfer A to B (no retraining)" -> transfer_zero_shot.
- methods: the platform's own families keep their package names (autoarm, igr, dpidm, garment_transfer,
  mgvton; the garment-transfer paper's "Ours" and its "all" efficiency row are garment_transfer); every other
  method becomes a slug: lower case, runs of other characters -> "_" ("LaDI-VTON" -> ladi_vton).
- metrics: kid_x1e3 -> kid with scale 1000; "kid" printed with an unstated scale -> kid with scale NULL (its
  difference to ours is then unknown); every other metric keeps its name with scale 1.
"""

from __future__ import annotations

import re

DATASETS = {
    "VITON-HD": "vitonhd",
    "DressCode": "dresscode",
    "VVT": "vvt",
    "ViViD": "vivid",
    "StreetTryOn": "streettryon",
    "Zalando (VITON)": "viton",
    "DeepFashion2": "deepfashion2",
}

# raw setting -> (setting, resolution)
SETTINGS: dict[str, tuple[str, str | None]] = {
    "paired": ("paired", None),
    "unpaired": ("unpaired", None),
    "video": ("video", None),
    "mask": ("mask", None),
    "efficiency": ("efficiency", None),
    "arm_regrowth": ("arm_regrowth", None),
    "paired 512x384": ("paired", "512x384"),
    "transfer A to B (no ground truth)": ("transfer_unpaired", None),
    "re-transfer back to originator (ground truth)": ("retransfer_paired", None),
    "transfer A to B (no retraining)": ("transfer_zero_shot", None),
}

METHODS = {
    "Auto-ARM": "autoarm",
    "Auto-ARM+CatVTON": "autoarm_catvton",
    "IGR": "igr",
    "DPIDM": "dpidm",
    "MG-VTON": "mgvton",
    "MG-VTON(MF)": "mgvton_mf",
}

# Methods a paper calls by a pronoun: (seed prefix, raw name) -> platform name.
SEED_METHODS = {
    ("003_", "Ours"): "garment_transfer",
    ("003_", "all"): "garment_transfer",
}

# metric -> whether a larger value is better
HIGHER_IS_BETTER = {
    "ssim": True,
    "psnr": True,
    "mse": False,
    "lpips": False,
    "dists": False,
    "fid": False,
    "kid": False,
    "clip_fid": False,
    "is": True,
    "hyperiqa": True,
    "mask_iou": True,
    "cpa": True,
    "vfid_i3d": False,
    "vfid_resnext": False,
    "params_m": False,
    "gflops": False,
    "fps": True,
    "memory_mb": False,
}


def slug(name: str) -> str:
    """Lower-case name with every run of characters outside [a-z0-9] replaced by one underscore."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def dataset_name(raw: str) -> str:
    return DATASETS.get(raw, slug(raw))


def setting_name(raw: str) -> tuple[str, str | None]:
    """(setting, resolution) for a paper's setting label."""
    return SETTINGS.get(raw, (slug(raw), None))


def method_name(raw: str, seed: str = "") -> str:
    for (prefix, name), platform in SEED_METHODS.items():
        if seed.startswith(prefix) and raw == name:
            return platform
    return METHODS.get(raw, slug(raw))


def metric_name(raw: str, note: str = "") -> tuple[str, float | None]:
    """(metric, scale) where printed value = natural value × scale; scale None when the paper leaves it unstated."""
    if raw == "kid_x1e3":
        return "kid", 1000.0
    if raw == "kid":
        lowered = note.lower()
        if "1e3" in lowered or "1000" in lowered:
            return "kid", 1000.0
        if "scale not stated" in lowered:
            return "kid", None
    return slug(raw), 1.0
