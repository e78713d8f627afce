"""Our shards read with webdataset 1.0.2 (keys and members intact) and with the plain-tar reader."""

from __future__ import annotations

import numpy as np
import webdataset as wds
from shard_fakes import VERSIONS, FakeAnnotate

from preprocess.shards import build_shards, iter_samples, read_sample, shard_urls
from preprocess.shards.codec import decode_sample


def test_webdataset_reads_our_shards(synth_rows, tmp_path):
    out = tmp_path / "s"
    build_shards(out, synth_rows.rows, FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=4)
    urls = shard_urls(out)
    assert len(urls) == 3
    samples = list(wds.WebDataset(urls, shardshuffle=False, nodesplitter=None, workersplitter=None))
    ids = sorted(r["sample_id"] for r in synth_rows.rows)
    assert [s["__key__"] for s in samples] == ids
    expected = {
        "person.jpg",
        "garment.jpg",
        "parse.png",
        "pose.json",
        "garment_mask.png",
        "garment_landmarks.json",
        "meta.json",
    }
    ours = {s["__key__"]: s for s in iter_samples(out)}
    for sample in samples:
        members = {k: v for k, v in sample.items() if not k.startswith("__")}
        assert set(members) == expected
        assert members == {k: v for k, v in ours[sample["__key__"]].items() if not k.startswith("__")}
    decoded = decode_sample(samples[0])
    row = next(r for r in synth_rows.rows if r["sample_id"] == samples[0]["__key__"])
    assert decoded["parse"].shape == (row["height"], row["width"])
    assert decoded["meta"]["annotators"]["pose"] == {"name": "fake_pose", "version": "1"}
    person = (synth_rows.root / row["person_path"]).read_bytes()
    assert samples[0]["person.jpg"] == person  # a clean RGB JPEG is copied, not re-encoded
    assert np.array_equal(
        decode_sample(read_sample(out, ids[3]))["parse"], decode_sample(ours[ids[3]])["parse"]
    )
