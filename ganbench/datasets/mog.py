"""2-D mixtures of Gaussians: ``grid25`` and ``ring8``, the mode-collapse benchmarks of
VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).

- grid25: means {-4, -2, 0, 2, 4}^2, sigma 0.05, equal weights.
- ring8: means (cos 2 pi i / 8, sin 2 pi i / 8), i = 0..7, radius 1, sigma 0.01. The angles
  are 2 pi i / K for i < K; np.linspace(0, 2 pi, 8) would put two modes on one point.

The training set is ``n_samples`` points drawn once with ``data_seed``; the run's seed
only decides their order. Options: ``--set dataset.sigma=0.02`` etc.

Budgets (what a run trains without ``--steps``): the steps at which the best variants on
PacGAN's networks have learned, measured on a 2-core CPU (pacgan2, seed 0): ring8, all 8
modes by 3,000 steps and 72% high-quality samples at 5,000; grid25, 16 modes and 2% at
10,000, all 25 and 63% at 20,000. PacGAN itself trains 400 epochs of 1,000 batches (~400k
updates); these are the papers' regime scaled to what a CPU does in minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganbench.dataset import Dataset, Modes
from ganbench.hookspecs import hookimpl
from ganbench.options import option

MIXTURE_METRICS = ("modes", "frechet", "prdc")


@dataclass(frozen=True)
class Mixture(Dataset):
    """An equal-weight isotropic Gaussian mixture in 2-D; subclasses place the means."""

    default_network: str = field(default="mlp", metadata={"option": False})
    metrics: tuple[str, ...] = field(default=MIXTURE_METRICS, metadata={"option": False})
    sigma: float = option(0.05, gt=0, le=1e6)
    n_samples: int = option(100_000, ge=2, le=10**8)
    data_seed: int = option(0, ge=0, le=2**63 - 1)

    def means(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, ...]:
        return (2,)

    @property
    def modes(self) -> Modes:
        return Modes(self.means(), self.sigma)

    def load(self) -> torch.Tensor:
        return self._samples

    @cached_property
    def _samples(self) -> torch.Tensor:
        return sample_mixture(self.means(), self.sigma, self.n_samples, self.data_seed)

    def render(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        path: Path,
        scores: dict[str, Any],
        fake_labels: torch.Tensor | None = None,
    ) -> None:
        from ganbench.metrics.modes import captured_modes
        from ganbench.plots import plot_mixture

        fake_points = fake.numpy()
        captured = captured_modes(fake_points, self.modes)
        plot_mixture(real.numpy(), fake_points, self.modes, captured, path, title=self.name, scores=scores)


def sample_mixture(means: np.ndarray, sigma: float, n: int, seed: int) -> torch.Tensor:
    """``n`` points of the equal-weight mixture, float32, reproducible from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    centers = torch.as_tensor(means, dtype=torch.float64)
    labels = torch.randint(len(centers), (n,), generator=gen)
    noise = torch.randn(n, centers.shape[1], generator=gen, dtype=torch.float64)
    return (centers[labels] + sigma * noise).float()


@dataclass(frozen=True)
class GridMixture(Mixture):
    """side x side modes on a square grid centred at the origin."""

    side: int = option(5, ge=1, le=1000)
    spacing: float = option(2.0, gt=0, le=1e6)

    def means(self) -> np.ndarray:
        axis = (np.arange(self.side) - (self.side - 1) / 2) * self.spacing
        return np.array([(x, y) for x in axis for y in axis], dtype=np.float64)


@dataclass(frozen=True)
class RingMixture(Mixture):
    """n_modes modes evenly spaced on a circle: angle 2 pi i / n_modes."""

    n_modes: int = option(8, ge=1, le=10**6)
    radius: float = option(1.0, gt=0, le=1e6)

    def means(self) -> np.ndarray:
        angles = [2 * math.pi * i / self.n_modes for i in range(self.n_modes)]
        return self.radius * np.array([(math.cos(a), math.sin(a)) for a in angles], dtype=np.float64)


GRID25 = GridMixture(
    "grid25",
    description="25 Gaussians on a 5x5 grid, sigma 0.05 (VEEGAN, PacGAN)",
    sigma=0.05,
    default_steps=20_000,
)
RING8 = RingMixture(
    "ring8",
    description="8 Gaussians on a unit circle, sigma 0.01 (VEEGAN, PacGAN)",
    sigma=0.01,
    default_steps=5_000,
)


@hookimpl
def register_datasets(register):
    register(GRID25)
    register(RING8)
