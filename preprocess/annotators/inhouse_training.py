"""Train the in-house parsing / DensePose part-index network on datasets that ship that annotation.

Examples come from shards (`preprocess.shards.reader.iter_samples`) or straight from a dataset's
manifest rows through the `provided` annotator. Training: fixed input size, light augmentation (flip with
the left/right label swap below, brightness/contrast jitter), cross-entropy, AdamW; on Ray Train
(`TorchTrainer`, one process per worker, DDP when several) or in-process (`use_ray=False`). The held-out
agreement with the provided labels (mIoU) is returned and recorded in the model's `config.json`.

Left/right swap tables for the horizontal flip (the image's left becomes its right):
- LIP-20: 14 left-arm <-> 15 right-arm, 16 left-leg <-> 17 right-leg, 18 left-shoe <-> 19 right-shoe.
- DensePose part index (I): 1/2 torso back/front stay; 3 right hand <-> 4 left hand, 5 left foot <-> 6 right
  foot, 7 <-> 8 and 9 <-> 10 upper legs (back, front), 11 <-> 12 and 13 <-> 14 lower legs, 15 <-> 16 and
  17 <-> 18 upper arms, 19 <-> 20 and 21 <-> 22 lower arms, 23 right head <-> 24 left head.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from preprocess.annotators.base import AnnotationError, AnnotationInput
from preprocess.annotators.inhouse_network import (
    InhouseNetConfig,
    InhouseSegNet,
    normalise_batch,
    preset,
    resize_image,
    resize_labels,
)
from preprocess.annotators.provided import ProvidedAnnotator
from preprocess.images import BadImageError, decode_image

FLIP_PAIRS: dict[str, tuple[tuple[int, int], ...]] = {
    "parse": ((14, 15), (16, 17), (18, 19)),
    "densepose": tuple((i, i + 1) for i in range(3, 25, 2)),
}
HELDOUT_SPLITS = ("test", "val")


def flip_permutation(task: str, num_classes: int) -> np.ndarray:
    """The label lookup a horizontal flip applies: identity except the task's left/right pairs swapped."""
    perm = np.arange(num_classes, dtype=np.int64)
    for a, b in FLIP_PAIRS[task]:
        perm[a], perm[b] = b, a
    return perm


@dataclass
class Example:
    """One training or held-out pair: an RGB person image and its label map (LIP-20 or part index)."""

    sample_id: str
    image: np.ndarray  # (H, W, 3) uint8
    labels: np.ndarray  # (H, W) uint8, same size
    split: str = "train"


@dataclass
class TrainConfig:
    """What and how to train; `use_gpu=None` picks CUDA when it is available."""

    net: InhouseNetConfig = field(default_factory=lambda: preset("tiny", "parse"))
    steps: int = 300
    batch_size: int = 16
    lr: float = 1e-2
    weight_decay: float = 1e-4
    jitter: float = 0.2  # brightness/contrast jitter amplitude (fraction)
    seed: int = 0
    use_ray: bool = False
    num_workers: int = 1
    use_gpu: bool | None = None
    report_every: int = 25


@dataclass
class TrainResult:
    """Where the model was written, its held-out agreement and the reported training losses."""

    model_dir: Path
    agreement: dict[str, Any]
    losses: list[float]
    seconds: float


def _label_of(task: str, value: np.ndarray) -> np.ndarray:
    """The label map a task trains on: the parse map, or the DensePose part index channel."""
    return value if task == "parse" else value[..., 0]


def examples_from_dataset(
    root: Path, rows: Iterable[Any], task: str
) -> tuple[list[Example], list[tuple[str, str]]]:
    """Examples from manifest rows (dicts or `CanonicalSample`s) of a dataset that ships `task`'s annotation,
    read and canonicalised by the `provided` annotator; returns (examples, [(sample_id, reason) skipped])."""
    root = Path(root)
    provided = ProvidedAnnotator()
    examples: list[Example] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw in rows:
        row = dataclasses.asdict(raw) if dataclasses.is_dataclass(raw) else dict(raw)
        sample_id = str(row["sample_id"])
        if row.get("kind") == "video":
            skipped.append((sample_id, "video samples are not used to train the in-house image networks"))
            continue
        if row["person_path"] in seen:  # unpaired rows repeat a person already taken
            continue
        if task not in dict(row.get("annotations") or {}):
            skipped.append((sample_id, f"the dataset ships no {task} annotation for this sample"))
            continue
        try:
            person = decode_image(root / row["person_path"], row["person_path"], role="person")
            value = provided([AnnotationInput(sample_id, row, root, person=person)])[0][task]
        except (BadImageError, AnnotationError) as exc:
            skipped.append((sample_id, exc.reason))
            continue
        seen.add(row["person_path"])
        examples.append(Example(sample_id, person, _label_of(task, value), str(row.get("split") or "train")))
    return examples, skipped


def examples_from_shards(folder: Path, task: str) -> tuple[list[Example], list[tuple[str, str]]]:
    """Examples from a shard folder's samples holding a person image and `task`'s field (split from meta.json);
    returns (examples, [(sample_id, reason) skipped])."""
    from preprocess.shards.reader import iter_samples

    examples: list[Example] = []
    skipped: list[tuple[str, str]] = []
    for sample in iter_samples(Path(folder), decode=True):
        key = sample["__key__"]
        if "person" not in sample or task not in sample:
            skipped.append((key, f"shard sample has no person image or no {task} field"))
            continue
        split = str((sample.get("meta") or {}).get("split") or "train")
        examples.append(Example(key, sample["person"], _label_of(task, sample[task]), split))
    return examples, skipped


def split_heldout(examples: list[Example], fraction: float = 0.2) -> tuple[list[Example], list[Example]]:
    """(train, held-out): the dataset's test/val split when it has one, else a stable `fraction` by id hash."""
    if any(e.split in HELDOUT_SPLITS for e in examples):
        held = [e for e in examples if e.split in HELDOUT_SPLITS]
    else:
        held = [e for e in examples if zlib.crc32(e.sample_id.encode()) % 1000 < fraction * 1000]
    ids = {e.sample_id for e in held}
    return [e for e in examples if e.sample_id not in ids], held


def _tensors(examples: list[Example], size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N, H, W, 3) and labels (N, H, W) at the network's input size."""
    images = np.stack([resize_image(e.image, size) for e in examples])
    labels = np.stack([resize_labels(e.labels, size) for e in examples])
    return torch.from_numpy(images), torch.from_numpy(labels)


def _augment(
    x: torch.Tensor, y: torch.Tensor, perm: torch.Tensor, jitter: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Flip about half the batch (swapping left/right labels) and jitter brightness and contrast."""
    n = x.shape[0]
    flip = (torch.rand(n, generator=gen) < 0.5).to(x.device)
    x = torch.where(flip.view(n, 1, 1, 1), x.flip(-1), x)
    y = torch.where(flip.view(n, 1, 1), perm[y.flip(-1)], y)
    gain = 1 + jitter * (2 * torch.rand(n, 1, 1, 1, generator=gen) - 1)
    shift = jitter * (2 * torch.rand(n, 1, 1, 1, generator=gen) - 1)
    return x * gain.to(x.device) + shift.to(x.device), y


def _run_steps(
    model: torch.nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    config: TrainConfig,
    device: torch.device,
    rank: int,
    report: Callable[[dict[str, Any]], None],
) -> list[float]:
    """The optimisation loop shared by the Ray worker and the in-process path; returns reported losses."""
    gen = torch.Generator().manual_seed(config.seed + 1000 * rank)
    perm = torch.from_numpy(flip_permutation(config.net.task, config.net.num_classes)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=config.lr, total_steps=config.steps, pct_start=0.15
    )
    model.train()
    losses: list[float] = []
    window: list[float] = []
    step = 0
    while step < config.steps:
        before = step
        for images, labels in loader:
            x = normalise_batch(images.to(device))
            y = labels.to(device).long()
            x, y = _augment(x, y, perm, config.jitter, gen)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            window.append(float(loss.detach()))
            if step % config.report_every == 0 or step == config.steps:
                losses.append(sum(window) / len(window))
                window = []
                report({"step": step, "loss": losses[-1]})
            if step >= config.steps:
                break
        if step == before:
            raise ValueError(
                "the training loader yields no batch: give more examples or a smaller batch_size"
            )
    return losses


def _loader(images: torch.Tensor, labels: torch.Tensor, config: TrainConfig) -> DataLoader:
    gen = torch.Generator().manual_seed(config.seed)
    batch = min(config.batch_size, len(images))
    return DataLoader(
        TensorDataset(images, labels), batch_size=batch, shuffle=True, drop_last=True, generator=gen
    )


def _train_in_process(
    images: torch.Tensor, labels: torch.Tensor, config: TrainConfig
) -> tuple[InhouseSegNet, list[float]]:
    torch.manual_seed(config.seed)
    use_gpu = torch.cuda.is_available() if config.use_gpu is None else config.use_gpu
    device = torch.device("cuda" if use_gpu else "cpu")
    model = InhouseSegNet(config.net).to(device)
    losses = _run_steps(model, _loader(images, labels, config), config, device, 0, lambda _m: None)
    return model.cpu().eval(), losses


def _ray_worker_loop(loop_config: dict[str, Any]) -> None:
    """Per-worker loop for `TorchTrainer`: prepare model and loader, train, report loss, checkpoint the model."""
    import ray
    import ray.train
    import ray.train.torch

    config: TrainConfig = loop_config["config"]
    images, labels = ray.get(loop_config["data"]["ref"])
    rank = ray.train.get_context().get_world_rank()
    torch.manual_seed(config.seed)
    model = ray.train.torch.prepare_model(InhouseSegNet(config.net))
    loader = ray.train.torch.prepare_data_loader(_loader(images, labels, config))
    device = ray.train.torch.get_device()
    losses = _run_steps(model, loader, config, device, rank, ray.train.report)
    net = model.module if hasattr(model, "module") else model
    with tempfile.TemporaryDirectory(prefix="inhouse-ckpt-") as tmp:
        checkpoint = None
        if rank == 0:
            net.save_pretrained(Path(tmp))
            checkpoint = ray.train.Checkpoint.from_directory(tmp)
        ray.train.report({"step": config.steps, "loss": losses[-1], "losses": losses}, checkpoint=checkpoint)


def _train_on_ray(
    images: torch.Tensor, labels: torch.Tensor, config: TrainConfig
) -> tuple[InhouseSegNet, list[float]]:
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from vton.ray_runtime import ensure_ray

    ensure_ray()
    use_gpu = torch.cuda.is_available() if config.use_gpu is None else config.use_gpu
    ref = ray.put((images, labels))
    with tempfile.TemporaryDirectory(prefix="inhouse-ray-") as storage:
        trainer = TorchTrainer(
            _ray_worker_loop,
            train_loop_config={"config": config, "data": {"ref": ref}},
            scaling_config=ScalingConfig(num_workers=config.num_workers, use_gpu=use_gpu),
            run_config=RunConfig(name=f"inhouse-{config.net.task}", storage_path=storage),
        )
        result = trainer.fit()
        if result.checkpoint is None:
            raise RuntimeError(
                f"Ray training of the in-house {config.net.task} network ended without a checkpoint"
            )
        with result.checkpoint.as_directory() as folder:
            model = InhouseSegNet.from_pretrained(Path(folder))
    return model, [float(v) for v in result.metrics.get("losses", [])]


def confusion_matrix(pred: np.ndarray, true: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) pixel counts, rows = provided label, columns = prediction."""
    index = true.astype(np.int64).ravel() * num_classes + pred.astype(np.int64).ravel()
    return np.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def miou_from_confusion(conf: np.ndarray) -> dict[str, Any]:
    """Per-class IoU and their mean over the classes present in the provided labels, plus pixel accuracy."""
    tp = np.diag(conf).astype(np.float64)
    union = conf.sum(0) + conf.sum(1) - tp
    present = np.flatnonzero(conf.sum(1) > 0)
    per_class = {int(c): float(tp[c] / union[c]) for c in present}
    return {
        "miou": float(np.mean(list(per_class.values()))) if per_class else float("nan"),
        "per_class": per_class,
        "pixel_accuracy": float(tp.sum() / max(conf.sum(), 1)),
    }


def evaluate(model: InhouseSegNet, heldout: list[Example]) -> dict[str, Any]:
    """mIoU of the model's predictions against the provided labels, at the labels' own resolution."""
    n = model.config.num_classes
    conf = np.zeros((n, n), dtype=np.int64)
    for example, pred in zip(heldout, model.predict([e.image for e in heldout]), strict=True):
        conf += confusion_matrix(pred, example.labels, n)
    return miou_from_confusion(conf) | {"n": len(heldout)}


def majority_baseline(train: list[Example], heldout: list[Example], num_classes: int) -> dict[str, Any]:
    """mIoU of predicting the training set's most frequent label everywhere (the floor a model must beat)."""
    counts = sum(np.bincount(e.labels.ravel(), minlength=num_classes) for e in train)
    majority = int(np.argmax(counts))
    conf = np.zeros((num_classes, num_classes), dtype=np.int64)
    for example in heldout:
        conf += confusion_matrix(np.full_like(example.labels, majority), example.labels, num_classes)
    return miou_from_confusion(conf) | {"n": len(heldout), "label": majority}


def train_inhouse(
    train: list[Example],
    heldout: list[Example],
    out_dir: Path,
    config: TrainConfig,
    dataset: str = "",
) -> TrainResult:
    """Train on `train`, score on `heldout` against the provided labels, save weights + config with the
    recorded agreement (`{"miou", "n", "dataset", ...}`) under `out_dir`."""
    if not train:
        raise ValueError(
            "no training examples: the dataset ships none of this annotation (see the skipped list)"
        )
    if not heldout:
        raise ValueError("no held-out examples to measure agreement on; give the dataset a test split")
    start = time.perf_counter()
    images, labels = _tensors(train, config.net.input_size)
    too_high = int(labels.max())
    if too_high >= config.net.num_classes:
        raise ValueError(
            f"label {too_high} is outside the {config.net.task} label set (0-{config.net.num_classes - 1}); "
            "the examples were not canonicalised"
        )
    train_fn = _train_on_ray if config.use_ray else _train_in_process
    model, losses = train_fn(images, labels, config)
    scores = evaluate(model, heldout)
    baseline = majority_baseline(train, heldout, config.net.num_classes)
    agreement = {
        "miou": scores["miou"],
        "n": scores["n"],
        "dataset": dataset,
        "pixel_accuracy": scores["pixel_accuracy"],
        "per_class": {str(k): v for k, v in scores["per_class"].items()},
        "majority_baseline_miou": baseline["miou"],
        "train_samples": len(train),
        "steps": config.steps,
        "trained_on": "ray" if config.use_ray else "in-process",
    }
    model.save_pretrained(Path(out_dir), {"agreement": agreement})
    return TrainResult(Path(out_dir), agreement, losses, time.perf_counter() - start)


def train_from_dataset(
    root: Path, rows: Iterable[Mapping[str, Any] | Any], out_dir: Path, config: TrainConfig, dataset: str = ""
) -> TrainResult:
    """Read `config.net.task`'s provided labels from a dataset's manifest rows, split, train and record."""
    examples, _skipped = examples_from_dataset(root, rows, config.net.task)
    train, heldout = split_heldout(examples)
    return train_inhouse(train, heldout, out_dir, config, dataset)


def train_from_shards(folder: Path, out_dir: Path, config: TrainConfig, dataset: str = "") -> TrainResult:
    """Read `config.net.task`'s field from a shard folder, split, train and record."""
    examples, _skipped = examples_from_shards(folder, config.net.task)
    train, heldout = split_heldout(examples)
    return train_inhouse(train, heldout, out_dir, config, dataset)
