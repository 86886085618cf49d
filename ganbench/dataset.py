"""What a dataset is: samples, their shape, the network and metrics that fit them.

A dataset is a frozen dataclass; its scalar fields are options (``--set dataset.x=...``)
recorded in the run spec. Training draws batches from ``load()``; evaluation compares
generated samples with ``reference()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ganbench.options import validate_options


@dataclass(frozen=True)
class Modes:
    """The components of a mixture: means (K x d) and their common standard deviation."""

    means: np.ndarray
    sigma: float


@dataclass(frozen=True)
class Dataset:
    """Base class of datasets. Subclasses fill ``shape`` and implement ``load``."""

    kind: ClassVar[str] = "dataset"

    name: str
    description: str = field(default="", metadata={"option": False})
    default_network: str = field(default="mlp", metadata={"option": False})
    metrics: tuple[str, ...] = field(default=(), metadata={"option": False})
    """Metrics computed when a run names none."""
    features: str = field(default="raw", metadata={"option": False})
    """The feature extractor that feature-space metrics (PRDC, KID) use on this dataset."""

    def __post_init__(self) -> None:
        validate_options(self)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample."""
        raise NotImplementedError

    @property
    def modes(self) -> Modes | None:
        """The mixture components, for datasets that have them."""
        return None

    def load(self) -> torch.Tensor:
        """All training samples, float32, shape (N, *shape)."""
        raise NotImplementedError

    def reference(self) -> torch.Tensor:
        """Real samples that evaluation compares against (the training samples by default)."""
        return self.load()

    def render(self, real: torch.Tensor, fake: torch.Tensor, path: Path, scores: dict[str, Any]) -> None:
        """Write a picture of generated samples to ``path`` (samples.png); optional."""
