"""Precision, recall, density and coverage on k-nearest-neighbour balls of features.

- ``improved-pr``: Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for
  Assessing Generative Models" (NeurIPS), k = 3.
- ``prdc``: Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative
  Models" (ICML), k = 5: precision, recall, density, coverage.

Definitions as in the ``prdc`` package (the radius of a point is the distance to its k-th
nearest neighbour other than itself; membership is a strict <). Distances are computed in
float64, a block of real rows at a time against all generated rows, so memory grows with
N x block rather than N x N: 50k x 50k stays within a few GB.
"""

from __future__ import annotations

from typing import Any

import torch

from ganbench.arrays import FeatureError, feature_pair
from ganbench.hookspecs import hookimpl
from ganbench.metric import EvalContext, Metric

BLOCK_BYTES = 256 * 2**20


def knn_radii(x: torch.Tensor, k: int, block_bytes: int = BLOCK_BYTES) -> torch.Tensor:
    """Distance from each row of ``x`` to its k-th nearest other row."""
    if k >= len(x):
        raise FeatureError(f"k = {k} nearest neighbours need more than {k} samples, got {len(x)}")
    rows = _block_rows(len(x), block_bytes)
    return torch.cat(
        [
            torch.cdist(x[i : i + rows], x).topk(k + 1, dim=1, largest=False).values[:, -1]
            for i in range(0, len(x), rows)
        ]
    )


def prdc(real: Any, fake: Any, k: int = 5, block_bytes: int = BLOCK_BYTES) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` against ``real`` features (Naeem 2020)."""
    r, f = feature_pair(real, fake)
    real_radii, fake_radii = knn_radii(r, k, block_bytes), knn_radii(f, k, block_bytes)
    inside_real_balls = torch.zeros(len(f), dtype=torch.long)  # per fake: how many real balls hold it
    recalled = torch.zeros(len(r), dtype=torch.bool)
    covered = torch.zeros(len(r), dtype=torch.bool)
    rows = _block_rows(len(f), block_bytes)
    for i in range(0, len(r), rows):
        d = torch.cdist(r[i : i + rows], f)
        inside_real_balls += (d < real_radii[i : i + rows, None]).sum(0)
        recalled[i : i + rows] = (d < fake_radii[None, :]).any(1)
        covered[i : i + rows] = d.min(1).values < real_radii[i : i + rows]
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


def _block_rows(n_columns: int, block_bytes: int) -> int:
    return max(1, block_bytes // (8 * 3 * max(n_columns, 1)))


class PRDC(Metric):
    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        space = ctx.dataset.features
        return prdc(ctx.features(space, "real"), ctx.features(space, "fake"), k=5)


class ImprovedPR(Metric):
    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        space = ctx.dataset.features
        scores = precision_recall(ctx.features(space, "real"), ctx.features(space, "fake"), k=3)
        return {"improved_precision": scores["precision"], "improved_recall": scores["recall"]}


PRDC_METRIC = PRDC(
    "prdc",
    outputs={"precision": "higher", "recall": "higher", "density": "higher", "coverage": "higher"},
    description="precision, recall, density, coverage at k = 5 (Naeem et al. 2020)",
)
IMPROVED_PR = ImprovedPR(
    "improved-pr",
    outputs={"improved_precision": "higher", "improved_recall": "higher"},
    description="improved precision and recall at k = 3 (Kynkäänniemi et al. 2019)",
)


@hookimpl
def register_metrics(register):
    register(PRDC_METRIC)
    register(IMPROVED_PR)
