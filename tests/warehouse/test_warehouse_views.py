"""Each derived view on small synthetic rows gives the answers worked out by hand here; empty tables still work."""

from __future__ import annotations

import pytest
from fixtures.evaluation_data import write_eval_run

from warehouse.query import leaderboard, run_query, worst_samples
from warehouse.views import DERIVED_VIEWS, connect
from warehouse.writer import write_rows


def _run(
    run_id: str, model: str, day: int, dataset: str = "demo_vitonhd", benchmark: str | None = None
) -> None:
    write_eval_run(run_id, model, dataset, benchmark, day)


def _metrics(
    run_id: str, model: str, rows: list[tuple[str, str, str, float]], dataset: str = "demo_vitonhd"
) -> None:
    write_rows(
        "eval_metrics",
        [
            {
                "run_id": run_id,
                "model": model,
                "dataset": dataset,
                "setting": setting,
                "category": category,
                "metric": metric,
                "value": value,
                "n": 8,
                "higher_is_better": metric in ("ssim", "psnr"),
            }
            for setting, category, metric, value in rows
        ],
    )


@pytest.fixture()
def two_models(vton_home):
    """Model a: runs a1 (day 1) and a2 (day 3); model b: one run b1 (day 2) with paired and unpaired results."""
    _run("a1", "a", 1)
    _metrics("a1", "a", [("paired", "all", "ssim", 0.70), ("paired", "all", "fid", 20.0)])
    _run("a2", "a", 3)
    _metrics("a2", "a", [("paired", "all", "ssim", 0.75), ("paired", "all", "fid", 18.0)])
    _run("b1", "b", 2)
    _metrics(
        "b1",
        "b",
        [
            ("paired", "all", "ssim", 0.80),
            ("paired", "upper", "ssim", 0.82),
            ("unpaired", "all", "fid", 25.0),
        ],
    )
    return vton_home


def test_empty_warehouse_gives_typed_empty_views(vton_home):
    con = connect()
    for view in DERIVED_VIEWS:
        assert con.execute(f"SELECT count(*) FROM {view}").fetchall() == [(0,)]
    columns = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE worst_samples)").fetchall()]
    assert (
        columns[:5] == ["run_id", "model", "dataset", "setting", "sample_id"] and columns[-1] == "worst_rank"
    )
    assert leaderboard().num_rows == 0


def test_leaderboard_keeps_the_latest_run_per_model_dataset_setting(two_models):
    got = run_query(
        "SELECT model, setting, category, run_id, ssim, fid FROM leaderboard ORDER BY model, setting, category"
    ).to_pylist()
    assert [tuple(r.values()) for r in got] == [
        ("a", "paired", "all", "a2", 0.75, 18.0),
        ("b", "paired", "all", "b1", 0.80, None),
        ("b", "paired", "upper", "b1", 0.82, None),
        ("b", "unpaired", "all", "b1", None, 25.0),
    ]
    paired = leaderboard(setting="unpaired")
    assert paired.column_names == [
        "model",
        "dataset",
        "setting",
        "category",
        "run_id",
        "started_at",
        "checkpoint",
        "fid",
    ]
    assert leaderboard(dataset="other").num_rows == 0


def test_leaderboard_breaks_equal_start_times_by_run_id(vton_home):
    for run_id, value in (("r-1", 0.1), ("r-2", 0.2)):
        _run(run_id, "m", 5)
        _metrics(run_id, "m", [("paired", "all", "ssim", value)])
    assert run_query("SELECT run_id, ssim FROM leaderboard").to_pylist() == [{"run_id": "r-2", "ssim": 0.2}]


def test_metric_trends_orders_runs_and_computes_the_change(two_models):
    got = run_query(
        "SELECT run_id, value, change FROM metric_trends WHERE model = 'a' AND metric = 'ssim' ORDER BY started_at"
    ).to_pylist()
    assert [r["run_id"] for r in got] == ["a1", "a2"]
    assert got[0]["change"] is None and got[1]["change"] == pytest.approx(0.05)


def test_vs_paper_puts_our_latest_value_beside_the_published_one(vton_home):
    # Published (packaged CSV, seed 001 Table 1): IGR, VITON-HD, paired: ssim 0.7895, kid_x1e3 2.9724, fid 13.1425.
    _run("old", "igr", 1, benchmark="vitonhd")
    _metrics("old", "igr", [("paired", "all", "ssim", 0.10)])
    _run("new", "igr", 2, benchmark="vitonhd")
    _metrics(
        "new",
        "igr",
        [
            ("paired", "all", "ssim", 0.80),
            ("paired", "all", "kid", 0.0031),
            ("paired", "all", "fid", 14.0),
            ("paired", "upper", "ssim", 0.99),  # per-category rows are not what papers print
            ("paired", "all", "mse", 1.0),  # no published mse for IGR: no row
        ],
    )
    got = {
        r["metric"]: r
        for r in run_query(
            "SELECT metric, run_id, ours, paper, ours_as_printed, difference, ours_better, paper_table FROM vs_paper"
        ).to_pylist()
    }
    assert set(got) == {"ssim", "kid", "fid"}
    assert {r["run_id"] for r in got.values()} == {"new"}
    assert got["ssim"]["paper"] == 0.7895 and got["ssim"]["difference"] == pytest.approx(0.80 - 0.7895)
    assert got["ssim"]["ours_better"] is True
    assert got["kid"]["ours_as_printed"] == pytest.approx(3.1)
    assert got["kid"]["difference"] == pytest.approx(3.1 - 2.9724)
    assert got["kid"]["ours_better"] is False  # lower KID is better
    assert got["fid"]["difference"] == pytest.approx(14.0 - 13.1425) and got["fid"]["ours_better"] is False


def test_vs_paper_leaves_the_difference_unknown_when_the_paper_hides_its_scale(vton_home):
    # CatVTON's KID in seed 000 is "as printed, scale not stated": 0.411 on VITON-HD paired.
    _run("c1", "catvton", 1, dataset="vitonhd")
    _metrics("c1", "catvton", [("paired", "all", "kid", 0.0004)], dataset="vitonhd")
    rows = run_query("SELECT paper, paper_scale, difference FROM vs_paper").to_pylist()
    assert rows == [{"paper": 0.411, "paper_scale": None, "difference": None}]


def _samples(run_id: str, metric: str, values: dict[str, float | None], higher: bool | None) -> list[dict]:
    return [
        {
            "run_id": run_id,
            "model": "a",
            "dataset": "demo_vitonhd",
            "setting": "paired",
            "sample_id": sample,
            "metric": metric,
            "value": value,
            "higher_is_better": higher,
        }
        for sample, value in values.items()
    ]


def test_worst_samples_honours_the_metric_direction(vton_home):
    ssim = {"s1": 0.9, "s2": 0.2, "s3": 0.5, "s4": 0.95}
    lpips = {"s1": 0.1, "s2": 0.4, "s3": 0.3, "s4": 0.05}
    # lpips rows leave the direction unset: the platform's vocabulary says lower is better
    write_rows("sample_metrics", _samples("r1", "ssim", ssim, True) + _samples("r1", "lpips", lpips, None))
    write_rows("sample_metrics", _samples("r2", "ssim", {"x": 0.0}, True))
    view = run_query(
        "SELECT metric, sample_id FROM worst_samples WHERE run_id = 'r1' AND worst_rank <= 2 ORDER BY metric, worst_rank"
    ).to_pylist()
    assert [(r["metric"], r["sample_id"]) for r in view] == [
        ("lpips", "s2"),
        ("lpips", "s3"),
        ("ssim", "s2"),
        ("ssim", "s3"),
    ]
    assert worst_samples("r1", "ssim", k=3)["sample_id"].to_pylist() == ["s2", "s3", "s1"]
    assert worst_samples("r1", "lpips", k=1)["value"].to_pylist() == [0.4]
    assert worst_samples("r1", "fid", k=3).num_rows == 0


def test_a_sample_without_a_value_counts_as_worst(vton_home):
    write_rows("sample_metrics", _samples("r1", "psnr", {"ok": 30.0, "broken": None, "bad": 12.0}, True))
    assert worst_samples("r1", "psnr", k=2)["sample_id"].to_pylist() == ["broken", "bad"]
    ranks = (
        run_query("SELECT sample_id FROM worst_samples ORDER BY worst_rank").column("sample_id").to_pylist()
    )
    assert ranks == ["broken", "bad", "ok"]
