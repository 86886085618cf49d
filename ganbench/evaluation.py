"""Scoring: draw samples from a generator with a fixed seed, then call the metrics.

Also the public ``evaluate_samples`` for samples made elsewhere, with the checks that turn
a bad file or array into one clear error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganbench.arrays import load_array
from ganbench.dataset import Dataset
from ganbench.environment import library_versions
from ganbench.errors import GanbenchError, SamplesError
from ganbench.imagefiles import ImageFiles, load_image_set
from ganbench.images import as_unit_nchw
from ganbench.metric import EvalContext, in_memory_reference
from ganbench.plugins import registries
from ganbench.reference import ReferenceStats, tensor_sha256

PROVENANCE = "provenance"  # the metrics.json entry that says how the scores were made
REFERENCE_SEED = 20_260_101  # the real subset that evaluation compares against: the same for every run


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


def score(
    dataset: Dataset, fake: torch.Tensor, metrics: Sequence[str], match_sizes: bool = True
) -> dict[str, Any]:
    """Every named metric on ``fake`` against the dataset's reference samples, plus provenance.

    ``match_sizes``: real and generated sets of equal size (the protocol of FID, PR and DC):
    a reference larger than ``fake`` is cut to a seeded subset of ``len(fake)`` samples,
    always the same one. Off for real sets a user chose (``ganbench eval`` on files).
    """
    regs = registries()
    pool = dataset.reference()
    real = matched_reference(pool, len(fake)) if match_sizes else pool
    ctx = EvalContext(dataset, real, fake, _extract, reference_fn=_reference_fn(dataset, real))
    scores: dict[str, Any] = {}
    for name in metrics:
        metric = regs.metrics.get(name)
        if not metric.applies_to(dataset):
            raise GanbenchError(f"metric {name!r} does not apply to dataset {dataset.name!r}; drop it from --metrics")
        for key, value in metric.compute(ctx).items():
            scores[key] = _plain(value)
    scores[PROVENANCE] = provenance(ctx, reference_pool=len(pool))
    return scores


def matched_reference(pool: torch.Tensor, n: int) -> torch.Tensor:
    """``pool`` itself if it holds at most ``n`` samples, else a subset of ``n`` drawn with REFERENCE_SEED."""
    if len(pool) <= n:
        return pool
    order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(REFERENCE_SEED))
    return pool[order[:n].sort().values]


def _reference_fn(dataset: Dataset, real: torch.Tensor) -> Callable[[str, Callable[[], torch.Tensor]], ReferenceStats]:
    """Reference statistics on disk for extractors worth caching, keyed by all that changes them."""
    from ganbench import __version__

    def reference(extractor: str, compute: Callable[[], torch.Tensor]) -> ReferenceStats:
        ext = registries().feature_extractors.get(extractor)
        if not ext.caches_reference:
            return in_memory_reference(extractor, compute)
        key = {
            "dataset": dataset.name,
            "split": getattr(dataset, "split", "reference"),
            "n": len(real),
            "samples_sha256": tensor_sha256(real),
            "extractor": extractor,
            **ext.fingerprint(),
            "ganbench": __version__,
        }
        return ReferenceStats.cached(key, compute)

    return reference


def provenance(ctx: EvalContext, reference_pool: int | None = None) -> dict[str, Any]:
    """How the scores were made: sample counts, each feature space used, library versions."""
    extractors = registries().feature_extractors
    features: dict[str, Any] = {}
    for name in sorted(set(ctx.fake_features) | set(ctx.references)):
        info = dict(extractors.get(name).provenance())
        if name in ctx.fake_features:
            x = ctx.fake_features[name]
            info.update(dim=int(x.shape[1]), dtype=str(x.dtype).removeprefix("torch."))
        features[name] = info
    return {
        "n_real": len(ctx.real),
        "n_fake": len(ctx.fake),
        "real_subset": (
            {"of": reference_pool, "seed": REFERENCE_SEED} if (reference_pool or 0) > len(ctx.real) else None
        ),
        "samples_dtype": str(ctx.fake.dtype).removeprefix("torch."),
        "features": features,
        "versions": library_versions(),
    }


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
    return score(ds, fake, tuple(metrics) if metrics else ds.metrics, match_sizes=not isinstance(ds, ImageFiles))


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
    if np.iscomplexobj(array):
        raise SamplesError(f"samples are complex ({array.dtype}); pass real numbers")
    if not np.issubdtype(array.dtype, np.number):
        raise SamplesError(f"samples must be numbers, not {array.dtype}")
    shape = tuple(dataset.shape)
    if array.ndim != len(shape) + 1 or tuple(array.shape[1:]) != shape:
        needed = ", ".join(map(str, shape))
        raise SamplesError(f"samples have shape {tuple(array.shape)}, but dataset {dataset.name!r} needs (N, {needed})")
    if len(array) < 2:
        raise SamplesError(f"need at least 2 samples, got {len(array)}")
    rows = array.reshape(len(array), -1)
    bad = ~np.isfinite(rows).all(1)
    if bad.any():
        raise SamplesError(
            f"{int(bad.sum())} of {len(array)} samples hold NaN or inf (first at row {int(bad.argmax())})"
        )
    limit = np.finfo(np.float32).max
    if np.issubdtype(array.dtype, np.floating) and array.dtype.itemsize > 4:
        huge = (np.abs(rows) > limit).any(1)
        if huge.any():
            raise SamplesError(
                f"{int(huge.sum())} of {len(array)} samples hold values beyond float32's range (±{limit:.3g}; "
                f"first at row {int(huge.argmax())}), where ganbench scores; rescale the samples"
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
