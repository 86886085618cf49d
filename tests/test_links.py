"""Links where ganbench writes are never written through (pass 55): a link in a cache, a run folder or a folder
of figures is replaced, or refused, so that what it points to (another run's record, the suite, any file of the
user's) stays as it was. Only paths the user names as the output (a baseline, --junit) are followed on purpose."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import ganbench

from .conftest import assert_one_line_error
from .test_leaderboard import SUITE, write_suite

RUN = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "5", "--network", "mlp", "-q"]


def precious(tmp_path: Path) -> Path:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    return victim


def test_a_cache_entry_linked_to_a_file_is_replaced_not_written_through(tmp_path, monkeypatch):
    """A link at a reference entry had the entry written into the file it pointed to."""
    from ganbench.reference import ReferenceStats

    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(tmp_path / "cache"))
    features = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    key = {"dataset": "toy", "n": 40, "extractor": "toy-net"}
    stats = ReferenceStats.cached(key, lambda: features)
    stats.gaussian()
    entry = stats.folder / "gaussian.npz"
    victim = precious(tmp_path)
    entry.unlink()
    entry.symlink_to(victim)
    mu, _ = ReferenceStats.cached(key, lambda: features).gaussian()
    np.testing.assert_allclose(mu, features.mean(0), rtol=1e-6)
    assert victim.read_text() == "precious" and entry.is_file() and not entry.is_symlink()


def test_links_in_a_run_folder_to_folders_or_its_lock_are_refused(cli, tmp_path):
    """tensorboard/ linked to another run's had that run's curves mixed with this one's; .run.owner.json linked to
    another run's record.json had the lock's owner written over that record."""
    out = tmp_path / "r"
    assert cli(*RUN, "-o", str(out)).code == 0
    assert cli(*RUN, "--seed", "1", "-o", str(out)).code == 0
    first, second = sorted(out.iterdir())
    record = (first / "record.json").read_bytes()
    (second / "record.json").unlink()
    for name, target in ((".run.owner.json", first / "record.json"), ("tensorboard", first)):
        link = second / name
        os.symlink(target, link)
        assert_one_line_error(cli(*RUN, "--seed", "1", "-o", str(out)), f"{name} is a link (to {target})")
        assert (first / "record.json").read_bytes() == record
        link.unlink()
    assert cli(*RUN, "--seed", "1", "-o", str(out)).code == 0


def test_plot_replaces_a_link_at_a_figure_and_refuses_a_figures_folder_in_a_run(cli, tmp_path):
    out = tmp_path / "r"
    assert cli(*RUN, "-o", str(out)).code == 0
    run = next(out.iterdir())
    record = (run / "record.json").read_bytes()
    figures = tmp_path / "figs"
    figures.mkdir()
    (figures / "samples-ring8.png").symlink_to(run / "record.json")
    assert cli("plot", str(out), "-o", str(figures)).code == 0
    assert (run / "record.json").read_bytes() == record and not (figures / "samples-ring8.png").is_symlink()
    (out / "figures").symlink_to(run)  # the default folder, a link into the run: its figures went into the run
    result = cli("plot", str(out))
    assert_one_line_error(result, f"figures folder {out / 'figures'} is a link into the folder of one run, {run}",
                          "delete the link, or name another folder")  # fmt: skip
    from ganbench.errors import OptionError
    from ganbench.figures import plot_results

    with pytest.raises(OptionError, match="figures folder .* is a link into the folder of one run"):
        plot_results(out)  # the API wrote its figures into the run (pass 56)
    with pytest.raises(OptionError, match="out .* is the folder of one run"):
        ganbench.run("nsgan", "ring8", steps=5, network="mlp", out=run, progress=False)  # nested a run in it
    assert sorted(p.name for p in run.glob("*.png")) == ["samples.png"] and not list(run.glob("ring8__*"))


def test_update_refuses_a_baseline_that_links_to_the_suite_or_into_the_results(cli, tmp_path):
    """`check` of a baseline linked to the suite advised `update`, which then wrote the baseline over the suite."""
    path = write_suite(tmp_path, SUITE.replace("lsgan", "nsgan").replace('seeds = "0-1"', 'seeds = "0"'))
    text = path.read_text()
    baseline = tmp_path / "tiny.baseline.json"
    baseline.symlink_to(path)
    result = cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q")
    assert_one_line_error(result, f"baseline {baseline} is a link to {path}, which writing", "delete it (a")
    assert path.read_text() == text and not (tmp_path / "a").exists()  # refused before any run
    baseline.unlink()
    (tmp_path / "a" / "r").mkdir(parents=True)
    baseline.symlink_to(tmp_path / "a" / "r" / "record.json")
    result = cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q")
    assert_one_line_error(result, f"baseline {baseline} is a link to", f"in {tmp_path / 'a'}")
    baseline.unlink()
    result = cli("leaderboard", "update", str(path), "--results", str(tmp_path), "-q")  # the suite in its results
    assert result.code == 0, result.err  # no link at all: refused as one (pass 56)
    assert path.read_text() == text and json.loads(baseline.read_text())["runs"]
    baseline.unlink()
    os.link(path, baseline)  # another name of the suite: refused as "a link to itself" (pass 56); no danger
    assert cli("leaderboard", "update", str(path), "--results", str(tmp_path), "-q").code == 0
    assert path.read_text() == text and json.loads(baseline.read_text())["runs"]  # a new file: the suite kept


def test_a_history_with_other_names_is_never_emptied_through_them(cli, tmp_path):
    """A history.csv hard-linked to a suite: a --force start emptied the suite (pass 56)."""
    out = tmp_path / "r"
    assert cli(*RUN, "-o", str(out)).code == 0
    run = next(out.iterdir())
    other = tmp_path / "suite.toml"
    other.write_text('name = "precious"\n')
    (run / "history.csv").unlink()
    os.link(other, run / "history.csv")
    assert cli(*RUN, "-o", str(out), "--force").code == 0
    assert other.read_text() == 'name = "precious"\n' and (run / "history.csv").stat().st_nlink == 1


def test_a_step_summary_is_never_appended_to_a_junit_report_of_ours(cli, tmp_path, monkeypatch):
    path = write_suite(tmp_path, SUITE.replace("lsgan", "nsgan").replace('seeds = "0-1"', 'seeds = "0"'))
    results = str(tmp_path / "a")
    assert cli("leaderboard", "update", str(path), "--results", results, "-q").code == 0
    report = tmp_path / "report"  # no suffix: it passed for a step summary's name
    assert cli("leaderboard", "check", str(path), "--results", results, "--junit", str(report), "-q").code == 0
    xml = report.read_bytes()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(report))
    result = cli("leaderboard", "check", str(path), "--results", results, "-q")
    assert_one_line_error(result, f"$GITHUB_STEP_SUMMARY {report} is a JUnit report ganbench wrote")
    assert report.read_bytes() == xml


def test_table_tells_a_record_linked_to_another_runs_to_delete_the_link(cli, tmp_path):
    """It advised --force, which is refused for a link (pass 55)."""
    out = tmp_path / "r"
    assert cli(*RUN, "-s", "0-1", "-o", str(out)).code == 0
    first, second = sorted(out.iterdir())
    (second / "record.json").unlink()
    (second / "record.json").symlink_to(first / "record.json")
    result = cli("table", str(out))
    assert "through a link in this folder; delete the link, then rerun that run" in result.err, result.err
    assert "--force" not in result.err
