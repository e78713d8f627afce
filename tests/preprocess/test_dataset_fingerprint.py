"""The dataset fingerprint: stable when nothing changes, different after any add, remove, resize or touch."""

from __future__ import annotations

import os
import time

import pytest

from preprocess.dataset_fingerprint import FingerprintError, fingerprint_dataset, fingerprint_tree


def _tree(root, count: int = 5):
    for n in range(count):
        path = root / "train" / "image" / f"{n:05d}_00.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * (n + 1))
    (root / "train_pairs.txt").write_text("00000_00.jpg 00000_00.jpg\n")
    return root


def test_same_tree_same_fingerprint_and_counts(tmp_path):
    root = _tree(tmp_path / "ds")
    first, second = fingerprint_tree(root), fingerprint_tree(root)
    assert first == second
    assert first.files == 6
    assert first.bytes == sum(range(1, 6)) + len("00000_00.jpg 00000_00.jpg\n")


def test_fingerprint_ignores_where_the_tree_lives(tmp_path):
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    for rel in ("train_pairs.txt", *(f"train/image/{n:05d}_00.jpg" for n in range(5))):
        stamp = os.stat(a / rel).st_mtime_ns
        os.utime(b / rel, ns=(stamp, stamp))
    assert fingerprint_tree(a).digest == fingerprint_tree(b).digest


@pytest.mark.parametrize("change", ["add", "remove", "resize", "touch", "rename"])
def test_every_kind_of_change_changes_the_fingerprint(tmp_path, change):
    root = _tree(tmp_path / "ds")
    before = fingerprint_tree(root).digest
    target = root / "train" / "image" / "00002_00.jpg"
    if change == "add":
        (root / "train" / "image" / "00009_00.jpg").write_bytes(b"new")
    elif change == "remove":
        target.unlink()
    elif change == "resize":
        target.write_bytes(b"longer content")
    elif change == "touch":
        stamp = target.stat().st_mtime_ns + 1_000_000
        os.utime(target, ns=(stamp, stamp))
    else:
        target.rename(target.with_name("00002_01.jpg"))
    assert fingerprint_tree(root).digest != before


def test_hidden_files_and_folders_are_ignored(tmp_path):
    root = _tree(tmp_path / "ds")
    before = fingerprint_tree(root)
    (root / ".DS_Store").write_bytes(b"finder")
    (root / "train" / ".manifest.parquet.abc.tmp").write_bytes(b"half written")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_bytes(b"ref")
    assert fingerprint_tree(root) == before


def test_symlink_loop_terminates_and_broken_link_counts(tmp_path):
    root = _tree(tmp_path / "ds")
    (root / "train" / "loop").symlink_to(root, target_is_directory=True)
    looped = fingerprint_tree(root)
    assert looped.files == 6
    (root / "broken.jpg").symlink_to(root / "nowhere.jpg")
    broken = fingerprint_tree(root)
    assert broken.files == 7 and broken.digest != looped.digest
    (root / "nowhere.jpg").write_bytes(b"fixed")
    assert fingerprint_tree(root).digest != broken.digest


def test_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(FingerprintError, match="missing or not a folder; re-register"):
        fingerprint_tree(tmp_path / "absent")
    (tmp_path / "file").write_text("x")
    with pytest.raises(FingerprintError, match="not a folder"):
        fingerprint_tree(tmp_path / "file")


def test_dataset_fingerprint_covers_root_and_layout(tmp_path):
    root = _tree(tmp_path / "ds")
    base = fingerprint_dataset(root, "vitonhd")
    assert base == fingerprint_dataset(root, "vitonhd")
    assert base.digest != fingerprint_dataset(root, "auto").digest
    assert base.digest != fingerprint_tree(root).digest
    assert base.files == fingerprint_tree(root).files


def test_thousands_of_files_fingerprint_quickly(tmp_path):
    root = tmp_path / "big"
    for folder in range(8):
        sub = root / f"f{folder:02d}"
        sub.mkdir(parents=True)
        for n in range(500):
            (sub / f"{n:05d}.jpg").touch()
    started = time.perf_counter()
    result = fingerprint_tree(root)
    elapsed = time.perf_counter() - started
    assert result.files == 4_000
    # ~0.3 s per 100k files here; 1 s for 4k leaves room for a loaded machine and still catches file reads.
    assert elapsed < 1.0, f"fingerprinting 4k files took {elapsed:.2f}s; the sensor needs it far faster"
