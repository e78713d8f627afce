"""Dress Code reader (Morelli et al. 2022): three category folders with images, annotations and pair files.

Expected tree (the published release):

    ROOT/{upper_body,lower_body,dresses}/train_pairs.txt         "013563_0.jpg 013563_1.jpg" (person, garment)
    ROOT/<cat>/test_pairs_paired.txt, test_pairs_unpaired.txt
    ROOT/train_pairs.txt, test_pairs_paired.txt, ...  (some releases) third column: 0 upper_body, 1 lower_body, 2 dresses
    ROOT/<cat>/images/013563_0.jpg        person;  ROOT/<cat>/images/013563_1.jpg  in-shop garment
    ROOT/<cat>/masks/013563_1.png         garment mask (some copies: cloth_mask/)    -> garment_mask
    ROOT/<cat>/keypoints/013563_2.json    COCO-18 [x, y, score, id] in 384x512 space -> pose (coco18)
    ROOT/<cat>/label_maps/013563_4.png    ATR-18 label indices                        -> parse (atr)
    ROOT/<cat>/skeletons/013563_5.jpg     rendered skeleton                           -> skeleton
    ROOT/<cat>/dense/013563_5.png         DensePose part index I (L PNG)              -> densepose (dp_index)
    ROOT/<cat>/dense/013563_5_uv.npz      DensePose UV, key "uv"                      -> densepose_uv

Per-category pair files take precedence: root-level ones are read only when no category folder has its
own (a warning says which were set aside). The pair mode is the file's (the evaluation protocol's
paired and unpaired settings); train lines are paired when person and garment share their id. Sample
ids: `upper__test__013563_0` when paired, `upper__test__013563_0__048392_1` when unpaired.
"""

from __future__ import annotations

from pathlib import Path

from preprocess.formats.collector import ResultCollector
from preprocess.formats.listing import FolderIndex, attach_annotations
from preprocess.formats.pairs import ListLine, read_pairs_file, resolve_or_reject
from preprocess.formats.paths import stem
from preprocess.samples import CanonicalSample, ReadResult, make_sample_id

CATEGORY_DIRS = {"upper_body": "upper", "lower_body": "lower", "dresses": "dresses"}
CATEGORY_CODES = {"0": "upper_body", "1": "lower_body", "2": "dresses"}
PAIR_FILES = (  # file name, split, pair mode (None: paired when person and garment share their id)
    ("train_pairs.txt", "train", None),
    ("test_pairs_paired.txt", "test", "paired"),
    ("test_pairs_unpaired.txt", "test", "unpaired"),
)
EXAMPLE_LINE = "013563_0.jpg 013563_1.jpg"


class DressCodeReader:
    """Reads a Dress Code root: one sample per pair line, per category."""

    name = "dresscode"
    looks_for = "upper_body/, lower_body/ or dresses/ holding images/ (Dress Code)"

    def detect(self, root: Path) -> bool:
        """True when a category folder holds `images/` but no `videos/` (that would be ViViD)."""
        return any(
            (root / folder / "images").is_dir() and not (root / folder / "videos").is_dir()
            for folder in CATEGORY_DIRS
        )

    def read(self, root: Path, dataset: str) -> ReadResult:
        """Every line of the pair files becomes a sample or a quarantine row."""
        index = FolderIndex(root)
        out = ResultCollector(self.name, dataset)
        categories = [folder for folder in CATEGORY_DIRS if index.has_dir(folder)]
        own_files = any(
            index.has_file(f"{folder}/{name}") for folder in categories for name, *_ in PAIR_FILES
        )
        root_files = [name for name, *_ in PAIR_FILES if index.has_file(name)]
        if root_files and not own_files:
            for name, split, mode in PAIR_FILES:
                for line in read_pairs_file(root, name, out):
                    _read_root_line(index, out, dataset, split, mode, line)
            return out.result()
        if root_files:
            out.warn(
                f"root-level {', '.join(root_files)} set aside: the category folders have their own pair files, "
                "which take precedence"
            )
        for folder in categories:
            for name, split, mode in PAIR_FILES:
                for line in read_pairs_file(root, f"{folder}/{name}", out):
                    _read_category_line(index, out, dataset, folder, split, mode, line)
        return out.result()


def _read_root_line(
    index: FolderIndex, out: ResultCollector, dataset: str, split: str, mode: str | None, line: ListLine
) -> None:
    problem = line.problem(3, f"{EXAMPLE_LINE} 0")
    if problem is None and line.fields[2] not in CATEGORY_CODES:
        problem = (
            f"{line.where}: category column {line.fields[2]!r} must be 0 (upper_body), 1 (lower_body) "
            "or 2 (dresses); fix the line"
        )
    if problem is not None:
        out.reject(line.where, None, problem)
        return
    _add_pair(index, out, dataset, CATEGORY_CODES[line.fields[2]], split, mode, line)


def _read_category_line(
    index: FolderIndex,
    out: ResultCollector,
    dataset: str,
    folder: str,
    split: str,
    mode: str | None,
    line: ListLine,
) -> None:
    code = next(c for c, f in CATEGORY_CODES.items() if f == folder)
    with_code = line.bad_bytes is None and len(line.fields) == 3 and line.fields[2] == code
    problem = None if with_code else line.problem(2, EXAMPLE_LINE)
    if problem is not None:
        out.reject(line.where, None, problem)
        return
    _add_pair(index, out, dataset, folder, split, mode, line)


def _add_pair(
    index: FolderIndex,
    out: ResultCollector,
    dataset: str,
    folder: str,
    split: str,
    mode: str | None,
    line: ListLine,
) -> None:
    person_entry, garment_entry = line.fields[:2]
    person_id, garment_id = stem(person_entry), stem(garment_entry)
    prefix = person_id.rsplit("_", 1)[0]
    if mode is None:
        mode = "paired" if prefix == garment_id.rsplit("_", 1)[0] else "unpaired"
    category = CATEGORY_DIRS[folder]
    parts = (category, split, person_id) if mode == "paired" else (category, split, person_id, garment_id)
    sample_id = make_sample_id(*parts)
    paths = resolve_or_reject(
        index,
        out,
        line,
        sample_id,
        [(f"{folder}/images", person_entry, "person"), (f"{folder}/images", garment_entry, "garment")],
    )
    if paths is None:
        return
    person, garment = paths
    sample = CanonicalSample(
        sample_id=sample_id,
        dataset=dataset,
        split=split,
        category=category,
        kind="image",
        person_path=person,
        garment_path=garment,
        pair_mode=mode,
        garment_id=garment_id,
        source_line=line.where,
    )
    lookups = (
        ("pose", "keypoints", f"{prefix}_2.json", None),
        ("parse", "label_maps", f"{prefix}_4.png", f"{prefix}_4"),
        ("skeleton", "skeletons", f"{prefix}_5.jpg", f"{prefix}_5"),
        ("densepose", "dense", f"{prefix}_5.png", None),
        ("densepose_uv", "dense", f"{prefix}_5_uv.npz", None),
        ("garment_mask", "masks", f"{garment_id}.png", garment_id),
        ("garment_mask", "cloth_mask", f"{garment_id}.png", garment_id),
    )
    attach_annotations(
        index, sample, folder, lookups, parse_labels="atr", pose_format="coco18", densepose_format="dp_index"
    )
    out.add(sample)
