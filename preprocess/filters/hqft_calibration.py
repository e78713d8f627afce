"""Scoring the HQFT filter against a synthetic dataset's labels (ROOT/synthetic_truth.jsonl).

Each criterion's flag (from the decision's reasons) is compared with the generator's label of the same
case: `occluded`, `mildly_occluded` (kept as a hard case), `truncated`, `side_view`,
`extreme_proportion`; used by benchmarks/hqft and the tests to calibrate `HQFTThresholds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from preprocess.filters.hqft import HQFTDecision, HQFTThresholds, decide
from preprocess.filters.hqft_inputs import load_hqft_input
from preprocess.formats import read_dataset
from preprocess.synthetic import read_truth

# Truth label -> how the decision's reason for that criterion starts.
REASON_OF_LABEL = {
    "occluded": "occluded:",
    "mildly_occluded": "hard case: mild occlusion",
    "truncated": "truncated:",
    "side_view": "side view:",
    "extreme_proportion": "extreme proportion:",
}


@dataclass
class CriterionScore:
    """Agreement of one criterion with its label over a dataset."""

    label: str
    positives: int  # samples the generator labels
    flagged: int  # samples the filter flags
    hits: int  # both

    @property
    def precision(self) -> float:
        return self.hits / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        return self.hits / self.positives if self.positives else 1.0


def flags(decision: HQFTDecision) -> dict[str, bool]:
    """Which labelled cases the decision reports (truth label name -> flagged)."""
    return {
        label: any(r.startswith(prefix) for r in decision.reasons)
        for label, prefix in REASON_OF_LABEL.items()
    }


def decide_synthetic(
    root: Path, layout: str, thresholds: HQFTThresholds | None = None
) -> tuple[list[HQFTDecision], list[dict]]:
    """Decisions on a generated dataset (one per person image), and the truth record of each."""
    root = Path(root)
    truth = {record["person"]: record for record in read_truth(root)}
    by_person = {s.person_path: s for s in reversed(read_dataset(root, root.name, layout).samples)}
    samples = sorted(by_person.values(), key=lambda s: s.sample_id)
    inputs = [load_hqft_input(s, root) for s in samples]
    return decide(inputs, thresholds), [truth[s.person_path] for s in samples]


def score_criteria(decisions: list[HQFTDecision], records: list[dict]) -> dict[str, CriterionScore]:
    """Precision and recall counts of every criterion against the generator's labels."""
    out = {label: CriterionScore(label, 0, 0, 0) for label in REASON_OF_LABEL}
    for decision, record in zip(decisions, records, strict=True):
        flagged = flags(decision)
        for label, score in out.items():
            truth = bool(record[label])
            score.positives += truth
            score.flagged += flagged[label]
            score.hits += truth and flagged[label]
    return out
