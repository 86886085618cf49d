"""``modes``: mode coverage on mixtures, the protocol of VEEGAN (2017) and PacGAN (2018).

Each generated sample goes to its nearest mode mean; it is high quality if that distance
is at most 3 sigma. A mode is captured if it has at least one high-quality sample.
hq_fraction = high-quality samples / N; reverse_kl = KL(p_gen || uniform) over the K
modes, p_gen the mode histogram of the high-quality samples (NaN when there are none).
Samples from the true mixture score all modes, hq_fraction = 1 - exp(-9/2) ~ 0.989 in
2-D, reverse_kl ~ 0; all samples on one mode score 1 mode and reverse_kl = log K.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ganbench.dataset import Dataset, Modes
from ganbench.hookspecs import hookimpl
from ganbench.metric import Bound, EvalContext, Metric

HQ_SIGMAS = 3.0


BLOCK = 2**22
"""Differences computed at once (32 MiB of float64): a ring of 10^6 modes needed 37 GiB for 2,500 samples at once."""


def nearest_modes(samples: np.ndarray, means: np.ndarray, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest mean, distance to it) for each sample, in float64; samples a block at a time."""
    x = np.asarray(samples, dtype=np.float64)
    mu = np.asarray(means, dtype=np.float64)
    rows = max(1, block // max(1, mu.size))
    idx, nearest = np.zeros(len(x), dtype=np.int64), np.zeros(len(x))
    for start in range(0, len(x), rows):
        dist = np.sqrt(((x[start : start + rows, None, :] - mu[None, :, :]) ** 2).sum(-1))
        idx[start : start + rows] = dist.argmin(1)
        nearest[start : start + rows] = dist[np.arange(len(dist)), idx[start : start + rows]]
    return idx, nearest


def mode_histogram(samples: np.ndarray, modes: Modes, hq_sigmas: float = HQ_SIGMAS) -> np.ndarray:
    """High-quality samples per mode."""
    idx, dist = nearest_modes(samples, modes.means)
    hq = dist <= hq_sigmas * modes.sigma
    return np.bincount(idx[hq], minlength=len(modes.means))


def captured_modes(samples: np.ndarray, modes: Modes) -> np.ndarray:
    """Boolean mask of the modes with at least one high-quality sample."""
    return mode_histogram(samples, modes) > 0


def mode_coverage(samples: np.ndarray, modes: Modes, hq_sigmas: float = HQ_SIGMAS) -> dict[str, float]:
    """modes_captured, hq_fraction and reverse_kl of ``samples`` against ``modes``."""
    counts = mode_histogram(samples, modes, hq_sigmas)
    n_hq = int(counts.sum())
    k = len(counts)
    if n_hq:
        p = counts[counts > 0] / n_hq
        reverse_kl = float((p * np.log(p)).sum() + math.log(k))
    else:
        reverse_kl = math.nan
    return {
        "modes_captured": int((counts > 0).sum()),
        "hq_fraction": n_hq / len(samples),
        "reverse_kl": reverse_kl,
    }


class ModeCoverage(Metric):
    def applies_to(self, dataset: Dataset) -> bool:
        return dataset.modes is not None

    def bounds(self, dataset: Dataset | None = None) -> dict[str, Bound]:
        bounds = super().bounds(dataset)
        if dataset is not None and dataset.modes is not None:
            k = len(dataset.modes.means)
            bounds["modes_captured"] = Bound(0, k, whole=True)
            bounds["reverse_kl"] = Bound(0, math.log(k))  # everything on one mode
        return bounds

    def compute(self, ctx: EvalContext, space: str | None = None) -> dict[str, Any]:
        return mode_coverage(ctx.fake.reshape(len(ctx.fake), -1).double().numpy(), ctx.dataset.modes)


MODES = ModeCoverage(
    "modes",
    outputs={"modes_captured": "higher", "hq_fraction": "higher", "reverse_kl": "lower"},
    ranges={"modes_captured": Bound(0, math.inf, whole=True), "hq_fraction": (0.0, 1.0), "reverse_kl": (0.0, math.inf)},
    description="mixture modes captured, high-quality fraction, reverse KL to uniform (PacGAN protocol)",
)


@hookimpl
def register_metrics(register):
    register(MODES)
