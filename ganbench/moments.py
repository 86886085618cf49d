"""Means and spreads that neither overflow nor underflow: tables, verdicts and rankings share them.

A plain standard deviation squares the deviations: values beyond ~1e154 overflow to inf, values
below ~1e-154 underflow to a spread of 0, and a sum near float64's limit (1e308) overflows
too. Every statistic here is computed on the values divided by a power of two near their
largest magnitude: that division is exact, so the results are those of the values themselves
(bit for bit, for values of ordinary size), and a t statistic or p-value, which does not
depend on the scale, is the same number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def exponent(*samples: Sequence[float] | np.ndarray) -> int:
    """The binary exponent of the largest finite magnitude among the samples (0 if none): dividing
    by 2**exponent brings every value into [-1, 1] without rounding."""
    finite = [np.abs(a)[np.isfinite(a)] for a in (np.asarray(s, float) for s in samples)]
    largest = max((float(a.max()) for a in finite if a.size), default=0.0)
    return math.frexp(largest)[1]


def scaled(values: Sequence[float] | np.ndarray, e: int) -> np.ndarray:
    """``values`` / 2**e, exactly (but for values below 2**(e - 1074), negligible beside the largest)."""
    return np.ldexp(np.asarray(values, float), -e)


def unscaled(x: float, e: int) -> float:
    """``x`` * 2**e, back in the values' units; ±inf past float64's range (a spread of ±1.7e308 has none)."""
    try:
        return math.ldexp(x, e)
    except OverflowError:
        return math.copysign(math.inf, x)


def mean_and_std(values: Sequence[float] | np.ndarray, *, per_sqrt_n: bool = False) -> tuple[float, float]:
    """Mean and sample standard deviation (NaN where undefined), exact in scale for any finite values.
    With ``per_sqrt_n`` the spread is the standard error, divided by sqrt(n) before it is scaled back:
    seeds at ±1.7e308 have a standard deviation past float64's range but a standard error within it."""
    values = np.asarray(values, float)
    if not len(values):
        return math.nan, math.nan
    if bool((values == values[0]).all()):  # seeds that agree bit for bit: no rounding may invent a spread
        return float(values[0]), (0.0 if len(values) > 1 else math.nan)
    e = exponent(values)
    small = scaled(values, e)
    spread = float(small.std(ddof=1)) / (math.sqrt(len(values)) if per_sqrt_n else 1.0)
    return unscaled(float(small.mean()), e), (unscaled(spread, e) if len(values) > 1 else math.nan)


def standard_error(values: Sequence[float] | np.ndarray) -> float:
    """The standard error of the mean (NaN below two values), exact in scale."""
    return mean_and_std(values, per_sqrt_n=True)[1]
