"""The kill test: SIGKILL a build mid-shard, check nothing partial is visible, re-run, compare with a clean build."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from shard_fakes import VERSIONS, FakeAnnotate

from preprocess.shards import build_shards, iter_samples, read_index
from preprocess.shards.writer import list_shard_files

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

CHILD = """
import json, sys
from pathlib import Path
from shard_fakes import VERSIONS, FakeAnnotate
from preprocess.shards import build_shards
root, out, rows_file, marker = map(Path, sys.argv[1:5])
rows = json.loads(rows_file.read_text())
annotate = FakeAnnotate(root, stall_after=6, marker=marker)
build_shards(out, rows, annotate, VERSIONS, samples_per_shard=4, batch_size=1)
"""


def _rows_json(rows: list[dict]) -> str:
    return json.dumps([r | {"annotations": [list(a) for a in r["annotations"]]} for r in rows])


def test_killed_build_leaves_no_partial_shard_and_rerun_matches_clean_build(synth_rows, tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    rows_file, marker = tmp_path / "rows.json", tmp_path / "stalled"
    rows_file.write_text(_rows_json(synth_rows.rows))
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(synth_rows.root), str(killed), str(rows_file), str(marker)], env=env
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the child build never reached its stall point"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    # Only complete shards under final names; the shard being filled exists only as a dot-temp file.
    assert list_shard_files(killed) == ["shard-000000.tar"]
    temps = [p.name for p in killed.iterdir() if p.name.endswith(".tmp")]
    assert temps and all(t.startswith(".shard-000001.tar") for t in temps)
    with tarfile.open(killed / "shard-000000.tar") as tar:
        assert len({m.name.split(".", 1)[0] for m in tar.getmembers()}) == 4
    assert not (killed / "index.parquet").exists()

    rerun = FakeAnnotate(synth_rows.root)
    result = build_shards(killed, synth_rows.rows, rerun, VERSIONS, samples_per_shard=4, batch_size=1)
    ids = sorted(r["sample_id"] for r in synth_rows.rows)
    assert rerun.calls == ids[4:]  # the finished shard was re-indexed from its own meta.json, not redone
    assert result.shards_kept == ["shard-000000.tar"]
    assert not [p for p in killed.iterdir() if p.name.endswith(".tmp")]

    build_shards(clean, synth_rows.rows, FakeAnnotate(synth_rows.root), VERSIONS, samples_per_shard=4)
    assert list_shard_files(killed) == list_shard_files(clean)
    a, b = list(iter_samples(killed)), list(iter_samples(clean))
    assert [s["__key__"] for s in a] == [s["__key__"] for s in b] == ids
    for left, right in zip(a, b, strict=True):
        assert left == right, left["__key__"]
    for name in list_shard_files(clean):
        assert (killed / name).read_bytes() == (clean / name).read_bytes()
    assert read_index(killed).equals(read_index(clean))
