"""The annotator quality table on tiny generated sets: every annotator and backend is there, each number
agrees with a recomputation from the generated files, and the table renders, saves and lands in the
warehouse `annotation_stats` table (idempotently per run id)."""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pytest
import torch

from benchmarks.annotator_quality.measure import HQFT_GOAL, QUICK, measure_quality
from benchmarks.annotator_quality.run import main as run_main
from benchmarks.annotator_quality.run import settings_from_args
from benchmarks.annotator_quality.table import (
    QualityRow,
    annotation_stat_rows,
    default_run_id,
    markdown_table,
    save_table,
    store_in_warehouse,
    summary_line,
    text_table,
)
from preprocess.annotators.agnostic_mask import agnostic_mask
from preprocess.annotators.agnostic_score import score_agnostic, synthetic_inputs
from preprocess.annotators.garment_mask import garment_mask, mask_iou, read_cloth_mask
from preprocess.filters.hqft_calibration import REASON_OF_LABEL
from preprocess.images import decode_image
from preprocess.synthetic import read_truth
from vton.home import VtonHome

TINY = replace(
    QUICK,
    size=(96, 72),
    dresscode_samples=18,
    vitonhd_samples=12,
    landmark_epochs=1,
    inhouse_steps=2,
    inhouse_batch_size=4,
)


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> tuple[list[QualityRow], dict[str, Path]]:
    work = tmp_path_factory.mktemp("annotator-quality")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two tiny trainings: one thread is faster than two on a shared 2-core machine
    try:
        rows = measure_quality(TINY, work)
    finally:
        torch.set_num_threads(threads)
    return rows, {layout: work / "data" / layout for layout in ("dresscode", "vitonhd")}


def _by_key(rows: list[QualityRow]) -> dict[tuple[str, str, str], QualityRow]:
    keyed = {(r.annotator, r.backend, r.metric): r for r in rows}
    assert len(keyed) == len(rows), "a (annotator, backend, metric) appears twice"
    return keyed


def test_every_annotator_and_backend_is_measured(measured):
    rows, _ = measured
    assert Counter((r.annotator, r.backend) for r in rows) == {
        ("garment_mask", "rule-based"): 4,
        ("garment_landmarks", "geometric"): 3,
        ("garment_landmarks", "heatmap"): 3,
        ("agnostic_mask", "catvton"): 12,
        ("agnostic_mask", "hrviton"): 12,
        ("inhouse_parse", "inhouse-tiny"): 2,
        ("inhouse_densepose", "inhouse-tiny"): 2,
        ("hqft_filter", "rules"): 2 * 2 * len(REASON_OF_LABEL),
    }
    for row in rows:
        assert row.goal == (HQFT_GOAL if row.annotator == "hqft_filter" else None)
        assert math.isnan(row.value) or 0.0 <= row.value <= 1.0, row
        assert math.isnan(row.value) == (row.n == 0), row


def test_garment_mask_iou_against_generator_masks_and_cloth_mask_files(measured):
    rows, roots = measured
    table = _by_key(rows)
    for layout, subset in (("dresscode", "generator_mask"), ("vitonhd", "cloth_mask")):
        ious = []
        for record in read_truth(roots[layout]):
            garment = str(roots[layout] / record["garment"])
            truth = (
                garment.replace("/images/", "/masks/").replace("_1.jpg", "_1.png")
                if layout == "dresscode"
                else garment.replace("/cloth/", "/cloth-mask/")
            )
            ious.append(mask_iou(garment_mask(decode_image(Path(garment))), read_cloth_mask(Path(truth))))
        mean = table[("garment_mask", "rule-based", f"{subset}.iou_mean")]
        low = table[("garment_mask", "rule-based", f"{subset}.iou_min")]
        assert (mean.n, low.n) == (len(ious), len(ious)) == (len(read_truth(roots[layout])),) * 2
        assert mean.value == pytest.approx(np.mean(ious)) and low.value == pytest.approx(min(ious))
        assert mean.dataset == f"synthetic-{layout}" and mean.field == "garment_mask"


def test_rough_mask_rows_match_masks_recomputed_per_category(measured):
    rows, roots = measured
    table = _by_key(rows)
    coverage: dict[str, list[float]] = {}
    for record in read_truth(roots["dresscode"]):
        inputs = synthetic_inputs(roots["dresscode"], record)
        mask = agnostic_mask("catvton", inputs["category"], inputs["parse"], densepose=inputs["densepose"])
        score = score_agnostic(mask, inputs["garment_region"], inputs["parse"], inputs["densepose"])
        coverage.setdefault(inputs["category"], []).append(score["coverage"])
    assert set(coverage) == {"upper", "lower", "dresses"}
    for category, values in coverage.items():
        row = table[("agnostic_mask", "catvton", f"{category}.coverage")]
        assert (row.n, row.value, row.version) == (len(values), pytest.approx(np.mean(values)), "catvton-1")
        assert not row.goal and table[("agnostic_mask", "catvton", f"{category}.failure_rate")].value == 0
        assert not table[("agnostic_mask", "hrviton", f"{category}.face_spill")].higher_is_better


def test_counts_follow_the_generated_splits_and_labels(measured):
    rows, roots = measured
    table = _by_key(rows)
    dresscode, vitonhd = read_truth(roots["dresscode"]), read_truth(roots["vitonhd"])
    for category in ("upper", "lower", "dresses"):
        tests = sum(r["category"] == category and r["split"] == "test" for r in dresscode)
        for backend in ("geometric", "heatmap"):
            assert table[("garment_landmarks", backend, f"{category}.pck@0.05")].n == tests
    heldout = len({r["person"] for r in vitonhd if r["split"] == "test"})
    for task in ("parse", "densepose"):
        miou = table[(f"inhouse_{task}", "inhouse-tiny", "heldout.miou")]
        assert miou.n == heldout and miou.field == task and miou.version.startswith("1:")
    for layout, records in (("vitonhd", vitonhd), ("dresscode", dresscode)):
        persons = {r["person"]: r for r in records}.values()  # the filter decides once per person image
        for label in REASON_OF_LABEL:
            recall = table[("hqft_filter", "rules", f"{layout}.{label}.recall")]
            assert recall.n == sum(bool(r[label]) for r in persons), (layout, label)


def test_goal_verdicts_and_renderings():
    rows = [
        QualityRow("hqft_filter", "rules", "a.occluded.precision", 0.95, 20, "d", goal=0.9),
        QualityRow("hqft_filter", "rules", "a.occluded.recall", 0.85, 10, "d", goal=0.9),
        QualityRow("hqft_filter", "rules", "a.side_view.recall", math.nan, 0, "d", goal=0.9),
        QualityRow("agnostic_mask", "catvton", "upper.face_spill", 0.02, 7, "d", higher_is_better=False),
    ]
    assert [r.goal_text() for r in rows] == [">= 0.9 ok", ">= 0.9 MISSED", ">= 0.9 n/a", ""]
    assert replace(rows[3], goal=0.01).goal_text() == "<= 0.01 MISSED"
    assert (
        summary_line(rows)
        == "goals: 1 met, 1 missed, 1 not measurable (missed: hqft_filter a.occluded.recall)"
    )
    text = text_table(rows).splitlines()
    assert text[0].split() == ["annotator", "backend/strategy", "metric", "value", "n", "goal"]
    assert len(text) == len(rows) + 2 and text[4].split()[3:] == ["nan", "0", ">=", "0.9", "n/a"]
    markdown = markdown_table(rows).splitlines()
    assert markdown[2] == "| hqft_filter | rules | a.occluded.precision | 0.950 | 20 | >= 0.9 ok |"
    assert default_run_id(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "annotator_quality-20260102T030405Z"


def test_saved_files_and_warehouse_rows_round_trip(measured, tmp_path):
    rows, _ = measured
    md, js = save_table(rows, tmp_path / "bench", "annotator_quality", "run-1", {"seed": 7})
    assert md.read_text().count("\n| ") == len(rows) + 1
    saved = json.loads(js.read_text())
    assert saved["run_id"] == "run-1" and len(saved["rows"]) == len(rows)
    for row, back in zip(rows, saved["rows"], strict=True):
        assert back["value"] == (None if math.isnan(row.value) else pytest.approx(row.value))
        assert (back["metric"], back["n"], back["goal_met"]) == (row.metric, row.n, row.goal_met)

    home = VtonHome(tmp_path / "home")
    for _ in range(2):  # a second write of the same run replaces its rows
        store_in_warehouse(rows, "annotator_quality-t", "seed7-tiny", home)
    table = ds.dataset(home.warehouse / "annotation_stats", partitioning="hive").to_table().to_pylist()
    assert len(table) == 2 * len(rows)
    stored = {(r["annotator"], r["stat"]): r for r in table}
    for row in rows:
        stat = f"quality.{row.backend}.{row.metric}"
        value = stored[(row.annotator, stat)]
        assert value["value"] == (None if math.isnan(row.value) else pytest.approx(row.value))
        assert stored[(row.annotator, f"{stat}.n")]["value"] == row.n
        assert (value["dataset"], value["field"], value["annotator_version"]) == (
            row.dataset,
            row.field,
            row.version,
        )
        assert value["run_id"] == "annotator_quality-t" and value["dataset_version"] == "seed7-tiny"
    assert len(annotation_stat_rows(rows[:3], "r", "v")) == 6


def test_command_line_settings(capsys):
    parser_error = pytest.raises(SystemExit)
    with parser_error:
        run_main(["--quick", "--size", "big"])
    assert "'big' is not HxW in pixels" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_main(["--quick", "--only", "landmarks,masks"])
    assert "'landmarks,masks' names no known section (or an unknown one)" in capsys.readouterr().err
    args = argparse.Namespace(quick=True, seed=3, size=(64, 48), dresscode_samples=9, vitonhd_samples=None)
    settings = settings_from_args(args)
    assert settings == replace(QUICK, seed=3, size=(64, 48), dresscode_samples=9)
    assert settings.tag() == "seed3-64x48-dc9-vh60"
    assert settings_from_args(argparse.Namespace(**vars(args) | {"quick": False})).inhouse_preset == "small"


def test_finished_sections_are_kept_and_a_rerun_resumes_from_them(tmp_path):
    parts = tmp_path / "parts"
    first = measure_quality(TINY, tmp_path / "one", parts=parts, sections=["garment_masks", "hqft"])
    assert sorted(p.name for p in parts.iterdir()) == ["garment_masks.json", "hqft.json"]
    assert {r.annotator for r in first} == {"garment_mask", "hqft_filter"}
    lines: list[str] = []
    again = measure_quality(
        TINY, tmp_path / "two", lines.append, parts=parts, sections=["hqft", "garment_masks"]
    )
    assert not (tmp_path / "two" / "data").exists(), "a resumed run generated data it did not need"
    assert [r.as_json() for r in again] == [r.as_json() for r in first]  # same rows, same (fixed) order
    assert all("rows from" in line for line in lines)
    # Other settings: the kept part does not apply and the section is measured on newly generated data.
    other = replace(TINY, seed=TINY.seed + 1)
    measure_quality(other, tmp_path / "three", parts=parts, sections=["garment_masks"])
    assert (tmp_path / "three" / "data").exists()
    with pytest.raises(ValueError, match="unknown section"):
        measure_quality(TINY, tmp_path / "four", sections=["masks"])


def test_quality_rows_round_trip_through_json():
    rows = [
        QualityRow("hqft_filter", "rules", "a.side_view.recall", math.nan, 0, "d", goal=0.9),
        QualityRow(
            "agnostic_mask", "hrviton", "upper.hand_spill", 0.5, 3, "d", "agnostic_mask", "v", None, False
        ),
    ]
    back = [QualityRow.from_json(json.loads(json.dumps(r.as_json()))) for r in rows]
    assert math.isnan(back[0].value) and back[0].goal_met is None and back[1] == rows[1]
