"""Plain-folder reader: person photos and/or garment photos with no annotations, classified by folder names.

    ROOT/*.jpg                          flat: every image is a person photo
    ROOT/person/, people/, model(s)/, image(s)/, ...          person photos
    ROOT/garment/, cloth(es)/, upper/, top(s)/, lower/, bottom(s)/, pants/, skirt(s)/, dress(es)/, overall(s)/ ...
                                        garment photos; category from the name (upper/top -> upper,
                                        lower/bottom/pants/skirt -> lower, dress/overall -> dresses, default upper)

A folder name is split into words (`garment_overall` -> garment, overall); the first folder on a file's path
that names a role decides it, and a category word anywhere on the path sets the category. A folder named
train/test/val sets the split (default test). Person photos become samples with garment_path None, garment
photos samples with person_path None; both are unpaired, since no ground truth pairs them. Sample ids come
from the relative path without extension (`garment_upper__21514384_52353349_1000`). Hidden files and
non-image files are not candidates; an image whose path is not valid UTF-8 is quarantined.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from preprocess.formats.collector import ResultCollector
from preprocess.formats.listing import IMAGE_SUFFIXES, FolderIndex
from preprocess.formats.paths import display_name, stem
from preprocess.samples import CanonicalSample, ReadResult, make_sample_id

PERSON_WORDS = frozenset(
    {"person", "persons", "people", "model", "models", "image", "images", "human", "humans"}
)
CATEGORY_WORDS = {
    "upper": "upper",
    "top": "upper",
    "tops": "upper",
    "shirt": "upper",
    "shirts": "upper",
    "lower": "lower",
    "bottom": "lower",
    "bottoms": "lower",
    "pants": "lower",
    "trousers": "lower",
    "shorts": "lower",
    "skirt": "lower",
    "skirts": "lower",
    "dress": "dresses",
    "dresses": "dresses",
    "overall": "dresses",
    "overalls": "dresses",
    "jumpsuit": "dresses",
}
GARMENT_WORDS = frozenset({"garment", "garments", "cloth", "cloths", "clothes", "clothing", *CATEGORY_WORDS})
SPLIT_WORDS = {"train": "train", "test": "test", "val": "val", "validation": "val"}
_WORD_RE = re.compile(r"[a-z]+")


class FolderReader:
    """Reads a plain folder of photos: one sample per image file."""

    name = "folder"
    looks_for = "image files (.jpg, .png, ...) at the root or one folder down (plain folder of photos)"

    def detect(self, root: Path) -> bool:
        """True when an image file sits at the root or in one of its sub-folders."""
        try:
            top = list(os.scandir(root))
        except OSError:
            return False
        if any(e.is_file() and e.name.lower().endswith(IMAGE_SUFFIXES) for e in top):
            return True
        for entry in top:
            if entry.is_dir() and not entry.name.startswith("."):
                try:
                    with os.scandir(entry.path) as inner:
                        if any(e.is_file() and e.name.lower().endswith(IMAGE_SUFFIXES) for e in inner):
                            return True
                except OSError:
                    continue
        return False

    def read(self, root: Path, dataset: str) -> ReadResult:
        """Walk the root; every image file becomes a sample or a quarantine row."""
        index = FolderIndex(root)
        out = ResultCollector(self.name, dataset)
        pending = [""]
        while pending:
            rel_dir = pending.pop()
            listing = index.folder(rel_dir)
            for sub in sorted(listing.dirs, reverse=True):
                path = f"{rel_dir}/{sub}" if rel_dir else sub
                if sub in listing.outside_links:
                    out.warn(
                        f"{display_name(path)}/ links to a folder outside the dataset root; not read (copy it in)"
                    )
                elif not sub.startswith("."):
                    pending.append(path)
            for name in sorted(listing.files):
                if name.startswith(".") or not name.lower().endswith(IMAGE_SUFFIXES):
                    continue
                out.announce()
                _read_photo(index, out, dataset, f"{rel_dir}/{name}" if rel_dir else name)
        return out.result()


def _read_photo(index: FolderIndex, out: ResultCollector, dataset: str, rel: str) -> None:
    folders = rel.split("/")[:-1]
    sample_id = make_sample_id(*folders, stem(rel))
    problem = index.problem(rel)
    if problem is not None:
        out.reject(display_name(rel), sample_id, problem)
        return
    role, category, split = "person", "upper", "test"
    role_found = False
    for folder in folders:
        words = _WORD_RE.findall(folder.lower())
        if not role_found and PERSON_WORDS.intersection(words):
            role, role_found = "person", True
        elif not role_found and GARMENT_WORDS.intersection(words):
            role, role_found = "garment", True
        category = next((CATEGORY_WORDS[w] for w in words if w in CATEGORY_WORDS), category)
        split = next((SPLIT_WORDS[w] for w in words if w in SPLIT_WORDS), split)
    sample = CanonicalSample(
        sample_id=sample_id,
        dataset=dataset,
        split=split,
        category=category,
        kind="image",
        person_path=rel if role == "person" else None,
        garment_path=rel if role == "garment" else None,
        pair_mode="unpaired",
        garment_id=stem(rel) if role == "garment" else None,
        source_line=rel,
    )
    out.add(sample)
