"""Evaluation driver: score a model's predictions against a dataset's ground truth per setting and category,
and record the run in the warehouse (`eval_runs`, `eval_metrics`, `sample_metrics`).

    truth = GroundTruth.from_shards("demo_vitonhd", shard_dir, root=dataset_root, split="test")
    report = evaluate_run(truth, "my_model", [SettingInputs("paired", list_images(pred_dir),
                          truth.person_targets(cache))], checkpoint="step_1000")

Modules: `ground_truth` (samples and targets from shards), `suite` (one setting's metrics), `runs` (run
identity, warehouse rows), `plot` (the run's bar chart).
"""

from metrics.evaluation.ground_truth import EvalSample, GroundTruth, GroundTruthError, export_member
from metrics.evaluation.runs import EvaluationReport, RunIdentity, SettingInputs, evaluate_run
from metrics.evaluation.suite import (
    DEFAULT_SUITES,
    SETTING_METRICS,
    SETTINGS,
    EvaluationError,
    MetricValue,
    SettingResult,
    evaluate_setting,
)

__all__ = [
    "DEFAULT_SUITES",
    "SETTINGS",
    "SETTING_METRICS",
    "EvalSample",
    "EvaluationError",
    "EvaluationReport",
    "GroundTruth",
    "GroundTruthError",
    "MetricValue",
    "RunIdentity",
    "SettingInputs",
    "SettingResult",
    "evaluate_run",
    "evaluate_setting",
    "export_member",
]
