"""Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), per split. In classifier
space (the logits of ganbench's dataset classifier) it is the "classifier score".

Takes logits (before softmax), as torch-fidelity does; computed in float64. The samples
are shuffled with numpy RandomState(seed) before splitting, as torch-fidelity does, so
the same seed gives the same splits and the same mean and std.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ganbench.arrays import FeatureError, feature_matrix, whole_argument
from ganbench.hookspecs import hookimpl
from ganbench.metric import EvalContext, Metric

TORCH_FIDELITY_SEED = 2020
SPLITS = 10
"""The papers' splits (Salimans et al. 2016; torch-fidelity's default)."""


def inception_score(
    logits: Any, splits: int = 10, shuffle: bool = True, seed: int = TORCH_FIDELITY_SEED
) -> tuple[float, float]:
    """(mean, std over splits) of the Inception Score of class logits (N, classes)."""
    splits, seed = whole_argument(splits, "splits", 1), whole_argument(seed, "seed", 0, 2**32 - 1)
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
        log_marginal = chunk.logsumexp(0) - math.log(len(chunk))  # finite where every p is 0 (a logit 746 below)
        kl = (chunk.exp() * (chunk - log_marginal)).sum(1).mean()  # 0 * (log 0 - log 0) was NaN
        scores.append(float(kl.exp()))
    return float(np.mean(scores)), float(np.std(scores))


class InceptionScore(Metric):
    def compute(self, ctx: EvalContext, space: str | None = "inception") -> dict[str, Any]:
        space = space or "inception"
        logits = ctx.features(f"{space}-logits", "fake")
        mean, std = inception_score(logits, splits=SPLITS)
        return {f"is_{space}": mean, f"is_{space}_std": std}


IS_METRIC = InceptionScore(
    "is",
    outputs={"is_{space}": "higher"},
    ranges={"is_{space}": (1.0, math.inf)},  # exp of a mean KL divergence
    description="Inception Score, 10 splits (Salimans et al. 2016); in classifier space, the classifier score",
    spaces=("inception", "classifier"),
    min_samples=2 * SPLITS,  # a split of one sample scores exactly 1, whatever the samples
)


@hookimpl
def register_metrics(register):
    register(IS_METRIC)
