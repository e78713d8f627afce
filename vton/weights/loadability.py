"""Loadability checks: prove a weights file or folder opens the safe way, without building big models.

ONNX opens in onnxruntime on CPU; torch files load with `weights_only=True` (never a full unpickle) and
must be a dict holding tensors; safetensors load with safetensors; diffusers/transformers folders must
have their required files, parseable JSON configs, the facts the catalog expects, and (diffusers) a
sub-folder for every component model_index.json names. Heavy libraries are imported only when used.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

from vton.weights.catalog import WeightsEntry
from vton.weights.errors import WeightsCheckError

_UNSUPPORTED_GLOBAL_RE = re.compile(r"Unsupported global: GLOBAL (\S+)")


def check_loadable(path: Path, entry: WeightsEntry, label: str | None = None) -> str:
    """Run the entry's check on `path`; return a short description of what loaded, or raise WeightsCheckError.

    `label` names the file in messages (the user's file when `path` is the store's temp copy of it).
    """
    label = label or str(path)
    checks = {
        "onnx": _check_onnx,
        "torch_state_dict": _check_torch_state_dict,
        "safetensors": _check_safetensors,
    }
    if entry.kind == "folder":
        return _check_folder(path, entry, label)
    return checks[entry.check](path, label)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_onnx(path: Path, label: str) -> str:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # load, don't optimise
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several private exception types
        raise WeightsCheckError(
            f"{label} is not a loadable ONNX model (onnxruntime: {_first_line(exc)}); "
            "check that the download is complete and is the file the catalog names"
        ) from None
    inputs = ", ".join(i.name for i in session.get_inputs())
    return f"ONNX model, inputs: {inputs}"


def _count_tensors(obj: object) -> int:
    import torch

    if isinstance(obj, torch.Tensor):
        return 1
    if isinstance(obj, Mapping):
        return sum(_count_tensors(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(_count_tensors(v) for v in obj)
    return 0


def _check_torch_state_dict(path: Path, label: str) -> str:
    import pickle

    import torch

    # mmap keeps big checkpoints out of memory; only the zip format (torch >= 1.6) supports it.
    mmap = zipfile.is_zipfile(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as exc:
        found = _UNSUPPORTED_GLOBAL_RE.search(str(exc))
        if found:
            reason = (
                f"it pickles a non-tensor object ({found.group(1).rstrip('.')}), which "
                "torch.load(weights_only=True) refuses"
            )
        else:
            reason = "its pickle holds content torch.load(weights_only=True) refuses"
        raise WeightsCheckError(
            f"refused {label}: {reason}; the platform never unpickles arbitrary files: "
            "use a plain state dict of tensors (or safetensors) from the catalog's source"
        ) from None
    except Exception as exc:  # truncated zip, wrong format, ...
        raise WeightsCheckError(
            f"{label} is not a loadable torch checkpoint ({_first_line(exc)}); "
            "check that the download is complete and is the file the catalog names"
        ) from None
    if not isinstance(obj, Mapping):
        raise WeightsCheckError(
            f"refused {label}: torch.load gave a {type(obj).__name__}, not a dict of tensors (state dict)"
        )
    tensors = _count_tensors(obj)
    if tensors == 0:
        raise WeightsCheckError(f"refused {label}: the checkpoint dict holds no tensors")
    return f"torch state dict, {tensors} tensors"


def _check_safetensors(path: Path, label: str) -> str:
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as exc:  # SafetensorError and OSError variants
        raise WeightsCheckError(
            f"{label} is not a loadable safetensors file ({_first_line(exc)}); "
            "check that the download is complete"
        ) from None
    if not tensors:
        raise WeightsCheckError(f"refused {label}: the safetensors file holds no tensors")
    return f"safetensors, {len(tensors)} tensors"


def _read_json(folder: Path, rel: str, label: str) -> dict:
    try:
        data = json.loads((folder / rel).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsCheckError(f"{label}/{rel} is not readable JSON ({_first_line(exc)})") from None
    if not isinstance(data, dict):
        raise WeightsCheckError(f"{label}/{rel} is JSON but not an object")
    return data


def _check_folder(folder: Path, entry: WeightsEntry, label: str) -> str:
    if not folder.is_dir():
        raise WeightsCheckError(f"{label} is not a folder; {entry.name} is a {entry.check.replace('_', ' ')}")
    missing = [
        spec for spec in entry.contents if not any((folder / alt).is_file() for alt in spec.split("|"))
    ]
    if missing:
        raise WeightsCheckError(
            f"{label} is not a complete {entry.name} folder: missing "
            + ", ".join(m.replace("|", " or ") for m in missing)
            + f"; download the whole folder from {entry.source_url}"
        )
    for spec in entry.contents:
        for alt in spec.split("|"):
            if alt.endswith(".json") and (folder / alt).is_file():
                _read_json(folder, alt, label)
    for rel, key, value in entry.expect:
        found = _read_json(folder, rel, label).get(key)
        if found != value:
            raise WeightsCheckError(
                f"{label} is not {entry.name}: {rel} says {key}={found!r}, expected {value!r}"
            )
    if entry.check == "diffusers_folder":
        index = _read_json(folder, "model_index.json", label)
        components = [k for k, v in index.items() if not k.startswith("_") and isinstance(v, list) and v[0]]
        absent = [c for c in components if not (folder / c).is_dir()]
        if absent:
            raise WeightsCheckError(
                f"{label}: model_index.json names components with no folder: {', '.join(absent)}"
            )
        return f"diffusers folder, components: {', '.join(components)}"
    return f"transformers folder, model_type {_read_json(folder, 'config.json', label).get('model_type')!r}"
