"""Comparison tables: mean ± spread and n over seeds, per variant x dataset x metric.

The best mean of each metric within each dataset is bold; whether best is highest or
lowest comes from the metric's registered direction. Diverged and failed runs are
counted, never averaged in.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd

Format = Literal["markdown", "csv", "latex", "html"]
Spread = Literal["std", "se"]


def summarize(
    runs: pd.DataFrame, metrics: Sequence[str], directions: Mapping[str, str], spread: Spread = "std"
) -> pd.DataFrame:
    """One row per (dataset, variant): n, diverged, and mean/spread/best of each metric."""
    rows = []
    for (dataset, variant), group in runs.groupby(["dataset", "variant"], sort=True):
        done = group[group["status"] == "completed"]
        row: dict[str, object] = {
            "dataset": dataset,
            "variant": variant,
            "n": len(done),
            "diverged": int((group["status"] == "diverged").sum()),
        }
        for metric in metrics:
            values = done[metric].dropna() if metric in done else pd.Series(dtype=float)
            mean = values.mean() if len(values) else math.nan
            std = values.std(ddof=1) if len(values) > 1 else math.nan
            row[f"{metric}_mean"] = mean
            row[f"{metric}_{spread}"] = std / math.sqrt(len(values)) if spread == "se" and len(values) > 1 else std
            row[f"{metric}_n"] = len(values)
        rows.append(row)
    table = pd.DataFrame(rows)
    for metric in metrics:
        table[f"{metric}_best"] = False
        if table.empty:
            continue
        for _, group in table.groupby("dataset"):
            means = group[f"{metric}_mean"].dropna()
            if len(means) == 0:
                continue
            best = means.max() if directions.get(metric, "higher") == "higher" else means.min()
            table.loc[means.index[means == best], f"{metric}_best"] = True
    return table


def render(table: pd.DataFrame, metrics: Sequence[str], fmt: Format = "markdown", spread: Spread = "std") -> str:
    """The summary as markdown, csv, latex or html."""
    if fmt == "csv":
        cols = ["dataset", "variant", "n", "diverged"] + [
            f"{m}_{part}" for m in metrics for part in ("mean", spread, "n")
        ]
        return table[cols].to_csv(index=False)
    header = ["dataset", "variant", "n", "diverged", *metrics]
    body = [
        [str(row["dataset"]), str(row["variant"]), str(row["n"]), str(row["diverged"])]
        + [_cell(row[f"{m}_mean"], row[f"{m}_{spread}"], bool(row[f"{m}_best"]), fmt) for m in metrics]
        for _, row in table.iterrows()
    ]
    if fmt == "latex":
        lines = [
            r"\begin{tabular}{ll" + "r" * (len(header) - 2) + "}",
            r"\toprule",
            " & ".join(h.replace("_", r"\_") for h in header) + r" \\",
            r"\midrule",
        ]
        lines += [" & ".join([c.replace("_", r"\_") for c in r[:2]] + r[2:]) + r" \\" for r in body]
        return "\n".join(lines + [r"\bottomrule", r"\end{tabular}"]) + "\n"
    if fmt == "html":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>\n" for r in body)
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in body]
    return "\n".join(lines) + "\n"


def format_number(x: float) -> str:
    """Three significant digits, no scientific notation for ordinary magnitudes."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}" if abs(x) >= 1 else f"{x:.3f}"
    return f"{x:.3g}"


def _cell(mean: float, spread: float, best: bool, fmt: Format) -> str:
    if isinstance(mean, float) and math.isnan(mean):
        return "--" if fmt == "latex" else "–"
    text = (
        format_number(mean)
        if isinstance(spread, float) and math.isnan(spread)
        else f"{format_number(mean)} ± {format_number(spread)}"
    )
    if fmt == "html":
        text = html.escape(text)
    if fmt == "latex":
        text = text.replace("±", r"$\pm$").replace("–", "--")
    if not best:
        return text
    return {"markdown": f"**{text}**", "latex": rf"\textbf{{{text}}}", "html": f"<b>{text}</b>"}[fmt]
