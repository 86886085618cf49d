"""Comparison tables: mean ± spread and n over seeds, per variant x dataset x setting x metric.

A cell holds runs whose specs differ only in their seed: when a folder holds several
configs of one variant and dataset (budgets, overrides), each is a row of its own,
labelled by what differs (its ``setting``), and n counts distinct seeds; a table whose rows
differ in budget shows each row's ``steps``. The best mean of each metric among rows of one budget
scored against the same data (dataset and its options, number of samples, evaluation seed) is bold, where
at least two rows differ; whether best is highest or lowest comes from
the metric's registered direction. Diverged and failed runs are counted, never averaged
in; a completed run without a value (null in metrics.json) is counted as missing, and one
that never computed a metric (class accuracy of an unconditional variant) is not.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd

from ganbench.errors import one_line
from ganbench.moments import mean_and_std
from ganbench.results import OUTPUTS

Format = Literal["markdown", "csv", "latex", "html"]
Spread = Literal["std", "se"]


def summarize(
    runs: pd.DataFrame, metrics: Sequence[str], directions: Mapping[str, str], spread: Spread = "std"
) -> pd.DataFrame:
    """One row per (dataset, variant, setting): n, diverged, and mean/spread/n/missing/best of each metric."""
    if "setting" not in runs:
        runs = runs.assign(setting="")
    rows = []
    for (dataset, variant, setting), group in runs.groupby(["dataset", "variant", "setting"], sort=True):
        if "seed" in group:  # a seed counts once (a run copied into two folders is one run)
            group = group.drop_duplicates(["seed", "status"])
        done = group[group["status"] == "completed"]
        row: dict[str, object] = {
            "dataset": dataset,
            "variant": variant,
            "setting": setting,
            "steps": _budget(group),
            "n": len(done),
            "diverged": int((group["status"] == "diverged").sum()),
            "scored_on": group["scored_on"].iloc[0] if "scored_on" in group else "",
        }
        written = set().union(*done[OUTPUTS]) if OUTPUTS in done and len(done) else None
        for metric in metrics:
            # a config's runs differ only in their seed, so they write the same outputs: one that no run of it wrote
            # does not apply (class accuracy of an unconditional variant); one a run lacks that another wrote is
            # missing there (a record edited or damaged), as a null is
            done_here = done.iloc[:0] if written is not None and metric not in written else done
            values = done_here[metric].dropna() if metric in done_here else pd.Series(dtype=float)
            mean, std = mean_and_std(values.to_numpy(dtype=float), per_sqrt_n=spread == "se")
            row[f"{metric}_mean"] = mean
            row[f"{metric}_{spread}"] = std
            row[f"{metric}_n"] = len(values)
            row[f"{metric}_missing"] = len(done_here) - len(values)
        rows.append(row)
    table = pd.DataFrame(rows)
    for metric in metrics:
        table[f"{metric}_best"] = False
        if table.empty:
            continue
        # runs of unequal budgets do not compete, nor runs scored against other data (another folder of images,
        # other dataset options) or at another N or evaluation seed (FID's bias depends on N)
        for _, group in table.groupby(["dataset", "steps", "scored_on"]):
            means = group[f"{metric}_mean"].dropna()
            if len(means) == 0:
                continue
            best = means.max() if directions.get(metric, "higher") == "higher" else means.min()
            if len(means) < 2 or (means == best).all():
                continue  # alone at its budget, or all tied (every run on one mode, say): nobody is best
            table.loc[means.index[means == best], f"{metric}_best"] = True
    return table


def _budget(group: pd.DataFrame) -> str:
    """The step budget of a cell's runs ('' where unknown): one config, so one budget."""
    if "steps" not in group:
        return ""
    budgets = sorted({str(int(v)) for v in group["steps"].dropna()})
    return "/".join(budgets)


def render(table: pd.DataFrame, metrics: Sequence[str], fmt: Format = "markdown", spread: Spread = "std") -> str:
    """The summary as markdown, csv, latex or html (a ``setting`` column where configs differ; always in csv)."""
    if not table.empty:  # a name or setting on one line: a path with a newline would split a row
        table = table.assign(**{c: table[c].map(one_line) for c in ("dataset", "variant", "setting")})
    if fmt == "csv":
        cols = ["dataset", "variant", "setting", "n", "diverged"] + [
            f"{m}_{part}" for m in metrics for part in ("mean", spread, "n", "missing")
        ]
        return table[cols].to_csv(index=False)
    with_setting = bool(table["setting"].astype(bool).any()) if not table.empty else False
    budgets = {b for b in table.get("steps", pd.Series(dtype=str)) if isinstance(b, str) and b}
    with_steps = len(budgets) > 1  # a table mixing budgets says each row's
    header = ["dataset", "variant", *(["setting"] if with_setting else []), *(["steps"] if with_steps else [])]
    header += ["n", "diverged", *metrics]
    body = [
        [str(row["dataset"]), str(row["variant"]), *([str(row["setting"])] if with_setting else [])]
        + ([_steps_text(row.get("steps"))] if with_steps else [])
        + [str(row["n"]), str(row["diverged"])]
        + [
            _cell(row[f"{m}_mean"], row[f"{m}_{spread}"], bool(row[f"{m}_best"]), fmt, int(row[f"{m}_missing"]))
            for m in metrics
        ]
        for _, row in table.iterrows()
    ]
    text_columns = 3 if with_setting else 2
    if fmt == "latex":
        lines = [
            r"\begin{tabular}{" + "l" * text_columns + "r" * (len(header) - text_columns) + "}",
            r"\toprule",
            " & ".join(_latex_text(h) for h in header) + r" \\",
            r"\midrule",
        ]
        lines += [" & ".join([_latex_text(c) for c in r[:text_columns]] + r[text_columns:]) + r" \\" for r in body]
        return "\n".join(lines + [r"\bottomrule", r"\end{tabular}"]) + "\n"
    if fmt == "html":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        cells = [[html.escape(c) if i < text_columns else c for i, c in enumerate(r)] for r in body]
        rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>\n" for r in cells)
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
    body = [[markdown_cell(c) if i < text_columns else c for i, c in enumerate(r)] for r in body]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in body]
    return "\n".join(lines) + "\n"


def _steps_text(steps: object) -> str:
    return steps if isinstance(steps, str) and steps else "–"


def markdown_cell(text: object) -> str:
    """Text for a markdown table cell: one line (control characters and undecodable bytes escaped), '|' escaped."""
    return one_line(text).replace("|", "\\|")


LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
"""LaTeX's special characters in text, and what stands for each."""


def _latex_text(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(c, c) for c in text)  # one pass: a replacement is never replaced again


def format_number(x: float) -> str:
    """Three significant digits, no scientific notation for ordinary magnitudes."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}" if abs(x) >= 1 else f"{x:.3f}"
    return f"{x:.3g}"


def _cell(mean: float, spread: float, best: bool, fmt: Format, missing: int = 0) -> str:
    note = f" ({missing} missing)" if missing else ""
    if isinstance(mean, float) and math.isnan(mean):
        return ("--" if fmt == "latex" else "–") + note
    text = (
        format_number(mean)
        if isinstance(spread, float) and math.isnan(spread)
        else f"{format_number(mean)} ± {format_number(spread)}"
    )
    if fmt == "html":
        text = html.escape(text)
    if fmt == "latex":
        text = text.replace("±", r"$\pm$").replace("–", "--")
    if best:
        text = {"markdown": f"**{text}**", "latex": rf"\textbf{{{text}}}", "html": f"<b>{text}</b>"}[fmt]
    return text + note
