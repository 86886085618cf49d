"""Scoring: draw samples from a generator with a fixed seed, then call the metrics.

Also the public ``evaluate_samples`` for samples made elsewhere, with the checks that turn
a bad file or array into one clear error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganbench.arrays import load_array
from ganbench.dataset import Dataset
from ganbench.errors import GanbenchError, SamplesError
from ganbench.features.images import as_unit_nchw
from ganbench.imagefiles import ImageFiles, load_image_set
from ganbench.metric import EvalContext
from ganbench.plugins import registries


@torch.no_grad()
def generate(
    generator: nn.Module, n: int, z_dim: int, seed: int, device: torch.device, batch: int = 10_000
) -> torch.Tensor:
    """``n`` samples in eval mode, noise from ``seed`` only; float32 on the CPU."""
    was_training = generator.training
    generator.eval()
    noise = torch.Generator(device=device).manual_seed(seed)
    chunks = []
    for start in range(0, n, batch):
        z = torch.randn(min(batch, n - start), z_dim, generator=noise, device=device)
        chunks.append(generator(z).float().cpu())
    generator.train(was_training)
    return torch.cat(chunks)


def score(dataset: Dataset, fake: torch.Tensor, metrics: Sequence[str]) -> dict[str, Any]:
    """Every named metric on ``fake`` against the dataset's reference samples."""
    regs = registries()
    ctx = EvalContext(dataset, dataset.reference(), fake, _extract)
    scores: dict[str, Any] = {}
    for name in metrics:
        metric = regs.metrics.get(name)
        if not metric.applies_to(dataset):
            raise GanbenchError(f"metric {name!r} does not apply to dataset {dataset.name!r}; drop it from --metrics")
        for key, value in metric.compute(ctx).items():
            scores[key] = _plain(value)
    return scores


def evaluate_samples(
    dataset: str | Path | Dataset, samples: Any, metrics: Sequence[str] | None = None
) -> dict[str, Any]:
    """Score samples made elsewhere on ``dataset``: a registered name, or an image .npz or folder.

    ``samples``: an array, a tensor, or a path (.npy/.npz; for images also a folder).
    """
    ds = resolve_dataset(dataset)
    if is_image_dataset(ds):
        fake = load_image_set(samples) if isinstance(samples, (str, Path)) else as_unit_nchw(samples)
        if len(fake) < 2:
            raise SamplesError(f"need at least 2 generated images, got {len(fake)}")
    else:
        fake = check_samples(load_samples(samples) if isinstance(samples, (str, Path)) else samples, ds)
    return score(ds, fake, tuple(metrics) if metrics else ds.metrics)


def resolve_dataset(dataset: str | Path | Dataset) -> Dataset:
    """A registered dataset by name, or real images from an .npz file or a folder."""
    if isinstance(dataset, Dataset):
        return dataset
    datasets = registries().datasets
    if str(dataset) in datasets:
        return datasets.get(str(dataset))
    path = Path(dataset)
    if path.exists() or path.suffix in (".npz", ".npy"):
        return ImageFiles(name="files", description=str(path), images=load_image_set(path))
    return datasets.get(str(dataset))  # unknown: the error names the closest datasets


def is_image_dataset(dataset: Dataset) -> bool:
    return len(dataset.shape) == 3


def load_samples(path: str | Path) -> np.ndarray:
    """An array from .npy, or the 'samples' (or only) array of an .npz."""
    return load_array(path, ("samples",))


def check_samples(samples: Any, dataset: Dataset) -> torch.Tensor:
    """Samples as a float32 CPU tensor of shape (N, *dataset.shape), or SamplesError."""
    array = samples.detach().cpu().numpy() if isinstance(samples, torch.Tensor) else np.asarray(samples)
    if not np.issubdtype(array.dtype, np.number):
        raise SamplesError(f"samples must be numbers, not {array.dtype}")
    shape = tuple(dataset.shape)
    if array.ndim != len(shape) + 1 or tuple(array.shape[1:]) != shape:
        needed = ", ".join(map(str, shape))
        raise SamplesError(f"samples have shape {tuple(array.shape)}, but dataset {dataset.name!r} needs (N, {needed})")
    if len(array) < 2:
        raise SamplesError(f"need at least 2 samples, got {len(array)}")
    bad = ~np.isfinite(array.reshape(len(array), -1)).all(1)
    if bad.any():
        raise SamplesError(
            f"{int(bad.sum())} of {len(array)} samples hold NaN or inf (first at row {int(bad.argmax())})"
        )
    return torch.as_tensor(array, dtype=torch.float32)


def _extract(extractor: str, which: str, samples: torch.Tensor) -> torch.Tensor:
    return registries().feature_extractors.get(extractor).extract(samples)


def _plain(value: Any) -> Any:
    if isinstance(value, (np.generic, torch.Tensor)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    return value
