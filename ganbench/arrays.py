"""Feature arrays in: numpy arrays or torch tensors, checked once, as float64 tensors.

Every metric function takes its inputs through ``feature_matrix`` so that a NaN, a
mismatched width or too few rows is one clear error, whichever metric meets it first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganbench.errors import GanbenchError


class FeatureError(GanbenchError):
    """Features a metric cannot score: wrong shape, too few rows, NaN or inf."""


def feature_matrix(x: Any, name: str = "features", min_rows: int = 2) -> torch.Tensor:
    """``x`` as a (N, d) float64 CPU tensor, or FeatureError."""
    t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    if t.dim() != 2:
        raise FeatureError(f"{name} must be a 2-D array (samples x features), not of shape {tuple(t.shape)}")
    if len(t) < min_rows:
        raise FeatureError(f"{name} need at least {min_rows} samples, got {len(t)}")
    t = t.to(torch.float64)
    if not torch.isfinite(t).all():
        raise FeatureError(f"{name} hold NaN or inf; check the generator's output")
    return t


def feature_pair(real: Any, fake: Any, min_rows: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and generated features with equal widths."""
    r, f = feature_matrix(real, "real features", min_rows), feature_matrix(fake, "generated features", min_rows)
    if r.shape[1] != f.shape[1]:
        raise FeatureError(
            f"real features have {r.shape[1]} dimensions but generated ones {f.shape[1]}; use one extractor"
        )
    return r, f
