"""Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), per split.

Takes logits (before softmax), as torch-fidelity does; computed in float64. The samples
are shuffled with numpy RandomState(seed) before splitting, as torch-fidelity does, so
the same seed gives the same splits and the same mean and std.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganbench.arrays import FeatureError, feature_matrix
from ganbench.hookspecs import hookimpl
from ganbench.metric import EvalContext, Metric

TORCH_FIDELITY_SEED = 2020


def inception_score(
    logits: Any, splits: int = 10, shuffle: bool = True, seed: int = TORCH_FIDELITY_SEED
) -> tuple[float, float]:
    """(mean, std over splits) of the Inception Score of class logits (N, classes)."""
    x = feature_matrix(logits, "logits")
    n = len(x)
    if not 1 <= splits <= n:
        raise FeatureError(f"Inception Score needs 1 <= splits <= samples, not {splits} splits of {n} samples")
    if shuffle:
        x = x[np.random.RandomState(seed).permutation(n)]
    log_p = x.log_softmax(dim=1)
    scores = []
    for i in range(splits):
        chunk = log_p[i * n // splits : (i + 1) * n // splits]
        log_marginal = chunk.exp().mean(0).log()
        kl = (chunk.exp() * (chunk - log_marginal)).sum(1).mean()
        scores.append(float(kl.exp()))
    return float(np.mean(scores)), float(np.std(scores))


class InceptionScore(Metric):
    def applies_to(self, dataset) -> bool:
        return len(dataset.shape) == 3

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        logits = ctx.features("inception-logits", "fake")
        mean, std = inception_score(logits, splits=min(10, len(logits)))
        return {"is_inception": mean, "is_inception_std": std}


IS_METRIC = InceptionScore(
    "is", outputs={"is_inception": "higher"}, description="Inception Score, 10 splits (Salimans et al. 2016)"
)


@hookimpl
def register_metrics(register):
    register(IS_METRIC)
