"""Build a dataset's raw manifest: read it with its layout's reader, hash and probe every file, write Parquet.

Each sample's files are read once: the bytes feed the content hash and the cheap image probe (size, mode,
truncation). Probing runs as Ray tasks over chunks of samples; rows are sorted by sample_id, so the
manifest is byte-identical whatever the number of cores. Samples whose files cannot be used become
quarantine rows with a reason; `samples + quarantined == candidates` always holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from preprocess.formats import read_dataset
from preprocess.images import BadImageError, ImageInfo, probe_image_bytes
from preprocess.samples import MANIFEST_SCHEMA, QUARANTINE_SCHEMA, CanonicalSample, QuarantineRow
from preprocess.videos import BadVideoError, probe_video
from vton import atomic_files

MANIFEST_FILE = "manifest.parquet"
QUARANTINE_FILE = "quarantine.parquet"
SUMMARY_FILE = "summary.json"
CHUNK_SIZE = 32
MAX_CHUNK_SIZE = 512
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


@dataclass
class ManifestResult:
    dataset: str
    layout: str
    root: str
    candidates: int
    samples: int
    quarantined: int
    dataset_version: str
    manifest: str
    quarantine: str
    bytes: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _probe_person(root: Path, sample: CanonicalSample, data: bytes | None, rel: str) -> ImageInfo | None:
    if sample.kind == "video" and not sample.frame_paths:
        if not rel.lower().endswith(VIDEO_SUFFIXES):
            raise BadImageError(f"video {rel!r} is not a video file ({', '.join(VIDEO_SUFFIXES)})")
        info = probe_video(root / rel, name=rel)
        return ImageInfo(
            format=info.codec or "video", mode="RGB", width=info.width, height=info.height, normalisations=[]
        )
    assert data is not None
    return probe_image_bytes(data, rel, role="person image")


def probe_sample(root: Path, sample: CanonicalSample) -> tuple[dict | None, QuarantineRow | None]:
    """Hash every file of a sample and probe its person and garment images: a manifest row or a quarantine row."""
    digest = hashlib.sha256()
    total = 0
    person_info: ImageInfo | None = None
    garment_info: ImageInfo | None = None
    person_rel = sample.frame_paths[0] if sample.frame_paths else sample.person_path

    def quarantine(path: str, reason: str) -> tuple[None, QuarantineRow]:
        return None, QuarantineRow(sample.dataset, path, sample.sample_id, "probe", reason)

    files = sample.files()
    root_text = str(root)
    for rel in files:
        try:
            with open(os.path.join(root_text, rel), "rb") as fh:  # plain open: this loop is the hot path
                data = fh.read()
        except FileNotFoundError:
            return quarantine(
                rel, f"file {rel!r} disappeared after the dataset was listed; re-run the ingest"
            )
        except OSError as exc:
            return quarantine(rel, f"file {rel!r} cannot be read ({exc.strerror}); check its permissions")
        total += len(data)
        digest.update(rel.encode("utf-8", "surrogateescape") + b"\0" + file_digest(data).encode() + b"\n")
        try:
            if rel == person_rel:
                person_info = _probe_person(root, sample, data, rel)
            elif rel == sample.garment_path:
                garment_info = probe_image_bytes(data, rel, role="garment image")
        except (BadImageError, BadVideoError) as exc:
            return quarantine(rel, exc.reason)
    main = person_info or garment_info
    assert main is not None  # a sample has a person or a garment (CanonicalSample.validate)
    row = {
        "sample_id": sample.sample_id,
        "dataset": sample.dataset,
        "split": sample.split,
        "category": sample.category,
        "kind": sample.kind,
        "pair_mode": sample.pair_mode,
        "person_path": sample.person_path,
        "garment_path": sample.garment_path,
        "garment_id": sample.garment_id,
        "frame_paths": list(sample.frame_paths),
        "annotations": sorted(sample.annotations.items()),
        "annotation_frames": sorted((k, list(v)) for k, v in sample.annotation_frames.items()),
        "parse_labels": sample.parse_labels,
        "pose_format": sample.pose_format,
        "densepose_format": sample.densepose_format,
        "width": main.width,
        "height": main.height,
        "garment_width": garment_info.width if garment_info else None,
        "garment_height": garment_info.height if garment_info else None,
        "frame_count": len(sample.frame_paths) if sample.frame_paths else _video_frames(root, sample),
        "person_format": person_info.format if person_info else None,
        "person_mode": person_info.mode if person_info else None,
        "normalisations": _normalisations(person_info, garment_info, sample),
        "files": files,
        "bytes": total,
        "content_hash": digest.hexdigest(),
    }
    return row, None


def _video_frames(root: Path, sample: CanonicalSample) -> int:
    if sample.kind != "video" or not sample.person_path:
        return 1
    return probe_video(root / sample.person_path, name=sample.person_path).frames


def _normalisations(
    person: ImageInfo | None, garment: ImageInfo | None, sample: CanonicalSample
) -> list[str]:
    notes = [f"person:{n}" for n in (person.normalisations if person else [])]
    notes += [f"garment:{n}" for n in (garment.normalisations if garment else [])]
    if (
        person
        and garment
        and sample.kind == "image"
        and (person.width, person.height)
        != (
            garment.width,
            garment.height,
        )
    ):
        notes.append(
            f"size_mismatch:person_{person.height}x{person.width}_garment_{garment.height}x{garment.width}"
        )
    return notes


def probe_chunk(chunk: list[dict], root: str) -> list[tuple[dict | None, dict | None]]:
    """A Ray task: probe a chunk of samples (plain dicts in, plain dicts out)."""
    out = []
    for raw in chunk:
        row, bad = probe_sample(Path(root), CanonicalSample(**raw))
        out.append((row, bad.as_dict() if bad else None))
    return out


def _chunk_size(samples: int, use_ray: bool) -> int:
    """About eight chunks per CPU (balance without per-task overhead), between CHUNK_SIZE and MAX_CHUNK_SIZE."""
    cpus = 1
    if use_ray:
        from vton.ray_runtime import ensure_ray

        cpus = max(1, ensure_ray()["cpus"])
    return max(CHUNK_SIZE, min(MAX_CHUNK_SIZE, -(-samples // (8 * cpus))))


def _local_map(fn: Callable, chunks: list, root: str, on_done: Callable | None = None) -> list:
    results = []
    for chunk in chunks:
        results.append(fn(chunk, root))
        if on_done:
            on_done(results[-1])
    return results


def reason_kind(reason: str) -> str:
    """A reason without its file names, line numbers and advice, to count quarantine rows by cause."""
    text = re.sub(r"^[^\s:]+:\d+:\s*", "", reason)  # "train_pairs.txt:12: " location prefix
    text = re.sub(r"'[^']*'|\S+/\S+", "…", text)  # quoted names and paths
    text = re.sub(r"\d+", "N", text)
    return text.split(";")[0].strip()


def dataset_version(rows: list[dict]) -> str:
    """A short id of the manifest's content: changes when any sample or any file byte changes."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(f"{row['sample_id']}\0{row['content_hash']}\n".encode())
    return digest.hexdigest()[:16]


def build_manifest(
    root: Path,
    dataset: str,
    out_dir: Path,
    layout: str = "auto",
    *,
    use_ray: bool = True,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ManifestResult:
    """Read, hash and probe a dataset; write manifest, quarantine and summary atomically under `out_dir`.

    `progress(done, total)` is called as chunks finish (samples done, samples total).
    """
    started = time.perf_counter()
    root = Path(root).resolve()
    read = read_dataset(root, dataset, layout)
    read.check_accounting()
    for sample in read.samples:
        sample.validate()
    raw = [dict(vars(s)) for s in read.samples]  # shallow: asdict's deep copy costs more than the hashing
    if chunk_size is None:
        chunk_size = _chunk_size(len(raw), use_ray)
    chunks = [raw[i : i + chunk_size] for i in range(0, len(raw), chunk_size)]
    done = 0

    def on_done(result: list) -> None:
        nonlocal done
        done += len(result)
        if progress:
            progress(done, len(raw))

    if use_ray and len(chunks) > 1:
        from vton.ray_runtime import ray_map

        results = ray_map(probe_chunk, chunks, str(root), on_done=on_done)
    else:
        results = _local_map(probe_chunk, chunks, str(root), on_done=on_done)

    rows: list[dict] = []
    quarantine = [q.as_dict() for q in read.quarantine]
    for chunk_result in results:
        for row, bad in chunk_result:
            if row is not None:
                rows.append(row)
            else:
                quarantine.append(bad)
    rows.sort(key=lambda r: r["sample_id"])
    quarantine.sort(key=lambda q: (q["stage"], q["path"], q["sample_id"] or "", q["reason"]))
    if len(rows) + len(quarantine) != read.candidates:
        raise AssertionError(
            f"manifest accounting broke for {dataset}: {len(rows)} + {len(quarantine)} != {read.candidates}"
        )

    out_dir = Path(out_dir)
    manifest_path = out_dir / MANIFEST_FILE
    quarantine_path = out_dir / QUARANTINE_FILE
    atomic_files.write_parquet(manifest_path, pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA))
    atomic_files.write_parquet(quarantine_path, pa.Table.from_pylist(quarantine, schema=QUARANTINE_SCHEMA))
    reasons: dict[str, int] = {}
    for q in quarantine:
        key = f"{q['stage']}: {reason_kind(q['reason'])}"
        reasons[key] = reasons.get(key, 0) + 1
    result = ManifestResult(
        dataset=dataset,
        layout=read.layout,
        root=str(root),
        candidates=read.candidates,
        samples=len(rows),
        quarantined=len(quarantine),
        dataset_version=dataset_version(rows),
        manifest=str(manifest_path),
        quarantine=str(quarantine_path),
        bytes=sum(r["bytes"] for r in rows),
        seconds=round(time.perf_counter() - started, 3),
        warnings=list(read.warnings),
        quarantine_reasons=reasons,
    )
    summary = result.as_dict() | {"built_at": datetime.now(UTC).isoformat(timespec="seconds")}
    atomic_files.write_bytes(out_dir / SUMMARY_FILE, (json.dumps(summary, indent=2) + "\n").encode())
    return result
