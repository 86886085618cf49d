"""The mixture protocol (DESIGN.md), pinned, and mode coverage against closed-form values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ganbench
from ganbench.datasets.mog import sample_mixture
from ganbench.metrics.modes import mode_coverage

HQ_2D = 1 - math.exp(-9 / 2)  # P(||N(0, s^2 I_2)|| <= 3s): the chi distribution with 2 dof


def test_grid25_protocol():
    grid = ganbench.get_dataset("grid25")
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(m) for m in grid.modes.means.tolist()} == expected
    assert grid.modes.sigma == 0.05
    assert grid.shape == (2,)


def test_ring8_protocol_has_eight_distinct_modes_on_the_unit_circle():
    ring = ganbench.get_dataset("ring8")
    means = ring.modes.means
    assert ring.modes.sigma == 0.01
    assert len(means) == 8
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 1.0)
    angles = np.sort(np.mod(np.arctan2(means[:, 1], means[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    # np.linspace(0, 2 pi, 8) would give two modes on (1, 0): every pair must be 2 sin(pi/8) apart or more
    d = np.linalg.norm(means[:, None] - means[None], axis=-1) + np.eye(8) * 10
    assert d.min() == pytest.approx(2 * math.sin(math.pi / 8))


@pytest.mark.parametrize("name, k", [("grid25", 25), ("ring8", 8)])
def test_true_samples_score_every_mode(name, k):
    ds = ganbench.get_dataset(name)
    points = sample_mixture(ds.modes.means, ds.modes.sigma, 100_000, seed=123).numpy()
    scores = mode_coverage(points, ds.modes)
    assert scores["modes_captured"] == k
    assert scores["hq_fraction"] == pytest.approx(HQ_2D, abs=0.002)  # 5 binomial standard errors
    assert 0 <= scores["reverse_kl"] < 1e-3


@pytest.mark.parametrize("name, k", [("grid25", 25), ("ring8", 8)])
def test_samples_on_one_mode_score_one_mode_and_log_k(name, k):
    ds = ganbench.get_dataset(name)
    rng = np.random.default_rng(0)
    points = ds.modes.means[3] + ds.modes.sigma * 0.5 * rng.standard_normal((2500, 2))
    scores = ganbench.evaluate_samples(name, points.astype(np.float32), metrics=["modes"])
    assert scores["modes_captured"] == 1
    assert scores["hq_fraction"] == 1.0
    assert scores["reverse_kl"] == pytest.approx(math.log(k))


def test_reverse_kl_of_two_equal_modes():
    ds = ganbench.get_dataset("grid25")
    points = np.repeat(ds.modes.means[[0, 7]], 50, axis=0)
    assert mode_coverage(points, ds.modes)["reverse_kl"] == pytest.approx(math.log(25) - math.log(2))


def test_samples_far_from_every_mode_are_not_high_quality():
    ds = ganbench.get_dataset("grid25")
    points = np.full((100, 2), 1.0)  # equidistant from four modes, far outside 3 sigma
    scores = mode_coverage(points, ds.modes)
    assert scores["modes_captured"] == 0 and scores["hq_fraction"] == 0
    assert math.isnan(scores["reverse_kl"])


def test_dataset_options_change_the_data_and_are_recorded():
    spec = ganbench.create_spec(
        "nsgan", "ring8", steps=10, overrides={"dataset.sigma": "0.02", "dataset.n_samples": 500, "dataset.radius": 2}
    )
    assert spec.dataset_options["sigma"] == 0.02
    assert spec.dataset_options["n_samples"] == 500
    assert spec.dataset_options["radius"] == 2.0
    from ganbench.harness import Components

    ring = Components.of(spec).dataset
    assert ring.load().shape == (500, 2)
    np.testing.assert_allclose(np.linalg.norm(ring.modes.means, axis=1), 2.0)


def test_training_data_is_fixed_by_the_data_seed():
    grid = ganbench.get_dataset("grid25")
    again = ganbench.get_dataset("grid25").load()
    assert (grid.load() == again).all()
