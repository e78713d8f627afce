"""Strict loading of published checkpoints into our modules, with errors that name the file and the fix.

Published video checkpoints come in two layouts: a plain state dict (pytorch-i3d's `rgb_imagenet.pt`) and a
training checkpoint `{"state_dict": {"module.<name>": ...}, ...}` saved from `nn.DataParallel` (Hara et al.'s
`resnext-101-kinetics.pth`). Files are read with `torch.load(weights_only=True)`; nothing is unpickled.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from vton.weights.errors import WeightsCheckError


def _import_hint(entry: str) -> str:
    from vton.weights.catalog import CATALOG

    for known in CATALOG:
        if known.name == entry:
            return f"get {known.filename} from {known.source_url}, then run: {known.import_command}"
    return f"import the published file as weights entry {entry!r} (vton weights import FILE --name {entry})"


def _examples(keys: list[str], limit: int = 3) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (", ..." if len(keys) > limit else "")


def read_checkpoint(path: Path, entry: str) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint: a plain state dict, or the `state_dict` of a training checkpoint, with
    DataParallel's `module.` prefix removed."""
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise WeightsCheckError(
            f"{path} is not a torch checkpoint for {entry}, or one that pickles objects "
            f"torch.load(weights_only=True) refuses; {_import_hint(entry)}"
        ) from None
    except Exception as exc:  # truncated zip, wrong format, ...
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WeightsCheckError(
            f"{path} is not a loadable torch checkpoint for {entry} ({first}); {_import_hint(entry)}"
        ) from None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not any(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsCheckError(f"{path} holds no state dict of tensors for {entry}; {_import_hint(entry)}")
    return {
        (k[len("module.") :] if k.startswith("module.") else k): v
        for k, v in obj.items()
        if isinstance(v, torch.Tensor)
    }


def load_published_state_dict(module: nn.Module, path: Path, entry: str, what: str) -> nn.Module:
    """Load `path` into `module` strictly (every name and shape must match) or raise one clear line.

    BatchNorm's `num_batches_tracked` counters, which files saved before PyTorch 0.4.1 lack and which no
    computation in eval mode reads, are filled with 0 when absent.
    """
    state = read_checkpoint(path, entry)
    expected = module.state_dict()
    for key, value in expected.items():
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = torch.zeros_like(value)
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or shapes:
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing tensors ({_examples(missing)})")
        if unexpected:
            problems.append(f"{len(unexpected)} unexpected tensors ({_examples(unexpected)})")
        if shapes:
            problems.append(f"{len(shapes)} shape mismatches ({_examples(shapes, 2)})")
        raise WeightsCheckError(
            f"{path} is not the {what} checkpoint: {'; '.join(problems)}; {_import_hint(entry)}"
        )
    module.load_state_dict(state, strict=True)
    return module
