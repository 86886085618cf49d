"""Precision, recall, density and coverage on k-nearest-neighbour balls of features.

- ``improved-pr``: Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for
  Assessing Generative Models" (NeurIPS), k = 3.
- ``prdc``: Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative
  Models" (ICML), k = 5: precision, recall, density, coverage.

Definitions as in the ``prdc`` package: the radius of a point is the distance to its k-th
nearest neighbour other than itself, and membership of a ball is a strict <. Distances
and radii come from ``ganbench.neighbours`` (float32 with error bounds); a membership is
decided in float32 only where the bounds cannot change it, and the few pairs too close
to call are recomputed in float64 from the input rows, so the values equal ``prdc``'s.
Real and generated sets are compared at equal sizes (evaluation draws a seeded subset of
the reference), the protocol of both papers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ganbench.arrays import FeatureError, feature_pair, real_tensor, whole_argument
from ganbench.hookspecs import hookimpl
from ganbench.metric import EvalContext, Metric
from ganbench.neighbours import (
    BLOCK_BYTES,
    BYTES_PER_ENTRY,
    Radii,
    exact_sq_distances,
    fast_sq_distances,
    in_chunks,
    knn,
    points_pair,
)


def _pairs_exact(a: torch.Tensor, i: torch.Tensor, b: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """Exact squared distances of the pairs (a[i], b[j])."""
    return in_chunks(len(i), 16 * a.shape[1], lambda c: exact_sq_distances(a[i[c]], b[j[c]]))


def _inside(
    d2: torch.Tensor,
    bound: torch.Tensor,
    radii: Radii,
    owner: torch.Tensor,
    exact_d2: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """Per pair: float32 d2 within ``bound`` of the truth < radius^2 of its ``owner`` point?

    Decided in float32 where the bounds allow, in float64 (``exact_d2(pairs)``) where they cannot.
    """
    low, high = radii.interval(owner)
    inside = d2 + bound < low
    unsure = torch.nonzero((d2 - bound < high).logical_and_(~inside)).flatten()
    if len(unsure):
        inside[unsure] = exact_d2(unsure).sqrt() < radii.exact(owner[unsure])
    return inside


def prdc(
    real: Any,
    fake: Any,
    k: int = 5,
    block_bytes: int = BLOCK_BYTES,
    real_radii: Any | None = None,
) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` against ``real`` features (Naeem 2020).

    ``real_radii``: the real rows' k-NN radii when known (cached reference statistics).
    """
    block_bytes = whole_argument(block_bytes, "block_bytes", 1)
    r, f = feature_pair(real, fake, dtype=None)
    scale = _power_of_two_scale(r, f)  # PR/DC are the same at any scale; float32 squares are not
    if scale != 1.0:
        r, f = r / scale, f / scale  # exact: a power of two
    if real_radii is not None:
        real_radii = real_tensor(real_radii, "real_radii", FeatureError).double() / scale
    pr, pf = points_pair(r, f)
    real_balls = knn(pr, k, block_bytes) if real_radii is None else Radii.given(real_radii, len(r))
    fake_balls = knn(pf, k, block_bytes)
    inside_real_balls = torch.zeros(len(f), dtype=torch.long)  # per fake: how many real balls hold it
    recalled = torch.zeros(len(r), dtype=torch.bool)
    covered = torch.zeros(len(r), dtype=torch.bool)
    # a pair can be inside (or too close to call) only below these, the upper ends of the radii plus bounds
    reach_real = real_balls.interval(slice(None))[1] + pr.bound32 + pf.bound32.max()
    reach_fake = fake_balls.interval(slice(None))[1] + pf.bound32 + pr.bound32.max()
    step = _block_rows(len(f), block_bytes)
    for start in range(0, len(r), step):
        rows = slice(start, min(len(r), start + step))
        d2 = fast_sq_distances(pr, rows, pf)
        near = (d2 < reach_real[rows, None]).logical_or_(d2 < reach_fake[None, :])
        i, j = torch.nonzero(near, as_tuple=True)
        d2 = d2[i, j]
        i += start
        bound = pr.bound32[i] + pf.bound32[j]
        exact = lambda pairs, i=i, j=j: _pairs_exact(r, i[pairs], f, j[pairs])  # noqa: E731
        in_real = _inside(d2, bound, real_balls, i, exact)
        inside_real_balls += torch.bincount(j[in_real], minlength=len(f))
        covered[i[in_real]] = True
        recalled[i[_inside(d2, bound, fake_balls, j, exact)]] = True
    return {
        "precision": float((inside_real_balls > 0).double().mean()),
        "recall": float(recalled.double().mean()),
        "density": float(inside_real_balls.double().sum() / (k * len(f))),
        "coverage": float(covered.double().mean()),
    }


def precision_recall(real: Any, fake: Any, k: int = 3, block_bytes: int = BLOCK_BYTES) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi 2019), k = 3 by default."""
    scores = prdc(real, fake, k, block_bytes)
    return {"precision": scores["precision"], "recall": scores["recall"]}


def _power_of_two_scale(r: torch.Tensor, f: torch.Tensor) -> float:
    """1.0, or the power of two to divide features by so that their squared distances neither overflow float32
    (values beyond ~1e18: precision 0.52 where it is 0.92, at 1e20 every output 0) nor vanish in it."""
    largest = max(float(r.abs().max()), float(f.abs().max()))
    if largest == 0 or 2.0**-40 <= largest <= 2.0**40:
        return 1.0
    return 2.0 ** math.floor(math.log2(largest))


def _block_rows(n_columns: int, block_bytes: int) -> int:
    return max(1, block_bytes // (BYTES_PER_ENTRY * max(n_columns, 1)))


def _against_reference(ctx: EvalContext, space: str, k: int, prefix: str = "") -> dict[str, float]:
    """PR/DC in one feature space, outputs named ``{prefix}{name}_{space}``."""
    ref = ctx.reference(space)
    scores = prdc(ref.features, ctx.features(space, "fake"), k=k, real_radii=ref.radii(k))
    return {f"{prefix}{name}_{space}": value for name, value in scores.items()}


PRDC_K = 5  # Naeem et al. 2020
IMPROVED_PR_K = 3  # Kynkäänniemi et al. 2019


class PRDC(Metric):
    def compute(self, ctx: EvalContext, space: str | None = "inception") -> dict[str, Any]:
        return _against_reference(ctx, space or "inception", k=PRDC_K)


class ImprovedPR(Metric):
    def compute(self, ctx: EvalContext, space: str | None = "inception") -> dict[str, Any]:
        scores = _against_reference(ctx, space or "inception", k=IMPROVED_PR_K, prefix="improved_")
        return {k: v for k, v in scores.items() if "precision" in k or "recall" in k}


SPACES = ("raw", "inception", "classifier")
PRDC_METRIC = PRDC(
    "prdc",
    outputs={f"{name}_{{space}}": "higher" for name in ("precision", "recall", "density", "coverage")},
    ranges={
        f"{name}_{{space}}": (0.0, math.inf if name == "density" else 1.0)
        for name in ("precision", "recall", "density", "coverage")
    },
    description="precision, recall, density, coverage at k = 5 (Naeem et al. 2020)",
    spaces=SPACES,
    min_samples=PRDC_K + 1,  # a k-NN radius needs k other samples
)
IMPROVED_PR = ImprovedPR(
    "improved-pr",
    outputs={f"improved_{name}_{{space}}": "higher" for name in ("precision", "recall")},
    ranges={f"improved_{name}_{{space}}": (0.0, 1.0) for name in ("precision", "recall")},
    description="improved precision and recall at k = 3 (Kynkäänniemi et al. 2019)",
    spaces=SPACES,
    min_samples=IMPROVED_PR_K + 1,
)


@hookimpl
def register_metrics(register):
    register(PRDC_METRIC)
    register(IMPROVED_PR)
