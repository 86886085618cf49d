"""Figures of a results folder: training curves, samples side by side, leaderboards.

``plot_results(results_dir)`` writes PNG files (120 dpi, matplotlib's Agg canvas) into
``results_dir/figures`` (or ``out_dir``), four per dataset found, each skipped when the
runs hold nothing to draw:

- ``curves-<dataset>.png``: one subplot per quantity in the runs' ``history.csv`` files
  (the losses ``loss_d``, ``loss_g``, any other logged value such as ``penalty``, then,
  with ``--eval-every``, every metric output); one line per series (a variant, or
  "variant (setting)" when a folder holds several configs of it): at each step, the mean
  over the seeds that logged that step, with a band from the lowest to the highest seed.
  Losses of long runs are smoothed by a centred rolling mean over ``smooth`` logged points,
  per seed before averaging (default: one point per 50 logged, so runs of up to 100
  logged points are drawn as logged); the subplot title says so. Metrics are never
  smoothed. Losses of unlike scales never share an axis: when the folder holds both
  cross-entropy variants and critic-output ones (WGAN, hinge, least squares), each loss
  gets a panel per kind. A diverged run is marked with an x where its history ends.
- ``dynamics-<dataset>.png``: the training dynamics each log step records, one line per
  series (mean over seeds, band min–max, smoothed as the losses): D(x) and D(G(z)) (as
  probabilities for cross-entropy variants; critic values, in a panel of their own,
  otherwise), the Jensen-Shannon estimate log 2 - L_D / 2 (cross-entropy variants), and the
  norm of the generator loss's gradient on a log scale, where the minimax loss's
  saturation shows. They are left out of the curves figure.
- ``samples-<dataset>.png``: each series' ``samples.png`` (its lowest completed seed)
  side by side, titled with the series, the seed and that run's key metric values; a run
  without one is a blank panel saying so.
- ``leaderboard-<dataset>.png``: a subplot per metric output, horizontal bars of the mean
  over completed seeds with standard-error bars (``ganbench.tables.summarize``), best at
  the top by the metric's registered direction; n, diverged and failed runs and missing
  values in the labels; for a mixture, its reference rows ([real], [gaussian], [uniform],
  [one-mode], ``ganbench.reference_rows``) as labelled vertical lines, those off the axis
  named under it.

``<dataset>`` is the dataset's name, or for a dataset named by a path a file-safe form of
it plus a short hash. ``ganbench plot`` on a single run's folder draws that run alone.
The figure builders (``curves_figure``, ``dynamics_figure``, ``samples_figure``,
``leaderboard_figure``, ``dataset_figures``; runs from ``scan_runs``) return matplotlib ``Figure`` objects, never
touching pyplot's global state, so callers and tests can inspect axes, lines and bars.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import numbers
import re
import textwrap
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ganbench.agg import Figure, FigureCanvasAgg, Line2D, Patch, colormaps, own_style
from ganbench.atomic import remove_stale_temps, write_atomic
from ganbench.errors import (
    GanbenchError,
    OptionError,
    OutputError,
    counted,
    one_line,
    refuse_link_loop,
    short_repr,
)
from ganbench.options import whole_if_integral
from ganbench.paths import path_argument
from ganbench.results import (
    RECORD_COLUMNS,
    ResultsScan,
    check_outputs,
    recorded_data_paths,
    refuse_run_folder,
    scan_results,
)
from ganbench.tables import format_number, summarize
from ganbench.writable import kind_of, refuse_writing_into_data, remedy

DPI = 120
HISTORY = "history.csv"
SAMPLES = "samples.png"
FIGURES = "figures"
CURVE_RUNS = ("completed", "diverged")
"""Runs whose histories are drawn: a failed run's history ends at an error, not at the budget."""
KEY_METRICS = 3
"""Metric values in a samples panel's title."""
BAND = "min–max over seeds"
MAX_SERIES = 20
MAX_PANELS = 24
"""Subplots of a curves figure at most: a history.csv of thousands of columns (a plugin logging per unit, or a
damaged file) would draw for minutes and show nothing readable."""
"""Series (variants, or settings of one) a figure draws at most: beyond, legends and panels stop being read."""

Problem = Callable[[str], None]

DRAWN_FROM = "ganbench results"
"""The text a figure's PNG carries naming the results folder it was drawn from: only such a figure, of the same
folder, is removed as stale (pass 77: a user's own curves-ring8.png was removed as "an earlier plot's")."""


def _drawn_from(path: Path) -> str | None:
    """The results folder that the figure at ``path`` says it was drawn from; None for any other file."""
    from PIL import Image

    try:
        with Image.open(path) as image:  # its text chunks come before the pixels: none are decoded
            drawn = image.info.get(DRAWN_FROM) if image.format == "PNG" else None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return drawn if isinstance(drawn, str) else None


@own_style
def plot_results(
    results_dir: str | Path,
    out_dir: str | Path | None = None,
    metrics: Sequence[str] | None = None,
    *,
    directions: Mapping[str, str] | None = None,
    smooth: int | None = None,
    on_problem: Problem | None = None,
) -> list[Path]:
    """Write the curves, samples and leaderboard figures of every dataset under ``results_dir``.

    ``metrics``: metric output names to draw (a list, or one comma-separated string; default, None: every
    one found; an empty one is refused); losses are always drawn.
    ``directions``: output name -> "higher"/"lower", over the registered metrics' (which it overrides, name by
    name).
    ``smooth``: rolling-mean window for losses, in logged points (default: automatic; 1: none).
    ``on_problem``: called with one line per record, history or image that could not be read
    (default: ``warnings.warn``). Returns the paths written, in a fixed order.
    """
    whole = metrics is None  # else what is not drawn may be left out by the choice
    root, out_dir, chosen, directions, smooth = _checked_arguments(
        results_dir, out_dir, metrics, directions, smooth, on_problem
    )
    if not root.is_dir():
        refuse_link_loop(root, "results folder ")
        what = f"is {kind_of(root)}, not a folder" if root.exists() else "does not exist"  # as `table` says it
        raise GanbenchError(f"results folder {root} {what}; pass the --out folder of `ganbench run`")
    report = _one_line_each(on_problem or _warn)
    scan = scan_runs(root, directions)
    runs = scan.runs
    if runs.empty:
        raise scan.nothing_found(root)
    check_outputs(chosen, dict(directions), [k for k in directions if k in runs.columns])  # fid: the runs' space
    scan.refuse_unmeasured(chosen, root)
    for line in scan.problems(made="the figures"):
        report(line)
    out = Path(out_dir) if out_dir is not None else root / FIGURES
    if out.is_symlink() and not out.exists():  # mkdir said "(File exists)", of a folder that is not there
        raise OutputError(
            f"cannot write figures to {one_line(out)}: it is a symbolic link to nothing; remove the link, or pass "
            "another --out"
        )
    refuse_run_folder(out, "out" if out_dir is not None else "figures folder", figures=True)  # the API's too
    refuse_writing_into_data(recorded_data_paths(runs), {"figures folder": out})  # a PNG there becomes data
    written, made = [], []  # made: the folders mkdir makes, removed again should none hold a figure
    try:
        drawn = {
            dataset: dataset_figures(runs, dataset, chosen, directions, smooth=smooth, on_problem=report)
            for dataset in sorted(runs["dataset"].unique())
        }
        if not any(drawn.values()):  # not an empty figures folder, exit 0
            states = ", ".join(f"{n} {status}" for status, n in runs["status"].value_counts().items())
            raise GanbenchError(
                f"nothing to draw under {one_line(root)}: its {counted(len(runs), 'run')} ({states}) left no curves, "
                "samples or scores; `ganbench table` shows how each ended"
            )
        made = [folder for folder in (out, *out.parents) if not folder.exists()]  # (pass 83: a full disk left an
        out.mkdir(parents=True, exist_ok=True)  # empty --out folder)
        remove_stale_temps(out)  # a killed plot's, hidden there for good (pass 77)
        stamp = {DRAWN_FROM: json.dumps(str(root.resolve()))}  # which plot's a figure is, should it be stale later
        # (as JSON: ASCII, a name that is not UTF-8 too; its text was PNG's UnicodeEncodeError, pass 78)
        for dataset, figures in drawn.items():
            for kind, fig in figures.items():
                path = out / f"{kind}-{file_name(dataset)}.png"
                write_atomic(path, lambda f, fig=fig: fig.savefig(f, format="png", dpi=DPI, metadata=stamp))
                written.append(path)
            for kind in FIGURE_KINDS:  # an earlier plot's figure of what has nothing to draw now: not left as current
                stale = out / f"{kind}-{file_name(dataset)}.png"
                if whole and kind not in figures and not stale.is_symlink() and _drawn_from(stale) == stamp[DRAWN_FROM]:
                    stale.unlink()
                    report(f"removed {one_line(stale)}, an earlier plot's: its runs have no {kind} to draw now")
            # (with --metrics, what is not drawn may be left out by the choice: an earlier figure stays)
    except OSError as exc:
        for path in written if made else ():  # figures in a folder this plot made: the folder goes, all of it
            path.unlink(missing_ok=True)
        for folder in made:  # deepest first; one holding anything (another's file) stays
            with contextlib.suppress(OSError):
                folder.rmdir()
        if out.exists() and not out.is_dir():
            raise OutputError(
                f"cannot write figures to {one_line(out)}: it is not a folder; pass a folder as --out"
            ) from None
        where = one_line(exc.filename if exc.filename and Path(exc.filename) != out else out)
        raise OutputError(
            f"cannot write figures to {where} ({exc.strerror or exc}); {remedy(exc, 'pass another --out')}"
        ) from None
    return written


def _checked_arguments(
    results_dir: Any, out_dir: Any, metrics: Any, directions: Any, smooth: Any, on_problem: Any
) -> tuple[Path, Path | None, list[str] | None, Mapping[str, str], int | None]:
    """From Python, what the command line's types check: one OptionError, not a TypeError from deep inside, nor
    ``out_dir=""`` read as the working folder (figures written there). Returns the results folder, the figures'
    folder (None: the default), the metric outputs chosen (None: all), the directions and ``smooth`` (3.0 and
    numpy's ints taken, as options take them)."""
    root = path_argument(results_dir, "results_dir", "a results folder")
    out = path_argument(out_dir, "out_dir", "a folder for the figures") if out_dir is not None else None
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    if metrics is not None and (
        not isinstance(metrics, Sequence) or not all(isinstance(m, str) and m == m.strip() for m in metrics)
    ):
        raise OptionError(
            f"metrics must be metric output names (text), or one comma-separated text, not {short_repr(metrics)}"
        )
    if directions is not None and (
        not isinstance(directions, Mapping)
        or not all(isinstance(k, str) and v in ("higher", "lower") for k, v in directions.items())
    ):
        raise OptionError(f"directions must map metric outputs to 'higher' or 'lower', not {short_repr(directions)}")
    not_outputs = sorted(RECORD_COLUMNS.intersection(directions or {}))
    if not_outputs:  # a ValueError from an empty ranking, deep in the figure (pass 73)
        raise OptionError(f"directions names {not_outputs[0]!r}, which is a run's field, not a metric output")
    from ganbench.plugins import registries

    directions = {**registries().metric_directions(), **(directions or {})}  # they override, not replace (pass 72)
    if on_problem is not None and not callable(on_problem):
        raise OptionError(f"on_problem must be a function of one line of text, not {short_repr(on_problem)}")
    smooth = whole_if_integral(smooth)
    if smooth is not None and (
        isinstance(smooth, bool) or not isinstance(smooth, numbers.Integral) or not 1 <= smooth <= 10**9
    ):
        raise OptionError(
            f"smooth must be a whole number of logged points, 1 to 1,000,000,000, not {short_repr(smooth)}"
        )
    chosen = list(dict.fromkeys(metrics)) if metrics is not None else None
    return root, out, chosen, directions, None if smooth is None else int(smooth)


def scan_runs(root: str | Path, outputs: Collection[str] = ()) -> ResultsScan:
    """``scan_results(root, outputs)``: each run's ``run_dir`` is where its record was found under ``root``
    (a record keeps the folder it was written to, since moved or copied; the files to draw lie beside it)."""
    return scan_results(root, outputs)


FIGURE_KINDS = ("curves", "dynamics", "samples", "leaderboard")
"""The figures ``plot`` draws of each dataset, each named ``KIND-DATASET.png``."""


@own_style
def dataset_figures(
    runs: pd.DataFrame,
    dataset: str,
    metrics: Sequence[str] | None,
    directions: Mapping[str, str],
    *,
    smooth: int | None = None,
    on_problem: Problem | None = None,
) -> dict[str, Figure]:
    """{"curves": ..., "dynamics": ..., "samples": ..., "leaderboard": ...} for one dataset, leaving out those
    with nothing to draw."""
    report = _one_line_each(on_problem or _warn)
    runs = dataset_runs(runs, dataset)
    labels = list(dict.fromkeys(runs["label"]))
    if len(labels) > MAX_SERIES:
        report(
            f"{one_line(dataset)}: {len(labels):,} series (variant and setting), more than a figure can show; "
            f"drew the first {MAX_SERIES} ({labels[0]} ... {labels[MAX_SERIES - 1]}), "
            f"left out {len(labels) - MAX_SERIES:,}: "
            "plot a folder that holds fewer"
        )
        runs = runs[runs["label"].isin(labels[:MAX_SERIES])]
    histories = read_histories(runs, report)
    order = metric_order(runs, histories, directions, metrics)
    figures = {  # FIGURE_KINDS
        "curves": curves_figure(runs, histories, directions, metrics=metrics, smooth=smooth, on_problem=report),
        "dynamics": dynamics_figure(runs, histories, smooth=smooth),
        "samples": samples_figure(runs, order[:KEY_METRICS], on_problem=report),
        "leaderboard": leaderboard_figure(runs, order, directions, on_problem=report),
    }
    return {kind: fig for kind, fig in figures.items() if fig is not None}


def dataset_runs(runs: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The runs of one dataset, with a ``setting`` column and a ``label`` column naming each series (with its
    budget, ``steps=N``, whenever the dataset's runs differ in budget)."""
    runs = runs[runs["dataset"] == dataset].copy()
    if "setting" not in runs:
        runs["setting"] = ""
    runs["setting"] = runs["setting"].fillna("").astype(str)
    if "steps" in runs and runs["steps"].nunique() > 1:  # budgets differ: every series says its own
        runs["setting"] = [
            setting if "steps=" in setting else ", ".join(filter(None, [setting, f"steps={steps}"]))
            for setting, steps in zip(runs["setting"], runs["steps"], strict=True)
        ]
    runs["label"] = [series_label(v, s) for v, s in zip(runs["variant"], runs["setting"], strict=True)]
    runs["dataset"] = one_line(dataset)  # as titles show it: a newline or an undecodable byte escaped
    return runs.sort_values(["variant", "setting", "seed"], kind="stable")


def wrapped(label: str, width: int = 44) -> str:
    """A series label in lines a figure's panel holds (a setting of several options, a path, ran off its edge)."""
    return "\n".join(textwrap.wrap(label, width, break_on_hyphens=False)) or label


def series_label(variant: str, setting: str) -> str:
    """The label of a series: "variant", or "variant (setting)" when the folder holds several configs of the variant."""
    return one_line(f"{variant} ({setting})" if setting else variant)  # a newline in a path would break a legend


def series_colors(runs: pd.DataFrame) -> dict[str, tuple]:
    """Series label -> colour, the same in every figure of a dataset."""
    labels = list(dict.fromkeys(runs["label"]))
    cmap = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return {label: cmap(i % cmap.N) for i, label in enumerate(labels)}


def file_name(dataset: str) -> str:
    """A dataset name safe in a file name; a name that had to change gets a short hash, so none collide."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", str(dataset)).strip("._-") or "dataset"
    if safe != dataset:
        safe += "-" + hashlib.sha256(str(dataset).encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return safe


# ---------------------------------------------------------------------------------------- histories


def read_history(run_dir: str | Path) -> pd.DataFrame | None:
    """A run's history.csv indexed by step (numbers; empty cells, inf and values no float32 training can
    log, beyond 3.4e38, as NaN), or None if it has none."""
    path = Path(run_dir) / HISTORY
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8-sig") as f:  # read once, for csv's line numbers and for pandas
        content = f.read()
    reader = csv.reader(io.StringIO(content))  # pandas takes a row's extra field for an index: said so
    rows = [(reader.line_num, len(row)) for row in reader if row]  # blank lines skipped, as pandas skips them
    header = rows[0][1] if rows else 0
    odd = next(((line, width) for line, width in rows[1:] if width > header), None)  # fewer: empty cells
    lines = [line for line, _ in rows[1:]]  # the file's line of each row pandas reads: messages name it

    def line(row: int) -> int:
        return lines[row] if row < len(lines) else row + 2

    if odd:
        raise ValueError(f"line {odd[0]} has {odd[1]} fields, more than its header's {header}")
    frame = pd.read_csv(io.StringIO(content))
    if "step" not in frame.columns:
        raise ValueError("no step column")
    numbers = frame.apply(pd.to_numeric, errors="coerce")
    text = frame.notna() & numbers.isna()  # lines appended to it (a step summary's markdown), a hand edit
    if text.any(axis=None):
        row, column = next((r, c) for c in text.columns for r in text.index[text[c]])
        raise ValueError(f"line {line(row)} holds {one_line(repr(frame.at[row, column]))[:60]}, not a number")
    steps = numbers["step"]
    odd = steps[(steps < 0) | (steps >= 2**63) | (steps % 1 != 0)]  # counted steps: an edited file
    if len(odd):
        value = frame.at[odd.index[0], "step"]
        raise ValueError(f"line {line(odd.index[0])}: step {value} is not a whole number from 0 to 2^63")
    twice = steps[steps.duplicated(keep=False)]
    if len(twice):  # a resumed run drops its rows after the checkpoint: no step is logged twice
        where = " and ".join(str(line(i)) for i in twice.index[twice == twice.iloc[0]][:2])
        raise ValueError(f"step {int(twice.iloc[0])} is logged twice (lines {where})")
    frame = numbers.mask(numbers.abs() > np.finfo(np.float32).max)
    frame["step"] = steps
    frame = frame.dropna(subset=["step"])
    frame["step"] = frame["step"].astype(int)
    return frame.set_index("step").sort_index().astype(float)


def read_histories(runs: pd.DataFrame, on_problem: Problem | None = None) -> dict[str, pd.DataFrame]:
    """run_id -> history of each run whose curves are drawn (completed or diverged) and that has a readable one."""
    report = _one_line_each(on_problem or _warn)
    histories = {}
    for run in runs[runs["status"].isin(CURVE_RUNS)].itertuples():
        try:
            history = read_history(run.run_dir)
        except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc  # the path is said once, before
            fix = "its curves are left out" + (" (make it readable)" if isinstance(exc, PermissionError) else "")
            report(one_line(f"unreadable history {Path(run.run_dir) / HISTORY}: {why}; {fix}"))
            continue
        if history is None and run.status == "completed":  # it wrote one as it trained: deleted or moved since
            report(one_line(f"no history {Path(run.run_dir) / HISTORY}: its curves are left out (rerun the run "
                            "with --force to write it again)"))  # fmt: skip
        elif history is not None and not history.empty:
            histories[run.run_id] = history
    return histories


def history_quantities(
    histories: Sequence[pd.DataFrame], directions: Mapping[str, str], metrics: Sequence[str] | None = None
) -> list[str]:
    """What the curves figure draws, in the histories' column order: the training values (losses,
    penalty, ...), then the metric outputs (``metrics`` only, if given). A metric's ``_std``
    companion (the spread of IS or KID over splits) and the dynamics (``DYNAMICS``) are left out."""
    columns = list(dict.fromkeys(c for h in histories for c in h.columns if c not in DYNAMICS))
    present = [c for c in columns if any(c in h and h[c].notna().any() for h in histories)]
    companions = {c for c in present if c.endswith("_std") and c[: -len("_std")] in columns}
    training = [c for c in present if c not in directions and c not in companions]
    measured = [c for c in present if c in directions and (metrics is None or c in metrics)]
    return training + measured


def smoothing_window(histories: Sequence[pd.DataFrame], smooth: int | None) -> int:
    """``smooth``, or by default one point per 50 logged (1, no smoothing, up to 100 logged points)."""
    if smooth is not None:
        return max(1, int(smooth))
    longest = max((len(h) for h in histories), default=0)
    return max(1, round(longest / 50))


def seed_curves(histories: Mapping[int, pd.DataFrame], quantity: str, window: int = 1) -> pd.DataFrame:
    """step x seed: each seed's logged values of ``quantity`` (centred rolling mean over ``window``
    logged points), NaN where a seed logged nothing at that step."""
    columns = {}
    for seed, history in histories.items():
        if quantity not in history:
            continue
        values = history[quantity].dropna()
        if values.empty:
            continue
        if window > 1:
            values = values.rolling(window, center=True, min_periods=1).mean()
        columns[seed] = values
    return pd.DataFrame(columns).sort_index()


# ---------------------------------------------------------------------------------------- curves


@own_style
def curves_figure(
    runs: pd.DataFrame,
    histories: Mapping[str, pd.DataFrame],
    directions: Mapping[str, str],
    *,
    metrics: Sequence[str] | None = None,
    smooth: int | None = None,
    on_problem: Problem | None = None,
) -> Figure | None:
    """One subplot per quantity (``MAX_PANELS`` at most), one line per series: mean over seeds per step, band
    min–max over seeds.

    ``runs``: one dataset's runs (``dataset_runs``); ``histories``: run_id -> history (``read_histories``).
    None if no run has a history.
    """
    runs = runs[runs["run_id"].isin(list(histories))]
    if runs.empty:
        return None
    quantities = history_quantities([histories[r] for r in runs["run_id"]], directions, metrics)
    if not quantities:
        return None
    if len(quantities) > MAX_PANELS:
        (on_problem or _warn)(
            f"{runs['dataset'].iloc[0]}: the histories hold {len(quantities):,} quantities, more than a figure can "
            f"show; drew the first {MAX_PANELS} ({one_line(quantities[0])} ... {one_line(quantities[MAX_PANELS - 1])})"
        )
        quantities = quantities[:MAX_PANELS]
    colors = series_colors(runs)
    window = smoothing_window(list(histories.values()), smooth)
    series = list(runs.groupby("label", sort=False))
    panels = loss_panels(quantities, series, histories, directions)
    ncols = min(3 if len(panels) <= 6 else 4, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = _figure((4.4 * ncols, 3.1 * nrows + 1.0))
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(len(panels))]
    for ax, (quantity, chosen, kind) in zip(axes, panels, strict=True):
        metric = quantity in directions
        smoothed = 1 if metric else window
        for label, group in chosen:
            draw_series(ax, group, histories, quantity, smoothed, colors[label], label, marker="o" if metric else None)
        title = quantity + (f", {kind}" if kind else "")
        if metric:
            title += f" ({directions[quantity]} is better)"
        elif smoothed > 1:
            title += f" (rolling mean of {smoothed} logs)"
        step_axis(ax, title)
    series_legend(fig, runs, series, colors)
    dataset = runs["dataset"].iloc[0]
    figure_title(fig, f"{dataset}: training curves (line: mean over seeds at each step; band: {BAND})")
    return fig


def loss_panels(
    quantities: Sequence[str],
    series: list[tuple[str, pd.DataFrame]],
    histories: Mapping[str, pd.DataFrame],
    directions: Mapping[str, str],
) -> list[tuple[str, list[tuple[str, pd.DataFrame]], str]]:
    """(quantity, series, kind) per panel. Losses of unlike scales never share an axis: when cross-entropy
    variants (their histories log ``js_estimate``) and critic-output variants (WGAN, hinge, least squares)
    are both present, each loss gets a panel per kind. Metrics compare on one axis."""
    cross_entropy = {label for label, g in series if any("js_estimate" in histories[r] for r in g["run_id"])}

    def logs(group: pd.DataFrame, quantity: str) -> bool:
        return any(quantity in histories[r] and histories[r][quantity].notna().any() for r in group["run_id"])

    panels: list[tuple[str, list[tuple[str, pd.DataFrame]], str]] = []
    for quantity in quantities:
        logit = [s for s in series if s[0] in cross_entropy and logs(s[1], quantity)]
        other = [s for s in series if s[0] not in cross_entropy and logs(s[1], quantity)]
        if quantity in directions or not logit or not other:
            panels.append((quantity, series, ""))
        else:
            panels += [(quantity, logit, "cross-entropy variants"), (quantity, other, "critic-output variants")]
    return panels[:MAX_PANELS]


def step_axis(ax, title: str) -> None:
    """Title, step axis, small ticks and a light grid: every subplot drawn against training steps."""
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("step", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)


def series_legend(fig: Figure, runs: pd.DataFrame, series: list, colors: Mapping[str, tuple]) -> None:
    """One legend under the subplots: each series with its seed count, the band, diverged runs' mark."""
    handles: list = [
        Line2D(
            [], [], color=colors[label], lw=2, label=f"{wrapped(label)} ({counted(group['seed'].nunique(), 'seed')})"
        )
        for label, group in series
    ]
    handles.append(Patch(color="0.6", alpha=0.4, label=BAND))
    if (runs["status"] == "diverged").any():
        handles.append(Line2D([], [], color="0.3", marker="x", ls="", label="diverged: history ends"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5), fontsize=9, frameon=False)


def draw_series(
    ax,
    group: pd.DataFrame,
    histories: Mapping[str, pd.DataFrame],
    quantity: str,
    window: int,
    color: tuple,
    label: str,
    *,
    marker: str | None = None,
    linestyle: str = "-",
) -> bool:
    """One series' line (mean over its seeds at each step) and band (min–max), an x where a diverged
    run's history ends; False if no seed logged ``quantity``."""
    by_seed = {int(r.seed): histories[r.run_id] for r in group.itertuples()}
    curves = seed_curves(by_seed, quantity, window)
    if curves.empty:
        return False
    steps = curves.index.to_numpy()
    mean, low, high = curves.mean(axis=1), curves.min(axis=1), curves.max(axis=1)
    ax.plot(steps, mean.to_numpy(), color=color, lw=1.6, label=label, marker=marker, ms=3, ls=linestyle)
    if curves.shape[1] > 1:
        ax.fill_between(steps, low.to_numpy(), high.to_numpy(), color=color, alpha=0.2, lw=0)
    for run in group[group["status"] == "diverged"].itertuples():
        if int(run.seed) in curves:
            last = curves[int(run.seed)].dropna()
            ax.scatter([last.index[-1]], [last.iloc[-1]], marker="x", s=45, color=color, zorder=3)
    return True


# ---------------------------------------------------------------------------------------- dynamics

DYNAMICS = ("d_real", "d_fake", "js_estimate", "g_grad_norm")
"""What each log step records of the game (``ganbench.training.dynamics``), drawn by ``dynamics_figure``."""


@own_style
def dynamics_figure(
    runs: pd.DataFrame, histories: Mapping[str, pd.DataFrame], *, smooth: int | None = None
) -> Figure | None:
    """Panels of the training dynamics, one line per series (see the module docstring). A series is
    a cross-entropy variant when its histories log ``js_estimate``. None if no run logged any."""
    runs = runs[runs["run_id"].isin(list(histories))]
    logged = {r: h for r, h in histories.items() if any(q in h and h[q].notna().any() for q in DYNAMICS)}
    runs = runs[runs["run_id"].isin(list(logged))]
    if runs.empty:
        return None
    colors = series_colors(runs)
    window = smoothing_window(list(logged.values()), smooth)
    series = list(runs.groupby("label", sort=False))
    logit = {label for label, g in series if any("js_estimate" in logged[r] for r in g["run_id"])}
    panels = [
        ("D(x) — and D(G(z)), dashed — as probabilities", [s for s in series if s[0] in logit], ("d_real", "d_fake")),
        ("critic D(x) — and D(G(z)), dashed", [s for s in series if s[0] not in logit], ("d_real", "d_fake")),
        ("Jensen-Shannon estimate: log 2 - L_D / 2", [s for s in series if s[0] in logit], ("js_estimate",)),
        ("||grad of L_G w.r.t. G||", series, ("g_grad_norm",)),
    ]
    panels = [p for p in panels if p[1]]
    fig = _figure((4.6 * len(panels), 4.2))
    for i, (title, chosen, quantities) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for label, group in chosen:
            for quantity, style in zip(quantities, ("-", "--"), strict=False):
                draw_series(ax, group, logged, quantity, window, colors[label], label, linestyle=style)
        if quantities == ("g_grad_norm",):
            ax.set_yscale("log")
        step_axis(ax, title + (f" (rolling mean of {window} logs)" if window > 1 else ""))
    series_legend(fig, runs, series, colors)
    dataset = runs["dataset"].iloc[0]
    figure_title(fig, f"{dataset}: training dynamics (mean over seeds at each log step; band: {BAND})")
    return fig


# ---------------------------------------------------------------------------------------- samples


@own_style
def samples_figure(
    runs: pd.DataFrame, metrics: Sequence[str] = (), *, on_problem: Problem | None = None
) -> Figure | None:
    """One panel per series: the samples.png of its lowest completed seed (lowest seed if none completed),
    titled with the series, the seed and that run's values of ``metrics``. None if no run has samples."""
    report = _one_line_each(on_problem or _warn)
    if runs.empty or not any((Path(d) / SAMPLES).is_file() for d in runs["run_dir"]):
        return None
    chosen = []
    for label, group in runs.groupby("label", sort=False):
        completed = group[group["status"] == "completed"]
        chosen.append((label, (completed if len(completed) else group).sort_values("seed").iloc[0]))
    ncols = min(4, len(chosen))
    nrows = math.ceil(len(chosen) / ncols)
    fig = _figure((3.8 * ncols, 4.3 * nrows + 0.4))
    for i, (label, run) in enumerate(chosen):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.set_xticks([])
        ax.set_yticks([])
        path = Path(run["run_dir"]) / SAMPLES
        if path.is_file():
            try:
                image = _imread(path)
            except (OSError, ValueError, SyntaxError) as exc:
                report(f"unreadable samples {path}: {exc}")
                _blank(ax, f"{SAMPLES} unreadable")
            else:
                small = max(image.shape[:2]) < 400  # an image grid of small images: keep its pixels sharp
                ax.imshow(image, interpolation="nearest" if small else "antialiased")
                ax.set_axis_off()
        else:
            if run["status"] == "completed":  # others of this dataset have theirs: deleted or moved since
                report(one_line(f"no samples {path}: its panel is left blank (rerun the run with --force)"))
            _blank(ax, f"no {SAMPLES}")
        head = f"{wrapped(label)}, seed {int(run['seed'])}"
        if run["status"] != "completed":
            head += f" ({run['status']})"
        values = [f"{m} {_format(_value(run, m))}" for m in metrics if m in run.index]
        lines = [head, *(" · ".join(values[j : j + 2]) for j in range(0, len(values), 2))]
        ax.set_title("\n".join(lines), fontsize=9)
    figure_title(fig, f"{runs['dataset'].iloc[0]}: samples (each variant's lowest seed)")
    return fig


def _imread(path: Path) -> np.ndarray:
    from matplotlib.image import imread

    return imread(path)


def _blank(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4", fontsize=11)
    ax.set_facecolor("0.96")


# ---------------------------------------------------------------------------------------- leaderboards


@own_style
def leaderboard_figure(
    runs: pd.DataFrame, metrics: Sequence[str], directions: Mapping[str, str], on_problem: Problem | None = None
) -> Figure | None:
    """A subplot per metric output: one bar per series, mean ± standard error over completed seeds,
    best first by the metric's direction (unscored series last). None if no completed run has a value.
    ``on_problem`` is told why reference lines are left out (the data moved or changed), as `table` says."""
    done = runs[runs["status"] == "completed"]
    metrics = [m for m in metrics if m in done and done[m].notna().any()]
    if not metrics:
        return None
    table = summarize(runs, metrics, directions, spread="se")
    table["label"] = [series_label(v, s) for v, s in zip(table["variant"], table["setting"], strict=True)]
    references = reference_values(runs, metrics, directions, _one_line_each(on_problem or _warn))
    failed = runs[runs["status"] == "failed"].groupby("label")["seed"].nunique()
    colors = series_colors(runs)
    ncols = min(3, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    fig = _figure((5.4 * ncols, (1.1 + 0.5 * len(table)) * nrows + 0.6))
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        rows = leaderboard_rows(table, metric, directions)
        means = rows[f"{metric}_mean"].to_numpy(dtype=float)
        errors = rows[f"{metric}_se"].to_numpy(dtype=float)
        y = np.arange(len(rows))
        scored = np.isfinite(means)
        unit = axis_unit(np.concatenate([means, errors]))  # 1, but for values whose axis would overflow float64
        means, errors = means / unit, errors / unit  # labels below give the values themselves
        centres = means
        ax.barh(y, np.where(scored, centres, 0.0), height=0.65, color=[colors[label] for label in rows["label"]])
        with_error = scored & np.isfinite(errors)
        if with_error.any():
            spread = errors[with_error]
            ax.errorbar(centres[with_error], y[with_error], xerr=spread, fmt="none", ecolor="0.15", capsize=4, lw=1.2)
        bars = np.abs(np.nan_to_num(errors))
        ends = np.where(with_error, centres + bars, centres)
        starts = np.where(with_error, centres - bars, centres)
        span = np.nanmax(np.abs(np.concatenate([ends[scored], centres[scored], [0.0]]))) or 1.0
        labels = []
        for j, (_, row) in enumerate(rows.iterrows()):
            notes = [f"n={int(row[f'{metric}_n'])}"]
            if row["diverged"]:
                notes.append(f"{int(row['diverged'])} diverged")
            if row["label"] in failed:
                notes.append(f"{int(failed[row['label']])} failed")
            if row[f"{metric}_missing"]:
                notes.append(f"{int(row[f'{metric}_missing'])} missing")
            if notes == ["n=0"] and row["n"]:  # completed runs that never computed it (class accuracy of dcgan)
                notes = ["not computed"]
            labels.append(f"{wrapped(row['label'])}\n{', '.join(notes)}")
            mean, error = means[j] * unit, errors[j] * unit
            text = "no value" if not scored[j] else format_number(mean)
            if scored[j] and math.isfinite(error):
                text += f" ± {format_number(error)}"
            x = max(ends[j], 0.0) if scored[j] else 0.0
            weight = "bold" if row[f"{metric}_best"] else "normal"
            ax.text(x + 0.03 * span, j, text, va="center", ha="left", fontsize=8, fontweight=weight)
        ax.set_yticks(y, labels=labels, fontsize=8)
        for tick, (_, row) in zip(ax.get_yticklabels(), rows.iterrows(), strict=True):
            if row["diverged"] or row["label"] in failed:
                tick.set_color("tab:red")
        low = min(0.0, float(np.nanmin(starts[scored])))
        ax.set_xlim(low - 0.05 * span if low < 0 else 0.0, max(ends[scored].max(), 0.0) + 0.45 * span)
        ax.set_ylim(len(rows) - 0.5, -0.5)  # best at the top
        ax.axvline(0.0, color="0.3", lw=0.8)
        draw_references(ax, references.get(metric, {}), unit)
        ax.set_title(f"{metric} ({directions.get(metric, 'higher')} is better)", fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    mixed = "scored_on" in runs and done["scored_on"].nunique() > 1
    figure_title(
        fig,
        f"{runs['dataset'].iloc[0]}: final metrics, mean ± standard error over completed seeds (best at the top)",
        *["runs scored against different data or numbers of samples: compare within a setting; no reference lines"]
        * mixed,
    )
    return fig


REFERENCE_STYLES = {
    "[real]": ("tab:green", "-"),
    "[gaussian]": ("0.45", "--"),
    "[uniform]": ("0.45", ":"),
    "[one-mode]": ("tab:red", "-."),
}


def reference_values(
    runs: pd.DataFrame, metrics: Sequence[str], directions: Mapping[str, str], on_problem: Problem | None = None
) -> dict[str, dict[str, float]]:
    """metric -> reference row ([real], [gaussian], ...) -> value, for runs all scored against the same data at
    the same N (``reference_rows``); none where they were not (two settings' lines on one axis would mislead).
    Why rows are left out (data moved, changed, out of memory) goes to ``on_problem``: it was silent (pass 74)."""
    from ganbench.reference_rows import reference_table

    if "scored_on" in runs and runs.loc[runs["status"] == "completed", "scored_on"].nunique() > 1:
        return {}
    frame, notes = reference_table(runs, metrics, directions)
    for note in notes:
        if note.startswith("no reference rows for ") and on_problem is not None:
            on_problem(f"the leaderboard figure draws {note}")
    values: dict[str, dict[str, float]] = {}
    for _, row in frame.iterrows():
        for metric in metrics:
            value = row.get(f"{metric}_mean")
            if isinstance(value, float) and math.isfinite(value):
                values.setdefault(metric, {})[row["variant"]] = value
    return values


def axis_unit(values: np.ndarray) -> float:
    """What an axis counts in: 1, or a power of ten for values past 1e300, whose axis limits (a margin added to
    the largest) would overflow float64; bars are drawn in that unit, and the axis says so."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if finite.size else 0.0
    return 10.0 ** math.floor(math.log10(largest)) if largest > 1e300 else 1.0


def draw_references(ax, values: Mapping[str, float], unit: float = 1.0) -> None:
    """The reference rows as vertical lines, labelled (the axis widened to the data's own, [real]); floors beyond
    the axis named under it. The axis counts in ``unit`` (``axis_unit``)."""
    counted = f"x {format_number(unit)}" if unit != 1.0 else ""
    if not values:
        if counted:
            ax.set_xlabel(counted, fontsize=7)
        return
    low, high = ax.get_xlim()
    ceiling = values.get("[real]")
    if ceiling is not None and ceiling / unit > high:  # the data's own score is always on the axis
        high = ceiling / unit * 1.08
        ax.set_xlim(low, high)
    beyond = []
    for kind, value in values.items():
        if not low <= value / unit <= high:
            beyond.append(f"{kind} {format_number(value)}")
            continue
        color, style = REFERENCE_STYLES.get(kind, ("0.45", "--"))
        ax.axvline(value / unit, color=color, ls=style, lw=1.0)
        ax.text(value / unit, -0.45, f" {kind}", rotation=90, va="top", ha="right", fontsize=6, color=color)
    text = "lines: reference rows" + (f"; off the axis: {', '.join(beyond)}" if beyond else "")
    ax.set_xlabel("; ".join(filter(None, [counted, text])), fontsize=7)


def leaderboard_rows(table: pd.DataFrame, metric: str, directions: Mapping[str, str]) -> pd.DataFrame:
    """``summarize``'s rows sorted best first for ``metric``; series without a value last, by label."""
    sign = -1.0 if directions.get(metric, "higher") == "higher" else 1.0
    means = table[f"{metric}_mean"].astype(float)
    key = pd.DataFrame({"missing": means.isna(), "score": sign * means, "label": table["label"]})
    order = key.sort_values(["missing", "score", "label"], kind="stable").index
    return table.loc[order].reset_index(drop=True)


# ---------------------------------------------------------------------------------------- helpers


def metric_order(
    runs: pd.DataFrame,
    histories: Mapping[str, pd.DataFrame],
    directions: Mapping[str, str],
    metrics: Sequence[str] | None = None,
) -> list[str]:
    """The metric outputs the runs have values of: ``metrics`` in their order if given; else in the order
    the runs evaluated them (history.csv columns), then the registry's order."""
    known = [m for m in (metrics if metrics is not None else directions) if m in runs and runs[m].notna().any()]
    if metrics is not None:
        return known
    logged = [c for h in histories.values() for c in h.columns if c in known]
    return list(dict.fromkeys([*logged, *known]))


def _format(value: float) -> str:
    """Whole numbers (modes captured) as such, others as in tables."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e5:
        return str(int(value))
    return format_number(value)


def _value(run: pd.Series, metric: str) -> float:
    value = run.get(metric)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def figure_title(fig: Figure, *lines: str) -> None:
    """The figure's title, its lines wrapped to the figure's width (a narrow one cut them off at both edges)."""
    width = max(20, int(fig.get_figwidth() * 10))  # characters of 12 points that fit: about 10 per inch
    fig.suptitle("\n".join(wrapped(line, width) for line in lines), fontsize=12)


def _figure(size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _one_line_each(report: Problem) -> Problem:
    """``report`` of problems as one line each: file names quoted in them may hold newlines or escapes."""
    return lambda line: report(one_line(line))


def _warn(line: str) -> None:
    warnings.warn(line, stacklevel=4)  # past _one_line_each: where the figures were asked for
