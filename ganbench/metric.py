"""What a metric is: real and generated samples -> named numbers with a direction.

Metrics receive an ``EvalContext``; ``ctx.features(name)`` gives the samples mapped by a
registered feature extractor (cached per context), so FID-like metrics can be computed in
any feature space without recomputing features for each metric.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from ganbench.dataset import Dataset

Direction = Literal["higher", "lower"]


@dataclass
class EvalContext:
    """Everything a metric may look at, with a per-evaluation feature cache."""

    dataset: Dataset
    real: torch.Tensor
    fake: torch.Tensor
    feature_fn: Callable[[str, str, torch.Tensor], torch.Tensor]
    _cache: dict[tuple[str, str], torch.Tensor] = field(default_factory=dict)

    def features(self, extractor: str, which: Literal["real", "fake"]) -> torch.Tensor:
        """Features of the real or generated samples under a registered extractor."""
        key = (extractor, which)
        if key not in self._cache:
            self._cache[key] = self.feature_fn(extractor, which, self.real if which == "real" else self.fake)
        return self._cache[key]


@dataclass(frozen=True)
class Metric:
    """Base class of metrics. ``outputs`` maps each reported number to its better direction."""

    name: str
    outputs: Mapping[str, Direction]
    description: str = ""

    def applies_to(self, dataset: Dataset) -> bool:
        """Whether this metric can score samples of ``dataset``."""
        return True

    def compute(self, ctx: EvalContext) -> dict[str, Any]:
        """The numbers named in ``outputs``."""
        raise NotImplementedError


@dataclass(frozen=True)
class FeatureExtractor:
    """Base class of feature extractors: samples (N, ...) -> features (N, d)."""

    name: str
    description: str = ""

    def extract(self, samples: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
