"""Verdicts against hand-computed cases (the issue's list), and the statistics against scipy."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from scipy import stats

from ganbench.verdicts import DIVERGENCE, Comparison, Sample, holm, judge, welch

OTHER_SEEDS = (100, 101, 102, 103, 104)  # no seed in common with range(5): independent samples
UNIT = (-1.2649110640673518, -0.6324555320336759, 0.0, 0.6324555320336759, 1.2649110640673518)  # mean 0, sd 1


def compare(baseline, current, tolerance=1.0, direction="lower", diverged=(0, 0), paired=True) -> Comparison:
    """The verdict on two sides' values; ``paired``: seed k on both sides, else the current side's seeds
    are others (100, 101, ...): independent samples."""
    seeds = tuple(range(max(len(baseline) + diverged[0], len(current) + diverged[1])))
    b = Sample(tuple(baseline), seeds[: len(baseline) + diverged[0]], diverged[0])
    others = seeds if paired else tuple(100 + s for s in seeds)
    c = Sample(tuple(current), others[: len(current) + diverged[1]], diverged[1])
    return judge([Comparison("v", "d", "fid", direction, tolerance, b, c)])[0]


def test_unit_values_have_sd_one():
    assert np.std(UNIT, ddof=1) == pytest.approx(1.0) and np.mean(UNIT) == pytest.approx(0.0)


def test_identical_values_are_identical():
    assert compare(UNIT, UNIT).verdict == "identical"


def test_a_three_sd_shift_with_five_unpaired_seeds_is_a_regression():
    c = compare(UNIT, [x + 3 for x in UNIT], paired=False)  # lower is better: +3 is worse
    # Welch: t = 3 / sqrt(1/5 + 1/5) = 4.743, df = 8: two-sided p = 0.00146 (by hand, t table)
    assert c.p_values == pytest.approx(2 * stats.t.sf(3 / math.sqrt(0.4), 8))
    assert c.p_values == pytest.approx(0.00146, abs=1e-4)
    assert c.verdict == "regressed" and c.test == "Welch (5 vs 5)"
    assert compare(UNIT, [x - 3 for x in UNIT], paired=False).verdict == "improved"
    assert compare(UNIT, [x + 3 for x in UNIT], direction="higher", paired=False).verdict == "improved"


def test_the_same_shift_with_two_unpaired_seeds_is_inconclusive_and_says_how_many_would_settle_it():
    two = (-math.sqrt(0.5), math.sqrt(0.5))  # sd 1
    c = compare(two, [x + 3 for x in two], paired=False)
    # t = 3 / sqrt(1/2 + 1/2) = 3, df = 2: p = 0.0955 > 0.05
    assert c.p_values == pytest.approx(0.0955, abs=1e-3)
    assert c.verdict == "inconclusive"
    # detect 3 sd at alpha 0.05 two-sided, power 0.8: 2 (1.96 + 0.84)^2 / 9 = 1.74 -> at least 3 seeds
    assert c.seeds_needed == 3


def test_noise_inside_the_tolerance_with_enough_seeds_is_unchanged():
    rng = np.random.default_rng(0)
    baseline, current = rng.normal(10, 0.1, 12), rng.normal(10.02, 0.1, 12)
    c = compare(baseline, current, tolerance=0.5, paired=False)
    assert c.verdict == "unchanged"
    low, high = c.interval
    assert -0.5 < low < c.difference < high < 0.5
    assert compare(baseline, current, tolerance=0.0, paired=False).verdict == "inconclusive"


# The case: frechet of nsgan on grid25 over five seeds moves by 2.6 from seed to seed, and the
# current runs equal the baseline's but for rounding (other thread counts sum in another order).
FRECHET = (9.1, 15.3, 10.2, 14.8, 13.05)
ROUNDED = tuple(x + e for x, e in zip(FRECHET, (1.8e-15, -3.6e-15, 0.0, 1.8e-15, -1.8e-15), strict=True))


def test_values_equal_but_for_rounding_are_unchanged_where_welch_was_inconclusive():
    paired = compare(FRECHET, ROUNDED, tolerance=0.05)
    assert paired.test == "paired t (5 seeds)" and paired.verdict == "unchanged"
    low, high = paired.interval
    assert -1e-13 < low <= high < 1e-13  # the interval of the mean per-seed difference: rounding's size
    welch_verdict = compare(FRECHET, ROUNDED, tolerance=0.05, paired=False)
    assert welch_verdict.test == "Welch (5 vs 5)" and welch_verdict.verdict == "inconclusive"
    # Welch needs 2 (1.645 + 0.84)^2 (sd 2.64 / 0.05)^2 = 34,000 seeds per side: said in words
    assert welch_verdict.seeds_needed is None and "no number of seeds would settle it" in welch_verdict.notes[0]


def test_a_consistent_per_seed_shift_is_a_regression_with_fewer_seeds_than_welch_needs():
    """Three seeds 4 apart, each shifted by about +1 (lower is better, tolerance 0.5).

    Paired: differences 1.0, 1.2, 0.8: mean 1, sd 0.2, t = 1 / (0.2 / sqrt 3) = 8.660, df 2; the t
    distribution with 2 degrees of freedom has F(t) = 1/2 + t / (2 sqrt(2 + t^2)), so the two-sided
    p = 1 - t / sqrt(2 + t^2) = 1 - 8.660 / 8.775 = 0.01307. Welch on the same values: 0.77."""
    baseline, current = (10.0, 14.0, 18.0), (11.0, 15.2, 18.8)
    paired = compare(baseline, current, tolerance=0.5)
    t = 1.0 / (0.2 / math.sqrt(3))
    assert paired.p_values == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-9)
    assert paired.p_values == pytest.approx(0.01307, abs=1e-5)
    assert paired.verdict == "regressed" and paired.difference == pytest.approx(1.0)
    unpaired = compare(baseline, current, tolerance=0.5, paired=False)
    assert unpaired.p_values == pytest.approx(stats.ttest_ind(current, baseline, equal_var=False).pvalue)
    assert unpaired.p_values == pytest.approx(0.77, abs=0.01) and unpaired.verdict == "inconclusive"
    # Welch would need 2 (1.96 + 0.84)^2 (sd 3.95 / 1)^2 = 245 seeds per side to see it
    assert 200 < unpaired.seeds_needed < 300


def test_seeds_on_one_side_only_fall_back_to_welch_or_are_left_out_of_a_paired_test():
    b = Sample((1.0, 2.0, 3.0), (0, 1, 2))
    one_shared = Sample((1.5, 2.5, 3.5), (2, 7, 8))
    c = judge([Comparison("v", "d", "m", "lower", 1.0, b, one_shared)])[0]
    assert c.test == "Welch (3 vs 3)"
    assert c.p_values == pytest.approx(stats.ttest_ind([1.5, 2.5, 3.5], [1.0, 2.0, 3.0], equal_var=False).pvalue)
    two_shared = Sample((1.5, 2.6, 9.0), (0, 1, 9))  # seeds 0 and 1 pair up; 2 and 9 are one side's
    c = judge([Comparison("v", "d", "m", "lower", 1.0, b, two_shared)])[0]
    assert c.test == "paired t (2 seeds)" and c.difference == pytest.approx(0.55)
    assert "2 run(s) of a seed without a value on the other side" in c.notes[0]


def test_the_paired_seed_estimate_uses_the_spread_of_the_differences():
    """Differences 0.1 and 0.3 (mean 0.2, sd 0.1414) against a tolerance of 0.1: to show a 0.2 shift,
    (1.96 + 0.84)^2 (0.1414 / 0.2)^2 = 3.92 -> 4 seeds, run on both sides."""
    c = compare((5.0, 9.0), (5.1, 9.3), tolerance=0.1)
    assert c.verdict == "inconclusive" and c.seeds_needed == 4
    from ganbench.reports import markdown

    assert "≈4 seeds on both sides would settle it" in markdown("s", [c])
    assert "| paired t (2 seeds) |" in markdown("s", [c])


def test_diverging_in_four_of_five_seeds_against_none_is_a_regression():
    baseline, current = Sample((), tuple(range(5)), 0, 5), Sample((), (0, -2, -3, -4, -5), 4, 1)
    c = judge([Comparison("v", "d", DIVERGENCE, "lower", 0.0, baseline, current)])[0]
    # Fisher, [[4, 1], [0, 5]]: p = 2 * C(5,4) C(5,0) / C(10,4) + ... = 0.0476 (two-sided)
    assert c.p_divergence == pytest.approx(0.0476, abs=1e-4)
    assert c.verdict == "regressed" and "diverged 4/5 vs 0/5" in c.notes[0]
    values = compare(UNIT, UNIT[:1], diverged=(0, 4))  # the metric itself: one completed run is not enough
    assert values.verdict == "inconclusive" and "fewer than 2" in values.notes[0]
    same = judge([Comparison("v", "d", DIVERGENCE, "lower", 0.0, Sample((), (0, -2), 1, 1), Sample((), (0, -3), 1, 1))])
    assert same[0].verdict == "unchanged"
    none = judge([Comparison("v", "d", DIVERGENCE, "lower", 0.0, Sample((), (0, 1), 0, 2), Sample((), (), 0, 0))])
    assert none[0].verdict == "inconclusive" and "no finished run on a side" in none[0].notes  # 0/0 was "unchanged"


def test_holm_adjusts_over_the_whole_suite():
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    many = [
        Comparison("v", "d", f"m{i}", "lower", 1.0, Sample(UNIT, tuple(range(5))), Sample(UNIT, tuple(range(5))))
        for i in range(20)
    ]
    shifted = Comparison(
        "v", "d", "x", "lower", 1.0, Sample(UNIT, tuple(range(5))), Sample(tuple(x + 2 for x in UNIT), OTHER_SEEDS)
    )
    alone = judge([Comparison(**{**shifted.__dict__, "notes": []})])[0]
    assert alone.verdict == "regressed"  # p = 0.0138 alone
    in_suite = judge([*many, shifted])[-1]
    assert in_suite.p_values_holm == pytest.approx(alone.p_values)  # the 20 identical ones have no test
    noisy = [
        Comparison(
            "v",
            "d",
            f"n{i}",
            "lower",
            1.0,
            Sample(UNIT, tuple(range(5))),
            Sample(tuple(x + 0.1 * i for x in UNIT), OTHER_SEEDS),
        )
        for i in range(1, 10)
    ]
    crowded = judge([*noisy, shifted])[-1]
    assert crowded.p_values_holm > alone.p_values and crowded.verdict == "inconclusive"


def test_welch_matches_scipy_and_handles_no_spread():
    p, (low, high) = welch([1, 2, 3, 4], [2, 4, 6, 9])
    assert p == pytest.approx(stats.ttest_ind([2, 4, 6, 9], [1, 2, 3, 4], equal_var=False).pvalue)
    assert low < 2.75 < high
    assert welch([1, 1, 1], [2, 2, 2])[0] == 0.0 and welch([1, 1], [1, 1])[0] == 1.0


def test_ranks_group_variants_not_significantly_worse_than_the_groups_best():
    """Two clearly separated groups; a noisy variant and a one-seed one are never shown worse."""
    from ganbench.leaderboard import Row, ranking

    values = {
        "a": [10.0, 10.1, 9.9, 10.05, 9.95],
        "b": [5.0, 5.1, 4.9, 5.05, 4.95],
        "c": [5.02, 5.12, 4.92, 5.07, 4.97],
        "noisy": [0.0, 20.0, 2.0, 15.0, 8.0],
        "one-seed": [7.0],
    }
    rows = [Row(v, "d", seed, "completed", {"m": x}) for v, xs in values.items() for seed, x in enumerate(xs)]
    higher = [(p.variant, p.rank, p.tied) for p in ranking(rows, "d", "m", "higher")]
    assert higher == [("a", 1, True), ("noisy", 1, True), ("one-seed", 1, True), ("c", 4, True), ("b", 4, True)]
    lower = [(p.variant, p.rank) for p in ranking(rows, "d", "m", "lower")]
    assert lower == [("b", 1), ("c", 1), ("one-seed", 1), ("noisy", 1), ("a", 5)]
    rows.append(Row("diverged-only", "d", 0, "diverged", {}))
    last = ranking(rows, "d", "m", "higher")[-1]
    assert (last.variant, last.rank, last.tied, last.n, last.diverged) == ("diverged-only", 6, False, 0, 1)


# Each case at a scale of about 1, with its verdict there (lower is better): a paired regression (differences
# 0.1, 0.12, 0.08 against a tolerance of 0.05: t = 8.66, p = 0.013), a Welch regression (a shift of 1 sd of 1/3),
# two unpaired seeds that would need 3 (as in the test above), and noise inside the tolerance (unchanged).
SCALE_CASES = {
    "paired regression": ((1.3, 1.45, 1.6), (1.4, 1.57, 1.68), 0.05, True, "regressed"),
    "welch regression": (tuple(x / 3 for x in UNIT), tuple(x / 3 + 1 for x in UNIT), 1 / 3, False, "regressed"),
    "welch, 3 seeds would": ((-0.2357, 0.2357), (0.7643, 1.2357), 1 / 3, False, "inconclusive"),
    "unchanged": (
        tuple(np.random.default_rng(0).normal(1, 0.01, 12)),
        tuple(np.random.default_rng(1).normal(1.002, 0.01, 12)),
        0.05,
        False,
        "unchanged",
    ),
}


@pytest.mark.parametrize("factor", [1e160, 1e308, 1e-300])
@pytest.mark.parametrize("case", SCALE_CASES)
def test_a_verdict_is_the_same_at_any_scale(case, factor):
    """The same data times 1e160 or 1e308 (squares overflow: an se of inf made a 10^160-fold regression
    inconclusive; sums overflow to inf - inf = NaN, a traceback) or 1e-300 (squares underflow: a spread of
    0 made any difference "certain"): the same verdict, p-value and seeds, the interval scaled alike."""
    import warnings

    baseline, current, tolerance, paired, verdict = SCALE_CASES[case]
    unit = compare(baseline, current, tolerance, paired=paired)
    assert unit.verdict == verdict
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        big = compare([x * factor for x in baseline], [x * factor for x in current], tolerance * factor, paired=paired)
    assert (big.verdict, big.seeds_needed, big.test) == (unit.verdict, unit.seeds_needed, unit.test)
    assert big.p_values == pytest.approx(unit.p_values, rel=1e-6, abs=1e-12)
    assert big.difference == pytest.approx(unit.difference * factor, rel=1e-9, abs=0)
    assert big.interval == pytest.approx(tuple(x * factor for x in unit.interval), rel=1e-6, abs=0)
    for side in (big.baseline, big.current):  # oracle: exact fractions (a mean of about 0 to within rounding)
        assert side.mean == pytest.approx(statistics.mean(side.values), rel=1e-12, abs=1e-15 * factor)
        assert side.se == pytest.approx(statistics.stdev(side.values) / math.sqrt(len(side.values)), rel=1e-12, abs=0)


def test_values_near_float64s_limit_are_a_verdict_not_a_traceback():
    """The tester's repros: frechet about 0.9 in the baseline, 1e308 or 1.7e308 in both current seeds (per-seed
    differences equal to float64's precision: no spread, a certain regression), or 1e300 and 1.8e308."""
    for huge in ((1e308, 1e308), (1.7e308, 1.7e308)):
        c = compare((0.918, 0.95), huge, tolerance=0.05)
        assert (c.verdict, c.p_values) == ("regressed", 0.0) and c.difference == pytest.approx(huge[0])
        assert c.current.mean == statistics.mean(huge) and c.current.se == 0.0
    c = compare((0.918, 0.95), (1e300, 1.7976931348623157e308), tolerance=0.05)
    # differences d1 ~ 1e300, d2 ~ 1.8e308: t = mean / (sd / sqrt 2) = 1 (to 1e-8), with 1 degree of freedom a
    # Cauchy variable, P(|T| > 1) = 1/2; seeds to detect it: (1.960 + 0.842)^2 (sd / mean)^2 = 7.85 * 2 -> 16
    assert c.verdict == "inconclusive" and c.p_values == pytest.approx(0.5, rel=1e-6, abs=0) and c.seeds_needed == 16
    unpaired = compare((0.918, 0.95), (1e308, 1.7e308), tolerance=0.05, paired=False)
    assert unpaired.verdict in ("regressed", "inconclusive") and math.isfinite(unpaired.p_values)


@pytest.mark.parametrize("delta", [math.nan, math.inf, -math.inf])
def test_seeds_to_settle_says_none_rather_than_raise_on_a_difference_past_float64(delta):
    from ganbench.verdicts import seeds_to_settle

    assert seeds_to_settle([1.0, 2.0], [1.5, 2.5], delta, 0.1, 0.05) is None
    assert seeds_to_settle([1.0, 2.0], [1.5, 2.5], delta, 0.1, 0.05, paired=True) is None
    assert seeds_to_settle([1.0, 2.0], [1.5, 2.5], 1e-300, 1e-300, 0.05) is None  # the difference is the tolerance


def test_a_ranking_of_values_near_float64s_limit_has_finite_means_and_spreads():
    """`leaderboard show` printed "inf ± inf" and tied it first where lower is better."""
    import warnings

    from ganbench.leaderboard import Row, ranking

    values = {"huge": [1e300, 1.7976931348623157e308], "tiny": [2e-300, 3e-300], "big": [1e160, 2e160, 3e160]}
    rows = [Row(v, "d", seed, "completed", {"m": x}) for v, xs in values.items() for seed, x in enumerate(xs)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        places = {p.variant: p for p in ranking(rows, "d", "m", "lower")}
    for variant, xs in values.items():
        assert places[variant].mean == pytest.approx(statistics.mean(xs), rel=1e-12, abs=0)
        assert places[variant].se == pytest.approx(statistics.stdev(xs) / math.sqrt(len(xs)), rel=1e-12, abs=0)
    assert places["tiny"].rank == 1 and places["huge"].mean < math.inf


def test_an_inconclusive_side_says_whether_its_runs_are_missing_or_its_values_null():
    """Three completed runs whose metric is null (no mode captured: no reverse KL) were told as "fewer than 2
    completed runs on a side" (pass 57)."""
    baseline = Sample((0.5, 0.5, 0.5), (0, 1, 2))
    null = Sample((), (0, 1, 2), completed=3)
    c = judge([Comparison("v", "d", "reverse_kl", "lower", 0.1, baseline, null)])[0]
    assert c.verdict == "inconclusive" and "no value in 3 of the 3 completed runs on the current side (null)" in c.notes
    one = judge([Comparison("v", "d", "fid", "lower", 0.1, Sample((1.0,), (0,)), baseline)])[0]
    assert one.verdict == "inconclusive" and "fewer than 2 completed runs on the baseline side" in one.notes


def test_an_inconclusive_comparison_says_why_of_both_sides():
    """One value on the baseline side and none on the current one (a null, a failed run) told of one side only
    (pass 66)."""
    one, null = Sample((2.079,), (0,)), Sample((), (0,), completed=1)
    c = judge([Comparison("v", "d", "reverse_kl", "lower", 0.1, one, null)])[0]
    assert c.verdict == "inconclusive"
    assert (
        "fewer than 2 completed runs on the baseline side; no value in 1 of the 1 completed runs on the current side "
        "(null)"
    ) in c.notes


def test_a_difference_of_rounding_is_unchanged_even_without_a_tolerance():
    """Pass 87: with no [tolerance] (0), values 1e-15 apart (another machine's rounding) were a significant
    regression, paired seeds moving alike; a real difference is still one."""
    values = [1.08, 1.03, 1.13]
    assert compare(values, [v * (1 + 1e-15) for v in values], tolerance=0.0).verdict == "unchanged"
    assert compare(values, [v * (1 - 1e-15) for v in values], tolerance=0.0).verdict == "unchanged"
    assert compare(values, [v * 1.001 for v in values], tolerance=0.0).verdict == "regressed"


@pytest.mark.parametrize("seeds", [1, 3])
def test_every_run_diverging_where_none_did_is_a_regression_whatever_the_seeds(seeds):
    """Pass 87: 3/3 diverged against 0/3 is no significant share by Fisher's test (p 0.1), so a change that made
    every run diverge passed `check`; the reverse is an improvement, and a part of the runs stays a test."""

    def divergence(before: int, now: int, runs: int = seeds) -> Comparison:
        b = Sample((), tuple(range(runs)), before, runs - before)
        k = Sample((), tuple(range(runs)), now, runs - now)
        return judge([Comparison("v", "d", DIVERGENCE, "lower", 0.0, b, k)])[0]

    regressed = divergence(0, seeds)
    assert regressed.verdict == "regressed" and "every run diverges now" in " ".join(regressed.notes)
    assert divergence(seeds, 0).verdict == "improved"
    if seeds == 3:
        assert divergence(0, 2).verdict == "inconclusive"  # 2 of 3 against none: Fisher's p 0.4, a test still
