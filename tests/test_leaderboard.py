"""Suites, sweeps and leaderboards: one-line errors with file and line, sweeps that skip what is
finished and survive failures, and a check that finds a real regression of a pip-installed plugin."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import ganbench

from .conftest import (
    ROOT,
    assert_one_line_error,
    exploding_variant,
    ganbench_process,
    kill_a_worker_mid_sweep,
    metrics_by_run,
    write_mixture_suite,
)
from .test_plugin_distribution import make_distribution, pip_install

SUITE = """\
name = "tiny"
variants = ["nsgan", "lsgan"]
datasets = ["ring8"]
seeds = "0-1"
steps = 20
metrics = ["modes", "frechet"]

[tolerance]
frechet = 0.05
modes_captured = 1
"""


def write_suite(folder: Path, text: str = SUITE, name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    "text, fragments",
    [
        ('variants = ["nsgan"\n', ["malformed TOML", "Unclosed array"]),
        ("colour = 'blue'\n" + SUITE, [":1:", "unknown key 'colour'"]),
        (SUITE.replace('"lsgan"', '"lsgn"'), [":2:", "unknown variant 'lsgn'", "lsgan"]),
        (SUITE.replace('["ring8"]', '["ring9"]'), [":3:", "unknown dataset 'ring9'"]),
        (SUITE.replace("steps = 20", "steps = 0"), [":5:", "steps must be a positive integer"]),
        (SUITE.replace('seeds = "0-1"', 'seeds = "3-1"'), [":4:", "LOW <= HIGH"]),
        (SUITE.replace('["modes", "frechet"]', '["modes", "fidd"]'), [":6:", "unknown metric 'fidd'"]),
        (SUITE + "[set]\nlr_d = -1\n", [":12:", "'lr_d' must be > 0"]),
        (SUITE + '[set]\n"dataset.sigma" = 0\n', [":12:", "'sigma' must be > 0"]),
        (SUITE + "[set]\nlearning_rate = 1\n", [":12:", "has no option 'learning_rate'"]),
        (SUITE.replace("frechet = 0.05", "frechett = 0.05"), [":9:", "unknown metric output 'frechett'"]),
        (SUITE.replace("frechet = 0.05", "frechet = -1"), [":9:", "finite number >= 0"]),
        (SUITE.replace('datasets = ["ring8"]\n', ""), ["needs 'datasets'"]),
        (SUITE.replace("steps = 20", "steps = true"), [":5:", "wrong type"]),
    ],
)
def test_suite_mistakes_are_one_line_naming_file_and_line(cli, tmp_path, text, fragments):
    path = write_suite(tmp_path, text)
    result = cli("sweep", str(path), "-o", str(tmp_path / "out"))
    assert_one_line_error(result, str(path), *fragments)
    assert not (tmp_path / "out").exists()


def test_a_sweep_runs_what_is_missing_and_prints_the_suite_table(cli, tmp_path):
    path, out = write_suite(tmp_path), tmp_path / "out"
    first = cli("sweep", str(path), "-o", str(out), "-q")
    assert first.code == 0, first.err
    assert len(list(out.glob("*/record.json"))) == 4
    assert "| ring8   | lsgan   | 2 " in first.out and "±" in first.out
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/record.json")}
    again = cli("sweep", str(path), "-o", str(out), "-q")
    assert again.code == 0 and again.out == first.out
    assert stamps == {p: p.stat().st_mtime_ns for p in out.glob("*/record.json")}, "a finished run was redone"


def test_a_failing_or_diverging_run_never_stops_the_others(cli, tmp_path, fresh_plugins):
    lsgan = ganbench.get_variant("lsgan")

    def broken_loss(d_real, d_fake):
        raise RuntimeError("this loss is broken")

    class Plugin:
        @ganbench.hookimpl
        def register_variants(self, register):
            register(exploding_variant())
            register(dataclasses.replace(lsgan, name="broken", d_loss=broken_loss))

    fresh_plugins.register_plugin(Plugin(), name="failing-plugin")
    path = write_suite(tmp_path, SUITE.replace('["nsgan", "lsgan"]', '["broken", "exploding", "nsgan"]'))
    result = cli("sweep", str(path), "-o", str(tmp_path / "out"), "-q")
    assert result.code == 1
    assert result.err.count("failed: ") == 2 and "this loss is broken" in result.err
    records = [json.loads(p.read_text()) for p in (tmp_path / "out").glob("*/record.json")]
    assert sorted(r["status"] for r in records) == ["completed", "completed", "diverged", "diverged"]


def test_update_check_show_on_an_unchanged_suite(cli, tmp_path, monkeypatch):
    path = write_suite(tmp_path)
    assert_one_line_error(cli("leaderboard", "check", str(path)), "has no baseline", "leaderboard update")
    updated = cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q")
    assert updated.code == 0, updated.err
    baseline = json.loads((tmp_path / "tiny.baseline.json").read_text())
    assert baseline["suite"] == "tiny" and len(baseline["runs"]) == 4
    assert baseline["made"]["budget"]["steps"] == 20 and "torch" in baseline["made"]["versions"]
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = tmp_path / "junit.xml"
    result = cli("leaderboard", "check", str(path), "--results", str(tmp_path / "b"), "-q", "--junit", str(junit))
    assert result.code == 0, result.err
    assert "identical" in result.out and "regressed" not in result.out
    assert summary.read_text().startswith("### ganbench leaderboard `tiny`")
    cases = ET.parse(junit).getroot()
    assert cases.get("failures") == "0" and len(cases) == int(cases.get("tests")) > 0
    report = json.loads(cli("leaderboard", "check", str(path), "--results", str(tmp_path / "b"), "--json").out)
    assert {c["verdict"] for c in report["comparisons"]} == {"identical"}
    shown = cli("leaderboard", "show", str(path))
    assert shown.code == 0 and "**ring8, frechet** (lower is better)" in shown.out
    csv = cli("leaderboard", "show", str(path), "--format", "csv", "-m", "frechet").out.splitlines()
    assert csv[0] == "dataset,metric,rank,tied,variant,mean,se,n,diverged" and len(csv) == 3


@pytest.mark.slow
def test_a_reinstalled_plugin_with_a_harmful_setting_fails_the_check(tmp_path):
    """The issue's end-to-end case: a pip-installed plugin makes the baseline; the same distribution
    reinstalled with a harmful setting under the same name fails; the original passes, identical."""
    body = """\
        import dataclasses
        import ganbench

        @ganbench.hookimpl
        def register_variants(register):
            nsgan = ganbench.get_variant("nsgan")
            register(dataclasses.replace(nsgan, name="lbvariant", {setting}))
        """
    good = make_distribution(tmp_path / "good", "ganbench-lbvariant", "lbvariant", body.format(setting="lr_d=1e-4"))
    harmful = make_distribution(
        tmp_path / "bad", "ganbench-lbvariant", "lbvariant", body.format(setting="lr_d=1e12, lr_g=1e12")
    )
    good_env = pip_install(good, tmp_path / "site-good")
    bad_env = pip_install(harmful, tmp_path / "site-bad")
    suite = write_suite(
        tmp_path, SUITE.replace('["nsgan", "lsgan"]', '["lbvariant"]').replace('"0-1"', '"0-4"'), "plugin.toml"
    )
    threads = {"OMP_NUM_THREADS": "1"}
    made = ganbench_process(
        "leaderboard",
        "update",
        str(suite),
        "--results",
        str(tmp_path / "r0"),
        "-q",
        env={**good_env, **threads},
        timeout=600,
    )
    assert made.returncode == 0, made.stderr
    summary = tmp_path / "summary.md"
    env = {**bad_env, **threads, "GITHUB_STEP_SUMMARY": str(summary)}
    bad = ganbench_process(
        "leaderboard",
        "check",
        str(suite),
        "--results",
        str(tmp_path / "r1"),
        "-q",
        "--junit",
        str(tmp_path / "junit.xml"),
        env=env,
        timeout=600,
    )
    assert bad.returncode == 1, (bad.stdout, bad.stderr)
    assert "regressed" in bad.stdout and "lbvariant" in bad.stdout and "diverged 5/5 vs 0/5" in bad.stdout
    failures = [c for c in ET.parse(tmp_path / "junit.xml").getroot() if c.find("failure") is not None]
    assert failures and all("lbvariant" in c.get("classname") for c in failures)
    assert "regressed" in summary.read_text()
    (tmp_path / "report.md").write_text(bad.stdout)  # kept for the closing note, when run by hand
    same = ganbench_process(
        "leaderboard",
        "check",
        str(suite),
        "--results",
        str(tmp_path / "r2"),
        "-q",
        env={**good_env, **threads},
        timeout=600,
    )
    assert same.returncode == 0, same.stdout
    assert "identical" in same.stdout and "regressed" not in same.stdout
    assert os.path.exists(tmp_path / "plugin.baseline.json")


@pytest.mark.slow
def test_the_committed_ci_leaderboard_passes_its_own_check(tmp_path):
    """The gate a pull request meets: leaderboards/ci.toml from nothing against its committed
    baseline. No regression anywhere; on the hardware and thread count that made the baseline,
    every value is identical, bit for bit (the brief's promise of reproducible runs)."""
    suite = ROOT / "leaderboards" / "ci.toml"
    result = ganbench_process(
        "leaderboard", "check", str(suite), "--results", str(tmp_path), "--workers", "2", "-q", "--json", timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    report = json.loads(result.stdout)
    assert "regressed" not in report["counts"], report["counts"]
    from ganbench import leaderboard as lb
    from ganbench.results import read_record
    from ganbench.suites import load_suite

    loaded = load_suite(suite)
    records = [read_record(tmp_path / spec.dirname) for spec in loaded.specs()]
    if lb.hardware_note(lb.read_baseline(loaded), records) is None:
        assert set(report["counts"]) == {"identical"}, report["counts"]


@pytest.mark.slow
def test_a_sweep_whose_worker_process_is_killed_resumes_it(tmp_path):
    """SIGKILL the pool process training wgan-gp mid-sweep: the broken pool's runs start again in a
    fresh one and resume from their checkpoints; the sweep ends as one never interrupted."""
    suite = write_mixture_suite(tmp_path / "suite.toml", "wgan-gp,nsgan", steps=1000, seeds="0")
    args = ("sweep", str(suite), "--checkpoint-every", "100", "-q", "--workers", "2")
    command = [str(Path(sys.executable).parent / "ganbench"), *args, "--out", str(tmp_path / "killed")]
    checkpoint, cmdline, killed_at, sweep = kill_a_worker_mid_sweep(command, tmp_path / "killed")
    assert b"multiprocessing" in cmdline, "not a pool worker"
    assert sweep.returncode == 0, sweep.stderr
    record = json.loads((checkpoint.parent / "record.json").read_text())
    assert record["status"] == "completed" and record["resumed_from"] is not None
    assert record["resumed_from"] >= killed_at >= 300
    print(f"worker killed with its checkpoint at step {killed_at}; resumed from {record['resumed_from']}")  # -rP
    whole = ganbench_process(*args, "--out", str(tmp_path / "whole"), timeout=300)
    assert whole.returncode == 0, whole.stderr
    killed, uninterrupted = metrics_by_run(tmp_path / "killed"), metrics_by_run(tmp_path / "whole")
    assert len(killed) == 2 and killed == uninterrupted
    assert sweep.stdout == whole.stdout  # the suite's table


def die_once(marker: str) -> str:
    """Kill this worker process the first time (leaving ``marker``), return 'resumed' the next."""
    if not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return "resumed"


def die_always() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_the_local_pool_restarts_the_jobs_a_dead_worker_took_with_it(tmp_path):
    from ganbench.executors.local import LocalExecutor

    finished = []
    jobs = [(die_once, {"marker": str(tmp_path / "died")}), (dict, {"a": 1})]
    results = LocalExecutor("local").run(jobs, workers=2, on_result=lambda i, r: finished.append(i))
    assert results == ["resumed", {"a": 1}] and sorted(finished) == [0, 1]
    with pytest.raises(ganbench.errors.GanbenchError, match="did not finish: its worker process died 2 time"):
        LocalExecutor("local", max_retries=1).run([(die_always, {}), *jobs[1:]], workers=2)


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--executor-option", "max_retries=-1"], ["'max_retries' must be >= 0", "(--executor-option max_retries="]),
        (["--executor-option", "colour=1"], ["executor 'local' has no option 'colour'", "max_retries"]),
        (["--checkpoint-every", "0"], ["--checkpoint-every"]),
        (["--executor", "rey"], ["unknown executor 'rey'", "local"]),
    ],
)
def test_bad_sweep_options_are_one_line_and_run_nothing(cli, tmp_path, args, fragments):
    path = write_suite(tmp_path)
    assert_one_line_error(cli("sweep", str(path), "-o", str(tmp_path / "out"), "-q", *args), *fragments)
    assert not (tmp_path / "out").exists()
