"""Reference rows of the mixtures, pinned to closed forms and to numpy's own estimates (not to ganbench's output)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ganbench
from ganbench.reference_rows import floor_warnings, reference_samples, reference_scores
from ganbench.spec import EVAL_SEED

N = 2500
HQ = 1 - math.exp(-9 / 2)  # P(|x - mean| <= 3 sigma) for an isotropic 2-D Gaussian: a chi-square with 2 dof


def four_se(p: float, n: int = N) -> float:
    return 4 * math.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module", params=["grid25", "ring8"])
def mixture(request):
    ds = ganbench.get_dataset(request.param)
    return ds, reference_scores(ds, ds.metrics, N, EVAL_SEED)


def test_real_samples_score_the_closed_form_ceiling(mixture):
    ds, scores = mixture
    real = scores["real"]
    assert real["modes_captured"] == len(ds.modes.means)
    assert abs(real["hq_fraction"] - HQ) <= four_se(HQ)
    assert real["reverse_kl"] < 0.02  # 2,500 samples over at most 25 equal modes


def test_total_collapse_scores_one_mode_and_reverse_kl_log_k(mixture):
    ds, scores = mixture
    one = scores["one-mode"]
    assert one["modes_captured"] == 1
    assert one["reverse_kl"] == pytest.approx(math.log(len(ds.modes.means)), abs=1e-9)
    assert abs(one["hq_fraction"] - HQ) <= four_se(HQ)


def test_uniform_noise_is_high_quality_in_proportion_to_the_discs_area(mixture):
    ds, scores = mixture
    data = ds.load().double().numpy()
    box = np.prod(data.max(0) - data.min(0))
    expected = len(ds.modes.means) * math.pi * (3 * ds.modes.sigma) ** 2 / box  # every disc lies inside the box
    assert abs(scores["uniform"]["hq_fraction"] - expected) <= four_se(expected)


def test_the_gaussian_has_the_datas_mean_and_covariance(mixture):
    ds, _ = mixture
    data = ds.load().double().numpy()
    fitted = reference_samples(ds, "gaussian", 200_000, 0).double().numpy()
    np.testing.assert_allclose(fitted.mean(0), data.mean(0), atol=0.02 * data.std())
    np.testing.assert_allclose(np.cov(fitted.T), np.cov(data.T), rtol=0.02, atol=0.02 * data.var())


def test_reference_samples_are_seeded():
    ds = ganbench.get_dataset("ring8")
    for kind in ("real", "gaussian", "uniform", "one-mode"):
        a, b = reference_samples(ds, kind, 100, 5), reference_samples(ds, kind, 100, 5)
        assert a.equal(b) and not a.equal(reference_samples(ds, kind, 100, 6))
    with pytest.raises(ValueError, match="unknown reference kind"):
        reference_samples(ds, "blob", 10, 0)


def test_a_floor_as_good_as_the_ceiling_is_flagged():
    scores = {
        "real": {"frechet": 0.007, "modes_captured": 25},
        "gaussian": {"frechet": 0.006, "modes_captured": 21},
        "uniform": {"frechet": 0.036, "modes_captured": 16},
        "one-mode": {"frechet": 48.1, "modes_captured": 1},
    }
    lines = floor_warnings(scores, {"frechet": "lower", "modes_captured": "higher"}, "grid25")
    assert len(lines) == 1 and lines[0].startswith("frechet on grid25: gaussian 0.006")


def test_eval_prints_reference_columns_and_warns_off_protocol(cli, tmp_path):
    points = ganbench.get_dataset("grid25").load()[:3000].numpy()
    np.save(tmp_path / "fakes.npy", points)
    result = cli("eval", "-d", "grid25", "--samples", str(tmp_path / "fakes.npy"))
    assert result.code == 0, result.err
    assert "| metric         | samples | [real] | [gaussian] | [uniform] | [one-mode] |" in result.out
    assert "the grid25 protocol scores 2,500" in result.err and len(result.err.strip().splitlines()) == 1
