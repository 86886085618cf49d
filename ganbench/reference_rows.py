"""Reference rows: the metrics of samples whose quality is known, scored as a run's samples are.

A mixture metric means little alone: on grid25 uniform noise captures 16 of 25 modes, and one
Gaussian fitted to the data beats real samples on the Fréchet distance (a Gaussian fit cannot
see modes). So tables show, beside the variants, the same metrics at the same N and evaluation
seed on four samplers of each mixture:

- ``real``: fresh samples of the mixture (the ceiling);
- ``gaussian``: one Gaussian with the training data's mean and covariance;
- ``uniform``: uniform noise over the training data's bounding box;
- ``one-mode``: samples of the first component only (total collapse).

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

KINDS = ("real", "gaussian", "uniform", "one-mode")
CEILING, FLOORS = "real", ("gaussian", "uniform", "one-mode")


def has_references(dataset: Dataset) -> bool:
    """Whether ``dataset`` has reference rows (mixtures: their modes say what the samplers are)."""
    return dataset.modes is not None


def reference_samples(dataset: Dataset, kind: str, n: int, seed: int) -> torch.Tensor:
    """``n`` float32 samples of reference ``kind`` for a mixture, reproducible from ``seed``."""
    modes = dataset.modes
    if modes is None:
        raise ValueError(f"dataset {dataset.name!r} has no reference rows (only mixtures do)")
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
        mean = data.mean(0)
        cov = torch.cov(data.T).reshape(dim, dim) if len(data) > 1 else torch.zeros(dim, dim, dtype=torch.float64)
        values, vectors = torch.linalg.eigh(cov)  # a square root that a singular covariance (2 points) allows
        root = vectors * values.clamp(min=0).sqrt()
        return (mean + torch.randn(n, dim, generator=gen, dtype=torch.float64) @ root.T).float()
    raise ValueError(f"unknown reference kind {kind!r}; one of {', '.join(KINDS)}")


def reference_scores(dataset: Dataset, metrics: Sequence[str], n: int, seed: int) -> dict[str, dict[str, Any]]:
    """kind -> the scores of its ``n`` samples on ``metrics`` (metric or output names), as evaluation scores them."""
    from ganbench.evaluation import score

    return {kind: score(dataset, reference_samples(dataset, kind, n, seed), metrics) for kind in KINDS}


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
    from ganbench.plugins import registries

    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    if runs.empty or "scored_on" not in runs:
        return pd.DataFrame(rows), notes
    done = runs[runs["status"] == "completed"]
    for key in dict.fromkeys(done["scored_on"]):
        name, options, n, seed = json.loads(key)
        try:
            dataset = with_options(registries().datasets.get(name), options, f"dataset {name!r}")
        except Exception:  # not registered here, or options this version refuses: no reference rows
            continue
        if not has_references(dataset) or not isinstance(n, int) or not isinstance(seed, int):
            continue
        group = done[done["scored_on"] == key]
        present = [m for m in metrics if m in group and group[m].notna().any()]
        if not present:
            continue
        scores = reference_scores(dataset, present, n, seed)
        for kind in KINDS:
            row: dict[str, Any] = {"dataset": name, "variant": f"[{kind}]", "setting": "", "n": "–", "diverged": "–"}
            for metric in metrics:
                value = scores[kind].get(metric)
                row[f"{metric}_mean"] = float(value) if _number(value) else math.nan
                row[f"{metric}_{spread}"] = math.nan
                row[f"{metric}_n"] = int(_number(value))
                row[f"{metric}_missing"] = 0
                row[f"{metric}_best"] = False
            rows.append(row)
        notes += floor_warnings(scores, {m: directions[m] for m in present if m in directions}, name)
    if rows:
        notes.insert(
            0,
            "[real], [gaussian], [uniform], [one-mode]: reference rows, not runs: the same metrics at the runs' N and "
            "evaluation seed on fresh samples of the data (the ceiling), one Gaussian fitted to the data, uniform "
            "noise over the data's box, and everything on one mode (total collapse); never ranked or bold.",
        )
    return pd.DataFrame(rows), notes
