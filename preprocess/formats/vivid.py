"""ViViD reader (Fang et al. 2024): person videos (mp4) with in-shop garment images, per category.

Expected tree. Sources: the "Data" section of github.com/alibaba-yuanjing-aigclab/ViViD (README: `videos/`,
`agnostic/`, `agnostic_mask/`, `densepose/` hold one mp4 per video, `cloth/` and `cloth_mask/` one jpg per
garment) and the released dataset as its users read it (`ViViD/<category>/{videos,images,agnostic,
agnostic_mask,densepose}` with `<category>/test_pairs.txt` lines "<video>.mp4 <garment>.jpg"):

    ROOT/{upper_body,lower_body,dresses}/train_pairs.txt, test_pairs.txt   "<video>.mp4 <garment>.jpg"
    ROOT/<cat>/videos/<video>.mp4          person video (kind video; not decoded here)
    ROOT/<cat>/images/<garment>.jpg        in-shop garment
    ROOT/<cat>/agnostic/<video>.mp4        agnostic video                    -> agnostic
    ROOT/<cat>/densepose/<video>.mp4       DensePose dp_segm colour render   -> densepose (dp_segm_colormap)
    ROOT/<cat>/dwpose/<video>.mp4          DWPose render (some copies)       -> skeleton
    ROOT/<cat>/cloth_mask/<garment>.jpg    garment mask (where shipped)      -> garment_mask
    ROOT/<cat>/agnostic_mask/<video>.mp4   agnostic mask video (no canonical key yet; not listed)

The pairs file gives each video the garment the person wears, so every line is paired; sample ids name
both (`upper__test__<video>__<garment>`) because one video may be listed with several garments.
"""

from __future__ import annotations

from pathlib import Path

from preprocess.formats.collector import ResultCollector
from preprocess.formats.listing import FolderIndex, attach_annotations
from preprocess.formats.pairs import ListLine, read_pairs_file, reject_malformed, resolve_or_reject
from preprocess.formats.paths import stem
from preprocess.samples import CanonicalSample, ReadResult, make_sample_id

CATEGORY_DIRS = {"upper_body": "upper", "lower_body": "lower", "dresses": "dresses"}
PAIR_FILES = (("train_pairs.txt", "train"), ("test_pairs.txt", "test"))


class ViViDReader:
    """Reads a ViViD root: one video sample per pair line, per category."""

    name = "vivid"
    looks_for = "upper_body/, lower_body/ or dresses/ holding videos/ (ViViD)"

    def detect(self, root: Path) -> bool:
        """True when a category folder holds `videos/`."""
        return any((root / folder / "videos").is_dir() for folder in CATEGORY_DIRS)

    def read(self, root: Path, dataset: str) -> ReadResult:
        """Every line of the category pair files becomes a sample or a quarantine row."""
        index = FolderIndex(root)
        out = ResultCollector(self.name, dataset)
        for folder in CATEGORY_DIRS:
            if not index.has_dir(folder):
                continue
            for name, split in PAIR_FILES:
                for line in read_pairs_file(root, f"{folder}/{name}", out):
                    _read_line(index, out, dataset, folder, split, line)
        return out.result()


def _read_line(
    index: FolderIndex, out: ResultCollector, dataset: str, folder: str, split: str, line: ListLine
) -> None:
    if reject_malformed(out, line, 2, "video1.mp4 cloth1.jpg"):
        return
    video_entry, garment_entry = line.fields
    video_id, garment_id = stem(video_entry), stem(garment_entry)
    category = CATEGORY_DIRS[folder]
    sample_id = make_sample_id(category, split, video_id, garment_id)
    paths = resolve_or_reject(
        index,
        out,
        line,
        sample_id,
        [(f"{folder}/videos", video_entry, "video"), (f"{folder}/images", garment_entry, "garment")],
    )
    if paths is None:
        return
    video, garment = paths
    video_name, garment_name = video.rsplit("/", 1)[1], garment.rsplit("/", 1)[1]
    sample = CanonicalSample(
        sample_id=sample_id,
        dataset=dataset,
        split=split,
        category=category,
        kind="video",
        person_path=video,
        garment_path=garment,
        garment_id=garment_id,
        source_line=line.where,
    )
    lookups = (
        ("agnostic", "agnostic", video_name, None),
        ("densepose", "densepose", video_name, None),
        ("skeleton", "dwpose", video_name, None),
        ("garment_mask", "cloth_mask", garment_name, garment_id),
    )
    attach_annotations(index, sample, folder, lookups, densepose_format="dp_segm_colormap")
    out.add(sample)
