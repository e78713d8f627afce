"""onnxruntime sessions for the annotators' pretrained models: provider choice and batched runs.

`open_session` picks the CUDA provider when asked for (or, with device "auto", when onnxruntime offers
it) and CPU otherwise. `run_batched` feeds a stack of inputs in one run where the model's batch axis is
dynamic and one item at a time where the export fixed it (published exports usually fix it at 1).
`weights_version` folds the short sha256 of the weights an annotator loads into its version, so importing
other weights re-annotates the samples it fed (the incremental shard build compares versions).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

    from vton.weights.store import WeightsStore

DEVICES = ("auto", "cpu", "cuda")
_CUDA = "CUDAExecutionProvider"
_CPU = "CPUExecutionProvider"
SHORT_DIGEST = 12  # hex digits of a weights file's sha256 in an annotator's version


def providers_for(device: str) -> list[str]:
    """onnxruntime providers for `device` ("auto": CUDA when available, else CPU); "cuda" without CUDA fails."""
    import onnxruntime as ort

    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    available = ort.get_available_providers()
    if device == "cuda" and _CUDA not in available:
        raise RuntimeError(
            "device 'cuda' was asked for but this onnxruntime has no CUDAExecutionProvider "
            f"(it offers {', '.join(available)}): install onnxruntime-gpu or use device='cpu'"
        )
    if device in ("cuda", "auto") and _CUDA in available:
        return [_CUDA, _CPU]
    return [_CPU]


def open_session(path: Path, device: str = "auto") -> InferenceSession:
    """An inference session on `path` with the providers `device` selects and quiet logging."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=providers_for(device))


def has_dynamic_batch(session: InferenceSession) -> bool:
    """True when the session's first input takes any batch size (a named or unknown first dimension)."""
    first = session.get_inputs()[0].shape[0]
    return not isinstance(first, int)


def run_batched(
    session: InferenceSession, items: np.ndarray, outputs: list[str] | None = None
) -> list[np.ndarray]:
    """Run `items` (N, ...) through the session's first input; return each output stacked over N."""
    name = session.get_inputs()[0].name
    items = np.ascontiguousarray(items, dtype=np.float32)
    if has_dynamic_batch(session) or len(items) == 1:
        return session.run(outputs, {name: items})
    runs = [session.run(outputs, {name: items[i : i + 1]}) for i in range(len(items))]
    return [np.concatenate([run[k] for run in runs], axis=0) for k in range(len(runs[0]))]


def weights_version(code_version: str, store: WeightsStore, names: Iterable[str]) -> str:
    """`<code_version>:<digest>[+<digest>...]`: the first SHORT_DIGEST hex digits of the sha256 the store
    recorded for each weights entry in `names` (in that order), e.g. "1:3a9f0c2d41be+77e0a1b2c3d4"."""
    return f"{code_version}:" + "+".join(store.sha256(name)[:SHORT_DIGEST] for name in names)
