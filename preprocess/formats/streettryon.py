"""StreetTryOn reader (Cui et al. 2024): in-the-wild street photos filtered from DeepFashion2, plus test pairs.

Expected tree. Source: the StreetTryOn benchmark README and loader (cuiaiyu street-tryon-benchmark:
`get_street_images.sh` writes `street_tryon/{train,validation}/image` from `annotations/<split>_image_list.txt`;
`GeneralTryOnDataset` reads `annotations/*.csv` as a header row then "index,garment,person" rows):

    $DATA/street_tryon/train/image/000001.jpg          street person photo (12,364)
    $DATA/street_tryon/validation/image/000001.jpg     street person photo (2,089)
    $DATA/street_tryon/<split>/densepose/000001.png    DensePose IUV          -> densepose (iuv)
    $DATA/street_tryon/<split>/segm/000001.png         ATR parsing            -> parse (atr)
    $DATA/street_tryon/<split>/raw_bbox/000001.jpg.json  DeepFashion2 crop box (not a sample file)
    $DATA/street_tryon/annotations/{train,validation}_image_list.txt   one image name per line
    $DATA/street_tryon/annotations/street2street_test_pairs_top.csv    (and _dress, shop2street_..., model2street_...)
    $DATA/zalando/test/{image,cloth}/...               VITON-HD, for the cross-domain pair files

The root may be `street_tryon/` itself or `$DATA` holding it. Each image-list line becomes a person-only
sample (split train or val, garment None: StreetTryOn trains on unpaired street photos). Each CSV row
becomes an unpaired test sample named after its task, e.g. `street2street_top__000123__000456`; the
garment comes from street photos (street2...), VITON-HD person images (model2...) or VITON-HD in-shop
cloths (shop2...), and the category from the file suffix (top -> upper, dress -> dresses, bottom -> lower).
Rows that need VITON-HD quarantine with the fix when `zalando/` is not inside the root.
"""

from __future__ import annotations

import re
from pathlib import Path

from preprocess.formats.collector import ResultCollector
from preprocess.formats.listing import IMAGE_SUFFIXES, FolderIndex, attach_annotations
from preprocess.formats.pairs import ListLine, read_pairs_file, reject_malformed, resolve_or_reject
from preprocess.formats.paths import display_name, stem
from preprocess.samples import CanonicalSample, ReadResult, make_sample_id

DATASET_DIR = "street_tryon"
IMAGE_SPLITS = (("train", "train"), ("validation", "val"))
TEST_SPLIT_DIR = "validation"
VITONHD_DIRS = {"shop": "zalando/test/cloth", "model": "zalando/test/image"}
CATEGORY_SUFFIXES = {
    "top": "upper",
    "upper": "upper",
    "dress": "dresses",
    "dresses": "dresses",
    "bottom": "lower",
    "lower": "lower",
    "pants": "lower",
    "skirt": "lower",
}
_PAIRS_RE = re.compile(r"^(shop|model|street)2(model|street)_test_pairs(?:_([a-z]+))?\.csv$")


class StreetTryOnReader:
    """Reads a StreetTryOn root: person-only street photos and the benchmark's test pair CSVs."""

    name = "streettryon"
    looks_for = (
        "annotations/ beside train/image/ or validation/image/, at the root or in street_tryon/ (StreetTryOn)"
    )

    def detect(self, root: Path) -> bool:
        """True when the root (or its `street_tryon/`) has `annotations/` and a split's `image/` folder."""
        return _base(root) is not None

    def read(self, root: Path, dataset: str) -> ReadResult:
        """Image-list lines and CSV rows become samples or quarantine rows."""
        base = _base(root) or ""
        index = FolderIndex(root)
        out = ResultCollector(self.name, dataset)
        for split_dir, split in IMAGE_SPLITS:
            _read_image_list(root, index, out, dataset, base, split_dir, split)
        annotations = _join(base, "annotations")
        for name in sorted(index.folder(annotations).files):
            if not name.lower().endswith(".csv"):
                continue
            match = _PAIRS_RE.match(name)
            if match is None:
                out.warn(
                    f"{annotations}/{display_name(name)} is not a known StreetTryOn pairs file "
                    "(<from>2<to>_test_pairs_<cat>.csv); not read"
                )
                continue
            source, target, suffix = match.groups()
            task = name[: -len(".csv")].replace("_test_pairs", "")
            category = CATEGORY_SUFFIXES.get(suffix or "top", "upper")
            for line in read_pairs_file(root, f"{annotations}/{name}", out, comma_separated=True):
                _read_pair(index, out, dataset, base, task, source, target, category, line)
        return out.result()


def _base(root: Path) -> str | None:
    for base in ("", DATASET_DIR):
        folder = root / base if base else root
        if (folder / "annotations").is_dir() and any(
            (folder / d / "image").is_dir() for d, _ in IMAGE_SPLITS
        ):
            return base
    return None


def _join(base: str, rel: str) -> str:
    return f"{base}/{rel}" if base else rel


def _read_image_list(
    root: Path, index: FolderIndex, out: ResultCollector, dataset: str, base: str, split_dir: str, split: str
) -> None:
    image_dir = _join(base, f"{split_dir}/image")
    list_file = _join(base, f"annotations/{split_dir}_image_list.txt")
    if index.has_file(list_file):
        lines = read_pairs_file(root, list_file, out)
    elif index.has_dir(image_dir):
        out.warn(f"{list_file} is missing: every image in {image_dir}/ is read instead")
        names = sorted(n for n in index.folder(image_dir).files if n.lower().endswith(IMAGE_SUFFIXES))
        lines = [ListLine(display_name(f"{image_dir}/{name}"), 0, name, (name,)) for name in names]
        out.announce(len(lines))
    else:
        return
    for line in lines:
        if reject_malformed(out, line, 1, "000001.jpg"):
            continue
        sample_id = make_sample_id(split, stem(line.fields[0]))
        paths = resolve_or_reject(index, out, line, sample_id, [(image_dir, line.fields[0], "person")])
        if paths is None:
            continue
        sample = CanonicalSample(
            sample_id=sample_id,
            dataset=dataset,
            split=split,
            category="upper",
            kind="image",
            person_path=paths[0],
            garment_path=None,
            pair_mode="unpaired",
            source_line=line.where,
        )
        _street_annotations(index, base, split_dir, sample)
        out.add(sample)


def _read_pair(
    index: FolderIndex,
    out: ResultCollector,
    dataset: str,
    base: str,
    task: str,
    source: str,
    target: str,
    category: str,
    line: ListLine,
) -> None:
    if reject_malformed(out, line, 3, "0,000456.jpg,000123.jpg"):
        return
    garment_entry, person_entry = line.fields[1], line.fields[2]
    garment_id = stem(garment_entry)
    sample_id = make_sample_id(task, stem(person_entry), garment_id)
    street_dir = _join(base, f"{TEST_SPLIT_DIR}/image")
    if not base and (source != "street" or target != "street"):
        out.reject(
            line.where,
            sample_id,
            f"{line.where}: this pair needs VITON-HD images from zalando/test/ beside street_tryon/, outside "
            f"this root; register the folder that holds both street_tryon/ and zalando/ to read {task} pairs",
        )
        return
    garment_dir = street_dir if source == "street" else VITONHD_DIRS[source]
    person_dir = street_dir if target == "street" else VITONHD_DIRS["model"]
    paths = resolve_or_reject(
        index,
        out,
        line,
        sample_id,
        [(person_dir, person_entry, "person"), (garment_dir, garment_entry, "garment")],
    )
    if paths is None:
        return
    sample = CanonicalSample(
        sample_id=sample_id,
        dataset=dataset,
        split="test",
        category=category,
        kind="image",
        person_path=paths[0],
        garment_path=paths[1],
        pair_mode="unpaired",
        garment_id=garment_id,
        source_line=line.where,
    )
    if target == "street":
        _street_annotations(index, base, TEST_SPLIT_DIR, sample)
    out.add(sample)


def _street_annotations(index: FolderIndex, base: str, split_dir: str, sample: CanonicalSample) -> None:
    """Attach the DensePose IUV and ATR parsing shipped for a street photo, where present."""
    person_id = stem(sample.person_path or "")
    name = f"{person_id}.png"
    lookups = (("densepose", "densepose", name, person_id), ("parse", "segm", name, person_id))
    attach_annotations(
        index, sample, _join(base, split_dir), lookups, parse_labels="atr", densepose_format="iuv"
    )
