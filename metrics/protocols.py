"""Named evaluation protocols: the exact metric settings each paper's numbers depend on, recorded with results.

Papers disagree on SSIM colour handling, the resize in front of Inception, KID's subset size and scale and the
LPIPS backbone; a `Protocol` makes each choice an explicit option and `as_dict()` is stored beside every
value (the `protocol` column of `eval_metrics`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

FID_RESIZES = ("tf_bilinear", "clean_bicubic")


@dataclass(frozen=True)
class Protocol:
    """Every setting a paper varies. Defaults: torch-fidelity FID/KID/IS, torchmetrics SSIM, LPIPS AlexNet."""

    name: str
    description: str
    ssim_grayscale: bool = False  # torchmetrics: RGB; scikit-image (HR-VITON): luma of rgb2gray
    ssim_gaussian: bool = True
    ssim_kernel_size: int = 11
    ssim_sigma: float = 1.5
    ssim_sample_covariance: bool = False
    ssim_border: str = "reflect"  # torchmetrics reflect-pads and averages everything; scikit-image crops
    data_range: float = 1.0  # images are scaled to [0, 1] before SSIM/PSNR
    fid_resize: str = (
        "tf_bilinear"  # torch-fidelity's TF1 bilinear inside Inception, or clean-fid's PIL bicubic
    )
    kid_subset_size: int = 1000
    kid_subsets: int = 100
    kid_small_set: str = "refuse"  # torch-fidelity refuses sets smaller than the subset; clean-fid clips
    kid_scale: float = 1.0  # 1e3 where a paper prints KID×1e3
    is_splits: int = 10
    lpips_net: str = "alex"
    seed: int = 2020

    def __post_init__(self) -> None:
        if self.fid_resize not in FID_RESIZES:
            raise ValueError(f"protocol {self.name}: fid_resize must be one of {FID_RESIZES}")
        if self.kid_small_set not in ("refuse", "clip"):
            raise ValueError(f"protocol {self.name}: kid_small_set must be 'refuse' or 'clip'")

    def ssim_options(self) -> dict:
        """Keyword arguments for `metrics.paired.ssim`."""
        return {
            "data_range": self.data_range,
            "kernel_size": self.ssim_kernel_size,
            "sigma": self.ssim_sigma,
            "gaussian": self.ssim_gaussian,
            "grayscale": self.ssim_grayscale,
            "sample_covariance": self.ssim_sample_covariance,
            "border": self.ssim_border,
        }

    def with_options(self, **changes) -> Protocol:
        """A copy with some settings changed (e.g. a smaller KID subset for a small test set)."""
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            "torch_fidelity",
            "torch-fidelity defaults: TF-compatible Inception resize, KID 1000×100 (refuses small sets); "
            "torchmetrics SSIM; LPIPS alex",
        ),
        Protocol(
            "catvton",
            "CatVTON/LaDI-VTON eval: torchmetrics SSIM (Gaussian 11, σ 1.5, RGB, range 1); clean-fid 'clean' "
            "PIL-bicubic resize for FID/KID, KID subsets clipped to the set size; LPIPS alex",
            fid_resize="clean_bicubic",
            kid_small_set="clip",
        ),
        Protocol(
            "hrviton",
            "HR-VITON eval: scikit-image SSIM on grayscale with Gaussian weights (σ 1.5, population covariance); "
            "torch-fidelity FID/KID; LPIPS alex",
            ssim_grayscale=True,
            ssim_border="crop",
        ),
        Protocol(
            "igr",
            "IGR tables: as catvton, KID reported ×1e3",
            fid_resize="clean_bicubic",
            kid_small_set="clip",
            kid_scale=1e3,
        ),
    )
}


def get_protocol(name: str) -> Protocol:
    """The protocol called `name`; an unknown name is an error listing the known ones."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ValueError(
            f"unknown metrics protocol {name!r}; choose one of: {', '.join(PROTOCOLS)}"
        ) from None
