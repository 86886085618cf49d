"""Pictures of samples, written next to a run's results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ganbench.agg import Figure, FigureCanvasAgg, own_style
from ganbench.atomic import write_atomic
from ganbench.dataset import Modes


@own_style
def plot_mixture(
    real: np.ndarray,
    fake: np.ndarray,
    modes: Modes,
    captured: np.ndarray,
    path: Path,
    title: str,
    scores: dict[str, Any],
) -> None:
    """Generated points over real ones; ``captured`` modes as green circles, missed ones as red crosses."""
    from ganbench.tables import format_number

    fig = Figure(figsize=(5, 5), dpi=120)
    FigureCanvasAgg(fig)  # pyplot's figures and the user's backend are left alone
    ax = fig.subplots()
    means = modes.means
    span = np.abs(means).max() + 1.0  # the same view for every run of a mixture, so pictures compare
    shown = real[: len(fake)]
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:blue", label="generated", linewidths=0, zorder=1)
    ax.scatter(*means[captured].T, s=90, facecolors="none", edgecolors="tab:green", linewidths=1.5, label="captured",
               zorder=2)  # fmt: skip
    ax.scatter(*means[~captured].T, s=60, marker="x", c="tab:red", linewidths=1.5, label="missed", zorder=2)
    ax.scatter(shown[:, 0], shown[:, 1], s=1, c="tab:orange", label="real", linewidths=0, zorder=3)  # on top
    outside = int((np.abs(fake) > span).any(axis=1).sum())
    parts = [f"{k} {format_number(v)}" for k, v in scores.items() if isinstance(v, int | float) or v is None]
    summary = "\n".join(", ".join(parts[i : i + 4]) for i in range(0, len(parts), 4))  # fits the figure's width
    beyond = f"; {outside:,} of {len(fake):,} generated points lie outside this view" if outside else ""
    ax.set_title(f"{title}: {int(captured.sum())}/{len(means)} modes{beyond}\n{summary}", fontsize=8)
    ax.set_xlim(-span, span)
    ax.set_ylim(-span, span)
    ax.set_aspect("equal")
    legend = ax.legend(loc="upper right", fontsize=6)
    for handle in legend.legend_handles:  # points of 1-2 pixels would be invisible in the legend
        handle.set_sizes([20])
    fig.tight_layout()
    write_atomic(Path(path), lambda f: fig.savefig(f, format="png"))  # never half a PNG on a full disk
