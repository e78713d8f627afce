"""The `vton` CLI as a user drives it: synth, register, ingest through Dagster, list, and its errors."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from click.testing import CliRunner

from vton.cli import main


def test_synth_register_ingest_list(vton_home, tmp_path, ray_local):
    runner = CliRunner()
    out = tmp_path / "synth_vitonhd"
    result = runner.invoke(
        main, ["data", "synth", "--layout", "vitonhd", "--samples", "8", "--out", str(out), "--size", "64x48"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "train_pairs.txt").exists() and (out / "synthetic_truth.jsonl").exists()

    result = runner.invoke(main, ["data", "ingest", str(out), "--name", "tiny", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["samples"] >= 8 and summary["quarantined"] == 0
    assert summary["samples"] + summary["quarantined"] == summary["candidates"]
    assert pq.read_table(summary["manifest"]).num_rows == summary["samples"]
    assert str(vton_home) in summary["manifest"], "everything is written under VTON_HOME"

    listed = runner.invoke(main, ["data", "list"])
    assert listed.exit_code == 0 and "tiny" in listed.output and "vitonhd" in listed.output


def test_user_errors_are_one_line_without_traceback(vton_home, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["data", "register", "x", str(tmp_path / "nope")])
    assert missing.exit_code == 1
    assert "is not a folder" in missing.output and "Traceback" not in missing.output

    (tmp_path / "empty").mkdir()
    unknown = runner.invoke(main, ["data", "register", "x", str(tmp_path / "empty")])
    assert unknown.exit_code == 1 and "--layout" in unknown.output

    bad_layout = runner.invoke(main, ["data", "register", "x", str(tmp_path / "empty"), "--layout", "coco"])
    assert bad_layout.exit_code == 1 and "unknown layout" in bad_layout.output

    bad_name = runner.invoke(main, ["data", "register", "a.b", str(tmp_path / "empty"), "--layout", "folder"])
    assert bad_name.exit_code == 1 and "not usable" in bad_name.output

    bad_size = runner.invoke(
        main, ["data", "synth", "--layout", "vvt", "--out", str(tmp_path / "v"), "--size", "big"]
    )
    assert bad_size.exit_code == 2 and "HxW" in bad_size.output
