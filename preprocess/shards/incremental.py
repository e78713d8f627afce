"""Incremental shard builds: annotate only what changed, rewrite only the shards that hold it.

A sample is (re-)annotated when it is new, or when its `content_hash` or the (name, version) of an annotator
that feeds it changed (its `fields_hash`); an unchanged sample that annotation rejected before stays in
quarantine without being annotated again. Shard assignment is stable: a sample keeps its shard; a shard
with changed or removed samples is rewritten from the newly encoded samples plus its unchanged ones, whose
tar blocks are copied byte for byte from the old file (nothing decoded or re-encoded, so the shard equals
a from-scratch build's), `REWRITE_THREADS` shards at a time; a shard with no change is not touched. New
samples (sorted by id) first fill the last shard when it is partial, then new shards. Every shard is
written under a temp name and renamed, so a build killed mid-way and re-run gives the same shards as an
uninterrupted one (the re-run re-indexes finished shards from their own `meta.json`).
Accounting: shard samples + build quarantine == manifest rows given to `build_shards`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import mmap
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from preprocess.samples import QuarantineRow, is_valid_sample_id
from preprocess.shards.codec import META_MEMBER, encode_json, sample_meta
from preprocess.shards.index import AnnotatorVersions, fields_hash, load_state, row_versions, write_state
from preprocess.shards.reader import iter_tar
from preprocess.shards.writer import (
    SampleBlocks,
    ShardInfo,
    ShardWriter,
    clean_temp_files,
    list_shard_files,
    sample_blocks,
    shard_name,
    shard_number,
)

Members = dict[str, bytes]
AnnotateFn = Callable[[list[dict[str, Any]]], list[Members | QuarantineRow]]
LOCK_FILE = ".build.lock"
# Shards with changed samples written at once, in threads: copying, hashing and fsync release the GIL.
REWRITE_THREADS = 2


@dataclass
class PlannedSample:
    """One sample in a build plan: its current shard (None when not in a shard) and new fields_hash."""

    sample_id: str
    fields_hash: str
    shard: str | None = None
    row: dict[str, Any] | None = None  # the manifest row (None for removed samples)
    versions: dict[str, tuple[str, str]] = field(default_factory=dict)
    previous: dict[str, Any] | None = None  # the old index or quarantine entry


@dataclass
class BuildPlan:
    """What a build does: keep `unchanged`, annotate `changed` and `new`, drop `removed`."""

    unchanged: list[PlannedSample]
    changed: list[PlannedSample]
    new: list[PlannedSample]
    removed: list[PlannedSample]

    def dirty_shards(self) -> set[str]:
        """Shards that must be rewritten because a member changed or left."""
        return {p.shard for p in self.changed + self.removed if p.shard}


@dataclass
class ShardBuildResult:
    """Counts and outcome of one build (what the shards asset reports)."""

    dataset: str | None
    samples: int
    quarantined: int
    quarantine: list[QuarantineRow]
    annotated: int
    unchanged: int
    changed: int
    new: int
    removed: int
    shards: int
    shards_written: list[str]
    shards_kept: list[str]
    shards_removed: list[str]
    dataset_version: str
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_build(
    index_old: Iterable[Mapping[str, Any]] | pa.Table,
    rows: Iterable[Mapping[str, Any]],
    annotator_versions: AnnotatorVersions,
) -> BuildPlan:
    """Compare the old index entries (shard rows, and quarantine rows with `shard` None) with the manifest
    rows and the current annotator versions. A sample listed twice in the old index (a shard left by a
    killed run) keeps its lowest shard; the other copy is `removed`."""
    entries = index_old.to_pylist() if isinstance(index_old, pa.Table) else list(index_old)
    entries.sort(key=lambda e: (e["sample_id"], e.get("shard") is None, e.get("shard") or ""))
    old: dict[str, dict[str, Any]] = {}
    removed: list[PlannedSample] = []
    for entry in entries:
        if entry["sample_id"] in old:
            if entry.get("shard"):
                removed.append(
                    PlannedSample(
                        entry["sample_id"], entry.get("fields_hash", ""), entry["shard"], previous=entry
                    )
                )
            continue
        old[entry["sample_id"]] = entry
    plan = BuildPlan([], [], [], removed)
    seen: set[str] = set()
    for row in sorted(rows, key=lambda r: r["sample_id"]):
        sid = row["sample_id"]
        versions = row_versions(annotator_versions, row)
        planned = PlannedSample(
            sid, fields_hash(row["content_hash"], versions), row=dict(row), versions=versions
        )
        seen.add(sid)
        before = old.get(sid)
        if before is None:
            plan.new.append(planned)
            continue
        planned.shard = before.get("shard")
        planned.previous = before
        (plan.unchanged if before.get("fields_hash") == planned.fields_hash else plan.changed).append(planned)
    for sid, entry in old.items():
        if sid not in seen:
            plan.removed.append(
                PlannedSample(sid, entry.get("fields_hash", ""), entry.get("shard"), previous=entry)
            )
    return plan


def build_shards(
    out_dir: Path,
    rows: Iterable[Mapping[str, Any]] | pa.Table,
    annotate: AnnotateFn,
    annotator_versions: AnnotatorVersions,
    *,
    samples_per_shard: int = 256,
    max_shard_bytes: int | None = None,
    batch_size: int = 32,
    progress: Callable[[int, int], None] | None = None,
    prepare: Callable[[BuildPlan], AnnotateFn | None] | None = None,
) -> ShardBuildResult:
    """Bring the shards under `out_dir` up to date with the manifest `rows` (see the module docstring).

    `annotate(rows)` is called, in batches of `batch_size`, only for changed and new samples and returns per
    row either the encoded members (`codec.encode_sample`; `meta.json` is written here from the row, the
    annotator versions and the fields_hash, merged over any meta.json the callback returns) or a
    `QuarantineRow`. `max_shard_bytes` (member payload) closes a filling shard early. `prepare(plan)`, when
    given, is called under the lock once the build is planned, before anything is annotated; an annotate
    function it returns replaces `annotate` (so the caller can start annotating exactly the planned rows).
    Not safe to run twice at once on one folder: a lock refuses the second build.
    """
    if samples_per_shard < 1:
        raise ValueError(f"samples_per_shard must be at least 1, got {samples_per_shard}")
    started = time.perf_counter()
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    table_rows = rows.to_pylist() if isinstance(rows, pa.Table) else [dict(r) for r in rows]
    _check_rows(table_rows)
    with _build_lock(folder):
        clean_temp_files(folder)
        entries, records = load_state(folder)
        plan = plan_build(entries, table_rows, annotator_versions)
        if prepare is not None:
            annotate = prepare(plan) or annotate
        build = _Build(
            folder, plan, records, annotate, samples_per_shard, max_shard_bytes, batch_size, progress
        )
        build.run()
        dataset = table_rows[0]["dataset"] if table_rows else None
        digest = hashlib.sha256()
        for entry in sorted(build.entries, key=lambda e: e["sample_id"]):
            digest.update(f"{entry['sample_id']}\0{entry['fields_hash']}\n".encode())
        version = digest.hexdigest()[:16]
        annotators: dict[str, dict[str, str]] = {}
        for planned in plan.unchanged + plan.changed + plan.new:
            for fld, (name, ver) in planned.versions.items():
                annotators.setdefault(fld, {})[name] = ver
        shard_records = list(build.records.values())
        summary = {
            "dataset": dataset,
            "dataset_version": version,
            "samples": len(build.entries),
            "quarantined": len(build.quarantine),
            "samples_per_shard": samples_per_shard,
            "max_shard_bytes": max_shard_bytes,
            "annotators": annotators,
        }
        write_state(folder, build.entries, build.quarantine, shard_records, summary)
        removed = [name for name in list_shard_files(folder) if name not in build.records]
        for name in removed:
            (folder / name).unlink()
    return ShardBuildResult(
        dataset=dataset,
        samples=len(build.entries),
        quarantined=len(build.quarantine),
        quarantine=[
            QuarantineRow(**{k: q[k] for k in ("dataset", "path", "sample_id", "stage", "reason")})
            for q in build.quarantine
        ],
        annotated=build.annotated,
        unchanged=len(plan.unchanged),
        changed=len(plan.changed),
        new=len(plan.new),
        removed=len(plan.removed),
        shards=len(build.records),
        shards_written=sorted(build.written),
        shards_kept=sorted(set(build.records) - set(build.written)),
        shards_removed=removed,
        dataset_version=version,
        seconds=round(time.perf_counter() - started, 3),
    )


class _Build:
    """The mutable state of one build: what is annotated, written, kept and quarantined."""

    def __init__(
        self,
        folder: Path,
        plan: BuildPlan,
        records: dict[str, dict[str, Any]],
        annotate: AnnotateFn,
        samples_per_shard: int,
        max_shard_bytes: int | None,
        batch_size: int,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.folder = folder
        self.plan = plan
        self.records = dict(records)
        self.annotate_fn = annotate
        self.per_shard = samples_per_shard
        self.max_bytes = max_shard_bytes
        self.batch_size = max(1, batch_size)
        self.progress = progress
        self.unchanged_ids = {p.sample_id for p in plan.unchanged}
        self.total = len(plan.changed) + len(plan.new)
        self.annotated = 0
        self.written: list[str] = []
        self.entries: list[dict[str, Any]] = []
        self.quarantine: list[dict[str, Any]] = []

    def run(self) -> None:
        plan = self.plan
        in_shard: dict[str, list[PlannedSample]] = {}
        for planned in plan.unchanged + plan.changed:
            if planned.shard:
                in_shard.setdefault(planned.shard, []).append(planned)
        for planned in plan.unchanged:
            if not planned.shard:  # rejected before with the same inputs and annotators
                assert planned.previous is not None
                self.quarantine.append(dict(planned.previous) | {"fields_hash": planned.fields_hash})
        pending = sorted([p for p in plan.changed if not p.shard] + plan.new, key=lambda p: p.sample_id)
        dirty = plan.dirty_shards()
        last = max(self.records, key=shard_number, default=None)
        fill_last = last is not None and bool(pending) and len(in_shard.get(last, [])) < self.per_shard
        writing: deque[tuple[Future[tuple[ShardInfo, dict[str, int]]], list[PlannedSample]]] = deque()
        with ThreadPoolExecutor(REWRITE_THREADS, thread_name_prefix="shard-rewrite") as pool:
            for name in sorted(self.records, key=shard_number):
                members = in_shard.get(name, [])
                if name == last and fill_last:
                    continue
                if name not in dirty:
                    self.entries.extend(_entry(p, p.previous) for p in members)
                    continue
                contents = self._shard_contents(name, members)
                if not contents.samples:
                    contents.close()
                    del self.records[name]
                    continue
                writing.append((pool.submit(contents.write, self.folder, name), members))
                while len(writing) > 2 * REWRITE_THREADS:  # bound the old shards held open
                    done, planned = writing.popleft()
                    self._written(done.result(), planned)
            self._fill(
                pending, last if fill_last else None, in_shard.get(last, []) if last else [], last in dirty
            )
            while writing:
                done, planned = writing.popleft()
                self._written(done.result(), planned)

    def _shard_contents(self, name: str, members: list[PlannedSample]) -> _ShardContents:
        """The rewritten shard: unchanged samples copied from the old tar, changed ones annotated."""
        keep = {p.sample_id for p in members if p.sample_id in self.unchanged_ids}
        contents = _ShardContents(self.folder / name, keep)
        try:
            changed = [p for p in members if p.sample_id not in self.unchanged_ids]
            for planned, members_out in self._annotated(changed):
                if members_out is not None:
                    contents.samples[planned.sample_id] = members_out
        except BaseException:
            contents.close()
            raise
        return contents

    def _written(self, written: tuple[ShardInfo, dict[str, int]], planned: Iterable[PlannedSample]) -> None:
        """Record a rewritten shard (`_ShardContents.write`'s result) and index its samples."""
        info, payloads = written
        self._record(info)
        by_id = {p.sample_id: p for p in planned}
        for key, size in payloads.items():
            self.entries.append(_entry(by_id[key], None, info.name, size))

    def _record(self, info: ShardInfo) -> None:
        stat = (self.folder / info.name).stat()
        self.records[info.name] = {
            "name": info.name,
            "samples": info.samples,
            "bytes": info.bytes,
            "size": info.size,
            "sha256": info.sha256,
            "mtime_ns": stat.st_mtime_ns,
        }
        self.written.append(info.name)

    def _fill(
        self,
        pending: list[PlannedSample],
        last: str | None,
        last_members: list[PlannedSample],
        last_dirty: bool,
    ) -> None:
        """Put new samples, in id order, into the partial last shard and then into new shards."""
        numbers = [shard_number(n) for n in self.records]
        next_number = max(numbers, default=-1) + 1
        buffered: _ShardContents | None = None
        planned_of: dict[str, PlannedSample] = {}
        writer: ShardWriter | None = None
        count = size = 0
        dirty = False
        name = None
        if last is not None:
            buffered = self._shard_contents(last, last_members)
            planned_of = {p.sample_id: p for p in last_members}
            name, count, dirty = last, len(buffered.samples), last_dirty
            size = sum(buffered.payload(key) for key in buffered.samples)

        def close() -> None:
            nonlocal writer, buffered
            if buffered is not None:
                assert name is not None
                if not buffered.samples:
                    buffered.close()
                    self.records.pop(name, None)
                elif dirty:
                    self._written(buffered.write(self.folder, name), planned_of.values())
                else:
                    buffered.close()
                    self.entries.extend(_entry(p, p.previous) for p in planned_of.values())
                buffered = None
            elif writer is not None:
                self._record(writer.close())
                writer = None

        try:
            for planned, members in self._annotated(pending):
                if members is None:
                    continue
                sample_bytes = sum(len(v) for v in members.values())
                over = self.max_bytes is not None and count > 0 and size + sample_bytes > self.max_bytes
                if name is None or count >= self.per_shard or over:
                    close()
                    name, count, size, dirty = shard_name(next_number), 0, 0, True
                    next_number += 1
                    writer = ShardWriter(self.folder, name)
                if buffered is not None:
                    buffered.samples[planned.sample_id] = members
                    planned_of[planned.sample_id] = planned
                    dirty = True
                else:
                    assert writer is not None
                    writer.add(planned.sample_id, members)
                    self.entries.append(_entry(planned, None, name, sample_bytes))
                count += 1
                size += sample_bytes
            close()
        except BaseException:
            if writer is not None:
                writer.discard()
            if buffered is not None:
                buffered.close()
            raise

    def _annotated(self, todo: list[PlannedSample]) -> Iterator[tuple[PlannedSample, Members | None]]:
        """Annotate in batches; yields each sample with its final members, or None when quarantined."""
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            results = self.annotate_fn([dict(p.row or {}) for p in batch])
            if len(results) != len(batch):
                raise RuntimeError(
                    f"annotate returned {len(results)} results for {len(batch)} rows; return one per row"
                )
            for planned, result in zip(batch, results, strict=True):
                self.annotated += 1
                yield planned, self._accept(planned, result)
            if self.progress:
                self.progress(self.annotated, self.total)

    def _accept(self, planned: PlannedSample, result: Members | QuarantineRow) -> Members | None:
        row = planned.row or {}
        if isinstance(result, QuarantineRow):
            bad = replace(
                result,
                stage="annotate",
                sample_id=planned.sample_id,
                dataset=result.dataset or row.get("dataset", ""),
                path=result.path or row.get("person_path") or row.get("garment_path") or planned.sample_id,
            )
            self.quarantine.append(
                bad.as_dict() | {"fields_hash": planned.fields_hash, "content_hash": row.get("content_hash")}
            )
            return None
        if not isinstance(result, Mapping) or not all(
            isinstance(k, str) and isinstance(v, bytes | bytearray) for k, v in result.items()
        ):
            raise TypeError(
                f"annotate returned {type(result).__name__} for {planned.sample_id}; return encoded members "
                "(dict of member name -> bytes, see preprocess.shards.codec.encode_sample) or a QuarantineRow"
            )
        members = {k: bytes(v) for k, v in result.items()}
        extra = json.loads(members.pop(META_MEMBER)) if META_MEMBER in members else {}
        meta = extra | sample_meta(row, planned.versions, planned.fields_hash)
        members[META_MEMBER] = encode_json(meta)
        return members


class _ShardContents:
    """The samples of a shard being rewritten: `samples` maps each key to the newly encoded members, or, for
    an unchanged sample, to where its tar blocks lie in the old file, which stays open (memory-mapped) until
    `write` copies them byte for byte. An old shard whose headers are not the writer's own (`sample_blocks`
    gives None) has its unchanged samples decoded and re-added instead."""

    def __init__(self, path: Path, keep: set[str]) -> None:
        self.samples: dict[str, Members | SampleBlocks] = {}
        self._file: BinaryIO | None = None
        self._map: mmap.mmap | None = None
        if not keep:
            return
        self._file = open(path, "rb")  # closed in close(), after write() or on failure
        try:
            if os.fstat(self._file.fileno()).st_size:
                self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
            blocks = sample_blocks(self._map) if self._map is not None else None
            if blocks is not None:
                self.samples = {key: blocks[key] for key in sorted(keep) if key in blocks}
            else:
                self.samples = {key: members for key, members in iter_tar(path) if key in keep}
        except BaseException:
            self.close()
            raise
        missing = keep - set(self.samples)
        if missing:
            self.close()
            raise RuntimeError(
                f"{path} lacks {sorted(missing)[:3]} that its index lists: delete "
                f"{path.parent / 'shards.json'} so the next build re-indexes the shards from their files"
            )

    def payload(self, key: str) -> int:
        """Member data bytes of one sample."""
        item = self.samples[key]
        return item.payload if isinstance(item, SampleBlocks) else sum(len(v) for v in item.values())

    def write(self, folder: Path, name: str) -> tuple[ShardInfo, dict[str, int]]:
        """Write the shard (temp file, then rename), close the old file; returns the shard's info and each
        sample's payload bytes. Meant for a worker thread: hashing, writing and fsync release the GIL."""
        payloads: dict[str, int] = {}
        old = memoryview(self._map) if self._map is not None else None  # hashed and written uncopied
        try:
            with ShardWriter(folder, name) as writer:
                for key in sorted(self.samples):
                    item = self.samples[key]
                    if isinstance(item, SampleBlocks):
                        assert old is not None
                        payloads[key] = writer.add_blocks(key, old[item.start : item.end], item.payload)
                    else:
                        payloads[key] = writer.add(key, item)
                info = writer.close()
        finally:
            if old is not None:
                old.release()
            self.close()
        return info, payloads

    def close(self) -> None:
        """Release the old shard file (the new one may already have replaced its name)."""
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a failed write's traceback still holds a view of it: unmapped when freed
                pass
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None


def _entry(
    planned: PlannedSample, previous: Mapping[str, Any] | None, shard: str | None = None, size: int = 0
) -> dict[str, Any]:
    row = planned.row or {}
    if previous is not None:  # kept as is: the old entry, refreshed with the row's split and category
        return dict(previous) | {k: row[k] for k in ("split", "category") if k in row}
    return {
        "sample_id": planned.sample_id,
        "shard": shard,
        "split": row.get("split"),
        "category": row.get("category"),
        "content_hash": row.get("content_hash"),
        "fields_hash": planned.fields_hash,
        "bytes": size,
    }


def _check_rows(rows: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for row in rows:
        sid = row.get("sample_id")
        if not isinstance(sid, str) or not is_valid_sample_id(sid):
            raise ValueError(
                f"manifest row has sample_id {sid!r}; ids must match [A-Za-z0-9_-]+ (rebuild the manifest)"
            )
        if sid in seen:
            raise ValueError(f"sample_id {sid!r} appears twice in the manifest rows; ids must be unique")
        if not row.get("content_hash"):
            raise ValueError(f"manifest row {sid!r} has no content_hash; build rows with preprocess.manifest")
        seen.add(sid)


@contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    with open(folder / LOCK_FILE, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"another shard build is writing {folder}; wait for it to finish, then run again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
