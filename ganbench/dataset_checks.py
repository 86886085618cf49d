"""What a dataset plugin gives, checked where ganbench first asks for it.

A third-party dataset whose ``shape``, items, labels or real samples are not what ``ganbench.Dataset`` promises
is one line naming its plugin (``plugins.blamed``), before any run folder exists: not a traceback at the first
training step, nor a run recorded as diverged because the data held NaN.
"""

from __future__ import annotations

import torch

from ganbench.dataset import Dataset
from ganbench.errors import short_repr
from ganbench.plugins import blamed


def check_declarations(name: str, dataset: Dataset) -> None:
    """The dataset's ``shape`` (positive whole numbers) and ``n_classes`` (a whole number >= 0)."""
    with blamed("datasets", name, "shape"):
        shape = dataset.shape
        if not isinstance(shape, tuple) or not shape or not all(_count(s) and s > 0 for s in shape):
            raise ValueError(f"its shape is {short_repr(shape)}, not a tuple of Python ints >= 1")
    with blamed("datasets", name, "n_classes"):
        classes = dataset.n_classes
        if not _count(classes) or classes < 0:
            raise ValueError(f"its n_classes is {short_repr(classes)}, not a Python int >= 0")


def load_checked(name: str, dataset: Dataset, n_classes: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The dataset's items, and their labels when the run is conditioned on ``n_classes`` classes, checked: items
    a non-empty tensor, finite, whose model input is float32 of the dataset's shape; one label in 0..n_classes-1
    per item."""
    shape = tuple(dataset.shape)
    with blamed("datasets", name, "load"):
        data = dataset.load()
        if not isinstance(data, torch.Tensor) or data.ndim == 0 or not len(data):
            what = f"{len(data)} items" if isinstance(data, torch.Tensor) and data.ndim else short_repr(data)
            raise TypeError(f"it gave {what}, not a tensor of one or more items")
        _check_finite(data, "items")
    with blamed("datasets", name, "to_model"):
        head = dataset.to_model(data[:2])
        if not isinstance(head, torch.Tensor) or head.dtype != torch.float32 or head.shape != (len(data[:2]), *shape):
            got = f"{head.dtype} {tuple(head.shape)}" if isinstance(head, torch.Tensor) else short_repr(head)
            raise ValueError(
                f"its first items as model input are {got}, not torch.float32 ({len(data[:2])}, {_dims(shape)})"
            )
    if not n_classes:
        return data, None
    with blamed("datasets", name, "labels"):
        labels = dataset.labels()
        check_labels(labels, len(data), n_classes)
    return data, labels


def reference_checked(name: str, dataset: Dataset) -> torch.Tensor:
    """The real samples scores compare with: a non-empty tensor of (N, *shape), finite; their labels, if any, one
    per sample."""
    shape = tuple(dataset.shape)
    with blamed("datasets", name, "reference"):
        real = dataset.reference()
        if not isinstance(real, torch.Tensor) or real.ndim == 0 or real.shape[1:] != shape or not len(real):
            got = tuple(real.shape) if isinstance(real, torch.Tensor) else short_repr(real)
            raise ValueError(f"it gave real samples {got}, not a tensor of (N, {_dims(shape)}), N >= 1")
        _check_finite(real, "real samples")
    with blamed("datasets", name, "reference_labels"):
        labels = dataset.reference_labels()
        if labels is not None:
            check_labels(labels, len(real), dataset.n_classes or None)
    return real


def check_labels(labels: object, n_items: int, n_classes: int | None) -> None:
    """ValueError unless ``labels`` is an integer tensor of ``n_items`` classes in 0..n_classes-1 (any, if None)."""
    if not isinstance(labels, torch.Tensor) or labels.dtype.is_floating_point or labels.dtype == torch.bool:
        got = labels.dtype if isinstance(labels, torch.Tensor) else short_repr(labels)
        raise TypeError(f"it gave labels {got}, not an integer tensor")
    if labels.shape != (n_items,):
        raise ValueError(f"it gave labels of shape {tuple(labels.shape)} for {n_items:,} items, not ({n_items:,},)")
    if n_items and n_classes is not None and not 0 <= int(labels.min()) <= int(labels.max()) < n_classes:
        span = f"{int(labels.min())}..{int(labels.max())}"
        raise ValueError(f"its labels span {span}, outside its {n_classes} classes 0..{n_classes - 1}")


def _check_finite(values: torch.Tensor, what: str) -> None:
    if values.is_floating_point() or values.is_complex():
        bad = ~torch.isfinite(values.reshape(len(values), -1)).all(dim=1)
        if bool(bad.any()):
            raise ValueError(f"its {what} hold NaN or inf (first at item {int(bad.nonzero()[0])}); they must be finite")


def _count(value: object) -> bool:
    return type(value) is int  # not a bool, nor a numpy integer (which torch's layers refuse as a size)


def _dims(shape: tuple[int, ...]) -> str:
    return ", ".join(map(str, shape))
