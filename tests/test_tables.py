"""Tables: mean ± std and n over seeds, best per dataset in bold, direction-aware."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ganbench.tables import render, summarize

DIRECTIONS = {"modes_captured": "higher", "reverse_kl": "lower"}


def runs() -> pd.DataFrame:
    rows = [
        ("grid25", "a", 0, "completed", 20, 0.5),
        ("grid25", "a", 1, "completed", 22, 0.3),
        ("grid25", "a", 2, "completed", 24, 0.1),
        ("grid25", "b", 0, "completed", 25, 0.9),
        ("grid25", "b", 1, "completed", 23, 0.7),
        ("grid25", "b", 2, "diverged", math.nan, math.nan),
        ("ring8", "a", 0, "completed", 8, 0.05),
        ("ring8", "b", 0, "completed", 7, 0.01),
    ]
    return pd.DataFrame(rows, columns=["dataset", "variant", "seed", "status", "modes_captured", "reverse_kl"])


def test_mean_std_and_n_over_seeds():
    table = summarize(runs(), list(DIRECTIONS), DIRECTIONS).set_index(["dataset", "variant"])
    a = table.loc[("grid25", "a")]
    assert a["n"] == 3 and a["modes_captured_mean"] == 22 and a["modes_captured_std"] == pytest.approx(2.0)
    b = table.loc[("grid25", "b")]
    assert b["n"] == 2 and b["diverged"] == 1
    assert b["reverse_kl_std"] == pytest.approx(np.std([0.9, 0.7], ddof=1))
    se = summarize(runs(), ["modes_captured"], DIRECTIONS, spread="se").set_index(["dataset", "variant"])
    assert se.loc[("grid25", "a"), "modes_captured_se"] == pytest.approx(2.0 / math.sqrt(3))


def test_best_is_direction_aware_and_per_dataset():
    table = summarize(runs(), list(DIRECTIONS), DIRECTIONS).set_index(["dataset", "variant"])
    assert table.loc[("grid25", "b"), "modes_captured_best"] and not table.loc[("grid25", "a"), "modes_captured_best"]
    assert table.loc[("grid25", "a"), "reverse_kl_best"] and not table.loc[("grid25", "b"), "reverse_kl_best"]
    assert table.loc[("ring8", "a"), "modes_captured_best"] and table.loc[("ring8", "b"), "reverse_kl_best"]


def test_markdown_bolds_the_best_cell():
    text = render(summarize(runs(), list(DIRECTIONS), DIRECTIONS), list(DIRECTIONS))
    row_b = next(line for line in text.splitlines() if "| grid25  | b " in line)
    assert "**24 ± 1.414**" in row_b and "**" not in row_b.split("|")[-2]
    row_a = next(line for line in text.splitlines() if "| grid25  | a " in line)
    assert "**0.300 ± 0.200**" in row_a


@pytest.mark.parametrize(
    "values",
    [
        [1.7e308, 0.0],
        [1.7e308, 1.7e308, -1e308],
        [1.0, 2.0, 4.0],
        [3.5],
        [1e160, 2e160],  # squares overflow
        [1e-300, 2e-300],  # squares underflow: a spread of 0 before
        [1e-170, 2e-170, 4e-170],
        [-3e-200, 1e-200],
    ],
)
def test_mean_and_spread_match_exact_arithmetic_even_near_float64s_limits(values):
    """statistics.mean/stdev compute with exact fractions: the oracle. A plain sum of squares overflows (or
    underflows to a spread of 0) here."""
    import statistics
    import warnings

    from ganbench.tables import mean_and_std

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning reaches the user
        mean, std = mean_and_std(np.array(values))
    assert mean == pytest.approx(statistics.mean(values), rel=1e-12, abs=0)
    if len(values) > 1:
        assert std == pytest.approx(statistics.stdev(values), rel=1e-12, abs=0)
    else:
        assert math.isnan(std)


def test_tiny_unequal_values_have_their_spread_in_a_table():
    """The hostile tester's case: frechet 1e-300 and 2e-300 showed ± 0. Oracle: sd of (1, 2) = sqrt(1/2),
    by exact fractions, times 1e-300; the standard error is 1/2 of 1e-300."""
    from fractions import Fraction

    frame = pd.DataFrame(
        [("ring8", "tiny", s, "completed", x) for s, x in enumerate([1e-300, 2e-300])],
        columns=["dataset", "variant", "seed", "status", "reverse_kl"],
    )
    std = summarize(frame, ["reverse_kl"], DIRECTIONS).iloc[0]["reverse_kl_std"]
    assert std == pytest.approx(math.sqrt(Fraction(1, 2)) * 1e-300, rel=1e-12, abs=0)
    assert std == pytest.approx(7.0710678e-301, rel=1e-8, abs=0)
    se = summarize(frame, ["reverse_kl"], DIRECTIONS, spread="se").iloc[0]["reverse_kl_se"]
    assert se == pytest.approx(float(Fraction(1, 2) * Fraction(1e-300)), rel=1e-12, abs=0)
    assert "1.5e-300 ± 7.07e-301" in render(summarize(frame, ["reverse_kl"], DIRECTIONS), ["reverse_kl"])


def test_a_table_mixing_budgets_says_each_rows_and_bolds_within_a_budget():
    frame = runs().assign(steps=[300, 300, 300, 300, 300, 300, 300, 1000])  # ring8's b at another budget
    table = summarize(frame, ["modes_captured"], DIRECTIONS)
    text = render(table, ["modes_captured"])
    header, _, *rows = text.splitlines()
    assert "| steps |" in header
    cells = {(r.split("|")[1].strip(), r.split("|")[2].strip()): r for r in rows}
    assert "| 300 " in cells["grid25", "a"] and "| 1000 " in cells["ring8", "b"]
    assert "**" in cells["grid25", "b"] and "**" not in cells["grid25", "a"]  # 24 > 22 at one budget
    assert "**" not in cells["ring8", "a"] + cells["ring8", "b"]  # alone at their budgets: no contest
    same = summarize(runs().assign(steps=300), ["modes_captured"], DIRECTIONS)
    assert "steps" not in render(same, ["modes_captured"]).splitlines()[0]


def test_a_tie_of_every_row_is_bold_nowhere():
    collapsed = runs().assign(reverse_kl=math.log(25))  # every run on one mode: reverse_kl = log K for all
    table = summarize(collapsed, ["reverse_kl"], DIRECTIONS)
    assert not table["reverse_kl_best"].any()


def test_runs_scored_against_other_data_or_n_never_compete_for_bold():
    frame = runs()[runs()["dataset"] == "grid25"].copy()
    frame["scored_on"] = ["folder A"] * 3 + ["folder B"] * 3  # two folders of images, both "files", say
    table = summarize(frame, list(DIRECTIONS), DIRECTIONS)
    assert not table["modes_captured_best"].any() and not table["reverse_kl_best"].any()
    frame["scored_on"] = "one folder"
    assert summarize(frame, list(DIRECTIONS), DIRECTIONS)["modes_captured_best"].any()


def test_a_run_lacking_an_output_its_siblings_wrote_counts_as_missing():
    from ganbench.results import OUTPUTS

    frame = runs()[(runs()["dataset"] == "grid25") & (runs()["variant"] == "a")].copy()
    frame[OUTPUTS] = [frozenset(DIRECTIONS), frozenset(DIRECTIONS), frozenset()]  # seed 2's metrics: {}
    frame.loc[frame["seed"] == 2, list(DIRECTIONS)] = math.nan
    row = summarize(frame, list(DIRECTIONS), DIRECTIONS).iloc[0]
    assert row["n"] == 3 and row["modes_captured_n"] == 2 and row["modes_captured_missing"] == 1
    frame[OUTPUTS] = [frozenset(["modes_captured"])] * 3  # no run wrote reverse_kl: not applicable, not missing
    row = summarize(frame, list(DIRECTIONS), DIRECTIONS).iloc[0]
    assert row["reverse_kl_n"] == 0 and row["reverse_kl_missing"] == 0


def test_latex_escapes_every_special_character_of_a_name():
    frame = runs()[runs()["dataset"] == "ring8"].assign(dataset="w|e&i<b>r_d%$#{x}~^\\")
    text = render(summarize(frame, ["modes_captured"], DIRECTIONS), ["modes_captured"], "latex")
    escaped = (
        r"w\textbar{}e\&i\textless{}b\textgreater{}r\_d\%\$\#\{x\}\textasciitilde{}\textasciicircum{}\textbackslash{}"
    )
    assert escaped in text


@pytest.mark.parametrize("value", [0.1, 1.1, 3e-300, 1.7e308])
def test_seeds_that_agree_bit_for_bit_have_their_value_and_no_spread(value):
    from ganbench.moments import mean_and_std

    assert mean_and_std(np.array([value] * 3)) == (value, 0.0)


def test_a_standard_error_within_float64s_range_is_shown_even_when_the_deviation_is_past_it():
    """Seeds at ±1.7e308: the sample deviation, 2.4e308, is past float64's range, but the standard error is
    1.7e308 (oracle: exact fractions, sqrt of sum of squares / (n (n - 1))). It showed '± inf' before."""
    import statistics
    from fractions import Fraction

    values = [1.7e308, -1.7e308, 1.0e308]
    frame = pd.DataFrame(
        [("ring8", "huge", s, "completed", x) for s, x in enumerate(values)],
        columns=["dataset", "variant", "seed", "status", "reverse_kl"],
    )
    exact = math.sqrt(float(statistics.variance([Fraction(v) for v in values]) / 3 / Fraction(10**300) ** 2)) * 1e300
    se = summarize(frame, ["reverse_kl"], DIRECTIONS, spread="se").iloc[0]["reverse_kl_se"]
    assert math.isfinite(se) and se == pytest.approx(exact, rel=1e-12, abs=0)
    assert "inf" not in render(summarize(frame, ["reverse_kl"], DIRECTIONS, spread="se"), ["reverse_kl"], spread="se")
