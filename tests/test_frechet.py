"""Fréchet distance against closed forms, scipy's sqrtm formula and compare_gan's golden case."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from ganbench.metrics.frechet import fid_from_features, frechet_distance


def sqrtm_reference(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_compare_gan_golden_value():
    real = np.ones((100, 2))
    real[:50, 0] = 2
    fake = 9 * np.ones((100, 2))
    fake[50:, 0] = 2
    assert fid_from_features(real, fake) == pytest.approx(89.091, abs=1e-3)


def test_one_dimensional_closed_form():
    # W2^2 between N(m1, a^2) and N(m2, b^2) is (m1 - m2)^2 + (a - b)^2
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9 + 1)


def test_equals_sqrtm_formula_on_random_covariances():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((300, 20)), rng.standard_normal((300, 20)) @ rng.standard_normal((20, 20))
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(sqrtm_reference(mu1, s1, mu2, s2), rel=1e-8)


def test_singular_covariance_falls_back_to_the_symmetric_root():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((8, 20)), rng.standard_normal((8, 20))  # n < d: rank-deficient
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(s1)
    ours = frechet_distance(a.mean(0), s1, b.mean(0), s2)
    assert ours == pytest.approx(sqrtm_reference(a.mean(0), s1, b.mean(0), s2), rel=1e-6)


def test_identical_sets_are_at_distance_zero():
    x = np.random.default_rng(2).standard_normal((500, 2))
    assert fid_from_features(x, x) == pytest.approx(0, abs=1e-10)
