"""Pictures of samples, written next to a run's results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ganbench.dataset import Modes


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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=120)
    shown = real[: len(fake)]
    ax.scatter(shown[:, 0], shown[:, 1], s=2, c="0.75", label="real", linewidths=0)
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:blue", label="generated", linewidths=0)
    means = modes.means
    ax.scatter(*means[captured].T, s=90, facecolors="none", edgecolors="tab:green", linewidths=1.5, label="captured")
    ax.scatter(*means[~captured].T, s=60, marker="x", c="tab:red", linewidths=1.5, label="missed")
    parts = [f"{k} {v:.3g}" for k, v in scores.items() if isinstance(v, (int, float))]
    summary = "\n".join(", ".join(parts[i : i + 4]) for i in range(0, len(parts), 4))  # fits the figure's width
    ax.set_title(f"{title}: {int(captured.sum())}/{len(means)} modes\n{summary}", fontsize=8)
    span = np.abs(means).max() + 1.0
    ax.set_xlim(-span, span)
    ax.set_ylim(-span, span)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=6)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
