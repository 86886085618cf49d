"""Seed-aware verdicts: is a metric's change across training seeds real, and does it matter?

A GAN's numbers move with the training seed more than with most code changes, so one
number against one number either cries wolf or misses regressions. For each
(variant, dataset, metric) the per-seed values of a baseline and of the current code get:

- ``identical``: the same seeds, statuses and values, bit for bit (deterministic runs on
  the same kind of machine);
- ``regressed`` / ``improved``: a difference beyond the metric's tolerance (the smallest
  change that matters) that is significant after Holm's correction over every test of the
  suite; and, once per (variant, dataset), a test of the share of diverged runs (the
  pseudo-metric ``diverged``: more divergence is a regression whatever the values, and every run diverging
  where none did is one whatever the number of seeds); a difference within ``ROUNDING`` of the values'
  size is never beyond the tolerance;
- ``unchanged``: the (1 - 2 alpha) confidence interval of the difference lies inside
  +-tolerance (two one-sided tests: equivalence);
- ``inconclusive``: none of these; the verdict says about how many seeds would settle it
  (normal approximation, 80% power, the observed spread and difference), or that no
  practical number would.

Seeds pair up. Seed k of the baseline and seed k of the current runs share their data order,
noise and initialisation, so where both sides hold the same seeds the comparison is paired:
the test is on the per-seed differences, whose spread is what the code change adds, not the
seed-to-seed spread of the metric (a difference of 1e-14 on values that move by 2.6 from seed
to seed is no difference at all). The paired test is Student's paired t-test (``ttest_rel``),
not Wilcoxon's signed-rank test: with the 3 to 10 seeds a leaderboard affords, Wilcoxon's
exact two-sided p-value cannot go below 2 / 2^n (0.0625 at five seeds), so it could never
find a regression, let alone after Holm's correction; the t-test's interval is also what
the equivalence verdict needs. Seeds held by one side only are left out of a paired test;
with fewer than two shared seeds the sides are compared as independent samples (Welch's
t-test). Divergence stays Fisher's exact test on the two shares of diverged runs (see
``divergence_test`` for why not McNemar's). Each comparison says which test decided it (``test``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from scipy import stats

from ganbench.moments import exponent, mean_and_std, scaled, standard_error, unscaled

Verdict = Literal["identical", "improved", "regressed", "unchanged", "inconclusive"]
ALPHA = 0.05
POWER = 0.8


ROUNDING = 1e-9
"""A difference within this share of the values' size is rounding (another summation order, another machine's
libraries), never a change, whatever tolerance a suite gives, none included (pass 87: 1e-15 of a metric without a
[tolerance] was a significant regression, paired seeds varying alike)."""


DIVERGENCE = "diverged"
"""The metric name of a (variant, dataset)'s divergence comparison (Fisher's exact test, once per pair)."""


@dataclass(frozen=True)
class Sample:
    """One side of a comparison: per-seed values of completed runs, and how many runs diverged.

    ``completed``: completed runs (some may have no value for a metric); default len(values).
    """

    values: tuple[float, ...]
    seeds: tuple[int, ...] = ()
    diverged: int = 0
    completed: int | None = None

    @property
    def runs(self) -> int:
        return (len(self.values) if self.completed is None else self.completed) + self.diverged

    @property
    def mean(self) -> float:
        return mean_and_std(self.values)[0]

    @property
    def se(self) -> float:
        """The standard error of the mean (NaN below two values)."""
        return standard_error(self.values)


SEEDS_LIMIT = 10_000
"""An estimate above this many seeds is no plan: the report says in words that no number would settle it."""


@dataclass
class Comparison:
    """A (variant, dataset, metric) and its two samples; ``judge`` fills the tests, ``estimate`` (the
    difference the test measured: the mean per-seed difference when paired), ``test`` and ``verdict``."""

    variant: str
    dataset: str
    metric: str
    direction: Literal["higher", "lower"]
    tolerance: float
    baseline: Sample
    current: Sample
    p_values: float = math.nan
    p_divergence: float = math.nan
    p_values_holm: float = math.nan
    p_divergence_holm: float = math.nan
    interval: tuple[float, float] = (math.nan, math.nan)
    verdict: Verdict = "inconclusive"
    seeds_needed: int | None = None
    notes: list[str] = field(default_factory=list)
    test: str = ""
    """The test that decided the verdict, as the report names it: "paired t (5 seeds)", "Welch (5 vs 4)", ..."""
    estimate: float = math.nan

    @property
    def difference(self) -> float:
        """current - baseline, in the metric's units: the paired estimate when the test paired seeds."""
        return self.estimate if not math.isnan(self.estimate) else self.current.mean - self.baseline.mean

    def worse(self, delta: float) -> bool:
        return delta < 0 if self.direction == "higher" else delta > 0


def judge(comparisons: Sequence[Comparison], alpha: float = ALPHA) -> list[Comparison]:
    """Fill every comparison's tests, Holm-corrected over all tests of the suite together, and its verdict.

    Identical comparisons are decided by equality and take no part in the correction.
    """
    family: list[tuple[Comparison, str]] = []
    for c in comparisons:
        if identical(c):  # decided by equality: no test, and no weight in the correction
            continue
        if c.metric == DIVERGENCE:
            c.p_divergence, c.test = divergence_test(c.baseline, c.current)
        else:
            test_values(c, alpha)
        family += [(c, "p_values")] * (not math.isnan(c.p_values))
        family += [(c, "p_divergence")] * (not math.isnan(c.p_divergence))
    adjusted = holm([getattr(c, name) for c, name in family])
    for (c, name), p in zip(family, adjusted, strict=True):
        setattr(c, f"{name}_holm", p)
    for c in comparisons:
        c.verdict, c.seeds_needed = _verdict(c, alpha)
    return list(comparisons)


def shared_seeds(baseline: Sample, current: Sample) -> tuple[list[float], list[float]]:
    """The values of the seeds both sides hold, in seed order: (baseline's, current's)."""
    b = dict(zip(baseline.seeds, baseline.values, strict=False))
    k = dict(zip(current.seeds, current.values, strict=False))
    shared = sorted(set(b) & set(k))
    return [b[s] for s in shared], [k[s] for s in shared]


def test_values(c: Comparison, alpha: float = ALPHA) -> None:
    """Paired t-test on the shared seeds when there are two or more, else Welch: fills the comparison's
    p-value, interval, estimate and test."""
    before, after = shared_seeds(c.baseline, c.current)
    if len(before) >= 2:
        c.p_values, c.interval, c.estimate = paired_t(before, after, alpha)
        left = len(c.baseline.values) + len(c.current.values) - 2 * len(before)
        c.test = f"paired t ({len(before)} seeds)"
        if left:
            c.notes.append(
                f"{left} run(s) of a seed without a value on the other side (absent, null or diverged) left out of "
                "the paired test"
            )
        return
    c.p_values, c.interval = welch(c.baseline.values, c.current.values, alpha)
    c.test = f"Welch ({len(c.baseline.values)} vs {len(c.current.values)})"


def paired_t(baseline: Sequence[float], current: Sequence[float], alpha: float = ALPHA) -> tuple[float, tuple, float]:
    """Student's paired t-test on current - baseline per seed: (two-sided p, the (1 - 2 alpha) interval of the
    mean difference, the mean difference). Differences without spread are certain (p 0, or 1 if all zero).
    Computed on the values over a common power of two (``moments``): exact, and no square overflows."""
    e = exponent(baseline, current)
    before, after = scaled(baseline, e), scaled(current, e)
    d = after - before
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0:
        return (0.0 if mean != 0 else 1.0), (unscaled(mean, e),) * 2, unscaled(mean, e)
    with warnings.catch_warnings():  # differences of rounding size: scipy warns of precision loss, p stands
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(stats.ttest_rel(after, before).pvalue)
    half = float(stats.t.ppf(1 - alpha, len(d) - 1)) * sd / math.sqrt(len(d))
    return p, (unscaled(mean - half, e), unscaled(mean + half, e)), unscaled(mean, e)


def identical(c: Comparison) -> bool:
    """The same seeds, statuses and values, bit for bit."""
    b, k = c.baseline, c.current
    return bool(b.runs) and b.seeds == k.seeds and b.values == k.values and b.diverged == k.diverged


def _too_few(b: Sample, k: Sample) -> str:
    """Why a comparison has not two values a side: too few completed runs, or a metric with no value (null) in runs
    that completed (pass 57: told as "fewer than 2 completed runs" of 3 completed runs)."""
    reasons = []  # each side's: one told alone hid the other's (pass 66)
    for side, sample in (("baseline", b), ("current", k)):
        done = len(sample.values) if sample.completed is None else sample.completed
        if len(sample.values) < 2 and done > len(sample.values):
            reasons.append(
                f"no value in {done - len(sample.values)} of the {done} completed runs on the {side} side (null)"
            )
        elif len(sample.values) < 2:
            reasons.append(f"fewer than 2 completed runs on the {side} side")
    return "; ".join(reasons) or "fewer than 2 values on a side"


def _verdict(c: Comparison, alpha: float) -> tuple[Verdict, int | None]:
    b, k = c.baseline, c.current
    if identical(c):
        return "identical", None
    if c.metric == DIVERGENCE:
        c.notes.append(f"diverged {k.diverged}/{k.runs} vs {b.diverged}/{b.runs}")
        if not (k.runs and b.runs):  # no run on a side (failed, skipped): no share to compare, not "unchanged"
            c.notes.append("no finished run on a side")
            return "inconclusive", None
        more = k.diverged / max(k.runs, 1) > b.diverged / max(b.runs, 1)
        now, before = (k, b) if more else (b, k)
        if now.diverged == now.runs and before.diverged == 0:  # every run diverges where none did: no count of
            side = "now" if more else "in the baseline"  # seeds is needed to see that (pass 87: 3/3 vs 0/3 was
            c.notes.append(f"every run diverges {side}, none on the other side")  # inconclusive, and check passed)
            return ("regressed" if more else "improved"), None
        if c.p_divergence_holm < alpha:
            return ("regressed" if more else "improved"), None
        same_rate = k.diverged * b.runs == b.diverged * k.runs
        return ("unchanged" if same_rate else "inconclusive"), None
    delta = c.difference
    if math.isnan(delta) or len(b.values) < 2 or len(k.values) < 2:
        c.notes.append(_too_few(b, k))
        return "inconclusive", None
    tolerance = max(c.tolerance, ROUNDING * max(abs(v) for v in (*b.values, *k.values)))
    if c.p_values_holm < alpha and abs(delta) > tolerance:
        return ("regressed" if c.worse(delta) else "improved"), None
    low, high = c.interval
    if -tolerance <= low and high <= tolerance:
        return "unchanged", None
    paired = c.test.startswith("paired")
    sides = shared_seeds(b, k) if paired else (b.values, k.values)
    needed = seeds_to_settle(*sides, delta, tolerance, alpha, paired)
    if needed is None or needed > SEEDS_LIMIT:
        c.notes.append("no number of seeds would settle it: the difference sits too near the tolerance")
        return "inconclusive", None
    return "inconclusive", needed


def welch(
    baseline: Sequence[float], current: Sequence[float], alpha: float = ALPHA
) -> tuple[float, tuple[float, float]]:
    """Welch's two-sided p-value and the (1 - 2 alpha) interval of mean(current) - mean(baseline).

    Samples without spread: the difference is certain (p = 0 if the means differ, else 1). Computed on the
    values over a common power of two (``moments``): exact, and no square overflows.
    """
    if len(baseline) < 2 or len(current) < 2:
        return math.nan, (math.nan, math.nan)
    e = exponent(baseline, current)
    b, k = scaled(baseline, e), scaled(current, e)
    delta = float(k.mean() - b.mean())
    vb, vk = b.var(ddof=1) / len(b), k.var(ddof=1) / len(k)
    if vb + vk == 0:
        return (0.0 if delta != 0 else 1.0), (unscaled(delta, e),) * 2
    with warnings.catch_warnings():  # nearly equal values: scipy warns of precision loss, the p-value stands
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(stats.ttest_ind(k, b, equal_var=False).pvalue)
    df = (vb + vk) ** 2 / (vb**2 / (len(b) - 1) + vk**2 / (len(k) - 1))
    half = float(stats.t.ppf(1 - alpha, df)) * math.sqrt(vb + vk)
    return p, (unscaled(delta - half, e), unscaled(delta + half, e))


def divergence_test(baseline: Sample, current: Sample) -> tuple[float, str]:
    """(Fisher's exact two-sided p-value for the diverged share of runs, "Fisher"); NaN when neither diverged.

    Not McNemar's test, though seeds pair up: it counts only the seeds that diverged on one side, and with
    n of them its smallest two-sided p-value is 2 / 2^n (0.0625 at five), so a change that made every
    seed of a five-seed suite diverge could never be called a regression. Fisher's test treats the sides
    as independent, which for positively correlated pairs overstates the variance: it errs on the side
    of fewer false alarms, and can still see a real one.
    """
    if not (baseline.diverged or current.diverged) or not (baseline.runs and current.runs):
        return math.nan, ""
    table = [
        [current.diverged, current.runs - current.diverged],
        [baseline.diverged, baseline.runs - baseline.diverged],
    ]
    return float(stats.fisher_exact(table).pvalue), "Fisher"


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input's order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def seeds_to_settle(
    baseline: Sequence[float],
    current: Sequence[float],
    delta: float,
    tolerance: float,
    alpha: float,
    paired: bool = False,
) -> int | None:
    """Seeds that would settle it, by the normal approximation at 80% power: enough to make a difference
    beyond the tolerance significant, or to show one inside it equivalent. Paired: seeds run on both sides,
    from the spread of the per-seed differences; else seeds per side, from the two sides' pooled spread.
    None if no number can (the difference is the tolerance, or there is no spread to go by, or the number
    is past counting). The spread and margin are taken over a common power of two: their ratio is the same."""
    e = exponent(baseline, current, [delta, tolerance])
    before, after = scaled(baseline, e), scaled(current, e)
    small_delta, small_tolerance = abs(math.ldexp(delta, -e)), math.ldexp(tolerance, -e)
    if paired:
        sd = mean_and_std(after - before)[1]
    else:
        sd = math.hypot(mean_and_std(before)[1], mean_and_std(after)[1]) / math.sqrt(2)  # the pooled spread
    if abs(delta) > tolerance:
        margin, z_alpha = small_delta, stats.norm.ppf(1 - alpha / 2)  # detect the difference
    else:
        margin, z_alpha = small_tolerance - small_delta, stats.norm.ppf(1 - alpha)  # show equivalence
    if margin == 0 or not math.isfinite(sd) or not math.isfinite(margin):
        return None
    ratio = float(z_alpha + stats.norm.ppf(POWER)) * sd / margin
    if not ratio < 1e9:  # a margin that vanishes beside the spread (the square would overflow): past counting
        return None
    return max(len(baseline) + 1, math.ceil((1 if paired else 2) * ratio**2))
