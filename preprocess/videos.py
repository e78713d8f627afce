"""Video files (mp4 and what FFmpeg reads) through OpenCV: a cheap probe and frame reading as uint8 RGB.

Unreadable, empty or truncated videos raise `BadVideoError` whose `reason` names the file and the fix, so
the manifest can quarantine them like bad images (ARCHITECTURE §3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

_REEXPORT = "re-export it as an H.264 or MPEG-4 .mp4, or re-download it"


class BadVideoError(ValueError):
    """A video that cannot be used; `reason` is one sentence naming the file, the problem and the fix."""

    def __init__(self, reason: str, name: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.name = name


@dataclass
class VideoInfo:
    """What the probe learned from the container and the first decoded frame."""

    frames: int  # frame count from the container index
    width: int
    height: int
    fps: float
    codec: str  # FourCC as OpenCV reports it, e.g. "FMP4" (MPEG-4 part 2), "avc1" / "h264"


def probe_video(path: Path, name: str | None = None) -> VideoInfo:
    """Open a video, read its frame count, size, rate and codec, and decode its first frame.

    `name` (e.g. the path relative to the dataset root) is what errors show; the full path otherwise.
    """
    path = Path(path)
    name = name or str(path)
    capture = _open(path, name)
    try:
        frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if frames <= 0:
            raise BadVideoError(f"video {name!r} has no frames: {_REEXPORT}", name)
        ok, first = capture.read()
        if not ok or first is None:
            raise BadVideoError(f"video {name!r} cannot decode its first frame: {_REEXPORT}", name)
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC))
        codec = fourcc.to_bytes(4, "little").decode("ascii", "replace").strip("\x00 ") if fourcc > 0 else ""
        return VideoInfo(
            frames=frames,
            width=first.shape[1],
            height=first.shape[0],
            fps=float(capture.get(cv2.CAP_PROP_FPS)),
            codec=codec or "unknown",
        )
    finally:
        capture.release()


def read_frames(path: Path, indices: Sequence[int] | None = None, name: str | None = None) -> np.ndarray:
    """Decode frames (all, or `indices` in the given order, repeats allowed) as (T, H, W, 3) uint8 RGB."""
    path = Path(path)
    name = name or str(path)
    info = probe_video(path, name)
    wanted = list(range(info.frames)) if indices is None else [int(i) for i in indices]
    outside = [i for i in wanted if not 0 <= i < info.frames]
    if outside:
        raise ValueError(f"frame indices {outside[:5]} are outside 0..{info.frames - 1} of video {name!r}")
    out = np.empty((len(wanted), info.height, info.width, 3), np.uint8)
    if not wanted:
        return out
    slots: dict[int, list[int]] = {}
    for slot, index in enumerate(wanted):
        slots.setdefault(index, []).append(slot)
    capture = _open(path, name)
    try:
        # Decode sequentially: frame-accurate seeking is unreliable across codecs and containers.
        for index in range(max(slots) + 1):
            if index not in slots:
                if not capture.grab():
                    raise _truncated(name, index, info.frames)
                continue
            ok, frame = capture.read()
            if not ok or frame is None:
                raise _truncated(name, index, info.frames)
            if frame.shape[:2] != (info.height, info.width):
                raise BadVideoError(
                    f"video {name!r} changes size at frame {index} ({frame.shape[1]}x{frame.shape[0]}, "
                    f"first frame {info.width}x{info.height}): {_REEXPORT}",
                    name,
                )
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            for slot in slots[index]:
                out[slot] = rgb
    finally:
        capture.release()
    return out


def _open(path: Path, name: str) -> cv2.VideoCapture:
    if not path.is_file():
        raise BadVideoError(f"video {name!r} does not exist: check the path or restore the file", name)
    if path.stat().st_size == 0:
        raise BadVideoError(f"video {name!r} is empty (0 bytes): {_REEXPORT}", name)
    capture = cv2.VideoCapture(name)
    if not capture.isOpened():
        capture.release()
        raise BadVideoError(
            f"video {name!r} cannot be opened (not a video, or truncated: its index is missing): {_REEXPORT}",
            name,
        )
    return capture


def _truncated(name: str, index: int, frames: int) -> BadVideoError:
    return BadVideoError(
        f"video {name!r} is truncated or corrupt: frame {index} of {frames} cannot be decoded: {_REEXPORT}",
        name,
    )
