"""``files``: a user's own images to train on, ``ganbench run --dataset path/to/images``.

The path is a folder or an .npz file:

- a folder with class subfolders: labels from the subfolder names, sorted (as torchvision's
  ImageFolder; images anywhere below each subfolder); a flat folder is unlabelled;
- an .npz: a 4-D image array (``images``, ``samples``, ``x``, ``arr_0`` or the only 4-D one; two of
  those names is an error), uint8 or floats in [0, 1], NCHW or NHWC, and optionally int labels named
  ``labels`` or ``y``.

Images are 1 channel when all are grey, else RGB; all must have one size (which sizes a
network supports is the network's check). The ``resolve_dataset`` hook turns such a path into
the options ``path`` (absolute) and ``sha256``, a digest of the pixels and labels: the run id
changes when the data do, and a run never resumes on images that changed under it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganbench.arrays import array_names, load_array
from ganbench.errors import GanbenchError, OptionError, refuse_link_loop, shell_path, short_repr, shown_path
from ganbench.fingerprint import file_version
from ganbench.hookspecs import hookimpl
from ganbench.imagefiles import ARRAY_KEYS, decode_images, folder_layout, warn_once
from ganbench.images import ImageDataset, as_uint8_nchw
from ganbench.paths import data_path, refuse_undecodable_name, shown_data_path, tilde_expanded

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
    folder_notes: tuple[str, ...] = ()
    """Warnings of the folder's entries (files under two names, entries skipped), in words."""
    read_notes: tuple[str, ...] = ()
    """Warnings of what the files hold (transparency dropped, frames past the first): found as they are decoded."""

    @property
    def notes(self) -> tuple[str, ...]:
        """Every warning of the path, in words: said where a path is claimed (once, where the user named it), not
        by every worker that reads it."""
        return self.folder_notes + self.read_notes


def image_digest(images: torch.Tensor, labels: torch.Tensor | None) -> str:
    """sha256 of the pixels (uint8 NCHW), their shape and the labels: what identifies the data, not the files."""
    digest = hashlib.sha256(f"{DIGEST_VERSION} {tuple(images.shape)} labelled={labels is not None}".encode())
    digest.update(np.ascontiguousarray(images.numpy()))
    if labels is not None:
        digest.update(np.ascontiguousarray(labels.numpy().astype("<i8")))
    return digest.hexdigest()


_sets: dict[tuple, ImageSet] = {}
"""(path, each file's name and ``file_version``) -> what it holds: resolving and loading decode once."""


def read_images(path: str | Path) -> ImageSet:
    """The images (and labels) in a folder or an .npz file, decoded once per process while the files are unchanged."""
    path = Path(path)
    if path.is_dir():
        files, labels, notes = folder_layout(path)
        key: tuple = (str(path), *((str(f), *file_version(f)) for f in files))
        if key not in _sets:
            read: list[str] = []  # what the files hold otherwise than they show: transparency, frames
            images = decode_images(files, path, read)
            _remember(key, ImageSet(images, labels, image_digest(images, labels), notes, tuple(read)))
        if _sets[key].folder_notes != notes:  # the same images, other entries beside them (a link to nothing since)
            _sets[key] = dataclasses.replace(_sets[key], folder_notes=notes)
    elif path.is_file():
        key = (str(path), *file_version(path))
        if key not in _sets:
            images, labels = read_npz(path)
            _remember(key, ImageSet(images, labels, image_digest(images, labels)))
    else:
        refuse_link_loop(path)
        raise ImagesError(f"{shown_path(path)} does not exist; pass a folder of images or an .npz file")
    if len(_sets[key].images) < 2:
        raise ImagesError(f"{shown_path(path)} holds 1 image; a GAN needs at least 2 to train on and to score against")
    return _sets[key]


def read_npz(path: Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Images (uint8 NCHW) and optional labels of an .npz file, read without unpickling anything."""
    array = load_array(path, ARRAY_KEYS, ndim=4, what="image")
    if len(array) == 0:
        raise ImagesError(f"{shown_path(path)} holds no images")
    try:
        images = as_uint8_nchw(array)
    except GanbenchError as exc:
        raise ImagesError(f"{shown_path(path)}: {exc}") from None
    if images.shape[1] not in (1, 3):
        raise ImagesError(
            f"{shown_path(path)}: images need 1 or 3 channels (NCHW or NHWC), not shape {tuple(array.shape)}"
        )
    _refuse_flattened_floats(array, images, path)
    named = [k for k in LABEL_KEYS if k in array_names(path)]  # a torch dict too
    if len(named) > 1:  # which labels the user meant is a guess
        raise ImagesError(f"{shown_path(path)} holds labels twice ({' and '.join(named)}); save only the ones to use")
    key = named[0] if named else None
    if key is None:
        return images, None
    labels = load_array(path, (key,), what="label")
    return images, _check_labels(labels, len(images), f"{shown_path(path)}:{key}")


def _refuse_flattened_floats(array: np.ndarray, images: torch.Tensor, path: Path) -> None:
    """ImagesError for float images that vary but span at most two of 0..255's levels once rounded: floats in
    [0, 0.001] (images divided by 255 twice) trained and scored as black images without a word (pass 77)."""
    if array.dtype.kind != "f" or not array.size:
        return
    low, high = float(array.min()), float(array.max())
    if high > low and int(images.max()) - int(images.min()) <= 1:
        raise ImagesError(
            f"{shown_path(path)} holds float images from {low:.3g} to {high:.3g}: rounded to 0..255 they are "
            f"{'one level' if int(images.max()) == int(images.min()) else 'two levels'}; float images span [0, 1] "
            "(were they divided by 255 twice?): save them scaled to [0, 1], or as uint8"
        )


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
        if re.fullmatch(r"[0-9A-F]{64}", self.sha256):  # the right digest in capitals is the right digest
            object.__setattr__(self, "sha256", self.sha256.lower())
        if self.sha256 and not re.fullmatch(r"[0-9a-f]{64}", self.sha256):  # "xyz" was told the images had changed
            raise OptionError(
                f"dataset 'files' option 'sha256' is the images' digest, 64 hex digits, not {short_repr(self.sha256)}; "
                "leave it out and pass --dataset PATH, which fills it"
            )
        if "\0" in self.path:  # no file's name holds one: resolve() raised a ValueError, a traceback
            raise OptionError(f"dataset 'files' option 'path' holds a NUL character, which no file's name can: "
                              f"{short_repr(self.path)}; name a folder of images or an .npz file")  # fmt: skip
        if self.path:  # as --dataset PATH resolves it: one run id for one folder, from any working folder
            rename = "rename the data (or the folder holding it) to a UTF-8 name"
            refuse_undecodable_name(self.path, "dataset 'files' option 'path'", rename)  # before realpath fails on it
            object.__setattr__(self, "path", str(data_path(self.path)))  # a suite's: from the suite's folder
            refuse_undecodable_name(self.path, "dataset 'files' option 'path'", rename)  # the folder it was read from
            data = self._data()
            classes = 0 if data.labels is None else int(data.labels.max()) + 1
            spaces = self.feature_spaces if classes >= 2 else ("inception",)  # a classifier tells two apart
            object.__setattr__(self, "feature_spaces", spaces)
            object.__setattr__(self, "eval_samples", min(self.eval_samples, len(data.images)))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data().images.shape[1:])

    def why_not_offered(self, space: str) -> str:
        if space != "classifier" or space not in type(self).feature_spaces or not self.path:
            return ""
        labelled = "an array 'labels' beside the images" if Path(self.path).is_file() else "a subfolder per class"
        return f"a classifier space needs labelled images of two classes or more: {labelled}"

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

    def data_paths(self) -> tuple[str, ...]:
        return (self.path,) if self.path else ()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_read"}  # sent as its options, read where used

    def _data(self) -> ImageSet:
        """The images, read and verified once per instance: a run asks for its shape, labels and pixels dozens of
        times, and each read walks the folder and looks at every file."""
        read = self.__dict__.get("_read")
        if read is not None:
            return read
        if not self.path:
            raise ImagesError(
                "dataset 'files' needs option 'path': pass --dataset PATH (a folder of images or an .npz file)"
            )
        data = read_images(self.path)
        path = shown_data_path(self.path)  # a suite's, from its folder: the advice is written there
        if self.sha256 != data.sha256:
            if not self.sha256:
                named = shell_path(path)
                raise ImagesError(
                    f"dataset 'files' needs option 'sha256' (the digest that ties a run to its images): pass "
                    f"--dataset {named} instead of --set dataset.path, or --set dataset.sha256={data.sha256}"
                )
            raise ImagesError(  # a run's spec keeps its images' digest; one typed with --set may be wrong too
                f"the images in {path} are not the ones sha256 {self.sha256[:12]}... names (they are "
                f"{data.sha256[:12]}... now): they changed since the run's spec was made, or the digest is not "
                f"theirs; restore them, or run the command again (`run --dataset {shell_path(path)}`, or the "
                "same sweep): the images it reads now get a new run id"
            )
        object.__setattr__(self, "_read", data)
        return data


FILES = UserImages(
    "files", description="your own images: --dataset PATH (a folder, class subfolders as labels, or an .npz)"
)


@hookimpl
def register_datasets(register):
    register(FILES)


@hookimpl
def resolve_dataset(name: str) -> tuple[str, dict[str, Any]] | None:
    """Claim an existing folder, .npz or .npy file (a registered dataset name always wins)."""
    from ganbench.plugins import registries

    if name in registries().datasets:
        return None
    path = Path(tilde_expanded(name))  # unchanged for "~nosuchuser", as a shell leaves it
    if not (path.is_dir() or (path.is_file() and path.suffix.lower() in (".npz", ".npy"))):
        return None
    path = path.resolve()
    data = read_images(path)
    for note in data.notes:
        warn_once(note)
    return "files", {"path": str(path), "sha256": data.sha256}


def _remember(key: tuple, data: ImageSet) -> None:
    while len(_sets) >= CACHED_SETS:
        del _sets[next(iter(_sets))]
    _sets[key] = data
