"""The ground truth of an evaluation: a dataset's samples read from its shards, and the target files of each
setting (the person images for paired, unpaired and video; truth masks for the mask setting).

Targets are plain files keyed like predictions: `<sample_id>.<ext>` for images and `<sample_id>.fNNNN.<ext>`
for the frames of a clip (sample ids hold no dots, so the part before the first dot is always the id). Shard
members are exported once per shard-set state into a cache folder (`export_member`), so evaluations re-read
files rather than tars and the report's gallery can show them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from preprocess.shards.codec import META_MEMBER
from preprocess.shards.reader import SHARDS_JSON, iter_tar, shard_names
from preprocess.synthetic.truth import TRUTH_FILE, read_truth

PERSON_MEMBER = "person.jpg"
AGNOSTIC_MEMBER = "agnostic_mask.png"
_FRAME = re.compile(r"^f(\d{4})\.(.+)$")
_EXPORT_STAMP = ".export.json"


class GroundTruthError(ValueError):
    """The shards or truth files cannot serve as ground truth; the message names the folder and the fix."""


@dataclass(frozen=True)
class EvalSample:
    """One ground-truth sample: its id, category, kind, pairing and the dataset-relative paths of its inputs."""

    sample_id: str
    category: str
    kind: str  # image / video
    split: str
    pair_mode: str = "paired"  # paired: the person wears the garment; unpaired: another person's garment
    person_path: str | None = None
    garment_path: str | None = None


@dataclass
class GroundTruth:
    """A dataset's shard set as ground truth: its samples (of one split, or all) and where its files are."""

    dataset: str
    shard_dir: Path
    dataset_version: str
    samples: dict[str, EvalSample]
    split: str | None = "test"
    root: Path | None = None  # the raw dataset folder, for input paths and shipped truth files
    annotators: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> {annotator: version}

    @classmethod
    def from_shards(
        cls, dataset: str, shard_dir: Path, root: Path | None = None, split: str | None = "test"
    ) -> GroundTruth:
        """Read every sample's meta.json from the shards recorded in shards.json; keep those of `split`."""
        shard_dir = Path(shard_dir)
        summary_path = shard_dir / SHARDS_JSON
        if not summary_path.is_file():
            raise GroundTruthError(
                f"{summary_path} does not exist: build the shards of dataset {dataset!r} first (vton data build)"
            )
        summary = json.loads(summary_path.read_text())
        samples: dict[str, EvalSample] = {}
        splits: dict[str, int] = {}
        for name in shard_names(shard_dir):
            for key, members in iter_tar(shard_dir / name):
                meta = json.loads(members[META_MEMBER]) if META_MEMBER in members else {}
                sample_split = str(meta.get("split") or "")
                splits[sample_split] = splits.get(sample_split, 0) + 1
                if split is not None and sample_split != split:
                    continue
                samples[key] = EvalSample(
                    key,
                    str(meta.get("category") or "upper"),
                    str(meta.get("kind") or "image"),
                    sample_split,
                    str(meta.get("pair_mode") or "paired"),
                    meta.get("person_path"),
                    meta.get("garment_path"),
                )
        if not samples:
            found = ", ".join(f"{s or '(none)'}: {n}" for s, n in sorted(splits.items())) or "no samples"
            raise GroundTruthError(
                f"the shards in {shard_dir} hold no samples of split {split!r} ({found}); "
                "evaluate another split (split=None for all)"
            )
        return cls(
            dataset,
            shard_dir,
            str(summary.get("dataset_version") or ""),
            samples,
            split,
            Path(root) if root is not None else None,
            summary.get("annotators") or {},
        )

    def of_kind(self, kind: str) -> dict[str, EvalSample]:
        """The samples that are images (`"image"`) or clips (`"video"`)."""
        return {k: s for k, s in self.samples.items() if s.kind == kind}

    def input_path(self, relative: str | None) -> str | None:
        """A dataset-relative input path made absolute under the dataset root (unchanged without a root)."""
        if not relative:
            return None
        return str(self.root / relative) if self.root is not None else relative

    @property
    def is_synthetic(self) -> bool:
        """Whether the raw dataset is a generated one that ships exact truth (synthetic_truth.jsonl)."""
        return self.root is not None and (self.root / TRUTH_FILE).is_file()

    def person_targets(self, cache: Path) -> dict[str, Path]:
        """The person images (and clip frames) of the samples, exported from the shards into `cache`."""
        return {
            k: p
            for k, p in export_member(self.shard_dir, PERSON_MEMBER, cache).items()
            if _id(k) in self.samples
        }

    def synthetic_masks(self) -> dict[str, Path]:
        """The generator's garment-region masks of the image samples, keyed by sample id.

        A synthetic dataset's truth file records each sample's person path and the mask of the target
        garment's visible pixels (`synthetic_truth/garment_region/<name>.png`); samples are matched to it
        through their person path.
        """
        if not self.is_synthetic:
            raise GroundTruthError(
                f"dataset {self.dataset!r} ({self.root}) ships no {TRUTH_FILE}: it is not a synthetic dataset; "
                "pass a folder of truth masks named <sample_id>.png instead"
            )
        by_person = {r["person"]: r for r in read_truth(self.root) if r.get("garment_region")}
        masks = {}
        for key, sample in self.of_kind("image").items():
            record = by_person.get(sample.person_path or "")
            if record is not None:
                masks[key] = self.root / record["garment_region"]
        return masks


def _id(key: str) -> str:
    """The sample id of a target or prediction key (`id` or `id.f0003`)."""
    return key.partition(".")[0]


def _shards_digest(shard_dir: Path) -> str:
    return hashlib.sha256((Path(shard_dir) / SHARDS_JSON).read_bytes()).hexdigest()


def _listing(folder: Path) -> dict[str, Path]:
    return {
        p.name.rpartition(".")[0]: p
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


def export_member(shard_dir: Path, member: str, out: Path) -> dict[str, Path]:
    """Write one member of every sample as `<out>/<sample_id>.<ext>` (`<sample_id>.fNNNN.<ext>` for the frames
    of a clip); return key -> file. The bytes are copied as stored (no re-encoding).

    The export is redone only when the shard set changed (a stamp holds the digest of shards.json), and
    a new export replaces the old folder only once complete.
    """
    shard_dir, out = Path(shard_dir), Path(out)
    stamp = {"member": member, "shards": _shards_digest(shard_dir)}
    if (out / _EXPORT_STAMP).is_file() and json.loads((out / _EXPORT_STAMP).read_text()) == stamp:
        return _listing(out)
    ext = "." + member.rpartition(".")[2]
    building = out.with_name(f".{out.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for name in shard_names(shard_dir):
        for key, members in iter_tar(shard_dir / name):
            for name_in_tar, data in members.items():
                if name_in_tar == member:
                    (building / f"{key}{ext}").write_bytes(data)
                else:
                    frame = _FRAME.match(name_in_tar)
                    if frame and frame.group(2) == member:
                        (building / f"{key}.f{frame.group(1)}{ext}").write_bytes(data)
    (building / _EXPORT_STAMP).write_text(json.dumps(stamp))
    shutil.rmtree(out, ignore_errors=True)
    building.rename(out)
    return _listing(out)


def mask_folder(folder: Path, samples: Mapping[str, EvalSample]) -> dict[str, Path]:
    """Truth masks from a folder of `<sample_id>.<ext>` files, for the given samples."""
    from metrics.folders import list_images

    return {k: p for k, p in list_images(Path(folder)).items() if k in samples}
