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

Paired test rows. The release's `test_pairs.txt` lists the unpaired setting (each person with another
person's cloth), yet the VITON-HD paper scores its paired setting (SSIM, LPIPS) on the same test persons
wearing their own cloth, and the peers build that setting by taking the cloth of the person's own name:
StableVITON's `dataset.py` sets the paired cloth list to the image list (`c_names["paired"] = im_names`),
and LaDI-VTON's `src/dataset/vitonhd.py` sets `c_name = im_name` for `order="paired"`. So for every test
person named on a well-formed line of `test_pairs.txt`, the reader adds the paired row
`test__<person>` (cloth `test/cloth/<person>.jpg`, found by name, else by stem), unless the file already
holds that paired line. The row needs the person image, that cloth and, when the root has
`test/cloth-mask/`, its mask. The release ships a same-name cloth for its test persons but does not
promise one, so when any of these files is missing (or unusable) no row is added and nothing is
quarantined: the derived row is announced as a candidate only once it exists, and the listed line itself
is still accounted for on its own. train_pairs.txt is read as it is (its lines are already paired).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from preprocess.formats.collector import ResultCollector
from preprocess.formats.listing import FolderIndex, attach_annotations
from preprocess.formats.pairs import ListLine, read_pairs_file, reject_malformed, resolve, resolve_or_reject
from preprocess.formats.paths import stem
from preprocess.samples import CanonicalSample, ReadResult, make_sample_id

SPLITS = ("train", "test")
PAIRS_EXAMPLE = "00006_00.jpg 00006_00.jpg"
OWN_CLOTH_SPLIT = "test"  # the split whose persons also get a paired row with their same-name cloth


class VitonHDReader:
    """Reads a VITON-HD root: one sample per line of `{split}_pairs.txt`, plus the paired test rows."""

    name = "vitonhd"
    looks_for = "train/ or test/ holding image/ and cloth/ (VITON-HD)"

    def detect(self, root: Path) -> bool:
        """True when a split folder holds both `image/` and `cloth/`."""
        return any(
            (root / split / "image").is_dir() and (root / split / "cloth").is_dir() for split in SPLITS
        )

    def read(self, root: Path, dataset: str) -> ReadResult:
        """Every line of train_pairs.txt and test_pairs.txt becomes a sample or a quarantine row, and each
        test person with a same-name cloth also gets a paired row (module docstring); a split folder
        without its pairs file is a warning."""
        index = FolderIndex(root)
        out = ResultCollector(self.name, dataset)
        for split in SPLITS:
            if not index.has_dir(split) and not index.has_file(f"{split}_pairs.txt"):
                continue  # the split is simply not there (test-only downloads are common)
            lines = read_pairs_file(root, f"{split}_pairs.txt", out)
            for line in lines:
                _read_line(index, out, dataset, split, line)
            if split == OWN_CLOTH_SPLIT:
                _add_own_cloth_rows(index, out, dataset, split, lines)
        return out.result()


def _read_line(index: FolderIndex, out: ResultCollector, dataset: str, split: str, line: ListLine) -> None:
    if reject_malformed(out, line, 2, PAIRS_EXAMPLE):
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
    out.add(_sample(index, dataset, split, sample_id, person, cloth, person_id, cloth_id, line.where))


def _add_own_cloth_rows(
    index: FolderIndex, out: ResultCollector, dataset: str, split: str, lines: list[ListLine]
) -> None:
    """The paired row of each listed person with a usable same-name cloth (and mask), in first-listed order,
    skipping persons the pairs file already pairs with their own cloth."""
    well_formed = [line for line in lines if line.problem(2, PAIRS_EXAMPLE) is None]
    done = {stem(line.fields[0]) for line in well_formed if stem(line.fields[0]) == stem(line.fields[1])}
    has_masks = index.has_dir(f"{split}/cloth-mask")
    for line in well_formed:
        person_entry = line.fields[0]
        person_id = stem(person_entry)
        if person_id in done:
            continue
        person, _ = resolve(index, f"{split}/image", person_entry, "person", line)
        if person is None:
            continue  # the listed line is quarantined for it already
        cloth = index.find(f"{split}/cloth", (posixpath.basename(person),), person_id)
        if cloth is None or index.problem(cloth) is not None:
            continue
        sample_id = make_sample_id(split, person_id)
        where = f"{line.where} (person with own cloth)"
        sample = _sample(index, dataset, split, sample_id, person, cloth, person_id, person_id, where)
        if has_masks and "garment_mask" not in sample.annotations:
            continue
        done.add(person_id)
        out.announce()
        out.add(sample)


def _sample(
    index: FolderIndex,
    dataset: str,
    split: str,
    sample_id: str,
    person: str,
    cloth: str,
    person_id: str,
    cloth_id: str,
    source_line: str,
) -> CanonicalSample:
    """One upper-body image sample with every annotation the split folder ships for it."""
    sample = CanonicalSample(
        sample_id=sample_id,
        dataset=dataset,
        split=split,
        category="upper",
        kind="image",
        person_path=person,
        garment_path=cloth,
        pair_mode="paired" if person_id == cloth_id else "unpaired",
        garment_id=cloth_id,
        source_line=source_line,
    )
    lookups = (
        ("parse", "image-parse-v3", f"{person_id}.png", person_id),
        ("pose", "openpose_json", f"{person_id}_keypoints.json", None),
        ("densepose", "image-densepose", f"{person_id}.jpg", person_id),
        ("garment_mask", "cloth-mask", posixpath.basename(cloth), cloth_id),
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
    return sample
