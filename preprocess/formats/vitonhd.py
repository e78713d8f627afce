"""VITON-HD reader (Choi et al. 2021): pair files plus per-split folders of images and annotations.

Expected tree (the published release, `zalando-hd-resized`):

    ROOT/train_pairs.txt, ROOT/test_pairs.txt      "00006_00.jpg 00006_00.jpg" (person, cloth)
    ROOT/{train,test}/image/00006_00.jpg            person
    ROOT/{train,test}/cloth/00006_00.jpg            in-shop garment
    ROOT/{train,test}/cloth-mask/00006_00.jpg       garment mask                -> garment_mask
    ROOT/{train,test}/image-parse-v3/00006_00.png   CIHP palette PNG            -> parse (cihp)
    ROOT/{train,test}/openpose_json/00006_00_keypoints.json  OpenPose BODY_25   -> pose (body25)
    ROOT/{train,test}/openpose_img/00006_00_rendered.png     rendered skeleton  -> skeleton
    ROOT/{train,test}/image-densepose/00006_00.jpg  dp_segm colour map          -> densepose
    ROOT/{train,test}/agnostic-v3.2/00006_00.jpg    agnostic person             -> agnostic
    ROOT/{train,test}/image-parse-agnostic-v3.2/00006_00.png  (no canonical key; not listed)

A line whose person and cloth ids are equal is paired (`test__00006_00`), otherwise unpaired
(`test__00006_00__01234_00`). Category is always upper.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from preprocess.formats.collector import ResultCollector
from preprocess.formats.listing import FolderIndex, attach_annotations
from preprocess.formats.pairs import ListLine, read_pairs_file, reject_malformed, resolve_or_reject
from preprocess.formats.paths import stem
from preprocess.samples import CanonicalSample, ReadResult, make_sample_id

SPLITS = ("train", "test")


class VitonHDReader:
    """Reads a VITON-HD root: one sample per line of `{split}_pairs.txt`."""

    name = "vitonhd"
    looks_for = "train/ or test/ holding image/ and cloth/ (VITON-HD)"

    def detect(self, root: Path) -> bool:
        """True when a split folder holds both `image/` and `cloth/`."""
        return any(
            (root / split / "image").is_dir() and (root / split / "cloth").is_dir() for split in SPLITS
        )

    def read(self, root: Path, dataset: str) -> ReadResult:
        """Every line of train_pairs.txt and test_pairs.txt becomes a sample or a quarantine row; a split
        folder without its pairs file is a warning."""
        index = FolderIndex(root)
        out = ResultCollector(self.name, dataset)
        for split in SPLITS:
            if not index.has_dir(split) and not index.has_file(f"{split}_pairs.txt"):
                continue  # the split is simply not there (test-only downloads are common)
            for line in read_pairs_file(root, f"{split}_pairs.txt", out):
                _read_line(index, out, dataset, split, line)
        return out.result()


def _read_line(index: FolderIndex, out: ResultCollector, dataset: str, split: str, line: ListLine) -> None:
    if reject_malformed(out, line, 2, "00006_00.jpg 00006_00.jpg"):
        return
    person_entry, cloth_entry = line.fields
    person_id, cloth_id = stem(person_entry), stem(cloth_entry)
    paired = person_id == cloth_id
    sample_id = make_sample_id(split, person_id) if paired else make_sample_id(split, person_id, cloth_id)
    paths = resolve_or_reject(
        index,
        out,
        line,
        sample_id,
        [(f"{split}/image", person_entry, "person"), (f"{split}/cloth", cloth_entry, "cloth")],
    )
    if paths is None:
        return
    person, cloth = paths
    sample = CanonicalSample(
        sample_id=sample_id,
        dataset=dataset,
        split=split,
        category="upper",
        kind="image",
        person_path=person,
        garment_path=cloth,
        pair_mode="paired" if paired else "unpaired",
        garment_id=cloth_id,
        source_line=line.where,
    )
    lookups = (
        ("parse", "image-parse-v3", f"{person_id}.png", person_id),
        ("pose", "openpose_json", f"{person_id}_keypoints.json", None),
        ("densepose", "image-densepose", f"{person_id}.jpg", person_id),
        ("garment_mask", "cloth-mask", posixpath.basename(cloth_entry), cloth_id),
        ("agnostic", "agnostic-v3.2", f"{person_id}.jpg", person_id),
        ("skeleton", "openpose_img", f"{person_id}_rendered.png", None),
    )
    attach_annotations(
        index,
        sample,
        split,
        lookups,
        parse_labels="cihp",
        pose_format="body25",
        densepose_format="dp_segm_colormap",
    )
    out.add(sample)
