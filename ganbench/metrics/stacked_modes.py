"""``stacked-modes``: modes of Stacked MNIST, the protocol of VEEGAN (2017) and PacGAN (2018).

Each channel of a generated sample is classified by ganbench's MNIST classifier (the
arg-max of its logits); the sample's mode is the tuple of its channels' digits, one of
10^channels (1,000 for three channels). ``modes_captured`` = distinct tuples among the
samples; ``reverse_kl`` = KL(p_gen || uniform over all 10^channels tuples), p_gen the
tuples' histogram. Evaluated on 26,000 samples, as the papers do; published (PacGAN
Table 2): DCGAN 99 modes / KL 3.40, PacDCGAN2 1000 / 0.06. Real stacked digits score all
1,000 modes and a reverse KL near 999 / (2 * 26,000) ~ 0.02; samples that are all one
tuple score 1 mode and log 1000.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ganbench.arrays import FeatureError, feature_matrix
from ganbench.dataset import Dataset
from ganbench.hookspecs import hookimpl
from ganbench.metric import Bound, EvalContext, Metric


def mode_indices(logits: Any, channels: int) -> tuple[torch.Tensor, int]:
    """(each sample's mode as an index in 0..classes^channels - 1, the number of modes) from
    per-channel logits (N, channels * classes), channel by channel."""
    x = feature_matrix(logits, "classifier logits", min_rows=1, dtype=None)
    if channels < 1 or x.shape[1] % channels:
        raise FeatureError(f"{x.shape[1]} logits per sample cannot be split into {channels} channels")
    classes = x.shape[1] // channels
    digits = x.reshape(len(x), channels, classes).argmax(2)
    weights = classes ** torch.arange(channels - 1, -1, -1)
    return (digits * weights).sum(1), classes**channels


def mode_counts(logits: Any, channels: int) -> np.ndarray:
    """Samples per mode (classes^channels of them, in tuple order: (0,0,0), (0,0,1), ...)."""
    index, n_modes = mode_indices(logits, channels)
    return np.bincount(index.numpy(), minlength=n_modes)


def mode_scores(counts: np.ndarray) -> dict[str, float]:
    """modes_captured and reverse_kl = KL(p || uniform) = sum p log p + log K, in float64."""
    counts = np.asarray(counts)
    total = int(counts.sum())
    if total == 0:
        raise FeatureError("no samples to count modes of")
    p = counts[counts > 0] / total
    return {
        "modes_captured": int((counts > 0).sum()),
        "reverse_kl": float((p * np.log(p)).sum() + math.log(len(counts))),
    }


def stacked_modes(logits: Any, channels: int) -> dict[str, float]:
    """modes_captured and reverse_kl of samples whose per-channel logits are ``logits``."""
    return mode_scores(mode_counts(logits, channels))


class StackedModes(Metric):
    def applies_to(self, dataset: Dataset) -> bool:
        return getattr(dataset, "stacked_channels", 0) > 0

    def bounds(self, dataset: Dataset | None = None) -> dict[str, Bound]:
        bounds = super().bounds(dataset)
        if dataset is not None and self.applies_to(dataset):
            modes = 10**dataset.stacked_channels  # MNIST's 10 digits per channel
            bounds["modes_captured"] = Bound(0, modes, whole=True)
            bounds["reverse_kl"] = Bound(0, math.log(modes))  # everything on one mode
        return bounds

    def compute(self, ctx: EvalContext, space: str | None = None) -> dict[str, Any]:
        return stacked_modes(ctx.features("classifier-logits", "fake"), ctx.dataset.stacked_channels)


STACKED_MODES = StackedModes(
    "stacked-modes",
    outputs={"modes_captured": "higher", "reverse_kl": "lower"},
    ranges={
        "modes_captured": Bound(0, math.inf, whole=True),
        "reverse_kl": (0.0, math.inf),
    },  # one range per name: modes.py's
    description="Stacked MNIST digit triples captured and reverse KL to uniform over 1,000 (PacGAN protocol)",
    uses=("classifier-logits",),
)


@hookimpl
def register_metrics(register):
    register(STACKED_MODES)
