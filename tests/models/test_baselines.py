"""Training-free baselines: identity reproduces the person exactly; the paste baseline box-fits the garment
into the person's garment region and changes nothing outside it."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fixtures.evaluation_data import build_synthetic
from PIL import Image

from metrics.evaluation import EvalSample, evaluate_setting
from models.baselines import BASELINES
from models.baselines.identity import identity_predictions
from models.baselines.paste_garment import box_affine, garment_region, paste_garment, paste_predictions
from models.baselines.predictions import SkipSample, write_predictions
from preprocess.shards.codec import decode_sample
from preprocess.shards.reader import iter_samples


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("baseline_ds")
    return build_synthetic("bl", base / "raw", base / "manifest", base / "shards", samples=6)


def _shard_samples(shard_dir) -> dict[str, dict]:
    return {s["__key__"]: s for s in iter_samples(shard_dir)}


def test_identity_prediction_is_the_person_image(built, tmp_path):
    run = identity_predictions(built.shard_dir, tmp_path / "identity", split=None)
    raw = _shard_samples(built.shard_dir)
    assert sorted(run.written) == sorted(raw) and not run.skipped
    files = run.files()
    for key, sample in raw.items():
        assert files[key].read_bytes() == sample["person.jpg"]
    samples = {k: EvalSample(k, "upper", "image", "train") for k in raw}
    result = evaluate_setting("paired", files, files, samples)
    assert result.value("ssim") == pytest.approx(1.0, abs=1e-5) and result.value("mse") == 0.0


def test_paste_maps_the_garment_box_onto_the_region_box():
    person = np.full((40, 30, 3), 50, np.uint8)
    parse = np.zeros((40, 30), np.uint8)
    parse[10:30, 5:25] = 5  # Upper-clothes: a 20x20 region at rows 10..29, columns 5..24
    parse[0:5, 0:30] = 9  # Pants: not replaced for an upper garment
    garment = np.full((20, 16, 3), 255, np.uint8)
    mask = np.zeros((20, 16), np.uint8)
    mask[4:14, 3:13] = 255  # a 10x10 garment box
    garment[4:14, 3:8] = (255, 0, 0)  # left half red
    garment[4:14, 8:13] = (0, 0, 255)  # right half blue
    out, pasted = paste_garment(person, parse, "upper", garment, mask)

    assert pasted
    region = garment_region(parse, "upper")
    assert np.array_equal(out[~region], person[~region])  # only the garment region changes
    assert (out[region] != person[region]).any(axis=1).all()  # the warped box covers the region box
    # left half red, right half blue, edges free of the in-shop background (only the seam blends)
    assert (out[10:30, 5:14] == (255, 0, 0)).all() and (out[10:30, 16:25] == (0, 0, 255)).all()
    assert (out[10:30, 14:16, 1] == 0).all()
    matrix = box_affine((3, 4, 13, 14), (5, 10, 25, 30))
    assert matrix == pytest.approx(np.array([[2.0, 0, -0.5], [0, 2.0, 2.5]]))


def test_paste_without_a_region_or_mask_returns_the_person():
    person = np.random.default_rng(0).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    garment = np.zeros((10, 10, 3), np.uint8)
    full = np.full((10, 10), 255, np.uint8)
    out, pasted = paste_garment(person, np.zeros((20, 20), np.uint8), "dresses", garment, full)
    assert not pasted and np.array_equal(out, person)
    parse = np.full((20, 20), 12, np.uint8)  # Skirt: a lower garment
    out, pasted = paste_garment(person, parse, "lower", garment, np.zeros((10, 10), np.uint8))
    assert not pasted and np.array_equal(out, person)
    with pytest.raises(ValueError, match="unknown category 'shoes'"):
        paste_garment(person, parse, "shoes", garment, full)


def test_paste_predictions_change_only_the_garment_region(built, tmp_path):
    run = paste_predictions(built.shard_dir, tmp_path / "paste", split=None)
    assert run.notes == {"fallbacks": 0} and not run.skipped
    changed = 0
    for key, raw in _shard_samples(built.shard_dir).items():
        sample = decode_sample({m: raw[m] for m in ("person.jpg", "parse.png", "meta.json")})
        out = np.array(Image.open(run.files()[key]))
        region = garment_region(sample["parse"], sample["meta"]["category"])
        assert out.shape == sample["person"].shape
        assert np.array_equal(out[~region], sample["person"][~region])
        changed += int((out[region] != sample["person"][region]).any())
    assert changed == len(run.written)


def test_prediction_folder_is_replaced_whole_and_lists_skips(built, tmp_path):
    out = tmp_path / "preds"
    out.mkdir()
    (out / "stale.png").write_bytes(b"old")
    first = min(k for k in _shard_samples(built.shard_dir) if k.startswith("train__"))

    def predict(members, meta):
        if meta["sample_id"] == first:
            raise SkipSample("no luck")
        buffer = io.BytesIO()
        Image.new("RGB", (4, 4)).save(buffer, format="PNG")
        return buffer.getvalue(), ".png"

    run = write_predictions(built.shard_dir, out, predict, split="train")
    assert not (out / "stale.png").exists() and not list(tmp_path.glob(".preds.*"))
    assert run.skipped == {first: "no luck"}
    assert sorted(p.stem for p in out.iterdir()) == sorted(run.written)
    assert run.written and all(k.startswith("train__") for k in run.written)
    assert set(BASELINES) == {"identity_tryon", "paste_garment"}
