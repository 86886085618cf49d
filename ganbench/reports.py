"""Leaderboard check reports: markdown for a pull-request comment, JSON, and JUnit XML for CI.

Regressions come first, then improvements, inconclusive and unchanged results; identical
ones are counted, not listed (on a deterministic machine that is most of them).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ganbench.errors import one_line
from ganbench.results import strict_json
from ganbench.tables import format_number, markdown_cell
from ganbench.verdicts import DIVERGENCE, Comparison

ORDER = ("regressed", "improved", "inconclusive", "unchanged", "identical")
MARK = {
    "regressed": "❌ regressed",
    "improved": "✅ improved",
    "inconclusive": "❔ inconclusive",
    "unchanged": "unchanged",
}


def counts(comparisons: Sequence[Comparison]) -> Counter:
    return Counter(c.verdict for c in comparisons)


def markdown(suite_name: str, comparisons: Sequence[Comparison], notes: Sequence[str] = ()) -> str:
    """The report as markdown: a headline, then a table of every comparison that is not identical."""
    n = counts(comparisons)
    headline = ", ".join(f"{n[v]} {v}" for v in ORDER if n[v]) or "nothing to compare"
    lines = [f"### ganbench leaderboard `{suite_name}`: {headline}", ""]
    if notes:  # a blank line after: else the table is the quote's lazy continuation, text, not a table
        lines += [f"> {note}" for note in notes] + [""]
    shown = sorted((c for c in comparisons if c.verdict != "identical"), key=lambda c: ORDER.index(c.verdict))
    if shown:
        lines += [
            "| variant | dataset | metric | baseline | current | Δ | tolerance | test | p (Holm) | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [_row(c) for c in shown]
    else:
        lines.append("Every metric of every run is identical to the baseline, bit for bit.")
    return "\n".join(lines) + "\n"


def _row(c: Comparison) -> str:
    computed = [x for x in (c.p_values_holm, c.p_divergence_holm) if not math.isnan(x)]
    p = f"{min(computed):.3g}" if computed else "–"  # none computed (too few values) was shown as a test's 1
    verdict = MARK.get(c.verdict, c.verdict)
    if c.seeds_needed:
        where = "on both sides" if c.test.startswith("paired") else "per side"
        verdict += f" (≈{c.seeds_needed} seeds {where} would settle it)"
    if c.notes:
        verdict += f"; {'; '.join(c.notes)}"
    arrow = "↑" if c.direction == "higher" else "↓"
    return (
        f"| {markdown_cell(c.variant)} | {markdown_cell(c.dataset)} | {c.metric} ({arrow}) | "
        f"{_side(c.baseline, c.metric)} | {_side(c.current, c.metric)} | {_signed(c.difference)} | "
        f"{format_number(c.tolerance)} | "
        f"{(c.test if computed else '') or '–'} | {p} | {verdict} |"
    )


def _side(s: Any, metric: str) -> str:
    if metric == DIVERGENCE:  # a count of runs, not values: "0/4 diverged", not "n=0"
        return f"{s.diverged}/{s.runs} diverged"
    if not s.values:
        return f"– (n=0{f', {s.diverged} diverged' if s.diverged else ''})"
    spread = "" if math.isnan(s.se) else f" ± {format_number(s.se)}"
    return f"{format_number(s.mean)}{spread} (n={len(s.values)}{f', {s.diverged} diverged' if s.diverged else ''})"


def _side_json(s: Any, metric: str) -> dict[str, Any]:
    """A side's values, by seed. In the divergence comparison the seeds are every run's (a divergence ``Sample``
    holds a diverged run's as -1 - seed, for pairing), and those of the diverged runs are listed again."""
    side = {"values": list(s.values), "seeds": list(s.seeds), "diverged": s.diverged}
    if metric == DIVERGENCE:
        side["seeds"] = sorted(seed if seed >= 0 else -1 - seed for seed in s.seeds)
        side["diverged_seeds"] = sorted(-1 - seed for seed in s.seeds if seed < 0)
    return side


def _signed(x: float) -> str:
    return "–" if math.isnan(x) else ("+" if x > 0 else "") + format_number(x)


def as_json(suite_name: str, comparisons: Sequence[Comparison], notes: Sequence[str] = ()) -> dict[str, Any]:
    """The report as JSON: the markdown's notes too (other hardware, runs that failed), which it left out."""
    return strict_json(
        {
            "suite": suite_name,
            "counts": dict(counts(comparisons)),
            "notes": list(notes),
            "comparisons": [
                {
                    "variant": c.variant,
                    "dataset": c.dataset,
                    "metric": c.metric,
                    "direction": c.direction,
                    "tolerance": c.tolerance,
                    "verdict": c.verdict,
                    "baseline": _side_json(c.baseline, c.metric),
                    "current": _side_json(c.current, c.metric),
                    "difference": c.difference,
                    "test": c.test,
                    "interval": list(c.interval),
                    "p_values": c.p_values,
                    "p_values_holm": c.p_values_holm,
                    "p_divergence": c.p_divergence,
                    "p_divergence_holm": c.p_divergence_holm,
                    "seeds_needed": c.seeds_needed,
                    "notes": c.notes,
                }
                for c in comparisons
            ],
        }
    )


def junit(
    suite_name: str,
    comparisons: Sequence[Comparison],
    strict: bool = False,
    unfinished: Sequence[tuple[str, str]] = (),
) -> str:
    """JUnit XML: a test case per comparison; regressions (and, with ``strict``, inconclusive ones) fail. Each
    run that did not finish (``unfinished``: its folder, why) is a test case in error, as the command exits 1: a
    report of only passing cases would show a CI green while its job fails."""
    failing = {"regressed", "inconclusive"} if strict else {"regressed"}
    suite = ET.Element(
        "testsuite",
        name=f"ganbench.{suite_name}",
        tests=str(len(comparisons) + len(unfinished)),
        failures=str(sum(c.verdict in failing for c in comparisons)),
        errors=str(len(unfinished)),
    )
    for run_dir, why in unfinished:
        case = ET.SubElement(suite, "testcase", classname=one_line(f"{suite_name}.runs"), name=one_line(run_dir))
        ET.SubElement(case, "error", message=one_line(why)).text = one_line(why)
    for c in comparisons:
        case = ET.SubElement(
            suite, "testcase", classname=one_line(f"{suite_name}.{c.dataset}.{c.variant}"), name=c.metric
        )
        if c.verdict in failing:
            failure = ET.SubElement(case, "failure", message=f"{c.verdict}: {_row(c)}")
            failure.text = _row(c)
        else:
            ET.SubElement(case, "system-out").text = c.verdict
    return ET.tostring(ET.ElementTree(suite).getroot(), encoding="unicode", xml_declaration=True) + "\n"
