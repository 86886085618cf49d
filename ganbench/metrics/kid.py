"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs", ICLR).

Unbiased MMD^2 with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over
``subsets`` random subsets of ``subset_size`` samples from each side. The subsets are
drawn exactly as torch-fidelity draws them (numpy RandomState(seed), real then fake), so
with the same seed both give the same number; kernels are computed in float64. Below 1,000
samples a side the subsets are as large as the samples; where both sides are that small,
every subset is the whole of both and the spread over subsets is null, not a false 0.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import torch

from ganbench.arrays import FeatureError, feature_pair, whole_argument
from ganbench.hookspecs import hookimpl
from ganbench.metric import EvalContext, Metric

TORCH_FIDELITY_SEED = 2020


def mmd2_unbiased(
    x: torch.Tensor, y: torch.Tensor, degree: int = 3, gamma: float | None = None, coef0: float = 1.0
) -> float:
    """Unbiased MMD^2 between two equal-size samples under the polynomial kernel."""
    m = len(x)
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    k_xx = (x @ x.T * gamma + coef0) ** degree
    k_yy = (y @ y.T * gamma + coef0) ** degree
    k_xy = (x @ y.T * gamma + coef0) ** degree
    off_diagonal = k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()
    return float(off_diagonal / (m * (m - 1)) - 2 * k_xy.sum() / (m * m))


def kid(
    real: Any,
    fake: Any,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    seed: int = TORCH_FIDELITY_SEED,
) -> tuple[float, float]:
    """(mean, std) of unbiased MMD^2 over seeded subsets; torch-fidelity's defaults."""
    subsets, subset_size = whole_argument(subsets, "subsets", 1), whole_argument(subset_size, "subset_size", 2)
    seed = whole_argument(seed, "seed", 0, 2**32 - 1)  # numpy's RandomState's
    r, f = feature_pair(real, fake)
    if subset_size > min(len(r), len(f)):
        raise FeatureError(
            f"KID subset_size {subset_size} is larger than the sample count ({len(r)} real, {len(f)} generated); "
            "lower subset_size or score more samples"
        )
    if isinstance(degree, bool) or not isinstance(degree, numbers.Integral) or degree < 1:  # 0: a constant kernel
        raise FeatureError(f"KID's polynomial kernel needs degree >= 1, not {degree!r}")
    degree = int(degree)
    largest = max(float(r.abs().max()), float(f.abs().max()))  # (x.y / d + 1)^degree, summed over subset_size^2,
    if largest and degree * 4 * math.log10(largest + 1) + 2 * math.log10(subset_size) > 300:  # squared in the std
        raise FeatureError(
            f"features as large as {largest:.3g} overflow KID's polynomial kernel of degree {degree} in float64 "
            "(NaN or inf); rescale them"
        )
    rng = np.random.RandomState(seed)
    mmds = np.empty(subsets)
    for i in range(subsets):
        ri = torch.from_numpy(rng.choice(len(r), subset_size, replace=False))
        fi = torch.from_numpy(rng.choice(len(f), subset_size, replace=False))
        mmds[i] = mmd2_unbiased(r[ri], f[fi], degree)
    return float(mmds.mean()), float(mmds.std())


class KID(Metric):
    def compute(self, ctx: EvalContext, space: str | None = "inception") -> dict[str, Any]:
        space = space or "inception"
        real, fake = ctx.features(space, "real"), ctx.features(space, "fake")
        size = min(1000, len(real), len(fake))
        mean, std = kid(real, fake, subset_size=size)
        whole = size == len(real) == len(fake)  # every subset is both whole sets: one value, drawn 100 times
        return {f"kid_{space}": mean, f"kid_{space}_std": None if whole else std}


KID_METRIC = KID(
    "kid",
    outputs={"kid_{space}": "lower"},
    description="kernel inception distance: unbiased MMD^2, cubic kernel, 100 subsets (Binkowski et al. 2018)",
    spaces=("raw", "inception", "classifier"),
)


@hookimpl
def register_metrics(register):
    register(KID_METRIC)
