"""Every metric function against its reference implementation or a closed form.

Oracles: the `prdc` package (Naeem et al.), torch-fidelity (KID, IS), pytorch-fid (FID).
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
import torch

import ganbench.neighbours as neighbours_module
from ganbench.arrays import FeatureError
from ganbench.metrics import fid_from_features, frechet_distance, inception_score, kid, prdc, precision_recall
from ganbench.metrics.kid import mmd2_unbiased
from ganbench.neighbours import BYTES_PER_ENTRY, knn_radii


def features(n: int, d: int, seed: int, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) + shift


def prdc_package(real, fake, k):
    from prdc import compute_prdc

    with contextlib.redirect_stdout(io.StringIO()):  # it prints the sample counts
        return {key: float(v) for key, v in compute_prdc(real, fake, k).items()}


@pytest.mark.parametrize("k", [3, 5])
def test_prdc_equals_the_prdc_package(k):
    real, fake = features(600, 16, 0), features(450, 16, 1, shift=0.3)
    ours = prdc(real, fake, k=k)
    assert ours == pytest.approx(prdc_package(real, fake, k), abs=1e-12)
    assert precision_recall(real, fake, k=k) == {"precision": ours["precision"], "recall": ours["recall"]}


def test_prdc_in_small_blocks_equals_one_block():
    real, fake = features(300, 8, 2), features(200, 8, 3, shift=0.5)
    tiny = BYTES_PER_ENTRY * 300 * 7  # seven rows per block
    assert prdc(real, fake, k=5, block_bytes=tiny) == prdc(real, fake, k=5)


def test_prdc_on_lattice_points_full_of_exact_ties(monkeypatch):
    """Integer points: many distances equal a radius exactly, so float32 cannot decide and the
    exact float64 path (pairs, and whole rows when candidates tie) must give prdc's strict <."""
    rng = np.random.default_rng(7)
    real, fake = rng.integers(0, 4, (400, 5)).astype(np.float64), rng.integers(0, 4, (300, 5)).astype(np.float64)
    whole_rows = []
    original = neighbours_module._row_exact
    monkeypatch.setattr(neighbours_module, "_row_exact", lambda x, i: whole_rows.append(i) or original(x, i))
    for k in (3, 5):
        expected = prdc_package(real, fake, k)
        assert prdc(real, fake, k=k) == pytest.approx(expected, abs=1e-12)
        assert prdc(real, fake, k=k, real_radii=knn_radii(real, k)) == pytest.approx(expected, abs=1e-12)
    assert whole_rows, "no row needed the exact fallback; the test no longer covers it"


def test_prdc_far_from_the_origin_in_float32():
    """An offset of 1e4 would swamp float32's |x|^2 + |y|^2 - 2 x.y; centring and the exact
    recheck keep every decision equal to prdc's float64 ones."""
    real = (features(500, 32, 8) + 1e4).astype(np.float32)
    fake = (features(400, 32, 9, shift=0.2) + 1e4).astype(np.float32)
    expected = prdc_package(real.astype(np.float64), fake.astype(np.float64), 5)
    assert prdc(real, fake, k=5) == pytest.approx(expected, abs=1e-12)
    assert prdc(torch.from_numpy(real), torch.from_numpy(fake), k=5, real_radii=knn_radii(real, 5)) == prdc(
        real, fake, k=5
    )


def test_prdc_of_a_set_against_itself():
    x = features(300, 4, 4)
    scores = prdc(x, x, k=5)
    assert scores["precision"] == scores["recall"] == scores["coverage"] == 1.0


def test_prdc_takes_tensors_and_arrays_alike():
    real, fake = features(100, 4, 5), features(100, 4, 6)
    assert prdc(torch.from_numpy(real).float(), fake.astype(np.float32)) == prdc(real.astype(np.float32), fake)


def test_kid_equals_torch_fidelity():
    from torch_fidelity.metric_kid import kid_features_to_metric

    real, fake = features(300, 32, 7), features(250, 32, 8, shift=0.2)
    mean, std = kid(real, fake, subsets=20, subset_size=100)
    ref = kid_features_to_metric(
        torch.from_numpy(real), torch.from_numpy(fake),
        kid_subsets=20, kid_subset_size=100, kid_kernel="poly", kid_kernel_poly_degree=3,
        kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1, rng_seed=2020, verbose=False,
    )  # fmt: skip
    assert mean == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-9)
    assert std == pytest.approx(ref["kernel_inception_distance_std"], rel=1e-9)


def test_one_subset_of_everything_is_the_full_unbiased_estimate():
    x, y = features(40, 5, 9), features(40, 5, 10, shift=1.0)
    kxx, kyy, kxy = ((a @ b.T / 5 + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    m = 40
    full = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.sum() / m**2
    mean, std = kid(x, y, subsets=1, subset_size=40)
    assert mean == pytest.approx(full, rel=1e-12) and std == 0.0
    assert mmd2_unbiased(torch.from_numpy(x), torch.from_numpy(y)) == pytest.approx(full, rel=1e-12)


def test_inception_score_equals_torch_fidelity():
    from torch_fidelity.metric_isc import isc_features_to_metric

    logits = torch.from_numpy(features(1000, 10, 11) * 3)
    mean, std = inception_score(logits, splits=10)
    ref = isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    assert mean == pytest.approx(ref["inception_score_mean"], rel=1e-12)
    assert std == pytest.approx(ref["inception_score_std"], rel=1e-9)


def test_inception_score_closed_forms():
    assert inception_score(np.zeros((100, 10)), splits=4) == pytest.approx((1.0, 0.0))
    confident = np.full((1000, 10), -1e4)
    confident[np.arange(1000), np.arange(1000) % 10] = 0.0  # each sample sure of its class, classes balanced
    mean, std = inception_score(confident, splits=10, shuffle=False)
    assert mean == pytest.approx(10.0) and std == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_equals_pytorch_fid():
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    real, fake = features(400, 24, 12), features(300, 24, 13, shift=0.1) * 1.3
    mu1, s1 = real.mean(0), np.cov(real, rowvar=False)
    mu2, s2 = fake.mean(0), np.cov(fake, rowvar=False)
    try:
        ref = fid_score.calculate_frechet_distance(mu1, s1, mu2, s2)
    except TypeError as exc:  # SciPy >= 1.18 dropped sqrtm's `disp`, which pytorch-fid passes
        pytest.skip(f"pytorch-fid cannot run on this SciPy: {exc}")
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6)
    assert fid_from_features(real, fake) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: kid(features(50, 4, 0), features(50, 4, 1), subset_size=100), "subset_size 100 is larger"),
        (lambda: prdc(features(50, 4, 0), features(50, 5, 1)), "4 dimensions but generated ones 5"),
        (lambda: fid_from_features(features(1, 4, 0), features(50, 4, 1)), "at least 2 samples"),
        (lambda: prdc(np.full((10, 2), math.nan), features(10, 2, 1)), "NaN or inf"),
        (lambda: kid(features(10, 2, 0).ravel(), features(10, 2, 1)), "2-D array"),
        (lambda: prdc(features(4, 2, 0), features(10, 2, 1), k=5), "need more than 5 samples"),
    ],
)
def test_bad_features_give_one_clear_error(call, fragment):
    with pytest.raises(FeatureError, match=fragment):
        call()


RNG_A = np.random.default_rng(1).normal(size=(50, 4))
RNG_B = np.random.default_rng(2).normal(size=(50, 4))


@pytest.mark.parametrize(
    "call, fragment",
    [  # meaningless inputs that gave numbers (pass 55)
        (lambda: frechet_distance(np.zeros(2), -np.eye(2), np.zeros(2), np.eye(2)), "sigma1 is no covariance"),
        (lambda: frechet_distance(np.zeros(2), [[1, 2], [0, 1]], np.zeros(2), np.eye(2)), "not symmetric"),
        (lambda: frechet_distance([np.nan, 0], np.eye(2), np.zeros(2), np.eye(2)), "mu1 holds NaN or inf"),
        (lambda: frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3)), "sigma1 has shape (2, 2)"),
        (lambda: prdc(RNG_A, RNG_B, k=0), "k must be a whole number of neighbours >= 1, not 0"),
        (lambda: prdc(RNG_A, RNG_B, k=-1), "k must be a whole number of neighbours >= 1, not -1"),
        (lambda: prdc(RNG_A, RNG_B, real_radii=-np.ones(50)), "real_radii must be finite distances >= 0"),
        (lambda: prdc(np.zeros((50, 0)), np.zeros((50, 0))), "need at least 1 dimension"),
        (lambda: kid(RNG_A, RNG_B, subset_size=10, degree=0), "needs degree >= 1, not 0"),
        (lambda: inception_score(np.zeros((50, 0))), "need at least 1 dimension"),
        (lambda: fid_from_features(np.zeros((50, 0)), np.zeros((50, 0))), "need at least 1 dimension"),
        # arguments of the wrong kind were numpy's TypeErrors and ValueErrors (pass 57)
        (lambda: kid(RNG_A, RNG_B, subsets=1.5, subset_size=10), "subsets must be a whole number >= 1, not 1.5"),
        (lambda: kid(RNG_A, RNG_B, subsets="3", subset_size=10), "subsets must be a whole number >= 1, not '3'"),
        (lambda: kid(RNG_A, RNG_B, subset_size=10, seed=-1), "seed must be a whole number from 0 to 4,294,967,295"),
        (lambda: prdc(RNG_A, RNG_B, block_bytes=-5), "block_bytes must be a whole number >= 1, not -5"),
        (lambda: prdc(RNG_A, RNG_B, block_bytes=None), "block_bytes must be a whole number >= 1, not None"),
        (lambda: prdc(RNG_A, RNG_B, real_radii="abc"), "real_radii must be numbers"),
        (lambda: inception_score(RNG_A, splits=1.5), "splits must be a whole number >= 1, not 1.5"),
        (lambda: frechet_distance("a", np.eye(1), [0], np.eye(1)), "mu1 must be numbers"),
        (lambda: frechet_distance([1j], np.eye(1), [0], np.eye(1)), "mu1 are complex"),
        (lambda: frechet_distance([0], [[1], [1, 2]], [0], np.eye(1)), "sigma1 must be a rectangular array"),
        (lambda: kid(RNG_A * 1e100, RNG_B * 1e100, subset_size=10), "overflow KID's polynomial kernel of degree 3"),
    ],
)
def test_the_public_math_refuses_meaningless_inputs_in_one_line(call, fragment):
    with pytest.raises(FeatureError) as caught:
        call()
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("block", [1, 7, 2**22])
def test_nearest_modes_a_block_of_samples_at_a_time_equal_scipys_nearest(block):
    """Blocks bound the memory (pass 57: a ring of 10^6 modes asked 37 GiB at once); the answer is scipy's."""
    from scipy.spatial.distance import cdist

    from ganbench.metrics.modes import nearest_modes

    rng = np.random.default_rng(0)
    samples, means = rng.normal(size=(53, 2)), rng.normal(size=(11, 2))
    index, distance = nearest_modes(samples, means, block=block)
    brute = cdist(samples, means)
    np.testing.assert_array_equal(index, brute.argmin(1))
    np.testing.assert_allclose(distance, brute.min(1), rtol=1e-12)


def test_the_public_math_gives_the_closed_forms_at_extreme_scales():
    """Numbers that were wrong at scales float32 or float64 cannot square (pass 57): PR/DC are the same at any scale
    (they gave 0.52 for 0.92 at 1e19, 0 at 1e20); a Fréchet distance scales by the square (-inf and a LinAlgError
    at 1e300 variances); a logit 746 below the others is a probability of 0, not NaN."""
    unit = prdc(RNG_A, RNG_B)
    for scale in (2.0**70, 1e19, 1e20, 1e-30):
        assert prdc(RNG_A * scale, RNG_B * scale) == unit, scale
    assert frechet_distance([0.0], [[1e300]], [0.0], [[1e300]]) == 0.0
    assert frechet_distance([0.0], [[1e300]], [0.0], [[4e300]]) == pytest.approx(1e300, rel=1e-12)  # (1 - 2)^2 e300
    assert fid_from_features(RNG_A * 1e100, RNG_B * 1e100) == pytest.approx(1e200 * fid_from_features(RNG_A, RNG_B))
    far = np.full(2, 1e82)  # means far beyond the spread: 10.0 for 2.0 (pass 58)
    assert frechet_distance(far, np.eye(2), far, 4 * np.eye(2)) == pytest.approx(2.0, rel=1e-12)
    with pytest.raises(FeatureError, match="overflow KID's polynomial kernel"):  # its std squares: inf (pass 58)
        kid(RNG_A * 1e30, RNG_B * 1e30, subsets=3, subset_size=10)
    assert prdc(RNG_A, RNG_B, k=np.int64(5)) == unit  # numpy's integers are whole numbers too
    assert kid(RNG_A, RNG_B, subset_size=10, degree=np.int64(3)) == kid(RNG_A, RNG_B, subset_size=10)
    with pytest.raises(FeatureError, match="beyond float64's range"):
        frechet_distance([0.0], [[1e308]], [1e200], [[1e308]])
    logits = np.zeros((20, 2))
    logits[:, 1] = -746.0  # every sample certain of class 0: one class, an Inception Score of exactly 1
    assert inception_score(logits, splits=2) == (1.0, 0.0)
