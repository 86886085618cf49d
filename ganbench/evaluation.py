"""Scoring: draw samples from a generator with a fixed seed, then call the metrics.

Also the public ``evaluate_samples`` for samples made elsewhere, with the checks that turn
a bad file or array into one clear error.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganbench.arrays import FeatureError, load_array, real_tensor
from ganbench.dataset import Dataset
from ganbench.devices import refused_if_out_of_memory
from ganbench.environment import library_versions
from ganbench.errors import (
    OptionError,
    PluginError,
    SamplesError,
    path_errors,
    refuse_link_loop,
    short_repr,
    shown_path,
)
from ganbench.imagefiles import load_image_set
from ganbench.images import as_uint8_nchw
from ganbench.metric import (
    PROVENANCE,
    RESERVED_OUTPUTS,
    EvalContext,
    in_memory_reference,
    out_of_bounds,
    private_copy,
    tabled,
)
from ganbench.options import check_overrides_and_metrics, with_options
from ganbench.paths import tilde_expanded
from ganbench.plugins import blamed, registries
from ganbench.reference import ReferenceStats, tensor_sha256
from ganbench.registry import third_party
from ganbench.resolve import (
    claimed_and_set,
    near_data_paths,
    part_fingerprint,
    resolve_dataset_name,
    warn_if_shadowing,
)
from ganbench.results import loads_strict, strict_json
from ganbench.selection import (
    check_reference_fits,
    neediest,
    no_metrics_named,
    preflight,
    select_metrics,
    warn_unequal_sizes,
)
from ganbench.spec import MAX_EVAL_SAMPLES

REFERENCE_SEED = 20_260_101  # the real subset that evaluation compares against: the same for every run


def truncated_normal(
    shape: tuple[int, ...], bound: float, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """N(0, 1) conditioned on [-bound, bound], by the inverse CDF of a uniform draw in [Phi(-bound), Phi(bound)]
    (scipy.stats.truncnorm's distribution, which BigGAN-PyTorch's ``truncated_z_sample`` draws from), in float64."""
    u = torch.rand(shape, generator=generator, device=device, dtype=torch.float64)
    low = 0.5 * math.erfc(bound / math.sqrt(2.0))  # Phi(-bound)
    z = torch.special.ndtri(low + u * (1.0 - 2.0 * low))
    return z.clamp(-bound, bound).float()


@torch.no_grad()
def generate(
    generator: nn.Module,
    n: int,
    z_dim: int,
    seed: int,
    device: torch.device,
    labels: torch.Tensor | None = None,
    to_samples: Callable[[torch.Tensor], torch.Tensor] | None = None,
    batch: int = 2_000,
    truncation: float | None = None,
) -> torch.Tensor:
    """``n`` samples in eval mode, noise from ``seed`` only, on the CPU.

    ``labels`` (n,): the classes a conditional generator is asked for. ``to_samples`` maps
    each output batch on the device to evaluation samples (the dataset's ``from_model``).
    ``truncation``: z from N(0, 1) truncated to [-truncation, truncation] (``truncated_normal``).
    """
    was_training = generator.training
    generator.eval()
    noise = torch.Generator(device=device).manual_seed(seed)
    chunks = []
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)  # for networks that draw noise inside (StyleGAN2's noise inputs)
        for start in range(0, n, batch):
            shape = (min(batch, n - start), z_dim)
            if truncation is None:
                z = torch.randn(shape, generator=noise, device=device)
            else:
                z = truncated_normal(shape, truncation, noise, device)
            out = generator(z) if labels is None else generator(z, labels[start : start + len(z)].to(device))
            chunks.append((to_samples(out) if to_samples else out.float()).cpu())
    generator.train(was_training)
    return torch.cat(chunks)


def eval_labels(n: int, n_classes: int) -> torch.Tensor:
    """The classes a conditional generator is asked for in evaluation: 0, 1, ..., K-1, 0, 1, ... (balanced)."""
    return torch.arange(n) % n_classes


def score(
    dataset: Dataset,
    fake: torch.Tensor,
    metrics: Sequence[str],
    match_sizes: bool = True,
    fake_labels: torch.Tensor | None = None,
) -> dict[str, Any]:
    """Every named metric on ``fake`` against the dataset's reference samples, plus provenance.

    ``metrics``: metric or output names (see ``ganbench.selection``). ``match_sizes``: real
    and generated sets of equal size (the protocol of FID, PR and DC): a reference larger
    than ``fake`` is cut to a seeded subset of ``len(fake)`` samples, always the same one.
    Off for real sets a user chose (``ganbench eval`` on files). ``fake_labels``: the
    classes a conditional generator was asked for.
    """
    selection = select_metrics(dataset, metrics, conditional=fake_labels is not None)
    pool = dataset.reference()
    pool_labels = dataset.reference_labels()
    keep = matched_subset(len(pool), len(fake)) if match_sizes else None
    real = pool if keep is None else pool[keep]
    real_labels = None if pool_labels is None else pool_labels if keep is None else pool_labels[keep]
    ctx = EvalContext(
        dataset,
        real,
        fake,
        _extractor_fn(dataset),
        reference_fn=_reference_fn(dataset, real),
        real_labels=real_labels,
        fake_labels=fake_labels,
    )
    scores: dict[str, Any] = {}
    directions = registries().metric_directions()
    for chosen in selection:
        handed = ctx.for_plugin() if _third_party("metrics", chosen.metric.name) else ctx
        for space in chosen.spaces or (None,):
            with blamed("metrics", chosen.metric.name, "compute"):
                values = chosen.metric.compute(handed, space) if space else chosen.metric.compute(handed)
                values = {key: _plain(value) for key, value in values.items()}
                _check_numbers(values, chosen.metric, dataset, (space,) if space else (), directions)
            scores.update(values)
    scores[PROVENANCE] = provenance(ctx, reference_pool=len(pool))
    return scores


def matched_subset(pool: int, n: int) -> torch.Tensor | None:
    """None if a pool of ``pool`` samples has at most ``n``; else the sorted indices of a subset of ``n``
    drawn with REFERENCE_SEED (the same for every run)."""
    if pool <= n:
        return None
    order = torch.randperm(pool, generator=torch.Generator().manual_seed(REFERENCE_SEED))
    return order[:n].sort().values


def _extractor_fn(dataset: Dataset) -> Callable[[str, str, torch.Tensor], torch.Tensor]:
    widths: dict[str, int] = {}
    private: dict[str, Dataset] = {}  # a third-party extractor's own copy of the dataset

    def extract(extractor: str, which: str, samples: torch.Tensor) -> torch.Tensor:
        plugin = _third_party("feature_extractors", extractor)  # handed copies; what it returns, copied (a buffer
        with blamed("feature_extractors", extractor, "extract"):  # it reuses would overwrite the real features)
            given = samples.clone() if plugin else samples
            data = private.setdefault(extractor, private_copy(dataset)) if plugin else dataset
            features = _row_per_sample(registries().feature_extractors.get(extractor).extract(given, data), samples)
            features = features.clone() if plugin else features
            width = widths.setdefault(extractor, features.shape[1])
            if width != features.shape[1]:  # "use one extractor", of one extractor, blamed no one
                raise ValueError(f"its features have {width} columns for one set of samples, {features.shape[1]} for "
                                 "another; one width for all")  # fmt: skip
            return features

    return extract


def _third_party(kind: str, name: str) -> bool:
    """Whether ``name`` of registry ``kind`` is a third-party plugin's: what ganbench hands it, it may change."""
    return third_party(getattr(registries(), kind).entries.get(name))


def _row_per_sample(features: Any, samples: torch.Tensor) -> torch.Tensor:
    """An extractor's output checked where the extractor is the one blamed (ValueError: one line naming its
    plugin): an (N, d) matrix of numbers, one row per sample, finite for finite samples (NaN from samples holding
    NaN are the generator's, which the metric's check says)."""
    strided = isinstance(features, torch.Tensor) and features.layout == torch.strided and not features.is_meta
    if strided and (features.dtype.is_floating_point or features.dtype in (torch.int32, torch.int64)):
        matrix = features  # where it was made (a GPU): checked there, not copied for the check
    else:
        try:
            matrix = real_tensor(features, "its features", FeatureError)
        except FeatureError as exc:
            raise ValueError(str(exc)) from None
    if matrix.dim() != 2 or len(matrix) != len(samples) or not matrix.shape[1]:  # (N, 0): every distance 0
        raise ValueError(
            f"its features must be one row per sample, of shape ({len(samples)}, d) with d >= 1, not "
            f"{tuple(matrix.shape)}"
        )
    if not matrix.is_floating_point() and len(matrix) and int(matrix.abs().max()) > 2**53:
        raise ValueError("its features are integers beyond 2^53, which float64 (where scores are computed) rounds")
    if not bool(torch.isfinite(matrix).all()) and bool(torch.isfinite(samples).all()):
        raise ValueError("its features hold NaN or inf for samples that hold none")
    return matrix


def _reference_fn(dataset: Dataset, real: torch.Tensor) -> Callable[[str, Callable[[], torch.Tensor]], ReferenceStats]:
    """Reference statistics on disk for extractors worth caching, keyed by all that changes them."""
    from ganbench import __version__

    def reference(extractor: str, compute: Callable[[], torch.Tensor]) -> ReferenceStats:
        ext = registries().feature_extractors.get(extractor)
        if not ext.caches_reference:
            return in_memory_reference(extractor, compute)
        key = {  # the extractor's own fingerprint kept apart: its keys cannot replace these
            "dataset": dataset.name,
            "split": getattr(dataset, "split", "reference"),
            "n": len(real),
            "samples_sha256": tensor_sha256(real),
            "extractor": extractor,
            "extractor_fingerprint": _described(extractor, "fingerprint", lambda: ext.fingerprint(dataset)),
            "extractor_code": part_fingerprint(registries().feature_extractors.entries[extractor]),  # as run ids
            "ganbench": __version__,
        }
        return ReferenceStats.cached(key, compute)

    return reference


def _described(extractor: str, call: str, describe: Callable[[], Any]) -> dict[str, Any]:
    """An extractor's ``fingerprint`` or ``provenance``: a mapping a record holds (JSON), blamed on its plugin, not
    on the metric that asked for its features."""
    with blamed("feature_extractors", extractor, call):
        described = describe()
        if not isinstance(described, Mapping):
            raise ValueError(f"it gave {short_repr(described)}, not a mapping of names to values")
        json.dumps(strict_json(dict(described)), sort_keys=True)  # TypeError: a value or key JSON cannot hold
        return dict(described)


def provenance(ctx: EvalContext, reference_pool: int | None = None) -> dict[str, Any]:
    """How the scores were made: sample counts, each feature space used, library versions."""
    extractors = registries().feature_extractors
    features: dict[str, Any] = {}
    for name in sorted(set(ctx.fake_features) | set(ctx.references)):
        info = _described(name, "provenance", lambda name=name: extractors.get(name).provenance(ctx.dataset))
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


def _missing(path: str | Path) -> bool:
    """Whether nothing is at ``path`` (not: whether it can be looked at; a folder this user may not enter is not
    missing, and the reader says why it cannot read it)."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except (OSError, ValueError):
        return False
    return False


@path_errors()
@refused_if_out_of_memory("scoring the samples", "score fewer samples, or name fewer metrics")
def evaluate_samples(
    dataset: str | Path | Dataset,
    samples: Any,
    metrics: Sequence[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Score samples made elsewhere on ``dataset``: a registered name (with ``overrides`` of its
    options, as ``--set dataset.x=``), or real images in an .npz or a folder.

    ``samples``: an array, a tensor, or a path (.npy/.npz/.pt; for images also a folder).
    Real images a user names are used whole; a registered dataset's reference is cut to a
    seeded subset of as many samples as ``samples`` holds.
    """
    check_overrides_and_metrics(overrides, metrics, example="{'dataset.sigma': 0.02}")
    if overrides:  # dataset options, spelled as --set spells them or bare
        bare = {k.removeprefix("dataset."): k for k in overrides}
        if len(bare) < len(overrides):
            twice = next(k for k in overrides if k.startswith("dataset.") and k.removeprefix("dataset.") in overrides)
            raise OptionError(f"option {twice!r} is set twice (also as {twice.removeprefix('dataset.')!r}); keep one")
        overrides = {k.removeprefix("dataset."): v for k, v in overrides.items()}
    if isinstance(samples, str) and not samples.strip():  # "samples  do not exist", of a name never given
        raise SamplesError(f"samples is {samples!r}, which names no file; pass the path of an .npy, .npz or .pt file")
    if isinstance(samples, str | Path):  # as `eval --samples ~/s.npy` reads it (pass 71)
        samples = type(samples)(tilde_expanded(str(samples)))
    ds = resolve_dataset(dataset, overrides)
    if metrics is not None and not metrics:
        raise no_metrics_named(ds)
    named_files = names_real_files(dataset)
    if isinstance(samples, str | Path) and _missing(samples):  # a typo: say the near path
        refuse_link_loop(samples, "samples ")
        near = near_data_paths(str(samples))
        raise SamplesError(
            f"samples {shown_path(samples)} do not exist; "
            + (f"did you mean {', '.join(near)}?" if near else "pass an .npy, .npz or .pt file")
            + (" or a folder of images" if is_image_dataset(ds) and not near else "")
        )
    if is_image_dataset(ds):
        fake = load_image_set(samples) if isinstance(samples, (str, Path)) else as_uint8_nchw(samples)
        where = f"the samples in {shown_path(samples)}" if isinstance(samples, (str, Path)) else "the samples"
        real = f"the real images ({shown_path(dataset)})" if named_files else f"dataset {ds.name!r}"
        if fake.shape[1] == 3 and ds.shape[0] == 1 and bool((fake[:, :1] == fake[:, 1:]).all()):
            fake = fake[:, :1]  # grey images saved as RGB
        if tuple(fake.shape[1:]) != tuple(ds.shape):
            colour = " (grey saved in colour needs three equal channels: lossy formats such as WebP or JPEG break that)"
            raise SamplesError(
                f"{where} are {_layout(fake.shape[1:])}, {real} {_layout(ds.shape)}; generate images like the real "
                f"ones{colour if fake.shape[1] == 3 and ds.shape[0] == 1 else ''}"
            )
        if len(fake) < 2:
            raise SamplesError(f"need at least 2 generated images, got {len(fake)}")
        if int(fake.max()) <= 1:
            values = " and ".join(str(v) for v in fake.unique().tolist())
            warnings.warn(
                f"{where} are all but black (pixel values {values} only, of 0..255): uint8 images span 0..255 and "
                "float images 0..1 (images in [0, 1] saved as uint8? multiply them by 255)",
                stacklevel=2,
            )
    else:
        fake = check_samples(load_samples(samples) if isinstance(samples, (str, Path)) else samples, ds)
    if len(fake) > MAX_EVAL_SAMPLES:  # as a run's eval_samples (pass 97: 5,000,001 points scored for hours, silent)
        raise SamplesError(
            f"{len(fake):,} samples are more than ganbench scores ({MAX_EVAL_SAMPLES:,}); pass a subset of them"
        )
    names = tuple(dict.fromkeys(m.strip() for m in metrics)) if metrics else ds.metrics
    no_labels = (  # a label array beside the samples is not that: eval cannot tell it from the data's own labels
        "scores samples by the classes they were generated for, which eval is not given (runs of a class-conditional "
        "variant compute it)"
    )
    selection = select_metrics(ds, names, why_no_labels=no_labels)
    metric, needed = neediest(ds, selection)
    if len(fake) < needed:
        raise SamplesError(
            f"metric {metric!r} needs at least {needed} samples, got {len(fake)}; pass more samples or other metrics"
        )
    name = str(dataset) if isinstance(dataset, str | Path) else ds.name
    check_reference_fits(name, ds, selection)
    preflight(ds, selection)
    warn_unequal_sizes(ds, len(fake), equal="passing as many samples as there are real ones")
    return strict_json(score(ds, fake, names, match_sizes=not named_files))  # None, not NaN: as the CLI and records


def names_real_files(dataset: str | Path | Dataset) -> bool:
    """Whether ``dataset`` names real images in files (an .npz, a folder): scored whole, where a registered dataset's
    reference is a seeded subset of as many as the samples (the reference rows beside them are scored alike)."""
    if not isinstance(dataset, str | Path) or str(dataset) in registries().datasets:
        return False
    return os.path.lexists(tilde_expanded(str(dataset)))  # a name a plugin claims is no file


def _layout(shape: Sequence[int]) -> str:
    """(1, 28, 28) -> "grey 28x28"; (3, 32, 64) -> "RGB 64x32" (width x height, as every message gives sizes)."""
    channels, height, width = shape
    return f"{'grey' if channels == 1 else 'RGB' if channels == 3 else f'{channels}-channel'} {width}x{height}"


def resolve_dataset(dataset: str | Path | Dataset, overrides: Mapping[str, Any] | None = None) -> Dataset:
    """A registered dataset by name (options applied), or real images from an .npz file or a folder."""
    if isinstance(dataset, Dataset):
        return dataset
    if not isinstance(dataset, str | Path) or not str(dataset).strip():
        raise OptionError(
            f"dataset must be a registered dataset's name, a path to real images or a Dataset, not {dataset!r}"
        )
    datasets = registries().datasets
    if str(dataset) in datasets:
        warn_if_shadowing(str(dataset))  # `eval -d ring8` beside ./ring8 of images: scored against the registered
        return with_options(datasets.get(str(dataset)), overrides or {}, f"dataset {str(dataset)!r}")
    path = Path(tilde_expanded(str(dataset)))  # `eval --dataset=~/x.npz`: the shell leaves ~ after = (pass 71)
    if not path.exists() and (isinstance(dataset, Path) or "/" in str(dataset)):
        raise OptionError(f"dataset {str(dataset)!r} is neither a registered dataset nor an existing folder or file")
    if path.exists() or path.suffix in (".npz", ".npy"):
        if overrides:
            raise OptionError(f"--set dataset.* applies to registered datasets, not to the images in {path}")
        name, claimed = resolve_dataset_name(str(path))  # the dataset `run --dataset PATH` trains on: same labels
        return with_options(datasets.get(name), claimed, f"the images in {shown_path(path)}")
    name, claimed = resolve_dataset_name(str(dataset))  # a plugin's claim, or unknown as `run -d` says it
    options = claimed_and_set(str(dataset), claimed, overrides or {})  # --set applies as `run` applies it
    return with_options(datasets.get(name), options, f"dataset {str(dataset)!r}")


def is_image_dataset(dataset: Dataset) -> bool:
    return len(dataset.shape) == 3


def load_samples(path: str | Path) -> np.ndarray:
    """An array from .npy, or the 'samples' (or only) array of an .npz."""
    return load_array(path, ("samples",))


def check_samples(samples: Any, dataset: Dataset) -> torch.Tensor:
    """Samples as a float32 CPU tensor of shape (N, *dataset.shape), or SamplesError."""
    array = real_tensor(samples).numpy()
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
    top = float(np.finfo(np.float32).max)
    limit = math.sqrt(top / (4 * rows.shape[1]))  # beyond it a squared distance between two samples overflows
    kind = (
        np.finfo
        if np.issubdtype(array.dtype, np.floating)
        else np.iinfo
        if np.issubdtype(array.dtype, np.integer)
        else None
    )
    if kind is not None and float(kind(array.dtype).max) > limit:  # not float16 nor int32: (u)int64 values pass 2**62
        magnitudes = np.abs(rows.astype(np.float64, copy=False))  # abs of int64's minimum would stay negative
        huge = (magnitudes > limit).any(1)
        if huge.any():
            where = (
                f"float32's range (±{top:.3g}), where ganbench scores"
                if magnitudes.max() > top
                else f"±{limit:.3g}, where squared distances overflow float32 (in which ganbench scores)"
            )
            raise SamplesError(
                f"{int(huge.sum())} of {len(array)} samples hold values beyond {where}; first at row "
                f"{int(huge.argmax())}; rescale the samples"
            )
    return torch.as_tensor(array, dtype=torch.float32)


def _clash(name: str, metric: Any) -> Exception:
    """What to raise when ``metric`` gives, beside its outputs, ``name``, another metric's declared output: a
    third-party metric declaring a name a built-in gives as an extra (its ``_std``, its ``_note``) is that plugin's
    to rename, in one line; else the metric that gave it is at fault."""
    registry = registries().metrics
    owner = next((n for n in registry.names() if name in registry.get(n).output_names()), None)
    entry = registry.entries.get(owner) if owner else None
    mine = registry.entries.get(metric.name)
    if third_party(entry) and not third_party(mine):
        return PluginError(
            f"metric {owner!r} of plugin {entry.plugin!r} ({entry.source} {entry.version}) declares the output "
            f"{name!r}, which ganbench's metric {metric.name!r} records too; rename it in the plugin"
        )
    return ValueError(f"it gave {name}, an output of another metric")


def _check_numbers(
    values: dict[str, Any], metric: Any, dataset: Dataset, spaces: tuple[str, ...], directions: dict[str, str]
) -> None:
    """ValueError unless what a metric gave can be recorded and read back: each of its outputs a number (that fits
    a float) within its bounds, or None (an output left out is None); no other metric's output (``directions``
    names every metric's outputs; it would replace that one's number); everything else (notes, per-class lists)
    JSON, its numbers too fitting a float."""
    outputs = metric.output_names(spaces)
    for key in outputs:
        value = values.setdefault(key, None)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"it gave {key} = {short_repr(value)}, not a number or None")
        _fits_a_float(key, value)
    numbers_given = {k: values[k] for k in outputs if not (isinstance(values[k], float) and math.isnan(values[k]))}
    with blamed("metrics", metric.name, "bounds"):  # not blamed on its compute
        bounds = metric.bounds(dataset)
        if not isinstance(bounds, Mapping):
            raise ValueError(f"it gave {short_repr(bounds)}, not a mapping of output names to bounds")
        outside = out_of_bounds(numbers_given, bounds)  # NaN: no score (recorded as null)
    if outside:
        raise ValueError(f"its {outside}")
    unnamed = next((k for k in values if not tabled(k)), None)
    if unnamed is not None:  # tables and history.csv name columns by it
        raise ValueError(f"it gave a value named {short_repr(unnamed)}, not by one line of text without '|'")
    taken = sorted(RESERVED_OUTPUTS.intersection(values))
    if taken:
        raise ValueError(f"it gave {taken[0]}, a name ganbench records something else by (training logs, provenance)")
    others = [k for k in values if k not in outputs and k in directions]
    if others:
        raise _clash(others[0], metric)
    elsewhere = set(metric.output_names(tuple(registries().spaces()))) - set(outputs) if metric.spaces else set()
    stray = next((k for k in values if k in elsewhere), None)
    if stray is not None:  # wfid_raw from a metric asked for space myfeat: filed as raw's, a number raw never made
        raise ValueError(f"it gave {stray}, an output of another feature space than the one it was asked for "
                         f"({', '.join(spaces) or 'none'})")  # fmt: skip
    for key, value in values.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            _fits_a_float(key, value)
    try:  # as the record will be read back; TypeError: not JSON at all
        loads_strict(json.dumps(strict_json(values)))
    except ValueError as exc:  # an integer beyond int64, nested too
        raise ValueError(f"it gave what a record cannot hold: {exc}") from None


def _fits_a_float(key: str, value: numbers.Real) -> None:
    """ValueError naming ``key`` if ``value`` cannot be recorded as a number: an int past every float (10**400), or
    ±inf, which a record (strict JSON) would hold as null, no score, without a word. NaN is no score, said so."""
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"it gave {key} = {short_repr(value)}, too large for a number a record can hold") from None
    if math.isinf(number):
        raise ValueError(f"it gave {key} = {number}, which a record cannot hold; give a finite number, or NaN or "
                         "None for no score")  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, (np.generic, torch.Tensor)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    return value
