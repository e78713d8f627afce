"""Annotate each person image once when several rows share it: the person side of the last few rows, kept.

VITON-HD's and Dress Code's test splits list every test person twice, paired (with their own garment) and
unpaired (with another one), and both rows sort next to each other by sample id. Everything the chain
derives from the person alone (the `person.jpg` member and, for the default chain, parse, pose, DensePose,
skeleton and rough try-on mask) is then the same for both rows; only the garment side (garment mask and
landmarks) differs. `PersonSideMemo` keeps, for the last `size` distinct person sides an annotating process
met, the decoded person-side fields and their encoded members, so the second row reads, decodes, annotates
and encodes only its garment.

Which fields are person-side follows from the chain's declared needs (`person_side_fields`). Two rows share
a person side when they agree on every row value except the garment's and the row's own identity
(`GARMENT_ROW_KEYS`, the garment-side annotation files and `garment:` normalisations) and the person image
and its annotation files have the same size and modification time now: a row with any other difference,
known or not, is annotated afresh. The memo changes no output: a shard built with it is byte-identical to one
built without (tested).
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preprocess.annotators.base import Annotator

# Row values that belong to the garment or name the row itself: they may differ between rows sharing a person.
GARMENT_ROW_KEYS = frozenset(
    {
        "sample_id",
        "pair_mode",
        "garment_path",
        "garment_id",
        "garment_width",
        "garment_height",
        "files",
        "bytes",
        "content_hash",
    }
)
# What `provided` fills from the person's own annotation files (its garment_mask comes from the garment side).
PROVIDED_PERSON_FIELDS = frozenset({"parse", "pose", "densepose"})


def person_side_fields(annotators: Iterable[Annotator]) -> frozenset[str]:
    """The fields a chain derives from the person alone: `provided`'s person fields, then every output of an
    annotator whose needs (weights aside) are the person image or person-side fields."""
    person_side = {"person"}
    for annotator in annotators:
        if annotator.name == "provided":
            person_side |= PROVIDED_PERSON_FIELDS & set(annotator.outputs)
            continue
        needs = {need for need in annotator.needs if not need.startswith("weights:")}
        if needs <= person_side:
            person_side |= set(annotator.outputs)
    return frozenset(person_side - {"person"})


@dataclass(frozen=True)
class PersonSide:
    """One person side: its decoded field values, their encoded members (with `person.jpg`), the person
    image's size (`height`, `width`) and the decoded person image where the chain read its pixels."""

    values: Mapping[str, Any]
    members: Mapping[str, bytes]
    sizes: Mapping[str, int]
    person: Any = None


class PersonSideMemo:
    """The person sides of the last `size` distinct persons annotated by one process (least recently used
    first out). Not thread-safe: give each annotating thread or actor its own."""

    def __init__(self, annotators: Iterable[Annotator], size: int = 4) -> None:
        chain = list(annotators)
        self.fields = person_side_fields(chain)
        produced = {field for annotator in chain for field in annotator.outputs}
        self._garment_fields = frozenset(produced - self.fields)
        self._size = max(1, size)
        self._entries: OrderedDict[tuple, PersonSide] = OrderedDict()
        self.hits = 0

    def key(self, row: Mapping[str, Any], root: Path) -> tuple | None:
        """What must agree for two rows to share a person side; None for rows the memo does not serve
        (videos, rows without a person, files that cannot be stat'ed: annotating them reports why)."""
        if row.get("kind") == "video" or not row.get("person_path"):
            return None
        annotations = {
            name: path
            for name, path in dict(row.get("annotations") or {}).items()
            if name not in self._garment_fields
        }
        values = []
        for name in sorted(row):
            if name in GARMENT_ROW_KEYS or name == "annotations":
                continue
            value = row[name]
            if name == "normalisations":
                value = [note for note in value or [] if not str(note).startswith("garment:")]
            values.append((name, json.dumps(value, sort_keys=True, default=str)))
        try:
            stats = []
            for rel in [row["person_path"], *(annotations[name] for name in sorted(annotations))]:
                stat = os.stat(Path(root) / rel)
                stats.append((rel, stat.st_size, stat.st_mtime_ns))
        except (OSError, TypeError):
            return None
        return tuple(values), tuple(sorted(annotations.items())), tuple(stats)

    def get(self, key: tuple | None) -> PersonSide | None:
        """The person side kept under `key`, or None."""
        if key is None or key not in self._entries:
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return self._entries[key]

    def put(self, key: tuple | None, side: PersonSide) -> None:
        """Keep a person side (dropping the least recently used beyond `size`)."""
        if key is None:
            return
        self._entries[key] = side
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
