"""Annotate manifest rows into shard samples: the chain of annotators, run on a pool of Ray actors.

The chain (ARCHITECTURE §4), in dependency order; each annotator runs only for fields a sample still lacks
and only when what it needs is there:

1. `provided`: the dataset's own parse, pose, DensePose and garment mask, canonicalised;
2. pretrained backends where configured (`schp_lip`/`schp_atr` parsing, `dwpose`), weights from the store;
3. `garment_mask` from the in-shop image (rule-based) where none is shipped;
4. `garment_landmarks` (geometric, from the garment mask);
5. `skeleton` (OpenPose-coloured render of the pose);
6. `agnostic_mask` (the rough try-on mask; CatVTON or HR-VITON rules).

A field that cannot be produced is listed in `meta.json` under `missing` with the reason, never invented.
A sample whose person or garment cannot be decoded, or whose annotation fails, becomes a quarantine row
(stage "annotate"). `build_dataset_shards` streams the rows that need work through Ray Data (`map_batches`
on an actor pool, one actor per CPU, or per GPU for a chain with a network backend when Ray has GPUs) and
hands the results to the incremental shard builder as it asks for them, so shards are written as results
arrive and a killed build keeps its finished shards. A small update (at most `LOCAL_MAX_ROWS` rows,
rule-based chain) is annotated in-process instead: starting the pipeline would cost more.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import struct
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from preprocess.annotators.agnostic_mask import AgnosticMaskAnnotator
from preprocess.annotators.agnostic_video import add_clip_agnostic_masks
from preprocess.annotators.base import AnnotationError, AnnotationInput, Annotator
from preprocess.annotators.garment_landmarks import GeometricLandmarkAnnotator
from preprocess.annotators.garment_mask import GarmentMaskAnnotator
from preprocess.annotators.provided import ProvidedAnnotator
from preprocess.annotators.skeleton import SkeletonRenderer, render_skeleton
from preprocess.images import BadImageError, check_image, decode_image
from preprocess.person_side_memo import PersonSide, PersonSideMemo
from preprocess.samples import QuarantineRow
from preprocess.shards.codec import MEMBERS, SampleEncodingError, encode_sample, source_jpeg
from preprocess.shards.incremental import AnnotateFn, BuildPlan, ShardBuildResult, build_shards
from preprocess.videos import BadVideoError, read_frames

Members = dict[str, bytes]
# A few rows for a rule-based chain (no network backends) are annotated in-process: starting the Ray Data
# actor pool costs about 2 s on a 2-core machine, more than annotating them, and a 1 % change must stay cheap.
LOCAL_MAX_ROWS = 32
# Rows per Ray Data batch (one block, one actor call): each call costs Ray Data some 10 ms of scheduling
# whatever its size, while the pool's last batches finish unevenly; 32 rows of about 30 ms each balance both.
RAY_BATCH_ROWS = 32
_SIZE_KEYS = {"person": ("height", "width"), "garment": ("garment_height", "garment_width")}  # manifest
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters (malloc.h)
PROVIDED_FIELDS = {"parse": "parse", "pose": "pose", "densepose": "densepose", "garment_mask": "garment_mask"}


@dataclass(frozen=True)
class PipelineConfig:
    """Which backend fills which field; the defaults need no weights."""

    parse_backend: str = "provided"  # "provided", "schp_lip", "schp_atr" or "inhouse" (where none is shipped)
    pose_backend: str = "provided"  # "provided" or "dwpose"
    densepose_backend: str = "provided"  # "provided" or "inhouse"
    agnostic_strategy: str = "catvton"  # "catvton" or "hrviton"
    inhouse_parse_dir: str | None = (
        None  # a model folder written by inhouse_training (parse_backend "inhouse")
    )
    inhouse_densepose_dir: str | None = None  # likewise for densepose_backend "inhouse"
    device: str = "auto"

    @property
    def runs_networks(self) -> bool:
        """Whether a backend runs a network (pretrained or in-house) rather than reading or rule-based code:
        such a chain can use a GPU, and is never annotated in-process."""
        return (self.parse_backend, self.pose_backend, self.densepose_backend) != ("provided",) * 3


def make_annotators(config: PipelineConfig) -> list[Annotator]:
    """The annotator chain for a config, in dependency order."""
    chain: list[Annotator] = [ProvidedAnnotator()]
    if config.parse_backend in ("schp_lip", "schp_atr"):
        from preprocess.annotators.human_parsing import HumanParsingAnnotator

        chain.append(HumanParsingAnnotator(config.parse_backend.split("_")[1], device=config.device))
    elif config.parse_backend == "inhouse":
        from preprocess.annotators.inhouse import InhouseParsingAnnotator

        chain.append(
            InhouseParsingAnnotator(_model_dir(config.inhouse_parse_dir, "parse"), device=config.device)
        )
    elif config.parse_backend != "provided":
        raise ValueError(
            f"unknown parse backend {config.parse_backend!r}: provided, schp_lip, schp_atr or inhouse"
        )
    if config.densepose_backend == "inhouse":
        from preprocess.annotators.inhouse import InhouseDensePoseAnnotator

        chain.append(
            InhouseDensePoseAnnotator(
                _model_dir(config.inhouse_densepose_dir, "densepose"), device=config.device
            )
        )
    elif config.densepose_backend != "provided":
        raise ValueError(f"unknown densepose backend {config.densepose_backend!r}: provided or inhouse")
    if config.pose_backend == "dwpose":
        from preprocess.annotators.dwpose import DWPoseAnnotator

        chain.append(DWPoseAnnotator(device=config.device))
    elif config.pose_backend != "provided":
        raise ValueError(f"unknown pose backend {config.pose_backend!r}: provided or dwpose")
    chain += [
        GarmentMaskAnnotator(),
        GeometricLandmarkAnnotator(),
        SkeletonRenderer(),
        AgnosticMaskAnnotator(config.agnostic_strategy),
    ]
    return chain


def _model_dir(folder: str | None, field: str) -> Path:
    if not folder:
        raise ValueError(
            f"the inhouse {field} backend needs a model folder: set inhouse_{field}_dir to the output of "
            "preprocess.annotators.inhouse_training.train_from_dataset"
        )
    return Path(folder)


def field_versions(annotators: list[Annotator]) -> Callable[[Mapping[str, Any]], dict[str, tuple[str, str]]]:
    """Per manifest row: which annotator (name, version) fills each field (shipped files win)."""

    def versions(row: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
        shipped = set(dict(row.get("annotations") or {})) | set(dict(row.get("annotation_frames") or {}))
        out: dict[str, tuple[str, str]] = {}
        for annotator in annotators:
            for field in annotator.outputs:
                if field in out:
                    continue
                if annotator.name == "provided" and field not in shipped:
                    continue
                out[field] = (annotator.name, annotator.version)
        return out

    return versions


def _needs_met(annotator: Annotator, available: set[str]) -> list[str]:
    return [n for n in annotator.needs if not n.startswith("weights:") and n not in available]


def _run_chain(item: AnnotationInput, annotators: list[Annotator], available: set[str]) -> dict[str, str]:
    """Fill item.outputs through the chain; return {field: why it is missing}."""
    missing: dict[str, str] = {}
    for annotator in annotators:
        todo = [f for f in annotator.outputs if f not in item.outputs]
        if not todo:
            continue
        lacking = _needs_met(annotator, available | set(item.outputs))
        if lacking:
            for field in todo:
                missing.setdefault(field, f"{annotator.name} needs {', '.join(lacking)}")
            continue
        result = annotator([item])[0]
        for field, value in result.items():
            item.outputs.setdefault(field, value)
    for annotator in annotators:
        for field in annotator.outputs:
            if field not in item.outputs and field not in missing and field != "parse_atr":
                missing[field] = "the dataset ships none and no configured backend produced it"
    return {k: v for k, v in missing.items() if k not in item.outputs}


def _quarantine(row: Mapping[str, Any], reason: str) -> QuarantineRow:
    path = row.get("person_path") or row.get("garment_path") or ""
    return QuarantineRow(row["dataset"], path, row["sample_id"], "annotate", reason)


def annotate_row(
    row: Mapping[str, Any], root: Path, annotators: list[Annotator], memo: PersonSideMemo | None = None
) -> Members | QuarantineRow:
    """One manifest row -> encoded shard members, or a quarantine row saying why not.

    With a `memo`, a row whose person side it kept (the same person as a recent row, `person_side_memo`)
    takes the person image's member and the person-side fields from there and annotates only its garment;
    the members are the same either way.
    """
    try:
        if row.get("kind") == "video":
            return _annotate_video(row, root, annotators)
        key = memo.key(row, root) if memo is not None else None
        kept = memo.get(key) if memo is not None else None
        fields: dict[str, Any] = {}
        decoded: dict[str, Any] = {"person": None, "garment": None}
        sizes: dict[str, int] = {}  # sizes of the images checked but not decoded, as decoding would give
        read = _pixels_read(row, annotators)
        for role, size_keys in _SIZE_KEYS.items():
            rel = row.get(f"{role}_path")
            if not rel:
                continue
            if role == "person" and kept is not None:
                decoded["person"] = kept.person
                sizes.update(kept.sizes)
                continue
            data = (root / rel).read_bytes()
            if role in read:
                decoded[role] = decode_image(data, rel, role=f"{role} image")
            else:
                sizes.update(zip(size_keys, check_image(data, rel, role=f"{role} image"), strict=True))
            fields[role] = source_jpeg(data, row, role, rel)
        person, garment = decoded["person"], decoded["garment"]
        item = AnnotationInput(row["sample_id"], dict(row) | sizes, root, person, garment)
        if kept is not None:
            item.outputs.update(kept.values)
        available = {name for name, value in (("person", person), ("garment", garment)) if value is not None}
        missing = _run_chain(item, annotators, available)
        fields.update(item.outputs)
        fields.pop("parse_atr", None)  # an intermediate of the ATR parser, not a shard field
        if kept is not None:
            own = {name: value for name, value in fields.items() if name not in kept.values}
            return encode_sample(row["sample_id"], own, {"missing": missing}) | dict(kept.members)
        members = encode_sample(row["sample_id"], fields, {"missing": missing})
        if memo is not None and key is not None:
            memo.put(key, _person_side(item.outputs, members, sizes, person, memo))
        return members
    except (BadImageError, BadVideoError, AnnotationError, SampleEncodingError) as exc:
        return _quarantine(row, exc.reason)
    except OSError as exc:
        return _quarantine(
            row, f"cannot read an input of sample {row['sample_id']}: {exc}; re-run the ingest"
        )


def _person_side(
    outputs: Mapping[str, Any], members: Members, sizes: Mapping[str, int], person: Any, memo: PersonSideMemo
) -> PersonSide:
    """What a memo keeps of an annotated row: its person-side values and their members, with `person.jpg`."""
    values = {name: _read_only(outputs[name]) for name in memo.fields if name in outputs}
    names = [MEMBERS[name] for name in [*values, "person"] if name in MEMBERS]
    return PersonSide(
        values=values,
        members={name: members[name] for name in names if name in members},
        sizes={key: sizes[key] for key in _SIZE_KEYS["person"] if key in sizes},
        person=_read_only(person),
    )


def _read_only(value: Any) -> Any:
    """A read-only view of an array (a later row's annotator that wrote into a kept field would fail loudly
    instead of changing what the memo hands out); other values as they are."""
    if isinstance(value, np.ndarray):
        value = value.view()
        value.setflags(write=False)
    return value


def _pixels_read(row: Mapping[str, Any], annotators: list[Annotator]) -> set[str]:
    """Which of "person" and "garment" an annotator that may run for this row reads the pixels of.

    An annotator runs when one of its fields is not shipped with the sample; the others only need an
    image's size, so those images are checked (`check_image`: every byte decoded, no pixel array built)
    instead of decoded, which is the bulk of a sample's decoding when the dataset ships its annotations.
    """
    shipped = set(dict(row.get("annotations") or {}))
    read: set[str] = set()
    for annotator in annotators:
        if annotator.name != "provided" and any(field not in shipped for field in annotator.outputs):
            read.update(need for need in annotator.needs if need in ("person", "garment"))
    return read


def _annotate_video(row: Mapping[str, Any], root: Path, annotators: list[Annotator]) -> Members:
    """Video clips: frames, the shipped per-frame annotations, a skeleton and an agnostic mask per frame (see
    agnostic_video), and the garment fields."""
    if row.get("frame_paths"):
        frames = [decode_image((root / rel).read_bytes(), rel, role="frame") for rel in row["frame_paths"]]
    else:
        frames = list(read_frames(root / row["person_path"], name=row["person_path"]))
    garment = None
    fields: dict[str, Any] = {}
    if row.get("garment_path"):
        data = (root / row["garment_path"]).read_bytes()
        garment = decode_image(data, row["garment_path"], role="garment image")
        fields["garment"] = source_jpeg(data, row, "garment", row["garment_path"])
    item = AnnotationInput(row["sample_id"], dict(row), root, frames[0], garment)
    provided = next(a for a in annotators if a.name == "provided")([item])[0]
    per_frame = provided.get("frames") or [{} for _ in frames]
    out_frames = []
    for frame, shipped in zip(frames, per_frame, strict=False):
        entry = {"person": frame, **shipped}
        if "pose" in shipped:
            entry["skeleton"] = render_skeleton(shipped["pose"], frame.shape[0], frame.shape[1])
        out_frames.append(entry)
    fields["frames"] = out_frames
    clip = AnnotationInput(row["sample_id"], dict(row), root, None, garment, dict(provided))
    clip.outputs.pop("frames", None)
    garment_chain = [a for a in annotators if a.name in ("garment_mask", "garment_landmarks")]
    missing = _run_chain(clip, garment_chain, {"garment"} if garment is not None else set())
    fields.update(clip.outputs)
    missing.update(add_clip_agnostic_masks(out_frames, row, annotators))
    return encode_sample(row["sample_id"], fields, {"missing": missing})


# Results cross Ray as one bytes value each: b"M" + framed members, or b"Q" + the quarantine row as JSON.
def pack_result(result: Members | QuarantineRow) -> bytes:
    if isinstance(result, QuarantineRow):
        return b"Q" + json.dumps(result.as_dict()).encode()
    parts = [b"M"]
    for name in sorted(result):
        key, data = name.encode(), result[name]
        parts += [struct.pack("<IQ", len(key), len(data)), key, data]
    return b"".join(parts)


def unpack_result(blob: bytes) -> Members | QuarantineRow:
    if blob[:1] == b"Q":
        return QuarantineRow(**json.loads(blob[1:]))
    members: Members = {}
    pos = 1
    while pos < len(blob):
        key_len, data_len = struct.unpack_from("<IQ", blob, pos)
        pos += 12
        key = blob[pos : pos + key_len].decode()
        pos += key_len
        members[key] = blob[pos : pos + data_len]
        pos += data_len
    return members


def tune_worker_process() -> None:
    """Settings for a process that only annotates, one CPU's worth (a Ray actor; never the caller's process).

    glibc's malloc by default gives every freed image-sized array back to the kernel and maps fresh pages
    for the next, so the kernel zero-fills about 16 MB per sample (4,000 page faults, a fifth of the
    annotation time); keeping freed memory for reuse (up to 256 MB) removes that. OpenCV's own thread pool
    would split calls across cores the other actors already use. Without glibc the first is skipped.
    """
    import cv2

    cv2.setNumThreads(1)
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024**2)  # glibc's upper limit; larger arrays are mmap'd
        libc.mallopt(_M_TRIM_THRESHOLD, 256 * 1024**2)
    except (OSError, AttributeError):
        pass


class AnnotateBatch:
    """A Ray Data `map_batches` actor: builds the annotator chain once, then annotates batches of rows.

    In: a pyarrow batch with one `row` column (each manifest row as JSON: paths and small values, no pixels).
    Out: `sample_id`, `result` (the `pack_result` blob: encoded shard members or a quarantine row) and
    `worker` (this process's id, so the build can say how many actors annotated).
    """

    def __init__(self, root: str, config: dict[str, Any]) -> None:
        tune_worker_process()
        self.root = Path(root)
        self.annotators = make_annotators(PipelineConfig(**config))
        self.memo = PersonSideMemo(self.annotators)
        self.pid = os.getpid()

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = [json.loads(text) for text in batch.column("row").to_pylist()]
        blobs = [pack_result(annotate_row(row, self.root, self.annotators, self.memo)) for row in rows]
        return pa.table(
            {
                "sample_id": pa.array([row["sample_id"] for row in rows], pa.string()),
                "result": pa.array(blobs, pa.large_binary()),
                "worker": pa.array([self.pid] * len(rows), pa.int64()),
            }
        )


@dataclass(frozen=True)
class AnnotationPool:
    """The Ray Data actor pool that annotates: at most `size` actors, each reserving one GPU or one CPU."""

    size: int
    num_gpus: int = 0

    def map_batches_options(self) -> dict[str, Any]:
        """The `compute` strategy and per-actor resources for `Dataset.map_batches`. Every actor starts at
        once (`initial_size`): growing the pool one actor at a time would idle cores at the start."""
        import ray.data

        compute = ray.data.ActorPoolStrategy(min_size=1, max_size=self.size, initial_size=self.size)
        resources = {"num_gpus": self.num_gpus} if self.num_gpus else {"num_cpus": 1}
        return {"compute": compute, **resources}


def plan_annotation_pool(cluster: Mapping[str, int], batches: int, config: PipelineConfig) -> AnnotationPool:
    """Size the pool for `batches` batches of `config`'s chain on a cluster described by `ensure_ray`
    (`cpus`, `gpus`).

    A chain that runs networks gets one actor per GPU when Ray reports GPUs (unless `config.device` is
    "cpu"); otherwise, and for the rule-based chain (CPU work: one GPU actor would leave the other cores
    idle), one actor per CPU. Never more actors than batches.
    """
    use_gpu = config.runs_networks and config.device != "cpu"
    gpus = int(cluster.get("gpus", 0)) if use_gpu else 0
    slots = gpus or int(cluster.get("cpus", 0)) or 1
    return AnnotationPool(size=max(1, min(slots, batches)), num_gpus=1 if gpus else 0)


class _RayDataAnnotations:
    """The annotate callback of the shard builder, fed by one streaming Ray Data pipeline.

    `from_items` makes one block per batch of rows (each row as JSON), `map_batches` runs `AnnotateBatch` on
    an actor pool (`plan_annotation_pool`) and the result blocks stream back in the order of `rows`
    (`preserve_order`). A background thread fetches the next result block while the builder writes tars,
    and starts the pipeline at once, so the actors start while the builder sets up its first shards. The
    builder asks for rows in its own order; a request for a row further ahead buffers what comes before.
    """

    def __init__(
        self, rows: list[dict[str, Any]], root: Path, config: PipelineConfig, batch_size: int
    ) -> None:
        import ray.data

        from vton.ray_runtime import ensure_ray

        cluster = ensure_ray()
        batches = -(-len(rows) // batch_size)
        self.pool = plan_annotation_pool(cluster, batches, config)
        # Ray Data logs each execution plan at INFO; the build reports its own progress.
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        with ray.data.DataContext.current(_quiet_ordered_context()):
            # from_items builds its blocks here (from_arrow would run a Ray task per block for metadata).
            items = [{"row": json.dumps(row)} for row in rows]
            dataset = ray.data.from_items(items, override_num_blocks=batches).map_batches(
                AnnotateBatch,
                fn_constructor_kwargs={"root": str(root), "config": asdict(config)},
                batch_size=batch_size,
                batch_format="pyarrow",
                udf_modifying_row_count=False,
                **self.pool.map_batches_options(),
            )
            self._results = iter(dataset.iter_batches(batch_size=None, batch_format="pyarrow"))
        self._fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ray-data-results")
        self._next = self._fetcher.submit(next, self._results, None)
        self._buffer: dict[str, bytes] = {}
        self.workers: set[int] = set()

    def _receive(self) -> None:
        table = self._next.result()
        if table is None:
            raise RuntimeError("the shard builder asked for a row that was not sent for annotation")
        self._next = self._fetcher.submit(next, self._results, None)
        ids, blobs = table.column("sample_id").to_pylist(), table.column("result").to_pylist()
        self._buffer.update(zip(ids, blobs, strict=True))
        self.workers.update(table.column("worker").to_pylist())

    def __call__(self, rows: list[dict[str, Any]]) -> list[Members | QuarantineRow]:
        out = []
        for row in rows:
            sid = row["sample_id"]
            while sid not in self._buffer:
                self._receive()
            out.append(unpack_result(self._buffer.pop(sid)))
        return out

    def close(self) -> None:
        """Stop the pipeline and its actors (a finished or failed build no longer needs them)."""
        self._next.cancel()
        self._fetcher.shutdown(wait=True)
        close = getattr(self._results, "close", None)
        if close is not None:
            close()


def _quiet_ordered_context() -> Any:
    """A copy of the current Ray Data context for the annotation pipeline: results in input order, and
    none of the console output (progress bars, plan and stats logs) a build reports in its own way."""
    import ray.data

    with warnings.catch_warnings():  # Ray's first DataContext warns about its own deprecated defaults
        warnings.simplefilter("ignore", DeprecationWarning)
        context = ray.data.DataContext.get_current().copy()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    context.enable_operator_progress_bars = False
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    context.verbose_stats_logs = False
    return context


class _AnnotationsAhead:
    """The annotate callback of a small update annotated in this process: two background threads work
    through the rows in order while the shard builder rewrites the shards that hold them, so annotating
    overlaps reading, hashing and writing tars (numpy, OpenCV and file I/O release the GIL). Consecutive
    rows of one person (paired and unpaired test rows) go to one thread with a memo, so that person is
    annotated once. OpenCV runs single-threaded until `close` (its own pool would crowd out the builder's
    thread)."""

    def __init__(self, rows: list[dict[str, Any]], root: Path, annotators: list[Annotator]) -> None:
        import cv2

        self._root, self._annotators = root, annotators
        self._opencv_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="annotate")
        self._futures: dict[str, tuple[Future[list[Members | QuarantineRow]], int]] = {}
        for group in _same_person_runs(rows):
            future = self._pool.submit(self._annotate_group, group)
            self._futures.update((row["sample_id"], (future, i)) for i, row in enumerate(group))

    def _annotate_group(self, rows: list[dict[str, Any]]) -> list[Members | QuarantineRow]:
        memo = PersonSideMemo(self._annotators, size=1) if len(rows) > 1 else None
        return [annotate_row(row, self._root, self._annotators, memo) for row in rows]

    def __call__(self, rows: list[dict[str, Any]]) -> list[Members | QuarantineRow]:
        out = []
        for row in rows:
            found = self._futures.pop(row["sample_id"], None)
            out.append(
                found[0].result()[found[1]] if found else annotate_row(row, self._root, self._annotators)
            )
        return out

    def close(self) -> None:
        """Drop what the build no longer asks for (after a failure), stop the thread, restore OpenCV."""
        import cv2

        self._pool.shutdown(cancel_futures=True)
        cv2.setNumThreads(self._opencv_threads)


def _same_person_runs(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The rows cut into runs of consecutive rows with the same person image (most runs are one row)."""
    runs: list[list[dict[str, Any]]] = []
    for row in rows:
        if runs and row.get("person_path") and runs[-1][-1].get("person_path") == row.get("person_path"):
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


@dataclass
class DatasetShardBuild(ShardBuildResult):
    """A shard build's outcome plus where its annotation ran: `annotation_engine` is "ray_data" (the Ray Data
    actor pool), "threads" (a small update annotated in this process ahead of the builder), "in_process"
    (`use_ray=False`) or "none" (nothing to annotate); `annotation_actors` counts the Ray Data actors that
    returned results."""

    annotation_engine: str = "none"
    annotation_actors: int = 0


def build_dataset_shards(
    manifest: Path,
    root: Path,
    out_dir: Path,
    config: PipelineConfig | None = None,
    *,
    use_ray: bool = True,
    samples_per_shard: int = 256,
    batch_size: int = 16,
    ray_batch_size: int = RAY_BATCH_ROWS,
    progress: Callable[[int, int], None] | None = None,
    local_max_rows: int = LOCAL_MAX_ROWS,
) -> DatasetShardBuild:
    """Bring a dataset's shards up to date with its manifest, annotating only new and changed samples.

    With `use_ray`, up to `local_max_rows` rows for a rule-based chain are annotated in this process
    (0: always on Ray Data); more, or any row for a chain with network backends, go to the Ray Data actor pool
    in batches of `ray_batch_size` rows (one actor call each); the builder writes `batch_size` rows at a time.
    """
    config = config or PipelineConfig()
    annotators = make_annotators(config)
    versions = field_versions(annotators)
    rows = pq.read_table(manifest).to_pylist()
    for row in rows:
        row["annotations"] = dict(row.get("annotations") or [])
        row["annotation_frames"] = dict(row.get("annotation_frames") or [])
    root = Path(root)

    memo = PersonSideMemo(annotators)

    def annotate_here(batch: list[dict[str, Any]]) -> list[Members | QuarantineRow]:
        return [annotate_row(row, root, annotators, memo) for row in batch]

    chosen: dict[str, Any] = {"engine": "in_process", "streamed": None}

    def start_annotation(plan: BuildPlan) -> AnnotateFn | None:
        """Under the build's lock, once it has planned: send the rows to annotate to Ray Data, or to two
        threads for a small update, before the builder starts rewriting shards."""
        if not use_ray:
            return None
        todo = sorted([p.row for p in plan.changed + plan.new if p.row], key=lambda r: r["sample_id"])
        if len(todo) > (0 if config.runs_networks else local_max_rows):
            chosen.update(engine="ray_data", streamed=_RayDataAnnotations(todo, root, config, ray_batch_size))
        elif todo:
            chosen.update(engine="threads", streamed=_AnnotationsAhead(todo, root, annotators))
        return chosen["streamed"]

    try:
        result = build_shards(
            out_dir,
            rows,
            annotate_here,
            versions,
            samples_per_shard=samples_per_shard,
            batch_size=batch_size,
            progress=progress,
            prepare=start_annotation,
        )
    finally:
        if chosen["streamed"] is not None:
            chosen["streamed"].close()
    streamed = chosen["streamed"]
    return DatasetShardBuild(
        **{f.name: getattr(result, f.name) for f in fields(result)},
        annotation_engine=chosen["engine"] if result.annotated else "none",
        annotation_actors=len(streamed.workers) if isinstance(streamed, _RayDataAnnotations) else 0,
    )
