"""``frechet`` and ``fid``: the Fréchet distance between Gaussians fitted to real and generated
features (the math is ``ganbench.gaussian``).

On vectors the features are the raw samples (``frechet``); FID on images uses the same
distance on Inception or classifier features.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from ganbench.arrays import check_widths, feature_matrix, feature_pair
from ganbench.gaussian import frechet_distance, gaussian_statistics, singular_note
from ganbench.hookspecs import hookimpl
from ganbench.metric import EvalContext, Metric


def fid_from_features(real: Any, fake: Any) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature rows (FID on Inception features).

    With fewer samples than dimensions a covariance is singular and the value unreliable:
    it is still computed (exactly), with a warning.
    """
    r, f = feature_pair(real, fake, dtype=None)
    note = singular_note(len(r), len(f), r.shape[1])
    if note:
        warnings.warn(note, stacklevel=2)
    return frechet_distance(*gaussian_statistics(r), *gaussian_statistics(f))


def fid_against_reference(ctx: EvalContext, extractor: str) -> tuple[float, str | None]:
    """Fréchet distance of the generated features to the (cached) real statistics, and a note if singular."""
    fake = feature_matrix(ctx.features(extractor, "fake"), "generated features", dtype=None)
    mu, sigma = ctx.reference(extractor).gaussian()
    check_widths(len(mu), fake.shape[1])
    note = singular_note(len(ctx.real), len(fake), len(mu))
    return frechet_distance(mu, sigma, *gaussian_statistics(fake)), note


class Frechet(Metric):
    def compute(self, ctx: EvalContext, space: str | None = "raw") -> dict[str, Any]:
        value, note = fid_against_reference(ctx, space or "raw")
        if note:
            warnings.warn(note, stacklevel=2)
        return {"frechet": value}


class FID(Metric):
    def compute(self, ctx: EvalContext, space: str | None = "inception") -> dict[str, Any]:
        space = space or "inception"
        value, note = fid_against_reference(ctx, space)
        return {f"fid_{space}": value, **({f"fid_{space}_note": note} if note else {})}


FID_METRIC = FID(
    "fid",
    outputs={"fid_{space}": "lower"},
    ranges={"fid_{space}": (0.0, math.inf)},
    description="Fréchet Inception Distance (Heusel et al. 2017), in Inception or classifier space",
    spaces=("inception", "classifier"),
)
FRECHET = Frechet(
    "frechet",
    outputs={"frechet": "lower"},
    ranges={"frechet": (0.0, math.inf)},
    description="Fréchet distance between Gaussians fitted to raw real and generated samples",
    spaces=("raw",),
)


@hookimpl
def register_metrics(register):
    register(FRECHET)
    register(FID_METRIC)
