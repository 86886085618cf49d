"""Arrays in: numpy arrays or torch tensors checked once as feature matrices, and arrays
read from .npy/.npz files.

Every metric function takes its inputs through ``feature_matrix`` so that a NaN, a
mismatched width or too few rows is one clear error, whichever metric meets it first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganbench.errors import GanbenchError, SamplesError


class FeatureError(GanbenchError):
    """Features a metric cannot score: wrong shape, too few rows, NaN or inf."""


def feature_matrix(
    x: Any, name: str = "features", min_rows: int = 2, dtype: torch.dtype | None = torch.float64
) -> torch.Tensor:
    """``x`` as a (N, d) CPU tensor of ``dtype`` (None: float32 and float64 kept as given), or FeatureError.

    Finiteness is checked on the column sums (a NaN or inf anywhere makes its column's sum
    one), which reads the data once and copies nothing.
    """
    t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    if t.dim() != 2:
        raise FeatureError(f"{name} must be a 2-D array (samples x features), not of shape {tuple(t.shape)}")
    if len(t) < min_rows:
        raise FeatureError(f"{name} need at least {min_rows} samples, got {len(t)}")
    if dtype is not None or t.dtype not in (torch.float32, torch.float64):
        t = t.to(dtype or torch.float64)
    if not torch.isfinite(t.sum(0, dtype=torch.float64)).all():
        raise FeatureError(f"{name} hold NaN or inf; check the generator's output")
    return t


def feature_pair(
    real: Any, fake: Any, min_rows: int = 2, dtype: torch.dtype | None = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and generated features with equal widths (see ``feature_matrix`` for ``dtype``)."""
    r = feature_matrix(real, "real features", min_rows, dtype)
    f = feature_matrix(fake, "generated features", min_rows, dtype)
    check_widths(r.shape[1], f.shape[1])
    return r, f


def check_widths(real_dim: int, fake_dim: int) -> None:
    """FeatureError unless real and generated features have the same number of dimensions."""
    if real_dim != fake_dim:
        raise FeatureError(f"real features have {real_dim} dimensions but generated ones {fake_dim}; use one extractor")


def load_array(
    path: str | Path, preferred: tuple[str, ...], ndim: int | None = None, what: str = "samples"
) -> np.ndarray:
    """The array in a .npy file, or in an .npz the first ``preferred`` key (else the only one) of ``ndim`` dims."""
    path = Path(path)
    if not path.is_file():
        raise SamplesError(f"{what} file {path} does not exist; pass a .npy or .npz file")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise SamplesError(f"cannot read {path} as .npy/.npz ({exc}); save arrays with numpy.save or savez") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        return loaded
    with loaded:
        fitting = [k for k in loaded.files if ndim is None or loaded[k].ndim == ndim]
        chosen = [k for k in preferred if k in fitting] or (fitting if len(fitting) == 1 else [])
        if not chosen:
            shape = f"a {ndim}-D array" if ndim else "an array"
            names, held = " or ".join(preferred), ", ".join(loaded.files)
            raise SamplesError(f"{path} has no {what} array ({shape} named {names}); it holds {held}")
        return loaded[chosen[0]]
