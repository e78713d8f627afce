"""paper_results ships with the package, loads in an empty VTON_HOME and speaks the platform's vocabulary."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from warehouse.paper_results import PACKAGED_CSV, PaperResultsError, load_paper_results
from warehouse.views import connect

SHARED_CSV = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "paper_results.csv"


def _one(con, where: str) -> tuple:
    rows = con.execute(
        f"SELECT dataset, setting, method, metric, value, scale, value_natural, resolution FROM paper_results "
        f"WHERE {where}"
    ).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_packaged_copy_matches_the_shared_reference():
    if not SHARED_CSV.exists():
        pytest.skip(f"{SHARED_CSV} not present")
    assert PACKAGED_CSV.read_bytes() == SHARED_CSV.read_bytes()


def test_queryable_in_an_empty_home_with_normalised_names(vton_home):
    con = connect()
    assert not (vton_home / "warehouse").exists() or not any((vton_home / "warehouse").rglob("*.parquet"))
    with PACKAGED_CSV.open(newline="") as fh:
        lines = sum(1 for _ in csv.DictReader(fh))
    assert con.execute("SELECT count(*) FROM paper_results").fetchall() == [(lines,)]
    # plain rename of dataset and method
    assert _one(
        con, "seed LIKE '000_%' AND method_raw = 'LaDI-VTON' AND dataset_raw = 'VITON-HD' AND metric = 'ssim'"
    ) == (
        "vitonhd",
        "paired",
        "ladi_vton",
        "ssim",
        0.8656,
        1.0,
        0.8656,
        None,
    )
    # KID x1e3 becomes kid with its scale
    igr_kid = _one(con, "method = 'igr' AND dataset = 'vitonhd' AND setting = 'paired' AND metric = 'kid'")
    assert igr_kid[4:7] == (2.9724, 1000.0, pytest.approx(2.9724e-3))
    # a KID printed with an unstated scale keeps the number but no scale
    cat_kid = _one(
        con, "method = 'catvton' AND dataset = 'vitonhd' AND setting = 'paired' AND metric = 'kid'"
    )
    assert cat_kid[4:7] == (0.411, None, None)
    # resolution folded out of the setting; the garment-transfer paper's "Ours" is the platform's family
    assert _one(con, "method = 'pf_afn' AND resolution = '512x384' AND metric = 'fid'")[:2] == (
        "vitonhd",
        "paired",
    )
    transfer = con.execute(
        "SELECT DISTINCT dataset, setting FROM paper_results WHERE method = 'garment_transfer' ORDER BY ALL"
    ).fetchall()
    assert ("viton", "retransfer_paired") in transfer and ("deepfashion2", "transfer_zero_shot") in transfer
    assert con.execute("SELECT count(*) FROM paper_results WHERE higher_is_better IS NULL").fetchall() == [
        (0,)
    ]
    datasets = {r[0] for r in con.execute("SELECT DISTINCT dataset FROM paper_results").fetchall()}
    assert datasets == {"vitonhd", "dresscode", "vvt", "vivid", "streettryon", "viton", "deepfashion2"}


def test_malformed_csv_names_the_line():
    text = "seed,table,dataset,setting,method,metric,value,note\ns,T1,VITON-HD,paired,X,ssim,0.9,\ns,T1,VVT,video,X,ssim,n/a,\n"
    with pytest.raises(PaperResultsError, match="line 3: value 'n/a' is not a number"):
        load_paper_results(text)
    with pytest.raises(PaperResultsError, match=r"missing columns \['value'"):
        load_paper_results("seed,table,dataset,setting,method,metric,note\n")
