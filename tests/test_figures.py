"""Figures of a results folder: curves, samples and leaderboards, checked against the run files.

Every number a figure draws is recomputed here from the run folders' own files
(history.csv, metrics.json, samples.png) with pandas and numpy, not through ganbench.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.image import imread

import ganbench
from ganbench import figures as figures_module
from ganbench.errors import GanbenchError, OptionError, UnknownNameError
from ganbench.figures import DYNAMICS, dataset_figures, plot_results, scan_runs
from ganbench.plugins import registries
from ganbench.spec import run_id_of
from tests.conftest import ganbench_process

from .conftest import assert_one_line_error

PNG = b"\x89PNG\r\n\x1a\n"


def _make_runs(tmp_path_factory, name: str, runs: list[dict]) -> Path:
    """Run ``runs`` into a fresh folder: one torch thread (a busy 2-core machine makes threads spin),
    a private reference cache, the session's shared classifier cache (see conftest)."""
    root = tmp_path_factory.mktemp(name)
    cache = tmp_path_factory.mktemp(f"{name}-cache")
    shared = tmp_path_factory.getbasetemp() / "classifiers"
    shared.mkdir(exist_ok=True)
    (cache / "classifiers").symlink_to(shared, target_is_directory=True)
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANBENCH_CACHE_DIR", str(cache))
        torch.set_num_threads(1)
        try:
            for run in runs:
                ganbench.run(**run, out=root / "results")
        finally:
            torch.set_num_threads(threads)
    return root / "results"


@pytest.fixture(scope="module")
def mog(tmp_path_factory) -> Path:
    """ring8: nsgan and wgan-gp (which also logs a penalty), seeds 0 and 1, metrics every 10 of 20 steps."""
    return _make_runs(
        tmp_path_factory,
        "mog",
        [
            dict(variant=v, dataset="ring8", seed=s, steps=20, eval_every=10, log_every=5)
            for v in ("nsgan", "wgan-gp")
            for s in (0, 1)
        ],
    )


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    """digits: dcgan seeds 0 and 1, cgan seed 0 (n=1: no error bar; class metrics only for cgan)."""
    common = dict(dataset="digits", steps=10, eval_every=5, log_every=5, eval_samples=300)
    runs = [dict(variant="dcgan", seed=s, **common) for s in (0, 1)] + [dict(variant="cgan", seed=0, **common)]
    return _make_runs(tmp_path_factory, "digits", [{**r, "overrides": {"network.width": 4}} for r in runs])


@pytest.fixture(scope="module")
def directions() -> dict[str, str]:
    return registries().metric_directions()


# ------------------------------------------------------------------------- independent readings


def run_folders(root: Path) -> list[dict]:
    """Each run folder's spec, status, metrics and history, read with json and pandas."""
    out = []
    for folder in sorted(p.parent for p in root.rglob("record.json")):
        record = json.loads((folder / "record.json").read_text())
        spec = json.loads((folder / "spec.json").read_text())
        history = folder / "history.csv"
        out.append(
            {
                "folder": folder,
                "variant": spec["variant"],
                "seed": spec["seed"],
                "status": record["status"],
                "metrics": json.loads((folder / "metrics.json").read_text()),
                "history": pd.read_csv(history) if history.exists() else None,
            }
        )
    return out


def expected_curve(runs: list[dict], variant: str, quantity: str) -> pd.Series:
    """The per-step mean over seeds of ``quantity`` (seeds that logged it at that step)."""
    frames = [
        r["history"][["step", quantity]].dropna()
        for r in runs
        if r["variant"] == variant and r["history"] is not None and quantity in r["history"]
    ]
    return pd.concat(frames).groupby("step")[quantity].mean()


def expected_band(runs: list[dict], variant: str, quantity: str) -> tuple[pd.Series, pd.Series]:
    frames = [
        r["history"][["step", quantity]].dropna() for r in runs if r["variant"] == variant and quantity in r["history"]
    ]
    grouped = pd.concat(frames).groupby("step")[quantity]
    return grouped.min(), grouped.max()


KINDS = ("curves", "dynamics", "samples", "leaderboard")


def quantity_of(ax) -> str:
    """The quantity a panel draws (a loss split by kind is titled "loss_d, cross-entropy variants ...")."""
    return ax.get_title().split(" (")[0].split(", ")[0]


def figures(root: Path, directions, **kwargs):
    runs = scan_runs(root).runs
    (dataset,) = runs["dataset"].unique()
    return dataset_figures(runs, dataset, kwargs.pop("metrics", None), directions, **kwargs)


def check_png(path: Path, min_side: int = 400) -> None:
    assert path.read_bytes()[:8] == PNG, path
    assert path.stat().st_size > 10_000, path
    height, width = imread(path).shape[:2]
    assert min_side <= width <= 4000 and min_side <= height <= 4000, (path, width, height)


# ------------------------------------------------------------------------- files


def test_plot_results_writes_one_png_of_each_kind(mog):
    problems = []
    paths = plot_results(mog, on_problem=problems.append)  # directions: the registered metrics'
    assert [p.name for p in paths] == [f"{kind}-ring8.png" for kind in KINDS]
    assert all(p.parent == mog / "figures" for p in paths)  # the default folder
    for path in paths:
        check_png(path)
    assert problems == []
    assert [p.name for p in scan_runs(mog).runs["run_dir"].map(Path)] == [
        p.name for p in sorted(mog.glob("ring8__*"))
    ]  # figures/ is no run folder


def test_values_no_float32_training_can_log_are_left_out_of_the_figures(mog, tmp_path):
    """A hand-edited history.csv with 1e308 in it: drawn without those cells, not a traceback."""
    root = tmp_path / "results"
    shutil.copytree(mog, root)
    history = next(root.glob("ring8__nsgan__seed0__*")) / "history.csv"
    rows = history.read_text().splitlines()
    header = rows[0].split(",")
    cells = rows[1].split(",")
    cells[header.index("d_real")], cells[header.index("loss_d")] = "1e308", "-1e308"
    history.write_text("\n".join([rows[0], ",".join(cells), *rows[2:]]) + "\n")
    paths = plot_results(root, tmp_path / "figures")
    assert len(paths) == len(KINDS)


def test_a_figure_draws_at_most_its_series_cap_and_says_what_it_left_out(mog, tmp_path, monkeypatch):
    """Settings of one variant beyond the cap (2 here: every copy of nsgan with another lr_d is a series)."""
    monkeypatch.setattr("ganbench.figures.MAX_SERIES", 2)
    root = tmp_path / "results"
    root.mkdir()
    run = next(mog.glob("ring8__nsgan__seed0__*"))
    for i in range(4):
        _copy_run(run, root, edit_spec=lambda spec, i=i: spec["variant_options"].update(lr_d=i + 1.0))
    problems: list[str] = []
    plot_results(root, tmp_path / "figures", on_problem=problems.append)
    assert len(problems) == 1 and "4 series" in problems[0] and "drew the first 2" in problems[0]
    runs = scan_runs(root).runs
    fig = dataset_figures(runs, "ring8", None, ganbench.registries().metric_directions(), on_problem=problems.append)
    assert len({line.get_label() for line in fig["curves"].axes[0].get_lines()}) == 2


def test_a_record_whose_metric_is_text_or_a_list_is_unreadable_not_a_column(mog, tmp_path, cli):
    root = tmp_path / "results"
    root.mkdir()
    runs = sorted(mog.glob("ring8__nsgan__seed*"))
    for run, value in zip(runs, ("high", [1, 2]), strict=True):
        _copy_run(run, root, metrics={"frechet": value})
    for command in ("table", "plot"):  # nothing else to show: one line naming why, not warnings and "no runs"
        assert_one_line_error(
            cli(command, str(root)), "no readable run", "2 unreadable record(s)", "must be a number or null", "--force"
        )


def test_plot_of_one_run_folder_draws_that_run(mog, tmp_path):
    """`ganbench plot results/<run folder>`: the figures of that run alone, its dynamics included."""
    run = next(mog.glob("ring8__nsgan__seed0__*"))
    paths = plot_results(run, tmp_path)
    assert [p.name for p in paths] == [f"{kind}-ring8.png" for kind in KINDS]
    runs = scan_runs(run).runs
    assert list(runs["run_id"]) == [json.loads((run / "record.json").read_text())["run_id"]]


# ------------------------------------------------------------------------- curves


def test_curves_one_subplot_per_quantity_one_line_per_variant(mog, directions):
    runs = run_folders(mog)
    fig = figures(mog, directions)["curves"]
    headers = list(dict.fromkeys(c for r in runs for c in r["history"].columns if c != "step"))
    assert headers[:2] == ["loss_d", "loss_g"] and "penalty" in headers and "frechet" in headers
    drawn = [c for c in headers if any(c in r["history"] and r["history"][c].notna().any() for r in runs)]
    logged = [c for c in drawn if c not in directions and not c.endswith("_std") and c not in DYNAMICS]
    # losses first, then metrics; a metric without any value (reverse_kl when no mode is captured) has no subplot;
    # the losses of the cross-entropy nsgan and the critic wgan-gp never share an axis
    kinds = {"nsgan": "cross-entropy variants", "wgan-gp": "critic-output variants"}
    split = [f"{c}, {kind}" for c in ("loss_d", "loss_g") for kind in kinds.values()]
    panel = lambda ax: ax.get_title().split(" (")[0]  # noqa: E731
    assert [panel(ax) for ax in fig.axes] == split + logged[2:] + [c for c in drawn if c in directions]
    for ax in fig.axes:
        quantity, _, kind = panel(ax).partition(", ")
        with_values = sorted(
            {
                r["variant"]
                for r in runs
                if quantity in r["history"]
                and r["history"][quantity].notna().any()
                and kind in ("", kinds[r["variant"]])
            }
        )
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert sorted(lines) == with_values, quantity  # penalty: wgan-gp only
        for variant, line in lines.items():
            mean = expected_curve(runs, variant, quantity)
            np.testing.assert_array_equal(line.get_xdata(), mean.index.to_numpy())
            np.testing.assert_allclose(line.get_ydata(), mean.to_numpy(), rtol=1e-12)
    assert [{line.get_label() for line in ax.get_lines()} for ax in fig.axes[:2]] == [{"nsgan"}, {"wgan-gp"}]
    assert len(expected_curve(runs, "nsgan", "loss_d")) == 4  # every 5 of 20 steps, aligned over 2 seeds


def test_dynamics_panels_draw_each_variants_mean_over_seeds(mog, directions):
    """Probabilities for the cross-entropy variant, critic values for wgan-gp, the JS estimate of the
    former, the gradient norm of both on a log scale; solid D(x), dashed D(G(z))."""
    runs = run_folders(mog)
    fig = figures(mog, directions)["dynamics"]
    titles = [ax.get_title() for ax in fig.axes]
    assert [t.split(":")[0].split(" —")[0] for t in titles] == [
        "D(x)",
        "critic D(x)",
        "Jensen-Shannon estimate",
        "||grad of L_G w.r.t. G||",
    ]
    probabilities, critic, js, grad = fig.axes
    for ax, variants, quantities in (
        (probabilities, ["nsgan"], ["d_real", "d_fake"]),
        (critic, ["wgan-gp"], ["d_real", "d_fake"]),
        (js, ["nsgan"], ["js_estimate"]),
        (grad, ["nsgan", "wgan-gp"], ["g_grad_norm"]),
    ):
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == [v for v in variants for _ in quantities]
        for line, (variant, quantity) in zip(lines, [(v, q) for v in variants for q in quantities], strict=True):
            mean = expected_curve(runs, variant, quantity)
            np.testing.assert_allclose(line.get_ydata(), mean.to_numpy(), rtol=1e-12)
            assert line.get_linestyle() == ("--" if quantity == "d_fake" else "-")
    assert grad.get_yscale() == "log"
    for value in expected_curve(runs, "nsgan", "d_real"):
        assert 0 < value < 1


def test_curves_band_spans_the_seeds(mog, directions):
    runs = run_folders(mog)
    fig = figures(mog, directions)["curves"]
    axes = [ax for ax in fig.axes if quantity_of(ax) == "loss_g"]  # one per kind of loss
    bands = [c for ax in axes for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    for line, band in zip([line for ax in axes for line in ax.get_lines()], bands, strict=True):
        low, high = expected_band(runs, line.get_label(), "loss_g")
        vertices = band.get_paths()[0].vertices
        for step in low.index:
            ys = vertices[np.isclose(vertices[:, 0], step), 1]
            assert ys.min() == pytest.approx(low[step]) and ys.max() == pytest.approx(high[step])
        assert (line.get_ydata() >= low.to_numpy() - 1e-12).all() and (line.get_ydata() <= high.to_numpy()).all()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["nsgan (2 seeds)", "wgan-gp (2 seeds)", "min–max over seeds"]
    assert "band: min–max over seeds" in fig.get_suptitle()


def test_losses_smoothed_per_seed_metrics_never(mog, directions):
    runs = run_folders(mog)
    fig = figures(mog, directions, smooth=3)["curves"]
    losses = [ax for ax in fig.axes if quantity_of(ax) == "loss_d"]
    assert losses and all("rolling mean of 3" in ax.get_title() for ax in losses)
    for line in [line for ax in losses for line in ax.get_lines()]:
        smoothed = [
            r["history"].set_index("step")["loss_d"].dropna().rolling(3, center=True, min_periods=1).mean()
            for r in runs
            if r["variant"] == line.get_label()
        ]
        np.testing.assert_allclose(line.get_ydata(), pd.concat(smoothed, axis=1).mean(axis=1).to_numpy())
    frechet = next(ax for ax in fig.axes if quantity_of(ax) == "frechet")
    assert frechet.get_title() == "frechet (lower is better)"
    for line in frechet.get_lines():
        np.testing.assert_allclose(line.get_ydata(), expected_curve(runs, line.get_label(), "frechet").to_numpy())


def test_metrics_option_limits_curves_and_leaderboard(mog, directions):
    figs = figures(mog, directions, metrics=["frechet", "modes_captured"])
    assert [quantity_of(ax) for ax in figs["curves"].axes] == [
        "loss_d",
        "loss_d",
        "loss_g",
        "loss_g",
        "penalty",
        "modes_captured",
        "frechet",
    ]
    assert [quantity_of(ax) for ax in figs["leaderboard"].axes] == ["frechet", "modes_captured"]


def test_a_metric_no_run_measured_is_refused_by_table_and_plot_not_an_empty_column(mog, cli, tmp_path):
    """`table --metrics fid_classifier` of mixture runs printed a column of dashes, exit 0, without a word; `plot`
    drew no leaderboard, silently. A metric a run recorded as null is still shown and counted as missing."""
    words = "no run under", "measured fid_classifier; its runs measured coverage_raw, density_raw, frechet,"
    assert_one_line_error(cli("table", str(mog), "--metrics", "frechet,fid_classifier"), *words)
    assert_one_line_error(cli("plot", str(mog), "--metrics", "fid_classifier", "-o", str(tmp_path / "f")), *words)
    with pytest.raises(OptionError, match="measured fid_classifier; its runs measured"):
        plot_results(mog, tmp_path / "g", metrics=["fid_classifier"])
    assert not (tmp_path / "f").exists() and not (tmp_path / "g").exists()
    assert cli("table", str(mog), "--metrics", "frechet").code == 0


# ------------------------------------------------------------------------- leaderboard


def test_leaderboard_bars_are_mean_and_standard_error_best_first(mog, directions):
    runs = run_folders(mog)
    fig = figures(mog, directions)["leaderboard"]
    metrics = [m for m in directions if any(isinstance(r["metrics"].get(m), (int, float)) for r in runs)]
    assert [quantity_of(ax) for ax in fig.axes] == [
        m for m in runs[0]["history"].columns if m in metrics
    ]  # evaluation order, from history.csv
    for ax in fig.axes:
        metric = quantity_of(ax)
        assert ax.get_title() == f"{metric} ({directions[metric]} is better)"
        stats = {}
        for variant in ("nsgan", "wgan-gp"):
            values = np.array([r["metrics"][metric] for r in runs if r["variant"] == variant], dtype=float)
            values = values[~np.isnan(values)]  # null in metrics.json: missing
            se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else math.nan
            stats[variant] = (values.mean() if len(values) else math.nan, se, len(values))
        labels = [t.get_text().split("\n")[0] for t in ax.get_yticklabels()]
        assert sorted(labels) == ["nsgan", "wgan-gp"]
        bars = sorted(ax.patches, key=lambda p: p.get_y())
        ys = [bar.get_y() + bar.get_height() / 2 for bar in bars]
        widths = [bar.get_width() for bar in bars]
        for label, width in zip(labels, widths, strict=True):
            assert width == pytest.approx(np.nan_to_num(stats[label][0]), rel=1e-12)
        shown = [stats[label][0] for label in labels if not math.isnan(stats[label][0])]
        assert shown == sorted(shown, reverse=directions[metric] == "higher")  # best at the top (smallest y)
        for label, tick in zip(labels, ax.get_yticklabels(), strict=True):
            assert f"n={stats[label][2]}" in tick.get_text()
        errorbars = [c for c in ax.collections if isinstance(c, LineCollection)]
        with_se = [label for label in labels if not math.isnan(stats[label][1])]
        if not with_se:
            assert errorbars == []
            continue
        (segments,) = [c.get_segments() for c in errorbars]
        assert len(segments) == len(with_se)
        for label in with_se:
            y = ys[labels.index(label)]
            (segment,) = [s for s in segments if s[0][1] == pytest.approx(y)]
            (x0, _), (x1, _) = segment
            assert (x0 + x1) / 2 == pytest.approx(stats[label][0], rel=1e-9, abs=1e-12)
            assert (x1 - x0) / 2 == pytest.approx(stats[label][1], rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------------- samples


def test_samples_one_panel_per_variant_from_its_lowest_seed(mog, directions):
    runs = run_folders(mog)
    fig = figures(mog, directions)["samples"]
    assert len(fig.axes) == 2
    for ax, variant in zip(fig.axes, ("nsgan", "wgan-gp"), strict=True):
        title = ax.get_title()
        assert title.startswith(f"{variant}, seed 0\n")
        (run,) = [r for r in runs if r["variant"] == variant and r["seed"] == 0]
        assert f"modes_captured {run['metrics']['modes_captured']}" in title
        (image,) = ax.images
        np.testing.assert_array_equal(image.get_array(), imread(run["folder"] / "samples.png"))


# ------------------------------------------------------------------------- settings, divergence, gaps


def _seed0_runs(mog: Path, root: Path) -> Path:
    """``root``, a new folder holding copies of the seed-0 runs of ``mog``'s ring8 (to edit without touching it)."""
    root.mkdir()
    for source in mog.glob("ring8__*__seed0__*"):
        _copy_run(source, root)
    return root


def _copy_run(folder: Path, dest: Path, *, edit_spec=None, **record_changes) -> Path:
    """A copy of a run folder, its spec edited by ``edit_spec`` (the copy's run id is the edited spec's, as a
    run of that spec would have) and its record changed by ``record_changes`` (metrics.json too)."""
    record = json.loads((folder / "record.json").read_text())
    spec = record["spec"]
    if edit_spec:
        edit_spec(spec)
    run_id = run_id_of(spec)
    target = dest / f"{folder.name.rsplit('__', 1)[0]}__{run_id}"
    shutil.copytree(folder, target)
    record.update(run_id=run_id, run_dir=str(target), spec=spec, **record_changes)
    (target / "record.json").write_text(json.dumps(record))
    (target / "metrics.json").write_text(json.dumps(record["metrics"]))
    (target / "spec.json").write_text(json.dumps({"run_id": run_id, **spec}))
    return target


def test_a_folder_of_runs_that_left_nothing_to_draw_is_one_line_and_no_empty_folder(mog, tmp_path, cli):
    """Runs that all diverged before their first row: plot wrote an empty figures folder and said nothing, exit 0
    (pass 57), where `table` shows them and `plot -m` refused."""
    root = tmp_path / "results"
    for r in run_folders(mog):
        copy = _copy_run(
            r["folder"], root, status="diverged", stopped_by="diverged", diverged_at=1, steps_done=1, metrics={}
        )
        (copy / "history.csv").unlink()
        (copy / "samples.png").unlink()
    result = cli("plot", str(root))
    assert_one_line_error(result, f"nothing to draw under {root}: its 4 runs (4 diverged) left no curves, samples")
    assert not (root / "figures").exists()
    with pytest.raises(GanbenchError, match="`ganbench table` shows how each ended"):
        plot_results(root, tmp_path / "figures")
    assert not (tmp_path / "figures").exists()


def test_settings_divergence_missing_samples_and_unreadable_records(mog, tmp_path, directions):
    root = tmp_path / "results"
    root.mkdir()
    faster = {}
    for r in run_folders(mog):
        if r["variant"] == "wgan-gp" and r["seed"] == 1:  # diverged at step 10
            _copy_run(
                r["folder"], root, status="diverged", stopped_by="diverged", diverged_at=10, steps_done=10, metrics={}
            )
        else:
            _copy_run(r["folder"], root)
        if r["variant"] == "nsgan":  # a second config of nsgan: a setting of its own
            edit = lambda spec: spec["variant_options"].update(lr_d=3e-4)  # noqa: E731
            faster[r["seed"]] = _copy_run(r["folder"], root, edit_spec=edit)
    (faster[0] / "samples.png").unlink()
    broken = root / "ring8__gan__seed0__broken"
    broken.mkdir()
    (broken / "record.json").write_text("{not json")

    assert any("unreadable record" in line and "broken" in line for line in scan_runs(root).problems())

    with pytest.warns(UserWarning, match=f"no samples {faster[0] / 'samples.png'}: its panel is left blank"):
        figs = figures(root, directions)
    assert list(figs) == list(KINDS)
    loss_d = figs["curves"].axes[:2]  # the cross-entropy nsgan configs, then the critic wgan-gp
    assert [sorted(line.get_label() for line in ax.get_lines()) for ax in loss_d] == [
        ["nsgan (lr_d=0.0001)", "nsgan (lr_d=0.0003)"],
        ["wgan-gp"],
    ]
    legend = [t.get_text() for t in figs["curves"].legends[0].get_texts()]
    assert "diverged: history ends" in legend
    markers = [c for ax in loss_d for c in ax.collections if not isinstance(c, PolyCollection)]
    assert len(markers) == 1  # the x at the end of the diverged run's loss_d

    samples = figs["samples"]
    assert len(samples.axes) == 3
    blank = next(ax for ax in samples.axes if ax.get_title().startswith("nsgan (lr_d=0.0003), seed 0"))
    assert len(blank.images) == 0 and [t.get_text() for t in blank.texts] == ["no samples.png"]

    board = figs["leaderboard"].axes[0]
    ticks = {t.get_text().split("\n")[0]: t for t in board.get_yticklabels()}
    assert sorted(ticks) == ["nsgan (lr_d=0.0001)", "nsgan (lr_d=0.0003)", "wgan-gp"]
    assert ticks["wgan-gp"].get_text().endswith("n=1, 1 diverged")
    assert ticks["wgan-gp"].get_color() == "tab:red"


def test_without_histories_no_curves(mog, tmp_path, directions):
    root = tmp_path / "results"
    shutil.copytree(mog, root, ignore=shutil.ignore_patterns("figures", "checkpoint.pt"))
    for history in root.rglob("history.csv"):
        history.unlink()
    (root / "ring8__gan__seed0__broken").mkdir()
    (root / "ring8__gan__seed0__broken" / "record.json").write_text("{not json")
    problems = []
    paths = plot_results(root, directions=directions, on_problem=problems.append)
    # the records still name the original folders, whose histories exist: the copies' files are drawn
    assert [p.name for p in paths] == ["samples-ring8.png", "leaderboard-ring8.png"]
    assert len(problems) == 6 and "unreadable record" in problems[0] and "broken" in problems[0]
    assert sum(p.startswith("no history ") for p in problems) == 4  # the completed runs': the diverged log none


def test_user_errors(mog, tmp_path, directions):
    with pytest.raises(UnknownNameError, match="did you mean frechet"):
        plot_results(mog, tmp_path, metrics=["frechett"], directions=directions)
    with pytest.raises(GanbenchError, match="does not exist"):
        plot_results(tmp_path / "nowhere", directions=directions)
    with pytest.raises(GanbenchError, match="no runs found"):
        plot_results(tmp_path, directions=directions)
    (tmp_path / "afile").write_text("hi")
    with pytest.raises(GanbenchError, match="is a file, not a folder"):
        plot_results(tmp_path / "afile", directions=directions)


# ------------------------------------------------------------------------- images


def test_image_dataset(digits, tmp_path, directions):
    runs = run_folders(digits)
    paths = plot_results(digits, tmp_path, directions=directions)
    assert [p.name for p in paths] == [f"{kind}-digits.png" for kind in KINDS]
    for path in paths:
        check_png(path)
    figs = figures(digits, directions)
    quantities = [quantity_of(ax) for ax in figs["curves"].axes]
    assert quantities[:2] == ["loss_d", "loss_g"] and "fid_classifier" in quantities
    assert not any(q.endswith("_std") for q in quantities)  # is_classifier_std, kid_classifier_std: spreads
    fid = next(ax for ax in figs["curves"].axes if quantity_of(ax) == "fid_classifier")
    for line in fid.get_lines():
        np.testing.assert_allclose(line.get_ydata(), expected_curve(runs, line.get_label(), "fid_classifier"))

    samples = figs["samples"]
    assert [ax.get_title().split(",")[0] for ax in samples.axes] == ["cgan", "dcgan"]
    for ax, variant in zip(samples.axes, ("cgan", "dcgan"), strict=True):
        (run,) = [r for r in runs if r["variant"] == variant and r["seed"] == 0]
        np.testing.assert_array_equal(ax.images[0].get_array(), imread(run["folder"] / "samples.png"))

    board = {quantity_of(ax): ax for ax in figs["leaderboard"].axes}
    accuracy = board["class_accuracy"]  # cgan's only: dcgan is listed without a bar
    labels = [t.get_text() for t in accuracy.get_yticklabels()]
    assert labels[0].startswith("cgan\nn=1") and labels[1] == "dcgan\nnot computed"
    (cgan,) = [r for r in runs if r["variant"] == "cgan"]
    widths = [p.get_width() for p in sorted(accuracy.patches, key=lambda p: p.get_y())]
    assert widths == [pytest.approx(cgan["metrics"]["class_accuracy"]), 0.0]
    fid_board = board["fid_classifier"]
    (segments,) = [c.get_segments() for c in fid_board.collections if isinstance(c, LineCollection)]
    assert len(segments) == 1  # dcgan's two seeds; cgan's one seed has no standard error
    dcgan = [r["metrics"]["fid_classifier"] for r in runs if r["variant"] == "dcgan"]
    (x0, _), (x1, _) = segments[0]
    assert (x1 - x0) / 2 == pytest.approx(np.std(dcgan, ddof=1) / math.sqrt(2))


def test_figures_is_core_code():
    """figures.py imports no built-in plugin module (those are loaded through the plugin manager)."""
    import ast

    import ganbench.figures

    tree = ast.parse(Path(ganbench.figures.__file__).read_text())
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    plugins = ("variants", "datasets", "networks", "metrics", "features", "executors", "loggers")
    assert [m for m in imported if m.startswith(tuple(f"ganbench.{p}" for p in plugins))] == []


def test_a_name_with_a_newline_a_pipe_or_an_undecodable_byte_stays_on_its_row(mog, tmp_path, cli):
    """A dataset named by a path holding a newline, a '|' and a byte that is not UTF-8 (os.fsdecode makes it a
    lone surrogate): every table format and the figures show it escaped, one row per run, without a traceback."""
    root = tmp_path / "results"
    root.mkdir()
    odd = "my|data\nset\udcff"
    for run in sorted(mog.glob("ring8__nsgan__seed*")):
        _copy_run(run, root, edit_spec=lambda spec: spec.update(dataset=odd))
    markdown = cli("table", str(root), "--metrics", "modes_captured")
    assert markdown.code == 0, markdown.err
    rows = [line for line in markdown.out.splitlines() if "nsgan" in line]
    assert len(rows) == 1 and rows[0].startswith(r"| my\|data\nset\udcff | nsgan ")
    csv_out = cli("table", str(root), "--metrics", "modes_captured", "--format", "csv")
    assert csv_out.code == 0 and len(csv_out.out.splitlines()) == 2
    assert csv_out.out.splitlines()[1].startswith(r"my|data\nset\udcff,nsgan,")
    assert cli("plot", str(root)).code == 0


def test_a_history_of_thousands_of_columns_draws_at_most_the_panel_cap(mog, tmp_path):
    from ganbench.figures import MAX_PANELS

    root = tmp_path / "results"
    root.mkdir()
    run = _copy_run(next(mog.glob("ring8__nsgan__seed0__*")), root)
    wide = pd.DataFrame(np.ones((3, 3000)), columns=[f"q{i}" for i in range(3000)]).assign(step=[10, 20, 30])
    wide.to_csv(run / "history.csv", index=False)
    problems: list[str] = []
    fig = dataset_figures(
        scan_runs(root).runs, "ring8", None, registries().metric_directions(), on_problem=problems.append
    )
    assert len(fig["curves"].axes) == MAX_PANELS
    assert [p for p in problems if "3,000 quantities" in p and f"drew the first {MAX_PANELS}" in p]


def test_a_folder_mixing_budgets_names_every_series_budget(mog, tmp_path, directions):
    root = tmp_path / "results"
    root.mkdir()
    for r in run_folders(mog):
        if r["variant"] == "nsgan":
            _copy_run(r["folder"], root, edit_spec=lambda spec: spec["budget"].update(steps=600), steps_done=600)
        else:
            _copy_run(r["folder"], root)
    figs = figures(root, directions)
    legend = [t.get_text() for t in figs["curves"].legends[0].get_texts()]
    assert any(t.startswith("nsgan (steps=600)") for t in legend), legend
    assert any(t.startswith("wgan-gp (steps=") for t in legend)  # the other budget is named too


def test_the_leaderboard_of_a_mixture_draws_its_reference_rows(mog, directions):
    board = figures(mog, directions)["leaderboard"]
    modes = next(ax for ax in board.axes if quantity_of(ax) == "modes_captured")
    drawn = {round(float(line.get_xdata()[0]), 6) for line in modes.get_lines() if line.get_linestyle() != "None"}
    assert {8.0, 1.0} <= drawn  # [real] captures all 8 modes of ring8, [one-mode] exactly one
    assert modes.get_xlabel().startswith("lines: reference rows")
    assert {t.get_text().strip() for t in modes.texts} >= {"[real]", "[one-mode]"}


def test_a_history_whose_steps_are_not_whole_numbers_is_left_out_in_one_warning(mog, tmp_path, cli):
    root = _seed0_runs(mog, tmp_path / "results")
    edited = next(root.glob("ring8__nsgan__*"))
    (edited / "history.csv").write_text("step,loss_d\n10.7,1\n10.2,2\n20,3\n")  # 10.7 and 10.2: both "step 10"
    result = cli("plot", str(root), "-o", str(tmp_path / "figures"))
    assert result.code == 0, result.err
    assert "unreadable history" in result.err and "step 10.7 is not a whole number" in result.err
    assert (tmp_path / "figures" / "curves-ring8.png").is_file()
    summary = "step,loss_d\n10,1\n20,3\n### ganbench leaderboard `t`: 1 improved\n\n| a | b |\n"  # pass 50 F3
    (edited / "history.csv").write_text(summary)  # a step summary appended to it: rows of text, dropped silently
    result = cli("plot", str(root), "-o", str(tmp_path / "figures"))
    said = [line for line in result.err.splitlines() if "unreadable history" in line]
    assert said == [
        f"warning: unreadable history {edited / 'history.csv'}: line 4 holds '### ganbench leaderboard `t`: 1 "
        "improved', not a number; its curves are left out"
    ]
    for rows, why in (  # kept and drawn, or dropped without a word (pass 55)
        ("-10,1\n20,3\n", "line 2: step -10 is not a whole number from 0 to 2^63"),
        ("10,1\n" + "9" * 41 + ",3\n", "line 3: step 99999999"),
        ("10,1\n10,2\n20,3\n", "step 10 is logged twice (lines 2 and 3)"),
        ("\n\n10,1\n-20,3\n", "line 5: step -20 is not"),  # blank lines: pandas skips them (said line 3, pass 56)
    ):
        (edited / "history.csv").write_text("step,loss_d\n" + rows)
        result = cli("plot", str(root), "-o", str(tmp_path / "figures"))
        said = [line for line in result.err.splitlines() if "unreadable history" in line]
        assert len(said) == 1 and why in said[0], result.err
    for ending in (",", ",x"):  # pandas took the extra field for an index: "step 1.36 (a loss) is not whole"
        (edited / "history.csv").write_text(f"step,loss_d\n10,1.5{ending}\n20,3\n")
        result = cli("plot", str(root), "-o", str(tmp_path / "figures"))
        said = [line for line in result.err.splitlines() if "unreadable history" in line]
        assert said == [
            f"warning: unreadable history {edited / 'history.csv'}: line 2 has 3 fields, more than its header's 2; "
            "its curves are left out"
        ]


def test_a_completed_run_without_its_history_or_samples_is_said_once_each(mog, tmp_path, cli):
    """Deleted since the run wrote them: its curve and panel were left out without a word."""
    root = _seed0_runs(mog, tmp_path / "results")
    edited = next(root.glob("ring8__nsgan__*"))
    assert (edited / "samples.png").is_file()
    (edited / "history.csv").unlink()
    (edited / "samples.png").unlink()
    result = cli("plot", str(root), "-o", str(tmp_path / "figures"))
    assert result.code == 0, result.err
    said = [line for line in result.err.splitlines() if line.startswith("warning: no ")]
    assert said == [
        f"warning: no history {edited / 'history.csv'}: its curves are left out (rerun the run with --force to "
        "write it again)",
        f"warning: no samples {edited / 'samples.png'}: its panel is left blank (rerun the run with --force)",
    ], result.err


def test_an_earlier_plots_figure_of_what_has_nothing_to_draw_now_is_removed_and_said(mog, tmp_path, cli):
    """An earlier plot's curves stayed beside this plot's figures, as if current, when no run had a history to
    draw any more (pass 66)."""
    root = _seed0_runs(mog, tmp_path / "results")
    figures = tmp_path / "figures"
    assert cli("plot", str(root), "-o", str(figures)).code == 0
    assert (figures / "curves-ring8.png").is_file() and (figures / "dynamics-ring8.png").is_file()
    (figures / "mine.png").write_bytes(b"not ganbench's")
    for history in root.glob("*/history.csv"):
        history.unlink()
    result = cli("plot", str(root), "-o", str(figures))
    assert result.code == 0, result.err
    for kind in ("curves", "dynamics"):
        assert not (figures / f"{kind}-ring8.png").exists()
        assert f"warning: removed {figures / f'{kind}-ring8.png'}, an earlier plot's: its runs have no {kind}" in (
            result.err
        )
    assert sorted(p.name for p in figures.iterdir()) == ["leaderboard-ring8.png", "mine.png", "samples-ring8.png"]


def test_a_results_folder_whose_name_is_not_utf8_is_plotted_and_its_stale_figure_found(mog, tmp_path):
    """Pass 78: the figures' stamp, the results folder's path, was PNG's UnicodeEncodeError for a name that is not
    UTF-8 (or any non-ASCII name under LC_ALL=C): a traceback, and an empty figures folder left."""
    root = _seed0_runs(mog, tmp_path / "p\udcff")
    assert len(plot_results(root, on_problem=lambda line: None)) == 4
    for history in root.glob("*/history.csv"):
        history.unlink()
    said = []
    plot_results(root, on_problem=said.append)
    assert not (root / "figures" / "curves-ring8.png").exists()
    assert any("an earlier plot's" in line for line in said), said


def test_a_file_plot_did_not_draw_is_never_removed_and_a_killed_plots_temporary_file_is(mog, tmp_path, cli):
    """Pass 77: a user's own curves-ring8.png in the --out folder, or another results folder's figure there, was
    removed as "an earlier plot's"; the hidden temporary file of a plot killed mid-write stayed for good."""
    from PIL import Image

    root = _seed0_runs(mog, tmp_path / "results")
    other = _seed0_runs(mog, tmp_path / "other")
    figures = tmp_path / "figures"
    assert cli("plot", str(other), "-o", str(figures)).code == 0  # another results folder's curves
    figures.joinpath("curves-ring8.png").rename(figures / "theirs.png")
    Image.new("RGB", (40, 40), "red").save(figures / "curves-ring8.png")  # the user's own
    figures.joinpath("theirs.png").rename(figures / "dynamics-ring8.png")
    killed, fresh = figures / ".ganbench-abcd1234.tmp", figures / ".ganbench-efgh5678.tmp"
    killed.write_bytes(b"half a PNG")
    fresh.write_bytes(b"another plot writing now")
    os.utime(killed, (time.time() - 7200, time.time() - 7200))
    for history in root.glob("*/history.csv"):
        history.unlink()
    result = cli("plot", str(root), "-o", str(figures))
    assert result.code == 0, result.err
    assert "removed" not in result.err, result.err
    assert (figures / "curves-ring8.png").is_file() and (figures / "dynamics-ring8.png").is_file()
    assert not killed.exists() and fresh.exists()


def test_a_history_this_user_may_not_read_names_its_path_once_and_says_make_it_readable(mog, monkeypatch):
    """It said "[Errno 13] Permission denied: '<the whole path again>'"."""
    from ganbench import figures

    runs = scan_runs(mog).runs
    barred = runs["run_dir"].iloc[0]

    def read(run_dir):
        if run_dir == barred:
            raise PermissionError(13, "Permission denied", str(Path(run_dir) / "history.csv"))
        return read_history(run_dir)

    read_history = figures.read_history
    monkeypatch.setattr(figures, "read_history", read)
    said = []
    assert len(figures.read_histories(runs, on_problem=said.append)) == len(runs) - 1
    path = Path(barred) / "history.csv"
    assert said == [f"unreadable history {path}: Permission denied; its curves are left out (make it readable)"]


def test_a_figures_folder_that_is_a_link_to_nothing_is_said_so(mog, tmp_path, cli):
    """The default figures folder, a link whose target was removed, was "cannot write figures to ... (File
    exists)"."""
    root = _seed0_runs(mog, tmp_path / "results")
    (root / "figures").symlink_to(tmp_path / "gone")
    result = cli("plot", str(root))
    assert_one_line_error(result, f"cannot write figures to {root / 'figures'}: it is a symbolic link to nothing")
    assert (root / "figures").is_symlink() and not (tmp_path / "gone").exists()


def test_a_figure_whose_path_is_taken_is_named_in_the_error(mog, tmp_path, cli):
    """A folder where curves-ring8.png goes was reported as the --out folder "not a regular file"."""
    root = _seed0_runs(mog, tmp_path / "results")
    (tmp_path / "figures" / "curves-ring8.png").mkdir(parents=True)
    result = cli("plot", str(root), "-o", str(tmp_path / "figures"))
    taken = f"cannot write figures to {tmp_path / 'figures' / 'curves-ring8.png'} ("
    assert_one_line_error(result, taken, "remove what is in the way or pass another --out")
    import errno

    full = OSError(errno.ENOSPC, "No space left on device")  # a full disk: space is the remedy, nothing is in the way
    with mock.patch("ganbench.figures.write_atomic", side_effect=full):
        result = cli("plot", str(root), "-o", str(tmp_path / "other" / "figs"))
    assert_one_line_error(result, "(No space left on device); free some space or pass another --out")
    assert not (tmp_path / "other").exists()  # pass 83: the folders it made were left, empty
    real_write = figures_module.write_atomic
    calls = []

    def second_fails(path, write):
        calls.append(path)
        if len(calls) > 1:
            raise full
        return real_write(path, write)

    with mock.patch("ganbench.figures.write_atomic", side_effect=second_fails):
        assert_one_line_error(cli("plot", str(root), "-o", str(tmp_path / "half")), "No space left on device")
    assert len(calls) == 2 and not (tmp_path / "half").exists()  # its first figure went with the folder
    (tmp_path / "null").symlink_to("/dev/null")
    result = cli("plot", str(root), "-o", str(tmp_path / "null"))
    assert_one_line_error(result, "null is a file, not a folder; name a folder, e.g. --out figures")
    for command in ("plot", "table"):  # pass 83: plot said /dev/null "is a file", table "a device or socket"
        assert_one_line_error(cli(command, "/dev/null"), "results folder /dev/null is a device or socket, not a folder")


def test_a_leaderboard_of_values_near_float64s_largest_is_drawn_to_scale(mog, tmp_path, directions):
    """Means and errors near 1.7e308 would put the axis's end past float64's range: a traceback, before, then bars
    cut at 2.8e306 (3e306 and 1.7e308 alike). Now the axis counts in 1e308: bars keep their ratios."""
    root = tmp_path / "results"
    shutil.copytree(mog, root)
    for value, run in zip((1.7e308, 1.0e308), sorted(root.glob("ring8__nsgan__seed*")), strict=True):
        for name in ("record.json", "metrics.json"):
            data = json.loads((run / name).read_text())
            (data["metrics"] if name == "record.json" else data)["frechet"] = value
            (run / name).write_text(json.dumps(data))
    for run in root.glob("ring8__wgan-gp__seed*"):
        for name in ("record.json", "metrics.json"):
            data = json.loads((run / name).read_text())
            (data["metrics"] if name == "record.json" else data)["frechet"] = 3e306
            (run / name).write_text(json.dumps(data))
    paths = plot_results(root, tmp_path / "figures", ["frechet"])
    assert any("leaderboard" in p.name for p in paths)
    (ax,) = figures(root, directions, metrics=["frechet"])["leaderboard"].axes
    widths = {t.get_text().split("\n")[0]: bar.get_width() for t, bar in zip(ax.get_yticklabels(), sorted(
        ax.patches, key=lambda p: p.get_y()), strict=True)}  # fmt: skip
    assert widths == {"wgan-gp": pytest.approx(0.03, rel=1e-12), "nsgan": pytest.approx(1.35, rel=1e-12)}
    assert ax.get_xlabel().startswith("x 1e+308") and all(np.isfinite(ax.get_xlim()))
    assert any(t.get_text().startswith("1.35e+308 ± 3.5e+307") for t in ax.texts)


def test_long_settings_are_shortened_and_wrapped_to_fit_their_figure():
    """Runs on two image folders were labelled by whole paths and sha256s that ran off the figure (pass 49 F6):
    a path by its fewest last parts that tell it apart, no sha256 beside a differing path, lines wrapped."""
    import pandas as pd
    from matplotlib.figure import Figure

    from ganbench.figures import figure_title, wrapped
    from ganbench.results import settings

    long = "/data/" + "a_very_long_folder_name/" * 3 + "cats/imgs"
    specs = {
        "c1": {"dataset": "files", "dataset_options": {"path": long, "sha256": "ab" * 32}},
        "c2": {"dataset": "files", "dataset_options": {"path": "/other/dogs/imgs", "sha256": "cd" * 32}},
        "c3": {"dataset": "files", "dataset_options": {"path": "/other/dogs/imgs", "sha256": "ef" * 32}},
    }
    frame = pd.DataFrame({"dataset": ["files"] * 3, "variant": ["dcgan"] * 3, "config": ["c1", "c2", "c3"]})
    assert settings(frame[frame["config"] != "c3"], specs) == {
        "c1": "dataset.path=.../cats/imgs",
        "c2": "dataset.path=.../dogs/imgs",
    }
    changed = settings(frame[frame["config"] != "c1"], specs)  # one folder whose images changed between runs
    assert changed == {"c2": "dataset.sha256=cdcdcdcdcdcd", "c3": "dataset.sha256=efefefefefef"}
    frame = pd.DataFrame({"dataset": ["files"] * 2, "variant": ["dcgan", "wgan"], "config": ["c1", "c2"]})
    assert settings(frame, specs) == {  # a variant's single config on other files than another's: both said "files"
        "c1": "dataset.path=.../cats/imgs",
        "c2": "dataset.path=.../dogs/imgs",
    }
    frame = pd.DataFrame({"dataset": ["files"] * 2, "variant": ["dcgan", "wgan"], "config": ["c2", "c3"]})
    assert settings(frame, specs) == {  # one folder whose images changed between two variants' runs (pass 80)
        "c2": "dataset.sha256=cdcdcdcdcdcd",
        "c3": "dataset.sha256=efefefefefef",
    }
    label = f"dcgan (dataset.path={long}, lr_d=0.0002)"
    lines = wrapped(label).splitlines()
    assert len(lines) == 3 and all(len(line) <= 44 for line in lines) and "".join(lines) == label
    fig = Figure(figsize=(5.4, 3))
    figure_title(
        fig, "files: final metrics, mean ± standard error over completed seeds (best at the top)", "second line"
    )
    lines = fig._suptitle.get_text().splitlines()
    assert len(lines) == 3 and all(len(line) <= 54 for line in lines) and lines[-1] == "second line"


@pytest.mark.parametrize("smooth", [0, -1, 10**9 + 1, 2**63, 2**70000, True, 2.5, "3"], ids=range(8))
def test_a_smoothing_window_beyond_a_count_is_one_line_and_writes_nothing(tmp_path, smooth):
    """--smooth 2^63 was a pandas traceback, after making the output folder (pass 54)."""
    from ganbench.errors import OptionError
    from ganbench.figures import plot_results

    with pytest.raises(OptionError, match="smooth must be a whole number of logged points, 1 to 1,000,000,000"):
        plot_results(tmp_path, tmp_path / "figures", smooth=smooth)
    assert not (tmp_path / "figures").exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(results_dir=5), "results_dir must name a results folder (text or a Path, without NUL), not 5"),
        (dict(results_dir=None), "results_dir must name a results folder"),
        (dict(out_dir=""), "out_dir must name a folder for the figures (text or a Path, without NUL), not ''"),
        (dict(out_dir="a\0b"), "out_dir must name a folder for the figures"),
        (dict(metrics=5), "metrics must be metric output names (text), or one comma-separated text, not 5"),
        (dict(metrics=[5]), "metrics must be metric output names"),
        (dict(metrics=b"frechet"), "metrics must be metric output names"),
        (dict(directions=["x"]), "directions must map metric outputs to 'higher' or 'lower'"),
        (dict(directions={"frechet": "up"}), "directions must map metric outputs to 'higher' or 'lower'"),
        (dict(directions={"seed": "higher"}), "directions names 'seed', which is a run's field, not a metric output"),
        (dict(on_problem=5), "on_problem must be a function of one line of text, not 5"),
        (dict(smooth=0.5), "smooth must be a whole number of logged points"),
    ],
)
def test_plot_results_checks_its_arguments_as_the_command_line_does(mog, tmp_path, monkeypatch, arguments, message):
    """From Python, TypeErrors from deep inside, `out_dir=""` wrote figures into the working folder, `directions={}`
    deleted an earlier leaderboard figure (pass 69)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OptionError, match=re.escape(message)):
        plot_results(**{"results_dir": mog, "out_dir": tmp_path / "f", **arguments})
    assert not list(tmp_path.iterdir())


def test_plot_results_directions_override_the_registered_ones_name_by_name(mog, tmp_path):
    """`directions={"modes_captured": "higher"}` replaced the registered directions: the leaderboard showed that
    output alone, and `{"nosuch": "higher"}` drew none, without a word (pass 72)."""
    from ganbench.figures import _checked_arguments
    from ganbench.plugins import registries

    registered = registries().metric_directions()
    for given in ({}, {"nosuch": "higher"}, {"frechet": "higher"}):
        directions = _checked_arguments(mog, None, None, given, None, None)[3]
        assert directions == {**registered, **given}
        paths = plot_results(mog, tmp_path / str(len(given)), directions=given)
        assert any(p.name.startswith("leaderboard-") for p in paths), paths


def test_record_columns_are_every_column_of_a_runs_frame_but_its_metrics(mog):
    from ganbench.results import RECORD_COLUMNS, load_results

    runs = load_results(mog)
    outputs = set().union(*runs["outputs"])
    assert set(runs.columns) - outputs == RECORD_COLUMNS


def test_plot_results_takes_whole_floats_and_numpy_ints_for_smooth(mog, tmp_path):
    for smooth in (3.0, np.int64(3)):
        assert plot_results(mog, tmp_path / "f", ["frechet"], smooth=smooth)


def test_an_mplbackend_matplotlib_refuses_is_a_warning_and_every_picture_is_drawn(mog, tmp_path):
    """ganbench draws PNG files on Agg: a backend matplotlib refuses as it is imported must not stop `plot`, nor
    a `run` after its training, with a traceback."""
    env = {"MPLBACKEND": "no-such-backend", "GANBENCH_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    plotted = ganbench_process("plot", str(mog), "-o", str(tmp_path / "figures"), env=env)
    assert plotted.returncode == 0, plotted.stderr
    assert "Traceback" not in plotted.stderr
    warned = [line for line in plotted.stderr.splitlines() if "MPLBACKEND" in line]
    assert len(warned) == 1 and "'no-such-backend'" in warned[0] and "Agg" in warned[0], plotted.stderr
    for png in sorted((tmp_path / "figures").glob("*.png")):
        check_png(png)
    assert sorted(p.name for p in (tmp_path / "figures").glob("*.png")), "no figure written"
    ran = ganbench_process("run", "--variant", "nsgan", "--dataset", "ring8", "--steps", "10", "-o",
                           str(tmp_path / "results"), env=env)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr
    [folder] = (tmp_path / "results").iterdir()
    assert json.loads((folder / "record.json").read_text())["status"] == "completed"
    check_png(folder / "samples.png", min_side=300)


def test_drawing_a_mixture_leaves_a_python_users_backend_and_pyplot_alone(tmp_path):
    """plot_mixture draws on its own Agg canvas: it used to switch the caller's backend to Agg."""
    script = f"""
import matplotlib
matplotlib.use("svg")
import matplotlib.pyplot as plt
import numpy as np
from ganbench.datasets.mog import RING8 as ring
from ganbench.plots import plot_mixture
points = np.zeros((10, 2), dtype=np.float32)
plot_mixture(points, points, ring.modes, np.zeros(8, dtype=bool), {str(tmp_path / "ring.png")!r}, "ring8", {{}})
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
assert plt.get_fignums() == [], plt.get_fignums()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    check_png(tmp_path / "ring.png", min_side=300)


def test_a_users_matplotlibrc_changes_no_picture_and_stops_nothing(mog, tmp_path):
    """text.usetex without LaTeX failed every run after its training (and `plot`), a font the machine lacks printed
    a line per text, a bad key five lines: ganbench draws with matplotlib's defaults (pass 74)."""
    (tmp_path / "matplotlibrc").write_text("text.usetex: True\nfont.family: NoSuchFontXYZ\nfoo.bar: 3\n")
    env = {"GANBENCH_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    ran = ganbench_process("run", "-v", "nsgan", "-d", "ring8", "--steps", "10", "-o", "results", "-q", env=env,
                           cwd=tmp_path)  # fmt: skip
    plotted = ganbench_process("plot", str(mog), "-o", "figures", env=env, cwd=tmp_path)
    for done in (ran, plotted):
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines() == [done.stderr.strip()] and "Bad key foo.bar" in done.stderr, done.stderr
    [folder] = (tmp_path / "results").iterdir()
    assert json.loads((folder / "record.json").read_text())["status"] == "completed"
    check_png(folder / "samples.png", min_side=300)
    assert len(list((tmp_path / "figures").glob("*.png"))) == 4
    warned = ganbench_process("plot", str(mog), "-o", str(tmp_path / "strict"), cwd=tmp_path,
                              env={**env, "PYTHONWARNINGS": "error", "MPLBACKEND": "bogus"})  # fmt: skip
    assert warned.returncode == 0 and "MPLBACKEND='bogus'" in warned.stderr, warned.stderr  # not a traceback
    assert warned.stderr.count("Bad key foo.bar") == 1, warned.stderr  # not again as matplotlib is imported anew
    assert len(list((tmp_path / "strict").glob("*.png"))) == 4


def test_reference_lines_left_out_are_said_and_memory_is_the_one_fix_for_finished_runs(mog, tmp_path, cli,
                                                                                      monkeypatch):  # fmt: skip
    """`plot` dropped the leaderboard's reference lines without a word where `table` said why (the data moved,
    changed, or ran out of memory); out of memory reading the data, both advised `--set dataset.n_samples`, which
    neither takes, for runs already finished (pass 74)."""
    from ganbench.datasets.mog import Mixture

    def load(self):
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: can't allocate memory: you tried to "
            "allocate 1638400000 bytes. Error code 12 (Cannot allocate memory)"
        )

    monkeypatch.setattr(Mixture, "load", load)
    said = (
        "no reference rows for ring8: reading the dataset ran out of memory (it asked for 1.5 GiB more); its items "
        "do not fit here: give it more memory (ulimit -v, a container's limit)"
    )
    plotted = cli("plot", str(mog), "-o", str(tmp_path / "figures"))
    assert plotted.code == 0, plotted.err
    assert plotted.err.splitlines() == [f"warning: the leaderboard figure draws {said}"]
    assert len(list((tmp_path / "figures").glob("*.png"))) == 4
    tabled = cli("table", str(mog))
    assert tabled.code == 0 and f"- {said}" in tabled.out, (tabled.out, tabled.err)
    assert "n_samples" not in plotted.err + tabled.out


def test_output_its_encoding_cannot_show_is_escaped_not_called_a_closed_stream(mog):
    """PYTHONIOENCODING=ascii and a table's "±" or "–": "cannot write the output to standard output (it was
    closed)", exit 2, after a run had finished (pass 75). Shown escaped, as Python shows stderr."""
    shown = ganbench_process("table", str(mog), env={"PYTHONIOENCODING": "ascii"})
    assert shown.returncode == 0 and shown.stderr == (  # once: a CSV cell escaped is another value (pass 76)
        "warning: standard output's encoding (ascii) cannot show some characters of the output; they are written "
        "escaped (\\xe9), so names and values may differ: set PYTHONIOENCODING=utf-8\n"
    ), shown.stderr
    assert "mean \\xb1 standard error" in shown.stdout and "| ring8 " in shown.stdout


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "ascii"])
def test_bytes_of_a_name_that_are_not_text_are_not_blamed_on_the_encoding(encoding, capsys):
    """A figure folder named with a byte that is not UTF-8 (fig\\xff): utf-8 was told "set PYTHONIOENCODING=utf-8"
    (pass 77). Such bytes are said apart from characters the encoding cannot show, each once."""
    import io

    from ganbench.console import CommandStdout

    written = io.BytesIO()
    stdout = CommandStdout(io.TextIOWrapper(written, encoding=encoding))
    for text in ("fig\udcff/curves-ring8.png\n", "fig\udcff/samples-ring8.png\n", "mean \u00b1 se\n"):
        stdout.write(text)
    warnings = capsys.readouterr().err.splitlines()
    bytes_said = (
        "warning: some names in the output hold bytes that are not text (a file name that is not UTF-8); they are "
        "written escaped (\\udcff), so they differ from the names on disk"
    )
    assert warnings[0] == bytes_said and "PYTHONIOENCODING" not in warnings[0]
    assert len(warnings) == (2 if encoding == "ascii" else 1), warnings  # "±": only ascii cannot show it
