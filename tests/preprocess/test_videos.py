"""Video probing and frame reading on tiny mp4 files written with OpenCV, plus unreadable videos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from preprocess.videos import BadVideoError, VideoInfo, probe_video, read_frames

FRAMES, WIDTH, HEIGHT, FPS = 10, 48, 32, 12.0


def _colour(index: int) -> tuple[int, int, int]:
    """A distinct flat RGB colour per frame."""
    return (20 + index * 22, 230 - index * 20, 60 + (index % 3) * 60)


@pytest.fixture()
def clip(tmp_path) -> Path:
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    for index in range(FRAMES):
        frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        frame[:] = _colour(index)[::-1]  # OpenCV takes BGR
        writer.write(frame)
    writer.release()
    return path


def _assert_colour(frame: np.ndarray, index: int) -> None:
    mean = frame.reshape(-1, 3).mean(axis=0)
    assert np.abs(mean - _colour(index)).max() < 8, (index, mean)


def test_probe_reports_container_facts(clip):
    info = probe_video(clip)
    assert isinstance(info, VideoInfo)
    assert (info.frames, info.width, info.height) == (FRAMES, WIDTH, HEIGHT)
    assert info.fps == pytest.approx(FPS, rel=0.01)
    assert info.codec.lower() in ("fmp4", "mp4v")  # FFmpeg's tag for MPEG-4 part 2


def test_read_all_frames_as_rgb(clip):
    frames = read_frames(clip)
    assert frames.dtype == np.uint8 and frames.shape == (FRAMES, HEIGHT, WIDTH, 3)
    for index in range(FRAMES):
        _assert_colour(frames[index], index)


def test_read_selected_frames_in_given_order(clip):
    frames = read_frames(clip, [7, 2, 2, 0])
    assert frames.shape == (4, HEIGHT, WIDTH, 3)
    for frame, index in zip(frames, [7, 2, 2, 0], strict=True):
        _assert_colour(frame, index)
    assert read_frames(clip, []).shape == (0, HEIGHT, WIDTH, 3)


def test_out_of_range_index_names_the_range(clip):
    with pytest.raises(ValueError, match=r"outside 0\.\.9"):
        read_frames(clip, [3, FRAMES])


def test_zero_byte_mp4_is_a_bad_video(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(BadVideoError, match="is empty") as caught:
        probe_video(empty, "train/videos/empty.mp4")
    assert "'train/videos/empty.mp4'" in caught.value.reason
    with pytest.raises(BadVideoError):
        read_frames(empty)


def test_truncated_text_and_missing_videos_are_bad(clip, tmp_path):
    data = clip.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])  # OpenCV's mp4 writer puts the index at the end
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    for path in (truncated, text):
        with pytest.raises(BadVideoError, match="cannot be opened") as caught:
            probe_video(path)
        assert path.name in caught.value.reason and "re-export" in caught.value.reason
    with pytest.raises(BadVideoError, match="does not exist"):
        probe_video(tmp_path / "gone.mp4")
