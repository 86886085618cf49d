"""``classifier`` and ``classifier-logits``: a small CNN that ganbench trains on the dataset's labels.

Inception needs weights from the network and knows nothing of 8 x 8 digits; a classifier
trained on the dataset itself is an offline feature space for every labelled image
dataset (its penultimate layer for FID / KID / PR-DC) and the judge of classes (its
logits for Stacked MNIST's modes, the accuracy of conditional samples).

- Data: ``dataset.classifier_data()`` (uint8 NCHW images, int64 labels), split 90/10
  into training and held-out images with a fixed seed; the held-out accuracy goes into
  the provenance, so a weak classifier is visible next to the scores it produced.
- Network: conv 3x3 + BatchNorm + ReLU + max-pool stages (one per halving of the image
  down to ~7 px; widths 8, 16, 32 on grey images, twice that on colour), a 128-unit
  ReLU layer (the features) and a linear layer (the logits). Small enough that 10,000
  colour 32 x 32 images take a few seconds on one CPU thread, which is what it uses on
  CPUs (``one_cpu_thread``: its small batches do not parallelise).
- Training: Adam with a one-cycle schedule, random translations of up to 1/14 of the
  image, a fixed seed and fixed epochs; deterministic, and torch's global RNG state is
  left as it was (``fork_rng``). The same data on the same kind of device gives the same
  weights, bit for bit.
- Cache: ``cache_dir()/classifiers/<key sha256>.pt``, keyed by the data's sha256, the
  architecture, the recipe, the device type and the ganbench and torch versions. Entries
  are written atomically and carry a sha256 of their contents; one that does not load or
  does not match its key or checksum is retrained, never trusted. Loaded classifiers are
  also kept in memory for the process.
- Stacked samples: when the samples' channels are a multiple of the classifier's (Stacked
  MNIST: 3 channels, a classifier of grey digits), each channel group is classified on its
  own and the features (and logits) are concatenated in channel order.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import json
import logging
import math
import pickle
import time
import weakref
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganbench.arrays import FeatureError
from ganbench.atomic import write_atomic
from ganbench.dataset import Dataset
from ganbench.devices import default_device, reproducible_kernels
from ganbench.errors import GanbenchError
from ganbench.hookspecs import hookimpl
from ganbench.images import as_uint8_nchw
from ganbench.metric import FeatureExtractor
from ganbench.paths import cache_dir, check_entry_is_a_file, warn_cache_unwritable
from ganbench.progress import progress as progress_bar
from ganbench.reference import tensor_sha256
from ganbench.torchfiles import load_torch_file

log = logging.getLogger("ganbench")

FORMAT = 1  # of the cache entries; bump when their layout changes
HIDDEN = 128  # width of the feature layer
BATCH_SIZE = 256  # images per forward pass when extracting; features do not depend on it


class ClassifierDataError(GanbenchError):
    """Labelled data a classifier cannot be trained on."""


@dataclass(frozen=True)
class Architecture:
    """The network's shape, derived from the images and labels it is trained on."""

    channels: int
    height: int
    width: int
    n_classes: int
    base_width: int
    stages: int
    hidden: int = HIDDEN

    @classmethod
    def for_data(cls, images: torch.Tensor, labels: torch.Tensor) -> Architecture:
        """Sized from the images: one pooled stage per halving down to about 7 px (8 px: 1, 28-32: 2, 64: 3)."""
        _, channels, height, width = images.shape
        stages = max(1, round(math.log2(min(height, width) / 7)))
        base = 8 if channels == 1 else 16
        return cls(channels, height, width, int(labels.max()) + 1, base, stages)

    def describe(self) -> str:
        widths = "-".join(str(self.base_width << i) for i in range(self.stages))
        return (
            f"cnn {self.channels}x{self.height}x{self.width}: conv-bn-relu-pool {widths}, "
            f"fc {self.hidden}, {self.n_classes} classes"
        )


@dataclass(frozen=True)
class Recipe:
    """How the classifier is trained: everything here is part of the cache key."""

    seed: int = 0
    epochs: int = 10
    min_steps: int = 1000  # small datasets (1,797 digits) get more epochs, so as many updates as they need
    batch_size: int = 64
    lr: float = 2e-3
    dropout: float = 0.3
    held_out: float = 0.1
    max_shift: float = 1 / 14  # random translations, as a fraction of the image side (2 px on 28 px)

    def epochs_for(self, n_train: int) -> int:
        """Fixed epochs, raised on small datasets to reach ``min_steps`` updates."""
        steps_per_epoch = math.ceil(n_train / self.batch_size)
        return max(self.epochs, math.ceil(self.min_steps / steps_per_epoch))


class SmallCNN(nn.Module):
    """conv-bn-relu-pool stages, a ReLU feature layer and a linear classifier."""

    def __init__(self, arch: Architecture, dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in, h, w = arch.channels, arch.height, arch.width
        for i in range(arch.stages):
            c_out = arch.base_width << i
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
            layers.append(nn.MaxPool2d(2))  # non-overlapping windows: a deterministic backward on GPUs too
            c_in, h, w = c_out, h // 2, w // 2
        self.features = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * h * w, arch.hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(arch.hidden, arch.n_classes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(features (N, hidden), logits (N, classes)) of images in [-1, 1]."""
        f = self.features(x)
        return f, self.head(f)


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float32 in [-1, 1] (as the GANs see them)."""
    return images.float().div_(127.5).sub_(1.0)


@dataclass
class TrainedClassifier:
    """A trained network with what identifies it (``sha256``: of its cache key) and how well it does."""

    key: dict[str, Any]
    sha256: str
    arch: Architecture
    model: SmallCNN
    held_out_accuracy: float
    n_train: int
    n_held_out: int
    epochs: int
    train_seconds: float
    device: torch.device

    @torch.inference_mode()
    def apply(self, samples: Any, batch_size: int = BATCH_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
        """(features, logits) of images (N, C, H, W), float32 on the CPU.

        C a multiple k of the classifier's channels: each of the k channel groups is
        classified on its own; features (N, k * hidden) and logits (N, k * classes) hold
        the groups in channel order.
        """
        x = as_uint8_nchw(samples)
        n, c, h, w = x.shape
        a = self.arch
        if (h, w) != (a.height, a.width) or c % a.channels:
            raise FeatureError(
                f"the classifier takes {a.channels}x{a.height}x{a.width} images (or a multiple of "
                f"{a.channels} channels); these are {c}x{h}x{w}"
            )
        groups = c // a.channels
        x = x.reshape(n * groups, a.channels, h, w)
        feats, logits = [], []
        with one_cpu_thread(self.device):
            for start in range(0, len(x), batch_size):
                f, y = self.model(to_input(x[start : start + batch_size].to(self.device)))
                feats.append(f.float().cpu())
                logits.append(y.float().cpu())
        return torch.cat(feats).reshape(n, -1), torch.cat(logits).reshape(n, -1)

    def provenance(self) -> dict[str, Any]:
        training = self.key["recipe"]
        return {
            "classifier_sha256": self.sha256,
            "held_out_accuracy": self.held_out_accuracy,
            "architecture": self.arch.describe(),
            "n_train": self.n_train,
            "n_held_out": self.n_held_out,
            "epochs": self.epochs,
            "seed": training["seed"],
            "device": str(self.device),
        }


# ---------------------------------------------------------------- training


def check_data(images: Any, labels: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (N, C, H, W) images and int64 (N,) labels 0..K-1 of at least two classes, else ClassifierDataError."""
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4:
        what = f"{images.dtype} of shape {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images)
        raise ClassifierDataError(f"classifier images must be a uint8 tensor (N, C, H, W), not {what}")
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or len(labels) != len(images):
        raise ClassifierDataError(f"classifier labels must be a 1-D tensor of {len(images)} classes, one per image")
    labels = labels.long()
    if len(images) < 20 or int(labels.min()) < 0 or len(labels.unique()) < 2:
        raise ClassifierDataError(
            f"a classifier needs at least 20 images of two or more classes numbered from 0; got {len(images)} "
            f"images, classes {labels.unique().tolist()[:12]}"
        )
    return images.cpu().contiguous(), labels.cpu().contiguous()


def cache_key(images: torch.Tensor, labels: torch.Tensor, recipe: Recipe, device: torch.device) -> dict[str, Any]:
    """Everything that changes the trained weights."""
    return {
        "format": FORMAT,
        "images_sha256": tensor_sha256(images),
        "labels_sha256": tensor_sha256(labels),
        "architecture": asdict(Architecture.for_data(images, labels)),
        "recipe": asdict(recipe),
        "device": device.type,
        "ganbench": _version("ganbench"),
        "torch": torch.__version__,
    }


def key_sha256(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def split(n: int, recipe: Recipe) -> tuple[torch.Tensor, torch.Tensor]:
    """(training indices, held-out indices): a seeded permutation, its first ``held_out`` fraction held out."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(recipe.seed))
    n_held = max(1, round(n * recipe.held_out))
    return order[n_held:], order[:n_held]


def translate(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by its own random (dy, dx) in [-max_shift, max_shift]^2, zero-filled."""
    if max_shift == 0:
        return images
    n, _, h, w = images.shape
    shifts = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator).to(images.device)
    padded = F.pad(images, (max_shift,) * 4)
    rows = (shifts[0, :, None] + torch.arange(h, device=images.device))[:, :, None]
    cols = (shifts[1, :, None] + torch.arange(w, device=images.device))[:, None, :]
    return padded[torch.arange(n, device=images.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)


@torch.inference_mode()
def accuracy(model: SmallCNN, images: torch.Tensor, labels: torch.Tensor, device: torch.device) -> float:
    """Fraction of ``images`` whose arg-max logit is their label (model in eval mode)."""
    correct = 0
    with one_cpu_thread(device):
        for start in range(0, len(images), BATCH_SIZE):
            _, logits = model(to_input(images[start : start + BATCH_SIZE].to(device)))
            correct += int((logits.argmax(1).cpu() == labels[start : start + BATCH_SIZE]).sum())
    return correct / len(images)


def train_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    recipe: Recipe = Recipe(),
    device: torch.device | None = None,
    progress: bool | None = None,
) -> tuple[SmallCNN, dict[str, Any]]:
    """A SmallCNN trained on ``recipe``'s training split, in eval mode, and what training measured.

    Deterministic for given data, recipe and device; torch's global RNG state is untouched.
    ``progress`` None: a progress bar on terminals only.
    """
    images, labels = check_data(images, labels)
    device = torch.device(device or default_device())
    arch = Architecture.for_data(images, labels)
    train_idx, held_idx = split(len(images), recipe)
    epochs = recipe.epochs_for(len(train_idx))
    shift = round(min(arch.height, arch.width) * recipe.max_shift)
    steps = epochs * math.ceil(len(train_idx) / recipe.batch_size)
    x, y = images[train_idx].to(device), labels[train_idx].to(device)
    log.info(
        "training the classifier feature space (%s) on %d labelled images, once: %d epochs; later runs load it",
        arch.describe(),
        len(train_idx),
        epochs,
    )
    start = time.perf_counter()
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda), reproducible_kernels(device), one_cpu_thread(device):
        torch.manual_seed(recipe.seed)  # initial weights and dropout
        order_rng = torch.Generator().manual_seed(recipe.seed + 1)  # batches and translations
        model = SmallCNN(arch, recipe.dropout).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
        schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=steps)
        model.train()
        bar = progress_bar(steps, enabled=progress, desc=f"training classifier ({arch.describe()})", unit="step")
        with bar:
            for _ in range(epochs):
                order = torch.randperm(len(x), generator=order_rng).to(device)
                for first in range(0, len(x), recipe.batch_size):
                    batch = order[first : first + recipe.batch_size]
                    _, logits = model(to_input(translate(x[batch], shift, order_rng)))
                    loss = F.cross_entropy(logits, y[batch])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    schedule.step()
                    bar.update()
                bar.set_postfix(loss=f"{loss.item():.3f}")
        model.eval()
    seconds = time.perf_counter() - start
    held_out = accuracy(model, images[held_idx], labels[held_idx], device)
    log.info("trained the classifier (%s) in %.1f s: held-out accuracy %.4f", arch.describe(), seconds, held_out)
    info = {"held_out_accuracy": held_out, "n_train": len(train_idx), "n_held_out": len(held_idx)}
    return model, {**info, "epochs": epochs, "train_seconds": seconds}


@contextlib.contextmanager
def one_cpu_thread(device: torch.device) -> Iterator[None]:
    """One intra-op thread for the CPU work of this small network, then the count as it was.

    Its batches are too small to share among threads: on two cores, two threads made
    training steps and forward passes 2 to 20 times slower whenever anything else ran
    (OpenMP threads wait on each other), while one thread scores 10,000 colour 32 x 32
    images in a few seconds. One thread also makes trained weights independent of the
    machine's core count.
    """
    if device.type != "cpu":
        yield
        return
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


# ---------------------------------------------------------------- the cache


def entry_path(sha256: str) -> Path:
    return cache_dir() / "classifiers" / f"{sha256[:32]}.pt"


def _state_sha256(meta: str, state: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256(meta.encode())
    for name in sorted(state):
        digest.update(f"{name} {tensor_sha256(state[name])}".encode())
    return digest.hexdigest()


def save_entry(path: Path, meta: dict[str, Any], model: SmallCNN) -> None:
    """Write the weights and ``meta`` with their checksum, atomically; an unwritable cache is only a warning."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    text = json.dumps(meta, sort_keys=True)
    buffer = io.BytesIO()
    torch.save({"meta": text, "sha256": _state_sha256(text, state), "state_dict": state}, buffer)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda f: f.write(buffer.getbuffer()))
    except OSError as exc:  # a read-only cache costs time, not results
        warn_cache_unwritable(path, exc)


def load_entry(path: Path, key: dict[str, Any], device: torch.device) -> tuple[SmallCNN, dict[str, Any]] | None:
    """The cached network and its meta; None (with a warning if present) when absent, unreadable, foreign or altered."""
    if not path.exists():
        return None
    try:
        check_entry_is_a_file(path)
        stored = load_torch_file(path)
        meta_text, state = stored["meta"], stored["state_dict"]
        if stored["sha256"] != _state_sha256(meta_text, state):
            raise ValueError("its checksum does not match its contents")
        meta = json.loads(meta_text)
        if meta["key"] != json.loads(json.dumps(key)):
            raise ValueError("it was made for other data or settings")
        model = SmallCNN(Architecture(**meta["key"]["architecture"]))
        model.load_state_dict(state)
    except UNUSABLE as exc:
        reason = f"it lacks {exc}" if isinstance(exc, KeyError) else exc
        log.warning("classifier cache entry %s is unusable (%s); training the classifier again", path, reason)
        return None
    return model.to(device).eval(), meta


UNUSABLE = (
    OSError,
    RuntimeError,
    ValueError,
    KeyError,
    TypeError,
    EOFError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
)
"""What loading a truncated, altered or foreign entry raises."""

_loaded: dict[str, TrainedClassifier] = {}


def classifier_from_data(
    images: torch.Tensor,
    labels: torch.Tensor,
    recipe: Recipe = Recipe(),
    device: torch.device | str | None = None,
    progress: bool | None = None,
) -> TrainedClassifier:
    """The classifier of this data: from memory, else from the disk cache, else trained (and cached)."""
    images, labels = check_data(images, labels)
    device = torch.device(device or default_device())
    key = cache_key(images, labels, recipe, device)
    return _obtain(key, lambda: (images, labels), recipe, device, progress)


def _obtain(
    key: dict[str, Any], data: Any, recipe: Recipe, device: torch.device, progress: bool | None
) -> TrainedClassifier:
    sha = key_sha256(key)
    if sha in _loaded:
        return _loaded[sha]
    path = entry_path(sha)
    found = load_entry(path, key, device)
    if found is None:
        images, labels = check_data(*data())
        model, info = train_classifier(images, labels, recipe, device, progress)
        meta = {"key": key, **info}
        save_entry(path, meta, model)
    else:
        model, meta = found
    arch = Architecture(**key["architecture"])
    fields = ("held_out_accuracy", "n_train", "n_held_out", "epochs", "train_seconds")
    _loaded[sha] = TrainedClassifier(key, sha, arch, model, **{f: meta[f] for f in fields}, device=device)
    return _loaded[sha]


# ---------------------------------------------------------------- datasets


_dataset_keys: dict[int, tuple[Any, dict[str, Any]]] = {}
"""id(dataset) -> (a weak reference to it, its classifier's cache key): data is hashed once per dataset object."""


def dataset_data(dataset: Dataset | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The dataset's labelled classifier data, or a one-line error saying why there is none."""
    if dataset is None:
        raise GanbenchError("the classifier feature space is trained on a dataset's labels; score samples of a dataset")
    data = dataset.classifier_data()
    if data is None:
        raise ClassifierDataError(
            f"classifier-space metrics need labelled data, and dataset {dataset.title} has no labels to train "
            "ganbench's classifier on; pick metrics in other feature spaces with --metrics"
        )
    return check_data(*data)


def dataset_key(dataset: Dataset | None, recipe: Recipe = Recipe()) -> dict[str, Any]:
    """The cache key of ``dataset``'s classifier (hashing its data once per dataset object)."""
    known = _dataset_keys.get(id(dataset))
    if known is not None and known[0]() is dataset:
        return known[1]
    images, labels = dataset_data(dataset)
    key = cache_key(images, labels, recipe, default_device())
    try:
        ref = weakref.ref(dataset)
        _dataset_keys[id(dataset)] = (ref, key)
    except TypeError:  # a dataset class with __slots__ and no weak references: hashed each time
        pass
    return key


def classifier_for(dataset: Dataset | None, progress: bool | None = None) -> TrainedClassifier:
    """The classifier of ``dataset``'s labelled data (trained on first use, then cached)."""
    key = dataset_key(dataset)
    return _obtain(key, lambda: dataset_data(dataset), Recipe(), default_device(), progress)


def forget() -> None:
    """Drop the in-process caches (the disk cache stays)."""
    _loaded.clear()
    _dataset_keys.clear()
    _recent.clear()


_recent: dict[tuple, tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]] = {}


def features_and_logits(samples: torch.Tensor, dataset: Dataset | None) -> tuple[torch.Tensor, torch.Tensor]:
    """One pass serves both extractors: results for the last two sample tensors (real, generated) are kept."""
    clf = classifier_for(dataset)
    key = (id(samples), samples._version, clf.sha256)
    hit = _recent.get(key)
    if hit is not None and hit[0] is samples:
        return hit[1]
    while len(_recent) >= 2:
        del _recent[next(iter(_recent))]
    result = clf.apply(samples)
    _recent[key] = (samples, result)
    return result


class ClassifierFeatures(FeatureExtractor):
    """Penultimate-layer features of ganbench's classifier of the dataset."""

    caches_reference = True
    output: int = 0

    def extract(self, samples: torch.Tensor, dataset: Dataset | None = None) -> torch.Tensor:
        return features_and_logits(samples, dataset)[self.output]

    def check(self, dataset: Dataset | None = None) -> None:
        dataset_data(dataset)

    def fingerprint(self, dataset: Dataset | None = None) -> dict[str, Any]:
        return {"classifier_sha256": key_sha256(dataset_key(dataset))}

    def provenance(self, dataset: Dataset | None = None) -> dict[str, Any]:
        return classifier_for(dataset).provenance()


class ClassifierLogits(ClassifierFeatures):
    """Class logits of ganbench's classifier (per channel group for stacked samples)."""

    caches_reference = False  # generated samples' logits only (modes, class accuracy)
    is_space = False
    output = 1


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@hookimpl
def register_feature_extractors(register):
    register(
        ClassifierFeatures(
            "classifier", description="penultimate layer (128-d) of a small CNN ganbench trains on the dataset's labels"
        )
    )
    register(ClassifierLogits("classifier-logits", description="class logits of ganbench's classifier of the dataset"))
