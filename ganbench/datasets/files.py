"""``files``: a user's own images to train on, ``ganbench run --dataset path/to/images``.

The path is a folder or an .npz file:

- a folder with class subfolders: labels from the subfolder names, sorted (as torchvision's
  ImageFolder; images anywhere below each subfolder); a flat folder is unlabelled;
- an .npz: a 4-D image array (``images``, ``x``, ``samples`` or the only 4-D one), uint8 or
  floats in [0, 1], NCHW or NHWC, and optionally int labels named ``labels`` or ``y``.

Images are 1 channel when all are grey, else RGB; all must have one size (which sizes a
network supports is the network's check). The ``resolve_dataset`` hook turns such a path into
the options ``path`` (absolute) and ``sha256``, a digest of the pixels and labels: the run id
changes when the data do, and a run never resumes on images that changed under it.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganbench.arrays import load_array
from ganbench.errors import GanbenchError
from ganbench.hookspecs import hookimpl
from ganbench.imagefiles import decode_images
from ganbench.images import ImageDataset, as_uint8_nchw

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")  # ImageFolder's
IMAGE_KEYS = ("images", "x", "samples", "arr_0")
LABEL_KEYS = ("labels", "y")
DIGEST_VERSION = "ganbench-files/1"
CACHED_SETS = 2


class ImagesError(GanbenchError):
    """A user's images that cannot be trained on: none, unreadable, of mixed sizes, or changed."""


@dataclass(frozen=True)
class ImageSet:
    """What a path holds: uint8 (N, C, H, W) images, int64 labels or None, and their digest."""

    images: torch.Tensor
    labels: torch.Tensor | None
    sha256: str


def image_digest(images: torch.Tensor, labels: torch.Tensor | None) -> str:
    """sha256 of the pixels (uint8 NCHW), their shape and the labels: what identifies the data, not the files."""
    digest = hashlib.sha256(f"{DIGEST_VERSION} {tuple(images.shape)} labelled={labels is not None}".encode())
    digest.update(np.ascontiguousarray(images.numpy()))
    if labels is not None:
        digest.update(np.ascontiguousarray(labels.numpy().astype("<i8")))
    return digest.hexdigest()


_sets: dict[tuple, ImageSet] = {}
"""(path, each file's name, size and mtime) -> what it holds: resolving and loading decode once."""


def read_images(path: str | Path) -> ImageSet:
    """The images (and labels) in a folder or an .npz file, decoded once per process while the files are unchanged."""
    path = Path(path)
    if path.is_dir():
        files, labels = folder_layout(path)
        key: tuple = (str(path), *((str(f), *_stat(f)) for f in files))
        if key not in _sets:
            images = decode_images(files, path)
            _remember(key, ImageSet(images, labels, image_digest(images, labels)))
    elif path.is_file():
        key = (str(path), *_stat(path))
        if key not in _sets:
            images, labels = read_npz(path)
            _remember(key, ImageSet(images, labels, image_digest(images, labels)))
    else:
        raise ImagesError(f"{path} does not exist; pass a folder of images or an .npz file")
    return _sets[key]


def folder_layout(folder: Path) -> tuple[list[Path], torch.Tensor | None]:
    """Image files in ``folder`` and their labels: class subfolders (sorted names -> 0, 1, ...) or flat (None)."""
    top = sorted(p for p in folder.iterdir() if _is_image(p))
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    seen = {_inode(d) for d in (folder, *subfolders)}  # a link to the top or a class folder is not walked again
    per_class = {d: _images_below(d, seen) for d in subfolders}
    if not any(per_class.values()):
        if not top:
            raise ImagesError(f"folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        return top, None
    if top:
        raise ImagesError(
            f"folder {folder} holds images ({top[0].name}, ...) next to class subfolders; move them into a "
            "class subfolder, or put all images directly in the folder for unlabelled data"
        )
    empty = [d for d, files in per_class.items() if not files]
    if empty:
        raise ImagesError(f"class folder {empty[0]} holds no images; add some or remove it (its name is a class)")
    files = [f for d in subfolders for f in per_class[d]]
    labels = [c for c, d in enumerate(subfolders) for _ in per_class[d]]
    return files, torch.tensor(labels, dtype=torch.int64)


def read_npz(path: Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Images (uint8 NCHW) and optional labels of an .npz file, read without unpickling anything."""
    array = load_array(path, IMAGE_KEYS, ndim=4, what="image")
    if len(array) == 0:
        raise ImagesError(f"{path} holds no images")
    try:
        images = as_uint8_nchw(array)
    except GanbenchError as exc:
        raise ImagesError(f"{path}: {exc}") from None
    if images.shape[1] not in (1, 3):
        raise ImagesError(f"{path}: images need 1 or 3 channels (NCHW or NHWC), not shape {tuple(array.shape)}")
    key = next((k for k in LABEL_KEYS if k in _npz_names(path)), None)
    if key is None:
        return images, None
    labels = load_array(path, (key,), what="label")
    return images, _check_labels(labels, len(images), f"{path}:{key}")


def _check_labels(labels: np.ndarray, n_images: int, where: str) -> torch.Tensor:
    if labels.ndim != 1 or len(labels) != n_images:
        raise ImagesError(f"labels {where} must be one per image ({n_images}), not of shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ImagesError(f"labels {where} must be integers, not {labels.dtype}")
    present = [int(c) for c in np.unique(labels)]  # Python integers: a uint64 label of 2**64-1 plus 1 overflows
    if present[0] < 0 or len(present) != present[-1] + 1:
        gaps = [i for i, c in enumerate(present) if c != i]  # the first class number with no image
        detail = f"class {gaps[0]} has no image" if present[0] >= 0 else f"{present[0]} is negative"
        raise ImagesError(f"labels {where} must number the classes 0..K-1, each with an image; {detail}")
    return torch.from_numpy(labels.astype(np.int64))


@dataclass(frozen=True)
class UserImages(ImageDataset):
    """Images from ``path``, verified against ``sha256``. Made with a path, it reads them (once per process):
    labels decide whether the classifier feature space applies, and evaluation uses at most the whole set.
    """

    path: str = ""
    sha256: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.path:
            data = self._data()
            spaces = self.feature_spaces if data.labels is not None else ("inception",)
            object.__setattr__(self, "feature_spaces", spaces)
            object.__setattr__(self, "eval_samples", min(self.eval_samples, len(data.images)))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data().images.shape[1:])

    @property
    def n_classes(self) -> int:
        labels = self._data().labels
        return 0 if labels is None else int(labels.max()) + 1

    def load(self) -> torch.Tensor:
        return self._data().images

    def labels(self) -> torch.Tensor | None:
        return self._data().labels

    def available(self) -> bool | None:
        return Path(self.path).exists() if self.path else None  # the prototype names no files yet

    def _data(self) -> ImageSet:
        if not self.path:
            raise ImagesError(
                "dataset 'files' needs option 'path': pass --dataset PATH (a folder of images or an .npz file)"
            )
        data = read_images(self.path)
        if self.sha256 != data.sha256:
            if not self.sha256:
                raise ImagesError(
                    f"dataset 'files' needs option 'sha256' (the digest that ties a run to its images): pass "
                    f"--dataset {self.path} instead of --set dataset.path, or --set dataset.sha256={data.sha256}"
                )
            raise ImagesError(
                f"the images in {self.path} changed since the run's spec was made (sha256 {self.sha256[:12]}... "
                f"then, {data.sha256[:12]}... now); restore them, or start afresh with --dataset {self.path} "
                "(a new run id)"
            )
        return data


FILES = UserImages(
    "files", description="your own images: --dataset PATH (a folder, class subfolders as labels, or an .npz)"
)


@hookimpl
def register_datasets(register):
    register(FILES)


@hookimpl
def resolve_dataset(name: str) -> tuple[str, dict[str, Any]] | None:
    """Claim an existing folder or .npz file (a registered dataset name always wins)."""
    from ganbench.plugins import registries

    if name in registries().datasets:
        return None
    path = Path(name).expanduser()
    if not (path.is_dir() or (path.is_file() and path.suffix.lower() == ".npz")):
        return None
    path = path.resolve()
    return "files", {"path": str(path), "sha256": read_images(path).sha256}


def _images_below(folder: Path, seen: set[tuple[int, int]]) -> list[Path]:
    """Image files anywhere below ``folder``, in ImageFolder's order (sorted walk); hidden ones skipped.
    Links are followed, as ImageFolder does, but never into a folder in ``seen`` (the top, the class folders,
    and every folder walked so far: a link back up, a loop, or into another class would repeat images)."""
    walked = []
    for root, dirs, names in os.walk(folder, followlinks=True):
        kept = []
        for d in dirs:
            inode = _inode(Path(root) / d)
            if not d.startswith(".") and inode not in seen:
                seen.add(inode)
                kept.append(d)
        dirs[:] = kept
        walked.append((root, names))
    return [Path(root) / n for root, names in sorted(walked) for n in sorted(names) if _is_image(Path(root) / n)]


def _inode(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file()


def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _remember(key: tuple, data: ImageSet) -> None:
    while len(_sets) >= CACHED_SETS:
        del _sets[next(iter(_sets))]
    _sets[key] = data


def _npz_names(path: Path) -> set[str]:
    if not zipfile.is_zipfile(path):
        return set()  # a .npy holds one array: images only
    with zipfile.ZipFile(path) as archive:
        return {n.removesuffix(".npy") for n in archive.namelist()}
