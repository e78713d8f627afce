"""The weights store: verified atomic imports, hash/prefix/size/loadability refusals, fail-fast lookups, CLI.

Every weights file here is built by the test (a tiny ONNX graph, torch state dicts, a safetensors file,
a diffusers-like folder) and registered in an injected catalog with its computed sha256. The real
catalog is checked for consistency, and its LPIPS entry against the file the installed lpips wheel ships.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import re
import struct
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import save_file

from vton.home import VtonHome
from vton.weights import (
    CATALOG,
    MissingWeightsError,
    WeightsCheckError,
    WeightsEntry,
    WeightsError,
    WeightsStore,
)
from vton.weights.commands import weights_group

# -- tiny real weights files ----------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _msg(*fields: tuple[int, int | str | bytes]) -> bytes:
    """Protocol-buffer encoding of (field number, value): ints as varints, str/bytes length-delimited."""
    out = b""
    for num, value in fields:
        if isinstance(value, int):
            out += _varint(num << 3) + _varint(value)
        else:
            raw = value.encode() if isinstance(value, str) else value
            out += _varint(num << 3 | 2) + _varint(len(raw)) + raw
    return out


def tiny_onnx(bias: tuple[float, float] = (1.0, 2.0)) -> bytes:
    """An ONNX ModelProto computing y = x + b for x of shape [1, 2] (the onnx package is not installed)."""
    float_type = 1
    shape = _msg((1, _msg((1, 1))), (1, _msg((1, 2))))
    tensor_type = _msg((1, _msg((1, float_type), (2, shape))))
    x = _msg((1, "x"), (2, tensor_type))
    y = _msg((1, "y"), (2, tensor_type))
    b = _msg((1, 2), (2, float_type), (8, "b"), (9, struct.pack("<2f", *bias)))
    node = _msg((1, "x"), (1, "b"), (2, "y"), (4, "Add"))
    graph = _msg((1, node), (2, "tiny"), (5, b), (11, x), (12, y))
    return _msg((1, 8), (2, "vton-tests"), (7, graph), (8, _msg((2, 13))))


class NotATensor:
    """A custom object: a pickle of it must never be loaded as weights."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def entry_for(path: Path, name: str, check: str, **overrides) -> WeightsEntry:
    fields = {
        "name": name,
        "filename": path.name,
        "kind": "file",
        "check": check,
        "used_by": ("test component",),
        "source": "https://example.org/" + path.name,
        "sha256": sha(path),
        "size_bytes": path.stat().st_size,
    }
    fields.update(overrides)
    return WeightsEntry(**fields)


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    src = tmp_path / "downloads"
    src.mkdir()
    out = {
        "onnx": src / "tiny.onnx",
        "torch": src / "tiny_state.pth",
        "safetensors": src / "tiny.safetensors",
        "pickle": src / "evil.pth",
        "no_tensors": src / "empty_state.pth",
    }
    out["onnx"].write_bytes(tiny_onnx())
    torch.save({"layer.weight": torch.arange(6.0).reshape(2, 3), "layer.bias": torch.zeros(2)}, out["torch"])
    save_file({"w": torch.ones(3, 2)}, str(out["safetensors"]))
    torch.save({"w": torch.zeros(1), "extra": NotATensor()}, out["pickle"])
    torch.save({"epoch": 3, "lr": 0.1}, out["no_tensors"])
    return out


@pytest.fixture()
def weights_root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("VTON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VTON_WEIGHTS", str(tmp_path / "weights_store"))
    root = VtonHome.from_env().weights
    assert root == tmp_path / "weights_store"
    return root


@pytest.fixture()
def store(files: dict[str, Path], weights_root: Path) -> WeightsStore:
    catalog = (
        entry_for(files["onnx"], "tiny_onnx", "onnx"),
        entry_for(files["torch"], "tiny_torch", "torch_state_dict"),
        entry_for(files["safetensors"], "tiny_safetensors", "safetensors"),
        entry_for(files["pickle"], "evil", "torch_state_dict", sha256=None, size_bytes=None),
        entry_for(files["no_tensors"], "empty_state", "torch_state_dict", sha256=None, size_bytes=None),
    )
    return WeightsStore(weights_root, catalog=catalog)


# -- import, verify, look up ----------------------------------------------------------------------


def test_tiny_onnx_fixture_is_a_real_model(files):
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(files["onnx"]), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": np.array([[10.0, 20.0]], dtype=np.float32)})
    assert y.tolist() == [[11.0, 22.0]]


@pytest.mark.parametrize(
    ("kind", "name", "loaded"),
    [
        ("onnx", "tiny_onnx", "ONNX model, inputs: x"),
        ("torch", "tiny_torch", "torch state dict, 2 tensors"),
        ("safetensors", "tiny_safetensors", "safetensors, 1 tensors"),
    ],
)
def test_import_verifies_and_installs(store, files, weights_root, kind, name, loaded):
    said: list[str] = []
    with pytest.raises(MissingWeightsError):
        store.path(name)

    installed = store.import_file(files[kind], report=said.append)

    assert installed == weights_root / name / files[kind].name
    assert installed.read_bytes() == files[kind].read_bytes()
    assert store.path(name) == installed
    assert said == [f"{name}: installed {installed} (verified by sha256; {loaded})"]
    record = json.loads((weights_root / name / "record.json").read_text())
    assert record["sha256"] == sha(files[kind])
    (status,) = [s for s in store.status() if s.entry.name == name]
    assert (status.present, status.verified, status.path) == (True, True, installed)
    assert store.verify(name).verified
    assert not [p for p in (weights_root / name).iterdir() if p.name.endswith(".tmp")]


def test_wrong_hash_is_refused_with_expected_and_actual(files, weights_root):
    wrong = "ab" * 32
    store = WeightsStore(
        weights_root, catalog=(entry_for(files["torch"], "tiny_torch", "torch_state_dict", sha256=wrong),)
    )

    with pytest.raises(WeightsCheckError) as err:
        store.import_file(files["torch"])

    msg = str(err.value)
    assert "\n" not in msg
    assert f"expected {wrong}" in msg and f"got {sha(files['torch'])}" in msg
    assert str(files["torch"]) in msg and "https://example.org/tiny_state.pth" in msg
    assert not (weights_root / "tiny_torch" / "tiny_state.pth").exists()
    with pytest.raises(MissingWeightsError):
        store.path("tiny_torch")


def test_prefix_only_verification_accepts_the_right_prefix_and_rejects_a_wrong_one(tmp_path, weights_root):
    state = tmp_path / "scratch.pth"
    torch.save({"w": torch.randn(4)}, state)
    prefix = sha(state)[:8]
    named = tmp_path / f"tinynet-{prefix}.pth"  # torch.hub style: the name embeds the sha256 prefix
    state.rename(named)
    good = entry_for(named, "tinynet", "torch_state_dict", sha256=None, sha256_prefix=prefix)
    wrong_prefix = "0" * 8 if prefix != "0" * 8 else "1" * 8
    bad = dataclasses.replace(good, name="tinynet_wrong", sha256_prefix=wrong_prefix)
    store = WeightsStore(weights_root, catalog=(good, bad))
    said: list[str] = []

    with pytest.raises(
        WeightsError, match="is the file name of several entries .tinynet, tinynet_wrong.: pass --name"
    ):
        store.import_file(named)
    assert (
        store.import_file(named, name="tinynet", report=said.append) == weights_root / "tinynet" / named.name
    )
    assert "verified by sha256 prefix" in said[0]
    with pytest.raises(
        WeightsCheckError, match=f"expected a digest starting {wrong_prefix}, got {sha(named)}"
    ):
        store.import_file(named, name="tinynet_wrong")
    assert not (weights_root / "tinynet_wrong" / named.name).exists()


def test_pickled_object_is_refused_by_weights_only_load(store, files, weights_root):
    with pytest.raises(WeightsCheckError) as err:
        store.import_file(files["pickle"])

    msg = str(err.value)
    assert "\n" not in msg
    assert f"refused {files['pickle']}:" in msg
    assert "non-tensor object" in msg and "NotATensor" in msg and "weights_only=True" in msg
    assert not (weights_root / "evil" / "evil.pth").exists()
    assert [p.name for p in (weights_root / "evil").iterdir()] == []  # temp copy removed too


def test_checkpoint_without_tensors_is_refused(store, files):
    with pytest.raises(WeightsCheckError, match="empty_state.pth: the checkpoint dict holds no tensors$"):
        store.import_file(files["no_tensors"])


def test_unknown_hash_is_checked_by_size_and_loadability(tmp_path, weights_root):
    garbage = tmp_path / "model.onnx"
    garbage.write_bytes(b"\x08\x07 definitely not an onnx graph")
    entry = entry_for(garbage, "some_model", "onnx", sha256=None, size_bytes=None)
    sized = dataclasses.replace(entry, name="sized_model", size_bytes=999)
    store = WeightsStore(weights_root, catalog=(entry, sized))

    with pytest.raises(WeightsCheckError, match=r"model\.onnx is not a loadable ONNX model \(onnxruntime: "):
        store.import_file(garbage, name="some_model")
    with pytest.raises(
        WeightsCheckError, match=rf"{garbage.stat().st_size} bytes, sized_model \(model.onnx\) has 999"
    ):
        store.import_file(garbage, name="sized_model")

    good = tmp_path / "good" / "model.onnx"
    good.parent.mkdir()
    good.write_bytes(tiny_onnx())
    said: list[str] = []
    store.import_file(good, name="some_model", report=said.append)
    assert "verified by size and loadability" in said[0]
    assert json.loads((weights_root / "some_model" / "record.json").read_text())["sha256"] == sha(good)


def test_missing_weights_error_is_one_line_naming_file_entry_and_import_command(store):
    with pytest.raises(MissingWeightsError) as err:
        store.path("tiny_onnx")

    assert str(err.value) == (
        "missing weights 'tiny_onnx' (tiny.onnx, used by the test component): get it from "
        "https://example.org/tiny.onnx, then run: vton weights import /path/to/tiny.onnx"
    )
    with pytest.raises(WeightsError, match="unknown weights name 'nope'; known names: empty_state, evil"):
        store.path("nope")


def test_reimporting_the_same_file_is_a_no_op_that_says_so(store, files):
    first = store.import_file(files["torch"])
    before = first.stat()
    said: list[str] = []

    again = store.import_file(files["torch"], report=said.append)

    assert again == first
    assert (first.stat().st_ino, first.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert said == [
        f"tiny_torch: already installed at {first} (same sha256 {sha(files['torch'])[:12]}), nothing to do"
    ]


def test_importing_a_different_file_replaces_the_installed_one(tmp_path, weights_root):
    first, second = tmp_path / "a" / "model.onnx", tmp_path / "b" / "model.onnx"
    for path, bias in ((first, (1.0, 2.0)), (second, (3.0, 4.0))):
        path.parent.mkdir()
        path.write_bytes(tiny_onnx(bias))
    store = WeightsStore(weights_root, catalog=(entry_for(first, "m", "onnx", sha256=None, size_bytes=None),))
    said: list[str] = []

    store.import_file(first, report=said.append)
    installed = store.import_file(second, report=said.append)

    assert said[1].startswith(f"m: installed {installed}")
    assert installed.read_bytes() == second.read_bytes()
    assert json.loads((weights_root / "m" / "record.json").read_text())["sha256"] == sha(second)


def test_file_is_identified_by_name_then_filename_then_sha256(store, files, tmp_path):
    renamed = tmp_path / "downloaded (1).bin"
    renamed.write_bytes(files["safetensors"].read_bytes())
    assert store.import_file(renamed).parent.name == "tiny_safetensors"  # by sha256

    stranger = tmp_path / "stranger.bin"
    stranger.write_bytes(b"unknown bytes")
    with pytest.raises(WeightsError, match="matches no known weights entry by file name or sha256"):
        store.import_file(stranger)
    with pytest.raises(WeightsError, match="does not exist"):
        store.import_file(tmp_path / "absent.onnx")


def test_a_changed_installed_file_is_no_longer_trusted(store, files):
    installed = store.import_file(files["torch"])
    torch.save({"layer.weight": torch.ones(2, 3), "layer.bias": torch.ones(2)}, installed)

    with pytest.raises(WeightsCheckError, match="changed since import: run vton weights verify tiny_torch"):
        store.path("tiny_torch")
    with pytest.raises(WeightsCheckError, match=f"expected {sha(files['torch'])}, got {sha(installed)}"):
        store.verify("tiny_torch")


def test_a_file_placed_by_hand_is_trusted_only_after_verify(store, files, weights_root):
    placed = weights_root / "tiny_onnx" / "tiny.onnx"
    placed.parent.mkdir(parents=True)
    placed.write_bytes(files["onnx"].read_bytes())

    with pytest.raises(WeightsCheckError, match="no record.: run vton weights verify tiny_onnx"):
        store.path("tiny_onnx")
    assert store.verify("tiny_onnx").verified
    assert store.path("tiny_onnx") == placed


def test_verify_catches_drift_of_a_file_whose_digest_the_catalog_does_not_know(tmp_path, weights_root):
    model = tmp_path / "model.onnx"
    model.write_bytes(tiny_onnx())
    store = WeightsStore(weights_root, catalog=(entry_for(model, "m", "onnx", sha256=None, size_bytes=None),))
    installed = store.import_file(model)

    installed.write_bytes(tiny_onnx(bias=(5.0, 6.0)))  # still a loadable model, but not the imported one

    with pytest.raises(WeightsCheckError, match=f"m at {installed} differs from what was imported"):
        store.verify("m")


# -- folders --------------------------------------------------------------------------------------


def write_pipeline_folder(root: Path, in_channels: int = 9, with_vae: bool = True) -> Path:
    root.mkdir(parents=True)
    (root / "model_index.json").write_text(
        json.dumps(
            {
                "_class_name": "TinyInpaintPipeline",
                "unet": ["diffusers", "UNet2DConditionModel"],
                "vae": ["diffusers", "AutoencoderKL"],
                "safety_checker": [None, None],
            }
        )
    )
    (root / "unet").mkdir()
    (root / "unet" / "config.json").write_text(json.dumps({"in_channels": in_channels}))
    save_file(
        {"conv.weight": torch.zeros(2, in_channels, 1, 1)},
        str(root / "unet" / "diffusion_pytorch_model.safetensors"),
    )
    if with_vae:
        (root / "vae").mkdir()
        (root / "vae" / "config.json").write_text("{}")
    (root / ".cache").mkdir()  # what `huggingface-cli download --local-dir` leaves: not copied
    (root / ".cache" / "junk").write_text("x")
    return root


FOLDER_ENTRY = WeightsEntry(
    name="tiny_pipeline",
    filename="tiny-pipeline",
    kind="folder",
    check="diffusers_folder",
    used_by=("test model",),
    source="https://example.org/tiny-pipeline",
    contents=("model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors|unet/x.bin"),
    expect=(("unet/config.json", "in_channels", 9),),
)


def test_folder_import_checks_structure_and_is_idempotent(tmp_path, weights_root):
    store = WeightsStore(weights_root, catalog=(FOLDER_ENTRY,))
    folder = write_pipeline_folder(tmp_path / "snapshot")
    said: list[str] = []

    installed = store.import_file(folder, name="tiny_pipeline", report=said.append)

    assert installed == weights_root / "tiny_pipeline" / "tiny-pipeline"
    assert (installed / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    assert not (installed / ".cache").exists()
    assert said[0].endswith("(4 files; diffusers folder, components: unet, vae)")
    assert store.path("tiny_pipeline") == installed
    store.import_file(folder, name="tiny_pipeline", report=said.append)
    assert said[1] == f"tiny_pipeline: already installed at {installed} (same 4 files), nothing to do"

    (installed / "unet" / "config.json").write_text(json.dumps({"in_channels": 9, "edited": True}))
    with pytest.raises(WeightsCheckError, match=r"differs from what was imported \(unet/config.json\)"):
        store.verify("tiny_pipeline")


def test_wrong_or_incomplete_folder_is_refused(tmp_path, weights_root):
    store = WeightsStore(weights_root, catalog=(FOLDER_ENTRY,))
    plain = write_pipeline_folder(tmp_path / "plain", in_channels=4)
    with pytest.raises(WeightsCheckError, match="unet/config.json says in_channels=4, expected 9"):
        store.import_file(plain, name="tiny_pipeline")

    no_vae = write_pipeline_folder(tmp_path / "no_vae", with_vae=False)
    with pytest.raises(WeightsCheckError, match="model_index.json names components with no folder: vae"):
        store.import_file(no_vae, name="tiny_pipeline")

    partial = write_pipeline_folder(tmp_path / "partial")
    (partial / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(
        WeightsCheckError,
        match="missing unet/diffusion_pytorch_model.safetensors or unet/x.bin; download the whole folder",
    ):
        store.import_file(partial, name="tiny_pipeline")
    assert not (weights_root / "tiny_pipeline" / "tiny-pipeline").exists()


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_list_and_import(store, files):
    runner = CliRunner()

    listed = runner.invoke(weights_group, ["list"], obj=store)
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if line.startswith("tiny_onnx "))
    assert sha(files["onnx"])[:12] in row and "test component" in row and row.rstrip().endswith("missing")
    assert re.search(r"^evil\s+evil\.pth\s+unknown\s", listed.output, re.M)
    assert "then run: vton weights import /path/to/FILE" in listed.output.splitlines()[-1]

    imported = runner.invoke(weights_group, ["import", str(files["onnx"])], obj=store)
    assert imported.exit_code == 0, imported.output
    assert imported.output.startswith("tiny_onnx: installed ")

    as_json = runner.invoke(weights_group, ["list", "--json"], obj=store)
    rows = {r["name"]: r for r in json.loads(as_json.output)}
    assert rows["tiny_onnx"]["state"] == "verified" and rows["tiny_onnx"]["sha256"] == sha(files["onnx"])
    assert rows["tiny_torch"]["present"] is False

    path = runner.invoke(weights_group, ["path", "tiny_onnx"], obj=store)
    assert path.output.strip() == str(store.path("tiny_onnx"))
    verified = runner.invoke(weights_group, ["verify"], obj=store)
    assert verified.exit_code == 0 and verified.output.startswith("ok      tiny_onnx: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "EVIL"], "Error: refused EVIL: it pickles a non-tensor object"),
        (
            ["import", "MISSING"],
            "Error: MISSING does not exist; pass the path of the downloaded file or folder",
        ),
        (
            ["path", "tiny_torch"],
            "Error: missing weights 'tiny_torch' (tiny_state.pth, used by the test component)",
        ),
        (["verify", "nope"], "Error: unknown weights name 'nope'"),
    ],
)
def test_cli_user_errors_are_one_line_and_exit_1(store, files, tmp_path, args, message):
    args = [{"EVIL": str(files["pickle"]), "MISSING": str(tmp_path / "gone.onnx")}.get(a, a) for a in args]

    message = message.replace("EVIL", str(files["pickle"])).replace("MISSING", str(tmp_path / "gone.onnx"))
    result = CliRunner().invoke(weights_group, args, obj=store)

    assert result.exit_code == 1
    assert result.output.startswith(message)
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_cli_uses_the_real_catalog_and_the_env_store(weights_root):
    """Without an injected store the CLI uses VTON_WEIGHTS and the real catalog: import the real LPIPS head."""
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("lpips is not installed")
    alex = Path(spec.submodule_search_locations[0]) / "weights" / "v0.1" / "alex.pth"
    runner = CliRunner()

    bundled = runner.invoke(weights_group, ["path", "lpips_alex_v0_1"])
    assert bundled.exit_code == 0 and bundled.output.strip() == str(alex)  # found inside the lpips package
    imported = runner.invoke(weights_group, ["import", str(alex)])
    assert imported.exit_code == 0, imported.output
    assert imported.output.startswith(
        f"lpips_alex_v0_1: installed {weights_root / 'lpips_alex_v0_1' / 'alex.pth'}"
    )
    missing = runner.invoke(weights_group, ["path", "dwpose_yolox_l"])
    assert missing.exit_code == 1
    assert missing.output.strip().endswith("then run: vton weights import /path/to/yolox_l.onnx")


# -- the real catalog -----------------------------------------------------------------------------


def test_real_catalog_is_consistent():
    names = [e.name for e in CATALOG]
    assert len(names) == len(set(names))
    for e in CATALOG:
        assert e.source and e.used_by and all(e.used_by), e.name
        assert e.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", e.sha256), e.name
        embedded = re.search(r"-([0-9a-f]{8})\.pth$", e.filename)
        if embedded:  # torch.hub naming: the prefix in the file name is the sha256's
            assert e.sha256_prefix == embedded.group(1), e.name
            assert e.sha256 is None or e.sha256.startswith(embedded.group(1)), e.name
    required = {
        "yolox_l.onnx",
        "dw-ll_ucoco_384.onnx",
        "exp-schp-201908261155-lip.pth",
        "exp-schp-201908301523-atr.pth",
        "weights-inception-2015-12-05-6726825d.pth",
        "alexnet-owt-7be5be79.pth",
        "vgg16-397923af.pth",
    }
    assert required <= {e.filename for e in CATALOG}
    kinds = {e.name: e.check for e in CATALOG}
    assert kinds["clip_vit_b32"] == "transformers_folder"
    assert kinds["sd15"] == kinds["sd15_inpainting"] == "diffusers_folder"


def _tiny_clip_tokenizer(folder: Path):
    from transformers import CLIPTokenizer

    folder.mkdir()
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2, "b</w>": 3, "a": 4, "b": 5}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))


def test_real_folder_entries_accept_what_diffusers_and_transformers_save(tmp_path, weights_root):
    """Tiny pipelines saved by the libraries themselves pass the real catalog's folder checks."""
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        CLIPTextConfig,
        CLIPTextModel,
    )

    tokenizer = _tiny_clip_tokenizer(tmp_path / "tok")
    text = dict(
        vocab_size=6,
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=16,
    )
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=9,
        out_channels=4,
        block_out_channels=(8,),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D",),
        up_block_types=("CrossAttnUpBlock2D",),
        cross_attention_dim=8,
        attention_head_dim=2,
        norm_num_groups=4,
    )
    vae = AutoencoderKL(
        block_out_channels=(8,),
        latent_channels=4,
        norm_num_groups=4,
        down_block_types=("DownEncoderBlock2D",),
        up_block_types=("UpDecoderBlock2D",),
    )
    pipe = StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(CLIPTextConfig(**text)),
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler(steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(tmp_path / "stable-diffusion-inpainting")
    vision = dict(
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=8,
        patch_size=4,
    )
    clip_dir = tmp_path / "clip-vit-base-patch32"
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=8)).save_pretrained(clip_dir)
    CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=tokenizer).save_pretrained(clip_dir)
    store = WeightsStore(weights_root)

    assert store.import_file(tmp_path / "stable-diffusion-inpainting", name="sd15_inpainting").is_dir()
    assert store.import_file(clip_dir, name="clip_vit_b32").is_dir()
    with pytest.raises(WeightsCheckError, match="is not sd15: model_index.json says _class_name="):
        store.import_file(tmp_path / "stable-diffusion-inpainting", name="sd15")
    assert {s.entry.name for s in store.status() if s.verified} >= {"sd15_inpainting", "clip_vit_b32"}


def test_catalog_entries_reject_malformed_values():
    good = dict(name="x", filename="x.pth", kind="file", check="torch_state_dict", used_by=("a",), source="s")
    WeightsEntry(**good)
    for bad, match in [
        ({"sha256": "ABC"}, "sha256 must be 64 lowercase hex"),
        ({"sha256": "a" * 64, "sha256_prefix": "b" * 8}, "does not start with sha256_prefix"),
        ({"check": "diffusers_folder"}, "folder entries"),
        ({"used_by": ()}, "used_by and source are required"),
        ({"name": "Bad-Name"}, r"name must match"),
    ]:
        with pytest.raises(ValueError, match=match):
            WeightsEntry(**{**good, **bad})
    with pytest.raises(ValueError, match="names 'x' twice"):
        WeightsStore(Path("unused"), catalog=(WeightsEntry(**good), WeightsEntry(**good)))
