"""Reference rows: the metrics of samples whose quality is known, scored as a run's samples are.

A mixture metric means little alone: on grid25 uniform noise captures 16 of 25 modes, and one
Gaussian fitted to the data beats real samples on the Fréchet distance (a Gaussian fit cannot
see modes). So tables show, beside the variants, the same metrics at the same N and evaluation
seed on four samplers of each mixture:

- ``real``: fresh samples of the mixture (the ceiling);
- ``gaussian``: one Gaussian with the training data's mean and covariance;
- ``uniform``: uniform noise over the training data's bounding box;
- ``one-mode``: samples of the first component only (total collapse).

Image datasets get the same four rows, where they are cheap (every space but Inception's, whose
features take minutes per row on a CPU): ``real`` is N images of the dataset's other split when
its files are on disk (test images against a training reference: the ceiling a GAN is measured
by), else N of its own images drawn with replacement (a generator that memorises its data);
``gaussian`` one Gaussian over the pixels fitted to the reference images; ``uniform`` pixels of
uniform noise; ``one-mode`` one image N times. Labelled data give the real images their labels,
the one image its own, and the noise rows random classes, so per-class metrics have rows too.

They are references, never ranked among variants. ``floor_warnings`` names each metric on which
a floor scores at least as well as the ceiling: that metric cannot tell a GAN from that floor there.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch

from ganbench.dataset import Dataset
from ganbench.devices import memory_line
from ganbench.errors import MORE_MEMORY, GanbenchError, one_line

KINDS = ("real", "gaussian", "uniform", "one-mode")
CEILING, FLOORS = "real", ("gaussian", "uniform", "one-mode")


SKIPPED_SPACE = "_inception"
"""Outputs of the Inception space (``fid_inception``...) get no image reference rows: minutes each on a CPU."""


def has_references(dataset: Dataset) -> bool:
    """Whether ``dataset`` has reference rows: mixtures (their modes say what the samplers are) and images."""
    return dataset.modes is not None or dataset.data_kind == "images"


def reference_note(dataset: Dataset, n: int | None = None) -> str:
    """What the reference rows of ``dataset`` are, in one sentence for the notes under a table."""
    size = f"{n:,} samples each, " if n else ""
    if dataset.modes is not None:
        return (
            f"[real], [gaussian], [uniform], [one-mode]: reference rows, not runs: {size}the same metrics at the "
            "runs' N and evaluation seed on fresh samples of the data (the ceiling), one Gaussian fitted to the data, "
            "uniform noise over the data's box, and everything on one mode (total collapse); never ranked or bold."
        )
    return (
        f"[real], [gaussian], [uniform], [one-mode]: reference rows, not runs: {size}the same metrics at the runs' N "
        f"on {_real_source(dataset)[1]} (the ceiling), one Gaussian over the pixels fitted to the reference images, "
        "uniform pixel noise, and one image repeated (total collapse); Inception-space metrics have none (minutes "
        "on a CPU); never ranked or bold."
    )


def reference_samples(dataset: Dataset, kind: str, n: int, seed: int) -> torch.Tensor:
    """``n`` samples of reference ``kind`` (float32 for mixtures, the dataset's uint8 for images), from ``seed``."""
    return reference_draw(dataset, kind, n, seed)[0]


def reference_draw(dataset: Dataset, kind: str, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` samples of reference ``kind`` and, for labelled images, their classes; reproducible from ``seed``."""
    if kind not in KINDS:
        raise ValueError(f"unknown reference kind {kind!r}; one of {', '.join(KINDS)}")
    if dataset.modes is None and dataset.data_kind == "images":
        return _image_draw(dataset, kind, n, seed)
    return _mixture_samples(dataset, kind, n, seed), None


def _mixture_samples(dataset: Dataset, kind: str, n: int, seed: int) -> torch.Tensor:
    modes = dataset.modes
    if modes is None:
        raise ValueError(f"dataset {dataset.name!r} has no reference rows (only mixtures and images do)")
    gen = torch.Generator().manual_seed(seed)
    means = torch.as_tensor(modes.means, dtype=torch.float64)
    dim = means.shape[1]
    if kind == "real":
        chosen = torch.randint(len(means), (n,), generator=gen)
        return (means[chosen] + modes.sigma * torch.randn(n, dim, generator=gen, dtype=torch.float64)).float()
    if kind == "one-mode":
        return (means[0] + modes.sigma * torch.randn(n, dim, generator=gen, dtype=torch.float64)).float()
    data = dataset.load().double()
    if kind == "uniform":
        low, high = data.min(0).values, data.max(0).values
        return (low + (high - low) * torch.rand(n, dim, generator=gen, dtype=torch.float64)).float()
    if kind == "gaussian":
        return fitted_gaussian(data, n, gen).float()
    raise AssertionError(kind)


def _real_source(dataset: Dataset) -> tuple[Dataset | None, str]:
    """The dataset's other split when it has one on disk, and how the real row's images are described."""
    from ganbench.options import options_of, with_options

    options = options_of(dataset)
    split = options.get("split")
    if split in ("train", "test"):
        other = "test" if split == "train" else "train"
        whole = {"n_samples": None} if "n_samples" in options else {}  # the other split whole, not a subset of it
        held_out = with_options(dataset, {"split": other, **whole}, f"dataset {dataset.name!r}")
        if held_out.available():
            return held_out, f"{dataset.name}'s {other} images"
    return None, "the data's own images drawn with replacement"


def _image_draw(dataset: Dataset, kind: str, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    gen = torch.Generator().manual_seed(seed)
    pool, pool_labels = dataset.reference(), dataset.reference_labels()
    classes = dataset.n_classes if pool_labels is not None else 0
    if kind == "real":
        held_out, _ = _real_source(dataset)
        if held_out is not None:
            pool, pool_labels = held_out.reference(), held_out.reference_labels()
            order = torch.randperm(len(pool), generator=gen)
            index = order[:n] if len(pool) >= n else torch.randint(len(pool), (n,), generator=gen)
        else:
            index = torch.randint(len(pool), (n,), generator=gen)
        return pool[index], None if pool_labels is None else pool_labels[index]
    if kind == "one-mode":
        index = torch.randint(len(pool), (1,), generator=gen).expand(n)
        return pool[index].clone(), None if pool_labels is None else pool_labels[index].clone()
    labels = torch.randint(classes, (n,), generator=gen) if classes else None
    if kind == "uniform":
        return torch.randint(256, (n, *pool.shape[1:]), generator=gen, dtype=torch.uint8), labels
    draws = fitted_gaussian(pool.reshape(len(pool), -1).double(), n, gen)
    return draws.round().clamp(0, 255).to(torch.uint8).reshape(n, *pool.shape[1:]), labels


def fitted_gaussian(data: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` float64 draws of the Gaussian with the mean and covariance of ``data`` (N, D), through an
    eigendecomposition: a square root that a singular covariance (2 points, constant pixels) allows."""
    mean = data.mean(0)
    dim = data.shape[1]
    cov = torch.cov(data.T).reshape(dim, dim) if len(data) > 1 else torch.zeros(dim, dim, dtype=torch.float64)
    values, vectors = torch.linalg.eigh(cov)
    root = vectors * values.clamp(min=0).sqrt()
    return mean + torch.randn(n, dim, generator=gen, dtype=torch.float64) @ root.T


def reference_scores(
    dataset: Dataset, metrics: Sequence[str], n: int, seed: int, match_sizes: bool = True
) -> dict[str, dict[str, Any]]:
    """kind -> the scores of its ``n`` samples on ``metrics`` (metric or output names), as evaluation scores them
    (``match_sizes`` as ``score``'s: False against a user's real images whole, as their samples were); for images,
    less the Inception space's outputs."""
    from ganbench.evaluation import score

    images = dataset.modes is None
    names = [m for m in metrics if not (images and m.endswith(SKIPPED_SPACE))]
    scores = {}
    for kind in KINDS:
        samples, labels = reference_draw(dataset, kind, n, seed)
        scores[kind] = score(dataset, samples, names, fake_labels=labels, match_sizes=match_sizes) if names else {}
    return scores


def floor_warnings(scores: Mapping[str, Mapping[str, Any]], directions: Mapping[str, str], dataset: str) -> list[str]:
    """One line per metric on which a floor scores at least as well as the real samples."""
    lines = []
    ceiling = scores.get(CEILING, {})
    for metric, best in ceiling.items():
        if metric not in directions or not _number(best):
            continue
        higher = directions[metric] == "higher"
        beaten = [
            f"{kind} {scores[kind][metric]:.4g}"
            for kind in FLOORS
            if _number(scores.get(kind, {}).get(metric))
            and (scores[kind][metric] >= best if higher else scores[kind][metric] <= best)
        ]
        if beaten:
            lines.append(
                f"{metric} on {dataset}: {' and '.join(beaten)} against real samples' {best:.4g}; "
                "it cannot tell these samples apart from the data here"
            )
    return lines


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def reference_table(
    runs: pd.DataFrame, metrics: Sequence[str], directions: Mapping[str, str], spread: str = "std"
) -> tuple[pd.DataFrame, list[str]]:
    """Rows in ``tables.summarize``'s shape for every mixture the completed ``runs`` were scored on (at their N
    and evaluation seed), variants named ``[real]``, ``[gaussian]``, ... and never bold; and the notes to print
    under the table: what the rows are, and ``floor_warnings``."""
    from ganbench.options import with_options
    from ganbench.plugins import blamed, registries
    from ganbench.resolve import part_fingerprint

    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    described: dict[str, None] = {}  # one note per kind of reference rows, in order
    if runs.empty or "scored_on" not in runs:
        return pd.DataFrame(rows), notes
    done = runs[runs["status"] == "completed"]
    labels = scored_on_labels(list(dict.fromkeys(done["scored_on"])))
    for key in labels:
        parsed = json.loads(key)
        name, options, n, seed = parsed[:4]
        chosen = _chosen_code(parsed)  # the runs' code "data", "features", "dataset", where they have them
        read = chosen.get("data")
        which = f"{name} ({labels[key]})" if labels[key] else name
        try:
            dataset = with_options(registries().datasets.get(name), options, f"dataset {name!r}")
        except Exception as exc:  # not registered here, or options this version refuses (images since changed)
            fact = one_line(exc).split("; ")[0]  # its advice ("pass a folder of images") is for commands that take
            notes.append(f"no reference rows for {which}: {fact}")  # a dataset, not `table`'s or `plot`'s (pass 75)
            continue
        if not has_references(dataset) or not isinstance(n, int) or not isinstance(seed, int):
            continue
        group = done[done["scored_on"] == key]
        present = [m for m in metrics if m in group and group[m].notna().any()]
        if not present:
            continue
        if dataset.available() is False:  # never fetch data (or lock its folder) to print a table
            notes.append(f"no reference rows for {which}: its files are not in the data root here (GANBENCH_DATA)")
            continue
        try:
            with blamed("datasets", name, "data_identity"):
                here = dataset.data_identity()
        except GanbenchError as exc:  # a plugin's: the runs' scores stand
            notes.append(f"no reference rows for {which}: {one_line(exc)}")
            continue
        if (here or read) and here != read:  # the rows would be of other files than the runs' (pass 78)
            notes.append(f"no reference rows for {which}: its files here are not those its runs read")
            continue
        made_by = chosen.get("dataset")
        if made_by is not None and made_by != part_fingerprint(registries().datasets.entries[name]):
            notes.append(f"no reference rows for {which}: its code here is not the code its runs' data came from")
            continue  # (pass 81: a plugin's ring, its radius edited since)
        try:
            scores = reference_scores(dataset, present, n, seed)
        except GanbenchError as exc:
            notes.append(f"no reference rows for {which}: {one_line(exc)}")
            continue
        except Exception as exc:  # out of memory: the runs' scores are still there to show (`plot`, `table`)
            line = memory_line(exc, "scoring them", MORE_MEMORY, data_fixed=True)
            if line is None:
                raise
            notes.append(f"no reference rows for {which}: {line}")
            continue
        for kind in KINDS:
            row: dict[str, Any] = {
                "dataset": name,
                "variant": f"[{kind}]",
                "setting": labels[key],
                "n": "–",
                "diverged": "–",
            }
            for metric in metrics:
                value = scores[kind].get(metric)
                row[f"{metric}_mean"] = float(value) if _number(value) else math.nan
                row[f"{metric}_{spread}"] = math.nan
                row[f"{metric}_n"] = int(_number(value))
                row[f"{metric}_missing"] = 0
                row[f"{metric}_best"] = False
            rows.append(row)
        notes += floor_warnings(scores, {m: directions[m] for m in present if m in directions}, which)  # its setting
        described.setdefault(reference_note(dataset), None)
    return pd.DataFrame(rows), [*described, *notes]


def _chosen_code(parsed: list[Any]) -> dict[str, Any]:
    """The code parts a ``scored_on`` key holds (data, features, dataset), or {}."""
    return parsed[4] if len(parsed) > 4 and isinstance(parsed[4], dict) else {}


def scored_on_labels(keys: Sequence[str]) -> dict[str, str]:
    """``scored_on`` key -> what tells its reference rows from those of other keys of the same dataset (another
    folder of images, other dataset options, another N): '' where a dataset has one key."""
    parsed = {key: json.loads(key) for key in keys}
    labels = dict.fromkeys(keys, "")
    for name in dict.fromkeys(p[0] for p in parsed.values()):
        mine = [k for k, p in parsed.items() if p[0] == name]
        if len(mine) < 2:
            continue
        flat = {
            k: {
                **{f"dataset.{o}": v for o, v in (parsed[k][1] or {}).items()},
                "eval_samples": parsed[k][2],
                "eval_seed": parsed[k][3],
                **{f"code.{part}": v for part, v in _chosen_code(parsed[k]).items()},  # as runs' labels name it
            }
            for k in mine
        }
        fields = list(dict.fromkeys(f for k in mine for f in flat[k]))
        differing = [f for f in fields if len({json.dumps(flat[k].get(f), sort_keys=True) for k in mine}) > 1]
        if len(differing) > 1:  # a digest that changes with its path says nothing more
            differing = [f for f in differing if f != "dataset.sha256"]
        for k in mine:
            labels[k] = ", ".join(f"{f}={flat[k].get(f)}" for f in differing)
    return labels
