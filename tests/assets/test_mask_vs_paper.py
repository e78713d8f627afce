"""The mask evaluation's rows meet the papers' numbers: `autoarm` mask_iou joins the paper's "Auto-ARM" on
VITON-HD (0.8242) and DressCode (0.8498) through eval_runs.benchmark; synthetic datasets (no benchmark) and the
rough_mask baseline join nothing, as for every other model; the report shows a mask model's grid."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures.evaluation_data import write_eval_run
from PIL import Image

from assets.predictions import grid_rows
from vton.home import VtonHome
from warehouse.report import build_report, mask_grid_path
from warehouse.views import connect
from warehouse.writer import write_rows


def _mask_run(run_id: str, model: str, dataset: str, benchmark: str | None, iou: float, day: int) -> None:
    write_eval_run(run_id, model, dataset, benchmark, day)
    write_rows(
        "eval_metrics",
        [
            {
                "run_id": run_id,
                "model": model,
                "dataset": dataset,
                "setting": "mask",
                "category": category,
                "metric": "mask_iou",
                "value": iou,
                "n": 4,
                "higher_is_better": True,
            }
            for category in ("all", "upper")
        ],
    )


def test_autoarm_mask_iou_sits_beside_the_papers_auto_arm(vton_home):
    _mask_run("hd", "autoarm", "my_vitonhd", "vitonhd", 0.80, 1)
    _mask_run("dc", "autoarm", "my_dresscode", "dresscode", 0.86, 2)
    _mask_run("syn", "autoarm", "demo_vitonhd", None, 0.70, 3)
    _mask_run("rough", "rough_mask", "my_vitonhd", "vitonhd", 0.50, 4)

    rows = (
        connect()
        .sql(
            "SELECT model, benchmark, ours, paper, paper_method, ours_better FROM vs_paper ORDER BY benchmark"
        )
        .to_arrow_table()
        .to_pylist()
    )
    assert [(r["model"], r["benchmark"], r["paper_method"]) for r in rows] == [
        ("autoarm", "dresscode", "Auto-ARM"),
        ("autoarm", "vitonhd", "Auto-ARM"),
    ]
    assert [r["paper"] for r in rows] == pytest.approx([0.8498, 0.8242])
    assert [r["ours"] for r in rows] == pytest.approx([0.86, 0.80])
    assert [r["ours_better"] for r in rows] == [True, False]


def test_report_shows_the_mask_grid_of_the_latest_mask_run(vton_home):
    _mask_run("syn", "autoarm", "demo_vitonhd", None, 0.70, 3)
    home = VtonHome(vton_home)
    assert "no mask model has predictions with a grid yet" in build_report(home)

    grid = mask_grid_path(home, "autoarm", "demo_vitonhd")
    grid.parent.mkdir(parents=True)
    Image.new("L", (30, 10), 200).save(grid)
    report = build_report(home)
    assert "autoarm · demo_vitonhd" in report and "rough | refined | truth" in report
    assert "demo_vitonhd mask grid" in report


def test_grid_rows_take_samples_with_all_three_masks_in_id_order(tmp_path):
    def mask(name: str, value: int) -> str:
        path = tmp_path / f"{name}.png"
        Image.fromarray(np.full((4, 3), value, np.uint8)).save(path)
        return path

    files = {k: mask(f"f{k}", 255) for k in ("b", "a", "c")}
    rough = {k: mask(f"r{k}", 0) for k in ("a", "b", "c")}
    truth = {k: mask(f"t{k}", 255) for k in ("c", "a")}  # b is unpaired: no truth
    rows = grid_rows(files, rough, truth, count=5)
    assert [row[0] for row in rows] == ["a", "c"]
    key, rough_mask, refined, truth_mask = rows[0]
    assert rough_mask.dtype == bool and not rough_mask.any() and refined.all() and truth_mask.all()
    assert rough_mask.shape == (4, 3)

    many = {k: files["a"] for k in ("d1", "d2", "l1", "l2", "u1", "u2")}  # ids start with the category
    spread = grid_rows(many, many, many, count=3)
    assert [row[0] for row in spread] == ["d1", "l1", "u1"]
