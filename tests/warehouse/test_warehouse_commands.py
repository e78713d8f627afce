"""The analyst CLI: query formats, the read-only refusal, the leaderboard filter and the self-contained report."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from vton.cli import main
from warehouse.writer import write_rows

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def populate(home: Path) -> dict[str, float]:
    """Two IGR runs and a baseline on VITON-HD, with per-sample values and images; return the latest IGR ssim per sample."""
    images = home / "images"
    images.mkdir(parents=True, exist_ok=True)
    per_sample: dict[str, float] = {}
    for day, run_id, model, ssim, kid in (
        (1, "igr-1", "igr", 0.74, 0.0042),
        (4, "igr-2", "igr", 0.80, 0.0031),
        (2, "identity-1", "identity", 0.66, 0.02),
    ):
        write_rows(
            "eval_runs",
            [
                {
                    "run_id": run_id,
                    "model": model,
                    "dataset": "demo_vitonhd",
                    "benchmark": "vitonhd",
                    "started_at": datetime(2026, 3, day, tzinfo=UTC),
                    "device": "cpu",
                }
            ],
        )
        write_rows(
            "eval_metrics",
            [
                {
                    "run_id": run_id,
                    "model": model,
                    "dataset": "demo_vitonhd",
                    "setting": "paired",
                    "category": "all",
                    "metric": metric,
                    "value": value,
                    "n": 6,
                    "higher_is_better": metric == "ssim",
                    "protocol": json.dumps({"name": "catvton"}),
                }
                for metric, value in (
                    ("ssim", ssim),
                    ("kid", kid),
                    ("lpips", 1.0 - ssim),
                    ("fid", 60 * (1 - ssim)),
                )
            ],
        )
        rows = []
        for i in range(6):
            sample = f"0000{i}_00"
            value = round(ssim - 0.05 * (i % 3) + 0.01 * i, 4)
            paths = {}
            for column, colour in (
                ("person_path", (200, 150, 120)),
                ("garment_path", (30, 90, 200)),
                ("prediction_path", (180, 60 + 20 * i, 60)),
                ("target_path", (200, 150, 120)),
            ):
                file = images / f"{run_id}_{sample}_{column}.jpg"
                Image.new("RGB", (48, 64), colour).save(file)
                paths[column] = str(file.relative_to(home)) if column == "garment_path" else str(file)
            rows.append(
                {
                    "run_id": run_id,
                    "model": model,
                    "dataset": "demo_vitonhd",
                    "setting": "paired",
                    "sample_id": sample,
                    "metric": "ssim",
                    "value": value,
                    "higher_is_better": True,
                    **paths,
                }
            )
            if run_id == "igr-2":
                per_sample[sample] = value
        write_rows("sample_metrics", rows)
    return per_sample


@pytest.fixture()
def populated(vton_home) -> dict[str, float]:
    return populate(vton_home)


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_query_formats(populated):
    sql = "SELECT model, run_id, ssim FROM leaderboard ORDER BY model"
    as_json = _invoke("warehouse", "query", sql, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == [
        {"model": "identity", "run_id": "identity-1", "ssim": 0.66},
        {"model": "igr", "run_id": "igr-2", "ssim": 0.80},
    ]
    as_csv = _invoke("warehouse", "query", sql, "--format", "csv")
    assert list(csv.reader(io.StringIO(as_csv.output))) == [
        ["model", "run_id", "ssim"],
        ["identity", "identity-1", "0.66"],
        ["igr", "igr-2", "0.8"],
    ]
    as_table = _invoke("warehouse", "query", sql)
    assert "igr-2" in as_table.output and "identity-1" in as_table.output and "2 rows" in as_table.output


def test_query_refuses_writes_without_a_traceback(populated):
    result = _invoke("warehouse", "query", "INSERT INTO eval_runs SELECT * FROM eval_runs")
    assert result.exit_code == 1
    assert "refused: INSERT statements are not allowed" in result.output
    assert "Traceback" not in result.output


def test_leaderboard_command_filters(populated):
    result = _invoke("leaderboard", "--dataset", "demo_vitonhd", "--setting", "paired", "--format", "json")
    assert [r["model"] for r in json.loads(result.output)] == ["identity", "igr"]
    empty = _invoke("leaderboard", "--dataset", "nope")
    assert empty.exit_code == 0 and "no evaluation results match" in empty.output


def test_report_is_self_contained_with_plots_and_a_gallery(populated, tmp_path):
    out = tmp_path / "report.html"
    result = _invoke("report", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert not re.search(r"""(src|href)=["'](?!data:)""", text), "report must not link to outside files"
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(pngs) == 2  # metric trends, ours vs paper
    assert all(base64.b64decode(p).startswith(PNG_MAGIC) for p in pngs)
    jpegs = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', text)
    # gallery: 4 worst samples x (person, garment, output, ground truth) for each of the two latest runs
    assert len(jpegs) == 2 * 4 * 4
    with Image.open(io.BytesIO(base64.b64decode(jpegs[0]))) as thumb:
        assert thumb.size[1] <= 192
    worst = sorted(populated, key=populated.get)[:4]
    igr_section = text.split("igr · demo_vitonhd · paired · worst ssim")[1]
    positions = [igr_section.index(f"{sample}: ssim") for sample in worst]
    assert positions == sorted(positions)
    assert "0.7895" in text  # the published IGR ssim sits beside ours


def test_report_on_an_empty_home_explains_what_is_missing(vton_home, tmp_path):
    out = tmp_path / "empty.html"
    assert _invoke("report", "--out", str(out)).exit_code == 0
    text = out.read_text()
    assert "no evaluation runs yet" in text and "no per-sample metrics recorded yet" in text
    assert "001_bb4b9b154fea9f7b.txt" in text  # reference numbers are there even with no runs


def test_report_marks_missing_images(vton_home, tmp_path):
    write_rows(
        "sample_metrics",
        [
            {
                "run_id": "r",
                "model": "m",
                "dataset": "d",
                "sample_id": "s",
                "metric": "ssim",
                "value": 0.1,
                "person_path": str(tmp_path / "gone.jpg"),
            }
        ],
    )
    write_rows(
        "eval_metrics",
        [
            {
                "run_id": "r",
                "model": "m",
                "dataset": "d",
                "setting": "paired",
                "category": "all",
                "metric": "ssim",
                "value": 0.1,
                "higher_is_better": True,
            }
        ],
    )
    out = tmp_path / "r.html"
    _invoke("report", "--out", str(out))
    text = out.read_text()
    assert "missing: gone.jpg" in text and "not recorded" in text
