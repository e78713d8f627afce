"""The running tally of one read: samples, quarantine rows, warnings, and the candidates announced.

A reader announces candidates where it finds them (pair lines, clips, photos) and settles each one as a
sample or a quarantine row, so `ReadResult.check_accounting()` checks the reader itself. A repeated
sample id keeps its first occurrence and quarantines the later one with a reason naming both places.
"""

from __future__ import annotations

from preprocess.samples import CanonicalSample, QuarantineRow, ReadResult

READ_STAGE = "read"


class ResultCollector:
    """Collects what a reader finds in one dataset root and turns it into a ReadResult."""

    def __init__(self, layout: str, dataset: str) -> None:
        self.layout = layout
        self.dataset = dataset
        self.samples: list[CanonicalSample] = []
        self.quarantine: list[QuarantineRow] = []
        self.warnings: list[str] = []
        self.candidates = 0
        self._first_seen: dict[str, str] = {}

    def announce(self, count: int = 1) -> None:
        """Count candidates the dataset announced; each must later be added or rejected."""
        self.candidates += count

    def add(self, sample: CanonicalSample) -> None:
        """Keep a sample, or quarantine it when its id was already taken by an earlier candidate."""
        origin = sample.source_line or sample.person_path or sample.garment_path or sample.sample_id
        first = self._first_seen.get(sample.sample_id)
        if first is not None:
            self.reject(
                origin,
                sample.sample_id,
                f"{origin}: duplicate sample id {sample.sample_id!r}, first seen at {first} (that one is kept); "
                "remove the repeated entry",
            )
            return
        sample.validate()
        self._first_seen[sample.sample_id] = origin
        self.samples.append(sample)

    def reject(self, path: str, sample_id: str | None, reason: str) -> None:
        """Quarantine one candidate; `reason` names the file or line and says what to do."""
        self.quarantine.append(QuarantineRow(self.dataset, path, sample_id, READ_STAGE, reason))

    def warn(self, message: str) -> None:
        """Record a dataset-level note (an empty or missing pairs file), which is not a candidate."""
        self.warnings.append(message)

    def result(self) -> ReadResult:
        """The ReadResult of everything collected."""
        return ReadResult(self.layout, self.samples, self.quarantine, self.candidates, self.warnings)
