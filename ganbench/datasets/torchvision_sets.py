"""``mnist``, ``fashion-mnist`` and ``cifar10``: torchvision's datasets, in torchvision's own layout.

Files live under the data root (``--data-root`` / GANBENCH_DATA) where torchvision puts
them (``MNIST/raw/``, ``FashionMNIST/raw/``, ``cifar-10-batches-py/``), so an existing
torchvision download is found; they are fetched and checked by torchvision's own download
code with the URLs and md5 sums of its classes (read when needed, never copied here).
Only the chosen split's files are needed. When they are missing and cannot be fetched
within seconds, the error is one line naming the folder, the files and where they come from.

Options: ``split`` (train | test) and ``n_samples`` (a seeded subset of the split; the same
``n_samples`` always picks the same images, and a smaller subset lies inside a larger one).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import pickle
import socket
import tarfile
import urllib.error
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from filelock import FileLock

from ganbench.errors import GanbenchError, OptionError
from ganbench.fingerprint import file_sha256
from ganbench.hookspecs import hookimpl
from ganbench.images import ImageDataset
from ganbench.options import option
from ganbench.paths import DATA_ENV, data_root
from ganbench.writable import file_in_the_way, kind_of

DOWNLOAD_TIMEOUT_S = 10.0
SUBSET_SEED = 0
N_CLASSES = 10
LOCK_NAME = ".ganbench-download.lock"
# what a failed download or extraction raises: urllib/socket (OSError), torchvision's md5 check
# (RuntimeError), a bad URL (ValueError), a cut connection (HTTPException), a broken archive
FETCH_ERRORS = (OSError, RuntimeError, ValueError, EOFError, http.client.HTTPException, tarfile.TarError)
READ_ERRORS = (OSError, AssertionError, RuntimeError, ValueError, TypeError, KeyError, EOFError, pickle.PickleError)


class DataNotFoundError(GanbenchError):
    """Dataset files that are missing or corrupt and could not be downloaded."""


class DownloadError(RuntimeError):
    """Every mirror failed; the message says how, per mirror."""


def torchvision_class(name: str) -> Any:
    """The torchvision dataset class whose metadata (URLs, file names, md5 sums) we use; imported late (slow)."""
    import torchvision.datasets

    return getattr(torchvision.datasets, name)


@contextmanager
def short_socket_timeout(seconds: float = DOWNLOAD_TIMEOUT_S) -> Iterator[None]:
    """Offline machines fail a download in seconds instead of hanging (torchvision sets no timeout)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def subset_indices(n_total: int, n_samples: int) -> torch.Tensor:
    """``n_samples`` sorted indices out of ``n_total``, the first of one fixed permutation (so subsets nest)."""
    perm = torch.randperm(n_total, generator=torch.Generator().manual_seed(SUBSET_SEED))
    return perm[:n_samples].sort().values


_splits: dict[tuple[str, str, str], tuple[torch.Tensor, torch.Tensor]] = {}
"""(torchvision class, data root, split) -> (uint8 images, int64 labels): frozen datasets are re-made per run."""


@dataclass(frozen=True)
class TorchvisionImages(ImageDataset):
    """A 10-class torchvision dataset: one split, or a seeded subset of it."""

    source: str = field(default="", metadata={"option": False})
    """The torchvision.datasets class whose files and metadata these are."""
    split: Literal["train", "test"] = "train"
    n_samples: int | None = option(None, ge=1)

    @property
    def n_classes(self) -> int:
        return N_CLASSES

    def load(self) -> torch.Tensor:
        return self._subset()[0]

    def labels(self) -> torch.Tensor:
        return self._subset()[1]

    def available(self) -> bool:
        return self._present(data_root())

    def classifier_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole split, also when a run trains on a subset: the feature space must not depend on
        ``n_samples``, or runs on different subsets would be scored in different spaces."""
        return self._split_data()

    def _subset(self) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = self._split_data()
        if self.n_samples is None:
            return images, labels
        if self.n_samples > len(images):
            raise OptionError(
                f"dataset {self.name!r} option 'n_samples' is {self.n_samples:,}, but its {self.split} split holds "
                f"{len(images):,} images (--set dataset.n_samples=VALUE)"
            )
        keep = subset_indices(len(images), self.n_samples)
        return images[keep], labels[keep]

    def _split_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        root = data_root().resolve()
        key = (self.source, str(root), self.split, self.data_identity())  # files rewritten: read again (pass 78)
        if key not in _splits:
            with warnings.catch_warnings(record=True) as said:  # said once the files are known good, else the
                warnings.simplefilter("always")  # error alone
                images, labels = self._read(root)
            if images.shape[1:] != self.shape or len(labels) != len(images) or not _in_classes(labels):
                span = f" from {int(labels.min())} to {int(labels.max())}" if len(labels) else ""
                raise DataNotFoundError(
                    f"{self.name} {self.split} files in {root} hold {tuple(images.shape)} images and "
                    f"{len(labels)} labels{span}, not (N, {', '.join(map(str, self.shape))}) and N labels 0..9; "
                    "delete them to download them again"
                )
            for warning in said:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
            _splits[key] = images, labels
        return _splits[key]

    def _present(self, root: Path) -> bool:
        raise NotImplementedError

    def _loose_in(self, root: Path) -> bool:
        """Whether the split's files lie in ``root`` itself rather than in torchvision's folder below it."""
        return False

    def _read(self, root: Path) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole split as uint8 (N, C, H, W) images and int64 labels, fetching what is missing."""
        raise NotImplementedError

    def _not_found(
        self, root: Path, folder: Path, expected: str, urls: list[str], exc: BaseException
    ) -> DataNotFoundError:
        above = next((up for up in (root.parent, root.parent.parent) if up != root and self._present(up)), None)
        if above:  # --data-root .../MNIST or .../MNIST/raw: torchvision's layout puts them below the root
            fix = f"pass --data-root ({DATA_ENV}) {above} instead, which holds them in torchvision's layout"
        elif self._loose_in(root):  # the files themselves in the root: "copy them there" was all the advice
            fix = f"they are in {root} itself: move them into {folder}, where torchvision's layout keeps them"
        else:
            fix = f"copy them there or pass --data-root ({DATA_ENV}) naming a folder that holds them"
        return DataNotFoundError(
            f"{self.name} {self.split} split not found in {folder}: expected {expected}, from {' or '.join(urls)} "
            f"(the download failed: {_reason(exc)}); {fix}"
        )


@dataclass(frozen=True)
class IdxImages(TorchvisionImages):
    """MNIST and Fashion-MNIST: per split, a gzipped idx file of images and one of labels in <root>/<Class>/raw/.

    torchvision keeps each .gz next to its extracted file; a verified .gz is extracted when its
    extracted file is missing (or unreadable), and a folder holding only extracted files (as
    torchvision also accepts) is read as it is.
    """

    @property
    def shape(self) -> tuple[int, ...]:
        return (1, 28, 28)

    def folder(self, root: Path) -> Path:
        return root / self.source / "raw"

    def files(self) -> list[tuple[str, str]]:
        """(archive name, md5) of this split's images and labels, from the torchvision class."""
        prefix = "train-" if self.split == "train" else "t10k-"
        return [(name, md5) for name, md5 in torchvision_class(self.source).resources if name.startswith(prefix)]

    def _present(self, root: Path) -> bool:
        return self._loose_in(self.folder(root))

    def _loose_in(self, root: Path) -> bool:
        return all(_idx_state(root, name, md5) != "fetch" for name, md5 in self.files())

    def data_identity(self) -> str | None:
        """The sha256 of the extracted files read without a .gz beside them (torchvision reads them; nothing
        checks them): without it, runs on two data roots' different files were one run (pass 77)."""
        folder = self.folder(data_root().resolve())
        loose = [folder / _extracted(n) for n, _ in self.files() if not (folder / n).exists()]
        try:
            digests = [file_sha256(path) for path in loose if path.is_file()]
        except OSError:  # unreadable: reading the data says so in one line
            return None
        return hashlib.sha256(" ".join(digests).encode()).hexdigest()[:16] if digests else None

    def _read(self, root: Path) -> tuple[torch.Tensor, torch.Tensor]:
        from torchvision.datasets.mnist import read_image_file, read_label_file

        folder, files = self.folder(root), self.files()
        for name, _ in files:
            _check_extracted(folder / _extracted(name))
        if any(_idx_state(folder, name, md5) != "ready" for name, md5 in files):
            with _folder_lock(folder):
                self._fetch(root, files)
        unverified = [_extracted(n) for n, _ in files if not (folder / n).exists()]
        (images_gz, images_md5), (labels_gz, labels_md5) = sorted(files, key=lambda f: "labels" in f[0])
        images = _read_idx(folder, images_gz, images_md5, read_image_file)
        labels = _read_idx(folder, labels_gz, labels_md5, read_label_file)
        if unverified:  # torchvision reads such a folder too; say that nothing vouches for its contents
            warnings.warn(
                f"{self.name}: {' and '.join(unverified)} in {folder} have no .gz archive beside them to verify them "
                "against; read as they are (put the published .gz files there to have them checked)",
                stacklevel=2,
            )
        return images.unsqueeze(1).contiguous(), labels.long()

    def _fetch(self, root: Path, files: list[tuple[str, str]]) -> None:
        """Extract verified archives whose extracted file is missing; download (and extract) the others."""
        folder = self.folder(root)
        mirrors = list(torchvision_class(self.source).mirrors)
        states = {name: _idx_state(folder, name, md5) for name, md5 in files}
        for name, md5 in sorted(files, key=lambda f: states[f[0]] != "fetch"):  # what is missing first: a failed
            state = states[name]  # download leaves the folder as it was, nothing extracted
            try:
                if state == "extract":
                    _extract(folder / name)
                elif state == "fetch":
                    _download_from_mirrors(mirrors, folder, name, md5)
            except FETCH_ERRORS as exc:
                if state == "extract":
                    raise DataNotFoundError(f"cannot extract {folder / name} ({_reason(exc)})") from None
                missing = [n for n, _ in files if states[n] == "fetch"]
                expected = " and ".join(missing) + " there" + _corrupt_note(folder, files)
                raise self._not_found(root, folder, expected, mirrors, exc) from None


@dataclass(frozen=True)
class CifarImages(TorchvisionImages):
    """CIFAR-10: pickled batches in <root>/cifar-10-batches-py/, from one archive that holds both splits.

    Batches are unpickled only after their md5 matched torchvision's, so only the published
    files are ever unpickled.
    """

    @property
    def shape(self) -> tuple[int, ...]:
        return (3, 32, 32)

    def batches(self) -> list[tuple[str, str]]:
        cls = torchvision_class(self.source)
        return [(name, md5) for name, md5 in (cls.train_list if self.split == "train" else cls.test_list)]

    def _batches_ok(self, root: Path) -> bool:
        from torchvision.datasets.utils import check_integrity

        folder = root / torchvision_class(self.source).base_folder
        return all(check_integrity(str(folder / name), md5) for name, md5 in self.batches())

    def _present(self, root: Path) -> bool:
        from torchvision.datasets.utils import check_integrity

        cls = torchvision_class(self.source)
        return self._batches_ok(root) or check_integrity(str(root / cls.filename), cls.tgz_md5)

    def _read(self, root: Path) -> tuple[torch.Tensor, torch.Tensor]:
        from torchvision.datasets.utils import download_and_extract_archive

        cls = torchvision_class(self.source)
        folder = root / cls.base_folder
        if not self._batches_ok(root):
            with _folder_lock(root):
                try:
                    if not self._batches_ok(root):
                        # skips the download when the archive is there and verified; then extracts it
                        with short_socket_timeout():
                            download_and_extract_archive(cls.url, str(root), filename=cls.filename, md5=cls.tgz_md5)
                except FETCH_ERRORS as exc:
                    names = ", ".join(name for name, _ in self.batches())
                    archive = [(cls.filename, cls.tgz_md5)]
                    notes = [_corrupt_note(folder, self.batches()), _corrupt_note(root, archive)]  # either may be
                    corrupt = "".join(notes).replace(")(", "; ")  # damaged: both said, one parenthesis
                    expected = f"{names} there, or {cls.filename} in {root}{corrupt}"
                    raise self._not_found(root, folder, expected, [cls.url], exc) from None
            if not self._batches_ok(root):
                raise DataNotFoundError(
                    f"{root / cls.filename} extracted, but the {self.split} batches in {folder} fail their md5 checks; "
                    "delete both to download them again"
                )
        data, labels = [], []
        for name, _ in self.batches():
            with open(folder / name, "rb") as f:
                entry = pickle.load(f, encoding="latin1")
            data.append(np.asarray(entry["data"], dtype=np.uint8))
            labels.extend(entry["labels"])
        images = torch.from_numpy(np.concatenate(data).reshape(-1, *self.shape))
        return images, torch.tensor(labels, dtype=torch.int64)


def _idx_state(folder: Path, name: str, md5: str) -> Literal["ready", "extract", "fetch"]:
    """ready: extracted (its .gz verified, or absent as torchvision allows); extract: only the verified .gz."""
    from torchvision.datasets.utils import check_integrity

    archive, plain = folder / name, folder / _extracted(name)
    if archive.exists():
        if not check_integrity(str(archive), md5):
            return "fetch"
        return "ready" if plain.is_file() else "extract"
    return "ready" if plain.is_file() else "fetch"


def _read_idx(folder: Path, name: str, md5: str, reader: Callable[[str], torch.Tensor]) -> torch.Tensor:
    """An extracted idx file; one left truncated (an interrupted extraction) or changed since (torchvision
    verifies archives, not what it extracted) is extracted again from its verified .gz."""
    from torchvision.datasets.utils import check_integrity

    plain, archive = folder / _extracted(name), folder / name
    if archive.exists() and plain.exists() and not _same_bytes(plain, archive):
        with _folder_lock(folder):
            _extract(archive)
    try:
        return reader(str(plain))
    except READ_ERRORS as exc:
        if not check_integrity(str(folder / name), md5):
            raise _invalid_idx(plain, exc) from None
    with _folder_lock(folder):
        _extract(folder / name)
    try:
        return reader(str(plain))
    except READ_ERRORS as exc:
        raise _invalid_idx(plain, exc) from None


def _check_extracted(plain: Path) -> None:
    """DataNotFoundError unless what stands where an archive is extracted is missing or a file: a FIFO there hung
    the extraction, and a link to /dev/zero was read without end."""
    if os.path.lexists(plain) and kind_of(plain) != "a file":
        raise DataNotFoundError(
            f"{plain} is {kind_of(plain)}, not a file; remove it, and ganbench extracts it again from its verified "
            ".gz (or downloads it)"
        )


def _extract(archive: Path) -> None:
    """torchvision's extraction of a verified .gz beside it, into a new file: whatever stands there is removed
    first, not written through (a symbolic or hard link's other name may be a file outside the data root)."""
    from torchvision.datasets.utils import extract_archive

    plain = archive.with_name(_extracted(archive.name))
    if plain.is_symlink() or plain.is_file():
        plain.unlink()
    extract_archive(str(archive), str(archive.parent))


def _same_bytes(plain: Path, archive: Path, chunk: int = 1 << 20) -> bool:
    """Whether ``plain`` holds exactly what the gzip ``archive`` decompresses to."""
    try:
        with gzip.open(archive, "rb") as packed, open(plain, "rb") as extracted:
            while True:
                a, b = packed.read(chunk), extracted.read(chunk)
                if a != b:
                    return False
                if not a:
                    return True
    except (OSError, EOFError):
        return False


def _invalid_idx(plain: Path, exc: BaseException) -> DataNotFoundError:
    return DataNotFoundError(f"{plain} is not a valid idx file ({_reason(exc)}); delete it to download it again")


def _download_from_mirrors(mirrors: list[str], folder: Path, name: str, md5: str) -> None:
    """torchvision's download, md5 check and extraction of ``name`` from the first mirror that works."""
    from torchvision.datasets.utils import download_and_extract_archive

    failures = []
    for mirror in mirrors:
        try:
            with short_socket_timeout():
                download_and_extract_archive(f"{mirror}{name}", download_root=str(folder), filename=name, md5=md5)
            return
        except FETCH_ERRORS as exc:
            failures.append((mirror, _reason(exc)))
    if len({reason for _, reason in failures}) == 1:
        raise DownloadError(failures[0][1])  # the same on every mirror (offline, say): said once
    raise DownloadError("; ".join(f"{mirror}: {reason}" for mirror, reason in failures) or "no mirrors listed")


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One process at a time downloads or extracts into ``folder`` (runs of a process pool load together).
    Folders it made for a download that failed are removed again: a mistyped data root leaves nothing behind."""
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)
        before = set(os.listdir(folder))
        lock = FileLock(str(folder / LOCK_NAME))
        lock.acquire()
    except OSError as exc:
        blocking = file_in_the_way(folder)  # $GANBENCH_DATA naming a file
        why = f"{blocking} is a file, not a folder" if blocking else _reason(exc)
        raise DataNotFoundError(f"cannot write to {folder} ({why}); pass a writable --data-root") from None
    try:
        yield
    except BaseException:
        lock.release()
        _remove_if_unused(folder, created, before)
        raise
    lock.release()


def _remove_if_unused(folder: Path, created: list[Path], before: set[str]) -> None:
    """Remove the lock in ``folder`` if this process made it (``before``: what the folder held) and the ``created``
    folders (deepest first), if nothing else came to be there (pass 97: a refused run left its lock in a folder of
    the user's)."""
    try:
        if LOCK_NAME in before or set(os.listdir(folder)) != before | {LOCK_NAME}:
            return
        (folder / LOCK_NAME).unlink()
        for made in created:
            made.rmdir()
    except OSError:  # another process's files meanwhile: theirs to keep
        pass


def _corrupt_note(folder: Path, files: list[tuple[str, str]]) -> str:
    from torchvision.datasets.utils import check_integrity

    bad = [n for n, md5 in files if (folder / n).exists() and not check_integrity(str(folder / n), md5)]
    if not bad:
        return ""
    if len(bad) == 1:
        return f" ({bad[0]} there fails its md5 check)"
    return f" ({' and '.join(bad)} there fail their md5 checks)"


def _extracted(name: str) -> str:
    return name.removesuffix(".gz")


def _in_classes(labels: torch.Tensor) -> bool:
    return len(labels) == 0 or (int(labels.min()) >= 0 and int(labels.max()) < N_CLASSES)


def _reason(exc: BaseException) -> str:
    """One line for any download or read failure."""
    if isinstance(exc, urllib.error.HTTPError):
        text = f"HTTP {exc.code} {exc.reason}"
    elif isinstance(exc, urllib.error.URLError):
        text = str(getattr(exc.reason, "strerror", None) or exc.reason)
    elif isinstance(exc, RuntimeError) and "corrupted" in str(exc):
        text = "the downloaded file does not match its md5 checksum"  # torchvision's "File not found or corrupted."
    elif isinstance(exc, AssertionError) and not str(exc):  # torchvision's idx reader asserts its header and size
        text = "its header or size is not an idx file's"
    else:
        text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split()) or type(exc).__name__


MNIST = IdxImages(
    "mnist", source="MNIST", description="MNIST handwritten digits, 1x28x28, 10 classes (torchvision's download)"
)
FASHION_MNIST = IdxImages(
    "fashion-mnist",
    source="FashionMNIST",
    description="Fashion-MNIST clothes, 1x28x28, 10 classes (torchvision's download)",
)
CIFAR10 = CifarImages(
    "cifar10",
    source="CIFAR10",
    default_network="resnet",
    description="CIFAR-10 photos, 3x32x32, 10 classes (torchvision's download)",
)


@hookimpl
def register_datasets(register):
    register(MNIST)
    register(FASHION_MNIST)
    register(CIFAR10)
