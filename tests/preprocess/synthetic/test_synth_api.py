"""generate_dataset as a caller meets it: determinism, splits, the report, bad arguments, label tables."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from preprocess.annotators.label_maps import ATR_LABELS, CIHP_LABELS, LIP_LABELS
from preprocess.synthetic import LABELS, generate_dataset, plan_dataset, read_truth
from preprocess.synthetic import labels as L


def _digest(root) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("layout", ["vitonhd", "dresscode", "vvt"])
def test_same_seed_gives_the_same_bytes_in_one_or_two_processes(tmp_path, layout):
    generate_dataset(layout, 4, tmp_path / "a", seed=9, size=(96, 72))
    generate_dataset(layout, 4, tmp_path / "b", seed=9, size=(96, 72), workers=2)
    generate_dataset(layout, 4, tmp_path / "c", seed=10, size=(96, 72))
    a, b, c = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert a == b
    shared = set(a) & set(c)
    assert sum(a[k] != c[k] for k in shared) > len(shared) // 2, "another seed draws other people"


def test_a_sample_does_not_depend_on_the_dataset_size(tmp_path):
    generate_dataset("vitonhd", 3, tmp_path / "small", seed=1, size=(96, 72))
    generate_dataset("vitonhd", 6, tmp_path / "large", seed=1, size=(96, 72))
    small = {r["id"]: r for r in read_truth(tmp_path / "small")}
    large = {r["id"]: r for r in read_truth(tmp_path / "large")}
    same = [sid for sid in small if small[sid]["intents"] == large[sid]["intents"]]
    assert same, "the plan kept some sample's intents"
    for sid in same:
        assert small[sid]["landmarks_garment"] == large[sid]["landmarks_garment"]


def test_report_matches_what_was_written(tmp_path):
    report = generate_dataset("dresscode", 9, tmp_path / "dc", seed=2, size=(96, 72))
    truth = read_truth(tmp_path / "dc")
    assert report.layout == "dresscode" and report.samples == len(truth) == 9 and report.seconds > 0
    assert report.truth_path == tmp_path / "dc" / "synthetic_truth.jsonl" and report.truth_path.is_file()
    assert report.categories == {"dresses": 3, "lower": 3, "upper": 3}
    assert report.labels == {k: sum(r[k] for r in truth) for k in LABELS}
    assert sum(report.splits.values()) == 9 and report.splits["test"] >= 1
    assert "dresscode: 9 samples" in report.summary()


@pytest.mark.parametrize(
    ("layout", "samples"), [("vitonhd", 2), ("dresscode", 2), ("vvt", 2), ("vitonhd", 1)]
)
def test_small_datasets_still_have_both_splits(layout, samples):
    plans = plan_dataset(layout, samples, seed=0)
    splits = [p.split for p in plans]
    assert splits.count("test") == (1 if samples >= 2 else 0) and "train" in splits
    assert all(plans[p.partner].split == p.split for p in plans)


def test_vvt_clip_ids_are_unique_and_shaped_like_the_release():
    names = [p.name for p in plan_dataset("vvt", 300, seed=0)]
    assert len(set(names)) == 300
    assert all(len(n) == 13 and n[9] == "-" and "." not in n for n in names)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"layout": "viton"}, ValueError, "vitonhd, dresscode, vvt"),
        ({"samples": 0}, ValueError, "positive whole number"),
        ({"size": (16, 12)}, ValueError, "out of range"),
        ({"size": "512x384"}, ValueError, "(height, width)"),
        ({"workers": 0}, ValueError, "at least 1"),
    ],
)
def test_bad_arguments_are_named(tmp_path, kwargs, error, words):
    args = {"layout": "vitonhd", "samples": 2, "out": tmp_path / "x", "size": (64, 48)} | kwargs
    with pytest.raises(error) as info:
        generate_dataset(**args)
    assert words in str(info.value)
    assert not (tmp_path / "x" / "synthetic_truth.jsonl").exists()


def test_existing_folders_are_never_clobbered(tmp_path):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "keep.jpg").write_bytes(b"x")
    with pytest.raises(FileExistsError, match="not empty"):
        generate_dataset("vitonhd", 2, other, size=(64, 48))
    with pytest.raises(FileExistsError, match="not a synthetic dataset"):
        generate_dataset("vitonhd", 2, other, size=(64, 48), overwrite=True)
    assert (other / "keep.jpg").read_bytes() == b"x"
    synth = tmp_path / "synth"
    generate_dataset("vitonhd", 5, synth, size=(64, 48))
    generate_dataset("vvt", 2, synth, size=(64, 48), overwrite=True)
    assert not (synth / "train_pairs.txt").exists(), "the old layout's files are gone"
    assert len(read_truth(synth)) == 2 and (synth / "clothes_person").is_dir()


def test_label_tables_name_the_same_thing_in_every_set():
    expected = {
        L.SEM_UPPER: ("Upper-clothes", "Upper-clothes", "upper_clothes"),
        L.SEM_PANTS: ("Pants", "Pants", "pants"),
        L.SEM_SKIRT: ("Skirt", "Skirt", "skirt"),
        L.SEM_DRESS: ("Dress", "Dress", "dress"),
        L.SEM_LEFT_ARM: ("Left-arm", "Left-arm", "left_arm"),
        L.SEM_RIGHT_SHOE: ("Right-shoe", "Right-shoe", "right_shoe"),
        L.SEM_HAIR: ("Hair", "Hair", "hair"),
    }
    for sem, (cihp, lip, atr) in expected.items():
        assert CIHP_LABELS[L.SEM_TO_CIHP[sem]] == cihp
        assert LIP_LABELS[L.SEM_TO_LIP[sem]] == lip
        assert ATR_LABELS[L.SEM_TO_ATR[sem]] == atr
    assert CIHP_LABELS[L.SEM_TO_CIHP[L.SEM_NECK]] == "Torso-skin", "VITON-HD labels the neck 10"
    with pytest.raises(ValueError, match="cihp"):
        L.parse_for("pascal", np.zeros((2, 2), np.uint8))
