"""Named evaluation protocols: the exact metric settings each paper's numbers depend on, recorded with results.

Papers disagree on SSIM colour handling, the resize in front of Inception, KID's subset size and scale and the
LPIPS backbone; a `Protocol` makes each choice an explicit option and `as_dict()` is stored beside every
value (the `protocol` column of `eval_metrics`). Video papers also disagree on how VFID cuts clips into
windows and what the 3D-ResNeXt is fed; a `VideoProtocol` adds those settings to the per-frame ones
(`VIDEO_PROTOCOLS`: `vfid_toolkit`, the papers' numbers, and `vfid_centre`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

FID_RESIZES = ("tf_bilinear", "clean_bicubic")
VFID_WINDOWS = ("non_overlapping", "centre")  # the window rules of `metrics.video.window_indices`
RESNEXT_INPUTS = ("minus_one_one", "hara")  # `metrics.resnext3d.ResNeXt3D.normalization`
DEFAULT_VIDEO_PROTOCOL = "vfid_toolkit"
_IDENTITY = ("name", "description")


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


@dataclass(frozen=True)
class VideoProtocol(Protocol):
    """A protocol for clips: the per-frame settings of `Protocol` (SSIM, PSNR, LPIPS of every frame pair) and
    how VFID cuts each clip into windows, resizes their frames and feeds the 3D-ResNeXt."""

    vfid_windows: str = "non_overlapping"  # `metrics.video.window_indices`: every 10 frames, or one centred
    vfid_frames: int = 10
    vfid_size: int = 224  # frames resized to size×size (bilinear, antialiased)
    vfid_resnext_input: str = "minus_one_one"  # [-1, 1] as I3D (vfid-metrics), or Hara's 0..255 − mean
    frame_protocol: str = "torch_fidelity"  # the image protocol whose per-frame settings these are

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.vfid_windows not in VFID_WINDOWS:
            raise ValueError(f"protocol {self.name}: vfid_windows must be one of {VFID_WINDOWS}")
        if self.vfid_resnext_input not in RESNEXT_INPUTS:
            raise ValueError(f"protocol {self.name}: vfid_resnext_input must be one of {RESNEXT_INPUTS}")
        if self.vfid_frames < 1 or self.vfid_size < 1:
            raise ValueError(f"protocol {self.name}: vfid_frames and vfid_size must be at least 1")

    def vfid_options(self) -> dict:
        """Keyword arguments for `metrics.video.clip_features`: frames per window, frame size, window rule."""
        return {"frames": self.vfid_frames, "size": self.vfid_size, "windows": self.vfid_windows}

    def over_frames(self, frames: Protocol) -> VideoProtocol:
        """These VFID settings with `frames`' per-frame settings, named `<this>+<frames>` unless they equal ours."""
        image = {f.name: getattr(frames, f.name) for f in fields(Protocol) if f.name not in _IDENTITY}
        if all(getattr(self, key) == value for key, value in image.items()):
            return self
        return replace(
            self,
            **image,
            name=f"{self.name}+{frames.name}",
            description=f"{self.description}; per-frame settings of {frames.name}",
            frame_protocol=frames.name,
        )


VIDEO_PROTOCOLS: dict[str, VideoProtocol] = {
    p.name: p
    for p in (
        VideoProtocol(
            "vfid_toolkit",
            "video try-on papers (FW-GAN, ClothFormer, DPIDM) through the public vfid-metrics toolkit: "
            "non-overlapping 10-frame windows from frame 0 (a shorter remainder dropped), frames resized to "
            "224×224, I3D and 3D-ResNeXt fed [-1, 1]",
        ),
        VideoProtocol(
            "vfid_centre",
            "one centred 10-frame window per clip at 224×224; the 3D-ResNeXt fed what it was trained on "
            "(0..255 minus the ActivityNet mean, Hara et al.), I3D [-1, 1]",
            vfid_windows="centre",
            vfid_resnext_input="hara",
        ),
    )
}


def get_protocol(name: str) -> Protocol:
    """The image or video protocol called `name`; an unknown name is an error listing the known ones."""
    found = PROTOCOLS.get(name) or VIDEO_PROTOCOLS.get(name)
    if found is None:
        raise ValueError(
            f"unknown metrics protocol {name!r}; choose one of: {', '.join(PROTOCOLS)} (images) or "
            f"{', '.join(VIDEO_PROTOCOLS)} (videos)"
        )
    return found


def get_video_protocol(protocol: Protocol | str | None = None) -> VideoProtocol:
    """The video protocol for `protocol`: a video protocol (or its name) as it is; an image protocol's
    per-frame settings under the default VFID settings (`vfid_toolkit`); None: `vfid_toolkit`."""
    if protocol is None:
        return VIDEO_PROTOCOLS[DEFAULT_VIDEO_PROTOCOL]
    found = get_protocol(protocol) if isinstance(protocol, str) else protocol
    if isinstance(found, VideoProtocol):
        return found
    return VIDEO_PROTOCOLS[DEFAULT_VIDEO_PROTOCOL].over_frames(found)
