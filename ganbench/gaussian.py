"""Gaussian statistics of feature rows and the Fréchet distance between two Gaussians: the
shared math of FID-like metrics and of the reference-statistics cache.

d^2 = ||mu1 - mu2||^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2), in float64 and without
scipy.linalg.sqrtm: S1 S2 is similar to the symmetric positive semi-definite
L^T S2 L (S1 = L L^T, a Cholesky factor when S1 is positive definite, the symmetric
square root otherwise), so tr sqrt(S1 S2) is the sum of the square roots of its
eigenvalues.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch


def gaussian_statistics(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of rows, in float64 (float32 rows are not copied first)."""
    x = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    return x.mean(0, dtype=np.float64), np.atleast_2d(np.cov(x, rowvar=False))


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2): FeatureError unless each is a finite
    mean of d values and a symmetric positive semi-definite d x d covariance (a covariance of -I gave 0 or -4)."""
    from ganbench.arrays import FeatureError

    mu1, mu2 = _float64(mu1, "mu1"), _float64(mu2, "mu2")
    s1, s2 = np.atleast_2d(_float64(sigma1, "sigma1")), np.atleast_2d(_float64(sigma2, "sigma2"))
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    for name, value, shape in (("mu1", mu1, (d,)), ("mu2", mu2, (d,)), ("sigma1", s1, (d, d)), ("sigma2", s2, (d, d))):
        if d < 1 or value.shape != shape:
            raise FeatureError(f"{name} has shape {value.shape}; a mean needs (d,) and a covariance (d, d), d >= 1")
        if not np.isfinite(value).all():
            raise FeatureError(f"{name} holds NaN or inf")
    for name, s in (("sigma1", s1), ("sigma2", s2)):  # what a covariance must be, checked in O(d^2), not O(d^3)
        scale = max(float(np.abs(s).max()), np.finfo(np.float64).tiny)
        if np.abs(s - s.T).max() > 1e-6 * scale or np.diagonal(s).min() < -1e-6 * scale:
            raise FeatureError(f"{name} is no covariance: not symmetric with variances >= 0 on its diagonal")
    # the covariances in units of a power of two u (exact): s1 s2 of 1e300 variances no longer overflows (-inf for
    # two equal Gaussians); the means are not scaled, so means far larger than the spread keep it (pass 58)
    spread = math.sqrt(max(float(np.abs(s1).max()), float(np.abs(s2).max())))
    unit = 2.0 ** min(500, max(-500, round(math.log2(spread)))) if spread > 0 else 1.0
    s1, s2 = s1 / unit / unit, s2 / unit / unit
    factor = _psd_factor(s1)
    product = factor.T @ s2 @ factor
    eig = np.linalg.eigvalsh((product + product.T) / 2)
    tr_covmean = np.sqrt(np.clip(eig, 0, None)).sum()
    diff = mu1 - mu2
    with np.errstate(over="ignore"):  # past float64: inf, refused below
        distance = float(diff @ diff) + float(np.trace(s1) + np.trace(s2) - 2 * tr_covmean) * unit * unit
    if not math.isfinite(distance):
        raise FeatureError(f"the distance ({distance}) is beyond float64's range; rescale the features")
    return distance


def singular_note(n_real: int, n_fake: int, dim: int) -> str | None:
    """Why FID is unreliable when a covariance is singular (no more samples than dimensions), else None."""
    if min(n_real, n_fake) > dim:
        return None
    return (
        f"{min(n_real, n_fake)} samples in {dim} dimensions: the covariance is singular and FID unreliable; "
        "use more samples than feature dimensions"
    )


def _psd_factor(s: np.ndarray) -> np.ndarray:
    """F with F F^T = s: Cholesky when s is positive definite, else the symmetric square root."""
    try:
        return np.linalg.cholesky(s)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(s)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def _float64(x: Any, name: str) -> np.ndarray:
    """``x`` as float64, or FeatureError naming it (text, complex numbers, ragged lists were numpy's errors)."""
    from ganbench.arrays import FeatureError, real_tensor

    return real_tensor(x, name, FeatureError).double().numpy()
