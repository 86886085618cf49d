"""Suites, sweeps and leaderboards: one-line errors with file and line, sweeps that skip what is
finished and survive failures, and a check that finds a real regression of a pip-installed plugin."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import ganbench

from .conftest import (
    ROOT,
    assert_one_line_error,
    exploding_variant,
    ganbench_process,
    save_png_folder,
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
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", ["nested deeper than a suite can be"]),
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
        (SUITE.replace("steps = 20", "steps = 20.5"), [":5:", "'steps' has the wrong type (float); e.g. steps = 2000"]),
        (SUITE.replace('["nsgan", "lsgan"]', '"nsgan"'), [":2:", '(str); e.g. variants = ["nsgan", "wgan-gp"]']),
        (SUITE.replace('["modes", "frechet"]', "[]"), [":6:", 'non-empty list of names; e.g. metrics = ["modes"']),
        ("set = 5\n" + SUITE, [":1:", "'set' has the wrong type (int); e.g. a table: [set], then lr_d = 1e-4"]),
        (SUITE + "[[set.x]]\na = 1\n", [":11:", "[[set.x]] is an array of tables, which no option takes"]),
        (SUITE + '[set]\nnetwork = "mlp"\n', ['sets no option: the network is chosen with network = "mlp"']),
        (  # "drop it from metrics" left metrics = [], refused in turn (pass 64)
            SUITE.replace('["ring8"]', '["digits"]').replace('["modes", "frechet"]', '["modes"]'),
            [":6:", "drop it from metrics; it is the suite's only metric: leave metrics out for the dataset's own"],
        ),
        (SUITE.replace("frechet = 0.05", "steps = 1"), [":9:", "output 'steps'; the suite's runs compute frechet,"]),
        (SUITE.replace("frechet = 0.05", "steps = -1"), [":9:", "'steps': a tolerance is a finite number >= 0"]),
        (  # the advice for one dataset went round in a loop: kid_raw for ring8, kid_classifier for digits
            SUITE.replace('["ring8"]', '["digits", "ring8"]').replace('["modes", "frechet"]', '["kid_classifier"]'),
            [":6:", "use kid_raw; a suite's metrics apply to each of its datasets: leave metrics out for each one's"],
        ),
        (SUITE.replace('"0-1"', '"0-99999999"'), [":4:", "holds 100,000,000 seeds"]),
        (SUITE.replace('"0-1"', '"' + ",".join(["0-999999"] * 100) + '"'), [":4:", "more than 1,000,000 seeds in all"]),
        (SUITE.replace("steps = 20\n", "steps = 20\neval_every = 2000000000\n"), [":6:", "from 1 to 1,000,000,000"]),
        (SUITE.replace("frechet = 0.05", "frechet = 1" + "0" * 400), [":9:", "a tolerance is a finite number >= 0"]),
        (SUITE.replace('"0-1"', '"0-9999"'), [":4:", "the suite has 20,000 runs; at most 10,000"]),
        (SUITE.replace("steps = 20\n", "steps = 20\neval_every = 0\n"), [":6:", "tiny.toml:6: eval_every must be"]),
        (SUITE.replace("steps = 20\n", "steps = 20\neval_every = 21\n"), [":6:", "more than the 20 steps trained"]),
        (SUITE.replace("steps = 20\n", 'steps = 20\nnetwork = " "\n'), [":6:", "'network': is empty"]),
        (SUITE + "[set]\nfoo.bar = 1\n", [":12:", "unknown option group in 'foo.bar'"]),
        (SUITE.replace("steps = 20", "steps = 9223372036854775808"), [":5:", "steps must be at most 1,000,000,000"]),
        (SUITE.replace("steps = 20", "steps = 1e20"), [":5:", "wrong type (float)"]),
        (SUITE.replace('seeds = "0-1"', "seeds = [0, 9223372036854775808]"), [":4:", "from 0 to 2^63 - 1"]),
        (SUITE + "[set]\nlr_d = 1" + "0" * 400 + "\n", [":12:", "'lr_d' must be a finite number, not inf"]),
        (SUITE.replace("frechet = 0.05", "precision_raw = 0.05"), [":9:", "'precision_raw', which no run of"]),
        (SUITE + '[set]\n"dataset.sigma" = 0.1\ndataset.sigma = 0.2\n', ["dataset.sigma is set twice"]),
        (SUITE + "[set]\nlr_d = 1e-3\nvariant.lr_d = 1e-4\n", ["option 'variant.lr_d' is set twice"]),
        (
            SUITE.replace("modes_captured = 1", "modes_captured = 8"),
            [":10:", "tolerance 8 for modes_captured is as wide"],
        ),
        (SUITE.replace("modes_captured = 1", "hq_fraction = 5"), [":10:", "on ring8 ([0, 1]): no change could fail"]),
    ],
)
def test_suite_mistakes_are_one_line_naming_file_and_line(cli, tmp_path, text, fragments):
    path = write_suite(tmp_path, text)
    result = cli("sweep", str(path), "-o", str(tmp_path / "out"))
    assert_one_line_error(result, str(path), *fragments)
    assert not (tmp_path / "out").exists()


def test_a_suite_saved_with_a_byte_order_mark_reads_as_without_one(tmp_path):
    """Some editors start a UTF-8 file with a BOM: it was 'malformed TOML (at line 1, column 1)', naming nothing."""
    from ganbench.suites import load_suite

    plain, marked = write_suite(tmp_path, SUITE, "a.toml"), write_suite(tmp_path, "\ufeff" + SUITE, "b.toml")
    assert load_suite(marked).specs() == load_suite(plain).specs()


def test_a_suite_whose_batches_outgrow_its_data_is_refused_before_any_run(cli, tmp_path):
    """The batch is checked against the data (loaded once per dataset) for every run before the first trains."""
    path = write_suite(tmp_path, SUITE + "[set]\nbatch_size = 150000\n")
    assert_one_line_error(cli("sweep", str(path), "-o", str(tmp_path / "out")), "batches of 150000", "holds 100000")
    assert not (tmp_path / "out").exists()


def test_a_suite_whose_networks_outgrow_memory_is_refused_before_any_run(cli, tmp_path, monkeypatch):
    """Sweep's pre-check built the networks but counted no memory: every run started, and each failed on "504 GiB
    ... more than 21.9 GiB free" (pass 62). The local executor's runs train here, so this machine's memory counts,
    for as many runs as train at once; the line is the option's, the advice names the network's own sizes."""
    text = (
        SUITE.replace("steps = 20\n", 'steps = 20\nnetwork = "mlp"\n')
        + "[set]\nnetwork.width = 16384\nnetwork.depth = 64\n"
    )
    path = write_suite(tmp_path, text)
    result = cli("sweep", str(path), "-o", str(tmp_path / "out"), "-q")
    line = text.splitlines().index("network.width = 16384") + 1
    assert_one_line_error(
        result,
        f"{path}:{line}: network 'mlp' with these options holds 33,825,079,299 parameters",
        "with gradients and Adam's state",
        "GiB free on cpu; lower [set] network.width or network.depth",
    )
    assert not (tmp_path / "out").exists()
    run = ["run", "-d", "ring8", "-s", "0,1", "--steps", "5", "-m", "modes", "-o", str(tmp_path / "out"), "-q"]
    result = cli(*run, "-v", "nsgan", "--set", "network.g_width=16384", "--set", "network.g_depth=50")
    assert_one_line_error(result, "network 'pacgan-mlp'", "lower --set network.g_width or network.g_depth")
    result = cli(*run, "-v", "wgan", "-n", "mlp", "--set", "network.width=16384", "--set", "network.depth=64")
    assert_one_line_error(result, "with gradients and RMSprop's state")  # one buffer, not Adam's two: 12 B each
    monkeypatch.setattr("ganbench.training.free_memory", lambda device: 200 * 2**20)  # one run fits, two do not
    result = cli(*run, "-v", "nsgan", "-n", "mlp", "--set", "network.width=1024", "--set", "network.depth=4")
    assert result.code == 0, result.err
    many = [*run, "-v", "nsgan", "-n", "mlp", "--set", "network.width=1024", "--set", "network.depth=4", "-s", "2,3"]
    result = cli(*many, "--workers", "2")
    assert_one_line_error(result, "MiB for the 2 runs at once, more than the 200 MiB free on cpu; lower --workers or")
    assert not list((tmp_path / "out").glob("*seed2*"))


def test_a_suite_whose_runs_resume_is_told_more_memory_not_a_smaller_network(cli, tmp_path, monkeypatch):
    """A smaller network would make other runs and leave the checkpoints behind: the sweep's pre-check of runs that
    resume says more memory (or fewer at once), as `run` does for one (pass 72 left this)."""
    text = 'name = "wide"\nvariants = ["nsgan"]\ndatasets = ["ring8"]\nseeds = "0-1"\nsteps = 5\nnetwork = "mlp"\n'
    path = write_suite(tmp_path, text + 'metrics = ["modes"]\n[set]\nnetwork.width = 1024\nnetwork.depth = 4\n')
    out = tmp_path / "out"
    assert cli("sweep", str(path), "-o", str(out), "-q", "--checkpoint-every", "1").code == 0
    records = sorted(out.glob("*/record.json"))
    assert len(records) == 2 and all((r.parent / "checkpoint.pt").is_file() for r in records)
    records[0].unlink()
    monkeypatch.setattr("ganbench.training.free_memory", lambda device: 200 * 2**20)  # one run fits, two do not
    records[1].unlink()
    result = cli("sweep", str(path), "-o", str(out), "-q", "--workers", "2")
    assert_one_line_error(
        result, "for the 2 runs at once, more than the 200 MiB free on cpu; 2 of its runs resume from their "
        "checkpoints, which a smaller network would not: lower --workers or give it more memory (ulimit -v"
    )  # fmt: skip
    monkeypatch.setattr("ganbench.training.free_memory", lambda device: 2**20)
    with pytest.raises(
        ganbench.GanbenchError, match=r"1 MiB free on cpu; lower \[set\] network.width or network.depth$"
    ):
        ganbench.run_suite(ganbench.load_suite(path), out=out, force=True, progress=False)  # nothing resumes (pass 75)

    def load(self):  # out of memory as the pre-check reads the data: n_samples was advised to runs that resume
        raise RuntimeError(
            "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1638400000 bytes. Error code 12"
        )

    with monkeypatch.context() as patched:
        patched.setattr("ganbench.datasets.mog.Mixture.load", load)
        result = cli("sweep", str(path), "-o", str(out), "-q")
        assert_one_line_error(result, "reading the dataset ran out of memory", "its items do not fit here: give it")
        assert "n_samples" not in result.err
        assert ".toml: reading the dataset" in result.err, result.err  # at no line: it was said at [set] (pass 77)
    (out / records[1].parent.name / "checkpoint.pt").unlink()  # starts afresh: a smaller network is another run
    result = cli("sweep", str(path), "-o", str(out), "-q")
    assert_one_line_error(result, "more than the 1 MiB free on cpu; 1 of its runs resumes from its checkpoint, "
                          "which a smaller network would not: give it more memory (ulimit -v")  # fmt: skip
    result = cli("sweep", str(path), "-o", str(tmp_path / "fresh"), "-q")
    assert_one_line_error(result, "more than the 1 MiB free on cpu; lower [set] network.width or network.depth")
    assert [p.name for p in out.glob("*/*")].count("checkpoint.pt") == 1 and not (tmp_path / "fresh").exists()


def test_a_suite_standardizing_data_without_spread_is_refused_before_any_run(cli, tmp_path):
    """Identical images have no deviation to divide by (``standardize``): each run failed as it started (pass 61).
    The message names the files and the suite's line."""
    save_png_folder(tmp_path / "grey", np.full((32, 8, 8, 3), 128, dtype=np.uint8))
    grey = json.dumps(str(tmp_path / "grey"))
    text = f'name = "grey"\nvariants = ["nsgan"]\ndatasets = [{grey}]\nseeds = "0-1"\nsteps = 20\nmetrics = ["fid"]\n'
    path = write_suite(tmp_path, text + "[set]\nstandardize = true\nbatch_size = 8\n")
    result = cli("sweep", str(path), "-o", str(tmp_path / "out"), "-q")
    assert_one_line_error(
        result,
        f"{path}:8: variant 'nsgan' divides the data by their standard deviation",
        f"dataset 'files' ({tmp_path / 'grey'}) has none",
        "[set] standardize = false, or other data",
    )
    assert not (tmp_path / "out").exists()


def test_runs_that_failed_before_their_folder_was_made_are_not_said_to_have_one(cli, tmp_path, monkeypatch):
    """ "the suite's 4 runs in DIR, a folder each" was said of a DIR never made (pass 62)."""
    from ganbench.errors import OptionError

    def refuse(*args, **kwargs):
        raise OptionError("refused as it started")

    monkeypatch.setattr("ganbench.harness.Trainer", refuse)
    path, out = write_suite(tmp_path), tmp_path / "out"
    result = cli("sweep", str(path), "-o", str(out), "-q")
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0] == f"the suite's 4 runs: none has a folder in {out}, each failed before its folder was made (below)"
    assert len(lines) == 5 and all(line.endswith(": refused as it started") for line in lines[1:]), lines


def test_a_suite_of_more_runs_than_a_command_starts_unasked_needs_yes(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("ganbench.cli.MAX_RUNS_UNASKED", 3)  # the suite has 4 runs
    path, out = write_suite(tmp_path), tmp_path / "out"
    for command in (["sweep", str(path), "--out"], ["leaderboard", "update", str(path), "--results"]):
        assert_one_line_error(cli(*command, str(out), "-q"), "asks for 4 runs", "pass --yes")
        assert not out.exists()
    assert cli("sweep", str(path), "--out", str(out), "-q", "--yes").code == 0


def test_a_sweep_runs_what_is_missing_and_prints_the_suite_table(cli, tmp_path):
    path, out = write_suite(tmp_path), tmp_path / "out"
    first = cli("sweep", str(path), "-o", str(out), "-q")
    assert first.code == 0, first.err
    assert len(list(out.glob("*/record.json"))) == 4
    assert "| ring8   | lsgan   | 2 " in first.out and "±" in first.out
    assert first.err.splitlines()[-1] == f"the suite's 4 runs in {out}, a folder each"
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/record.json")}
    (out / "another-run").mkdir()  # a folder may hold other runs: the line counts the suite's (it said "4 folders")
    again = cli("sweep", str(path), "-o", str(out), "-q")
    assert again.code == 0 and again.out == first.out and again.err == first.err
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


def test_a_suite_whose_every_run_diverges_still_has_a_leaderboard(cli, tmp_path, exploding):
    """Its readers want exactly that: which variant diverged how often, a dash where no value exists."""
    path = write_suite(tmp_path, SUITE.replace('["nsgan", "lsgan"]', '["exploding"]'))
    assert cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q").code == 0
    for args in ([], ["--results", str(tmp_path / "a")], ["-m", "frechet,reverse_kl"]):
        shown = cli("leaderboard", "show", str(path), *args)
        assert shown.code == 0, shown.err
        assert "| – | exploding | – | 0 | 2 |" in shown.out  # no value, no place (pass 87)
    assert "**ring8, reverse_kl**" in cli("leaderboard", "show", str(path), "-m", "frechet,reverse_kl").out
    check = ["leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "-q"]
    report = json.loads(cli(*check, "--json").out)
    (side,) = {json.dumps(c["current"]) for c in report["comparisons"] if c["metric"] == "diverged"}
    assert json.loads(side) == {"values": [], "seeds": [0, 1], "diverged": 2, "diverged_seeds": [0, 1]}  # not -1, -2
    baseline = json.loads((tmp_path / "tiny.baseline.json").read_text())
    for run in baseline["runs"]:  # as if they had completed then
        run["status"] = "completed"
    (tmp_path / "tiny.baseline.json").write_text(json.dumps(baseline))
    assert "| diverged (↓) | 0/2 diverged | 2/2 diverged |" in cli(*check).out


def test_update_check_show_on_an_unchanged_suite(cli, tmp_path, monkeypatch):
    path = write_suite(tmp_path)
    assert_one_line_error(cli("leaderboard", "check", str(path)), "has no baseline", "leaderboard update")
    updated = cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q")
    assert updated.code == 0, updated.err
    baseline = json.loads((tmp_path / "tiny.baseline.json").read_text())
    assert baseline["suite"] == "tiny" and len(baseline["runs"]) == 4
    assert baseline["made"]["budget"]["steps"] == {"ring8": 20} and "torch" in baseline["made"]["versions"]
    summary = tmp_path / "summary.md"
    summary.write_text("an earlier step's line, unended")  # the report's heading must start a line of its own
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = tmp_path / "junit.xml"
    result = cli("leaderboard", "check", str(path), "--results", str(tmp_path / "b"), "-q", "--junit", str(junit))
    assert result.code == 0, result.err
    assert "identical" in result.out and "regressed" not in result.out
    assert summary.read_text().startswith("an earlier step's line, unended\n### ganbench leaderboard `tiny`")
    cases = ET.parse(junit).getroot()
    assert cases.get("failures") == "0" and len(cases) == int(cases.get("tests")) > 0
    report = json.loads(cli("leaderboard", "check", str(path), "--results", str(tmp_path / "b"), "--json").out)
    assert {c["verdict"] for c in report["comparisons"]} == {"identical"}
    shown = cli("leaderboard", "show", str(path))
    assert shown.code == 0 and "**ring8, frechet** (lower is better)" in shown.out
    assert shown.out.startswith("The committed baseline of suite 'tiny' (tiny.baseline.json): ring8 ")
    assert "not a fresh run" in shown.out.splitlines()[0]
    assert "References, not ranked (same N and evaluation seed): [real] " in shown.out  # ring8 is a mixture
    csv = cli("leaderboard", "show", str(path), "--format", "csv", "-m", "frechet").out.splitlines()
    assert csv[0] == "dataset,metric,rank,tied,variant,mean,se,n,diverged,missing" and len(csv) == 3
    baseline = json.loads(path.with_name("tiny.baseline.json").read_text())
    del baseline["runs"][0]["metrics"]["frechet"]  # a value deleted by hand: n=1 said nothing of it (pass 63)
    path.with_name("tiny.baseline.json").write_text(json.dumps(baseline))
    variant = baseline["runs"][0]["variant"]
    assert re.search(rf"\| {variant} +\| [^|]+ \| 1 \(1 missing\) \| 0 \|", cli("leaderboard", "show", str(path)).out)


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
def test_seed_0_of_the_committed_ci_leaderboard_passes_its_own_check(tmp_path):
    """The gate a pull request meets, on one seed and one dataset: leaderboards/ci.toml's runs of seed 0 on ring8
    from nothing against the committed baseline's rows of them. No regression anywhere; on the hardware and thread
    count that made the baseline, every value is identical, bit for bit (the brief's promise of reproducible runs).
    Each variant once: any change to what a run computes changes these values too, and the whole check (30 runs)
    costs CI seven minutes; the README's workflow runs it whole."""
    committed = ROOT / "leaderboards" / "ci.toml"
    text = committed.read_text()
    assert text.count('seeds = "0-4"\n') == 1, "ci.toml's seeds changed: update this test"
    assert text.count('datasets = ["ring8", "grid25"]\n') == 1, "ci.toml's datasets changed: update this test"
    suite = tmp_path / "ci.toml"
    one = text.replace('seeds = "0-4"\n', 'seeds = "0"\n').replace('["ring8", "grid25"]', '["ring8"]')
    suite.write_text(one)
    baseline = json.loads((ROOT / "leaderboards" / "ci.baseline.json").read_text())
    baseline["runs"] = [row for row in baseline["runs"] if row["seed"] == 0 and row["dataset"] == "ring8"]
    baseline["made"]["budget"]["steps"] = {"ring8": baseline["made"]["budget"]["steps"]["ring8"]}
    assert len(baseline["runs"]) == 3
    (tmp_path / "ci.baseline.json").write_text(json.dumps(baseline))
    results = tmp_path / "results"
    result = ganbench_process(
        "leaderboard", "check", str(suite), "--results", str(results), "--workers", "2", "-q", "--json", timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    report = json.loads(result.stdout)
    assert "regressed" not in report["counts"], report["counts"]
    from ganbench import leaderboard as lb
    from ganbench.results import read_record
    from ganbench.suites import load_suite

    loaded = load_suite(suite)
    records = [read_record(results / spec.dirname) for spec in loaded.specs()]
    assert len(records) == 3
    if lb.hardware_note(lb.read_baseline(loaded), records) is None:
        assert set(report["counts"]) == {"identical"}, report["counts"]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--executor-option", "max_retries=-1"], ["'max_retries' must be >= 0", "(--executor-option max_retries="]),
        (["--executor-option", "colour=1"], ["executor 'local' has no option 'colour'", "max_retries"]),
        (
            ["--executor-option", "max_retries=x"],
            ["'max_retries' must be int, not 'x' (--executor-option max_retries=VALUE)"],
        ),
        (["--checkpoint-every", "0"], ["--checkpoint-every"]),
        (["--executor", "rey"], ["unknown executor 'rey'", "local"]),
    ],
)
def test_bad_sweep_options_are_one_line_and_run_nothing(cli, tmp_path, args, fragments):
    path = write_suite(tmp_path)
    assert_one_line_error(cli("sweep", str(path), "-o", str(tmp_path / "out"), "-q", *args), *fragments)
    assert not (tmp_path / "out").exists()


def test_a_bare_dotted_set_key_is_an_option(tmp_path):
    """``dataset.sigma = 0.02`` unquoted is a nested table in TOML; it means what --set dataset.sigma means."""
    from ganbench.suites import load_suite

    path = write_suite(tmp_path, SUITE + "[set]\ndataset.sigma = 0.02\nlr_d = 2e-4\n")
    (spec, *_) = load_suite(path).specs()
    assert spec.dataset_options["sigma"] == 0.02 and spec.variant_options["lr_d"] == 2e-4


def made_baseline(cli, tmp_path, here: bool = False) -> Path:
    """The tiny suite, its baseline and its results in ``a``: made by `leaderboard update` once per worker (the
    first caller's), then copied into each test's folder (60 tests start from it; four trainings each took a
    tenth of CI's time); ``here``: made by an update in ``tmp_path`` itself."""
    made = tmp_path if here else tmp_path.parent / "made-baseline-once"
    if here or not (made / "tiny.baseline.json").exists():
        if not here:  # a worker killed while making it
            shutil.rmtree(made, ignore_errors=True)
            made.mkdir()
        update = cli("leaderboard", "update", str(write_suite(made)), "--results", str(made / "a"), "-q")
        assert update.code == 0, update.err
    if not here:
        shutil.copytree(made, tmp_path, dirs_exist_ok=True)
    return tmp_path / "tiny.toml"


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda b: b.update(runs=[{}]), "runs[0].variant must be a string"),
        (lambda b: b.update(runs=[1]), "runs[0] is not an object"),
        (lambda b: b["runs"][1].update(metrics=[1]), "runs[1].metrics must map names"),
        (lambda b: b["runs"][2].update(seed="x"), "runs[2].seed must be a non-negative integer"),
        (lambda b: b["runs"][0].update(status="skipped"), "runs[0].status must be completed or diverged"),
        (lambda b: b.update(made=3), "'made' must be an object"),
        (lambda b: b["runs"][0]["metrics"].update(frechet=math.nan), "NaN is not strict JSON"),
        (lambda b: b["runs"].append(dict(b["runs"][1])), "repeats runs[1] (nsgan on ring8, seed 1)"),
        (lambda b: b["made"]["budget"].update(steps="20"), "'made.budget.steps' must be a positive integer"),
        (lambda b: b["made"]["hardware"].update(torch_threads="one"), "torch_threads' must be a list of positive"),
        (lambda b: b["made"]["budget"].update(max_seconds=[1]), "max_seconds' must be a positive number or null"),
        (lambda b: b["made"]["budget"].update(max_seconds=-5), "max_seconds' must be a positive number or null"),
        (lambda b: b["runs"][0]["metrics"].update(frechet=10**300), "beyond int64's range"),
        (lambda b: b["runs"][0]["metrics"].update(frechet=1e308), "frechet'] = 1e+308 is not a measurement"),
        (lambda b: b["runs"][1]["metrics"].update(frechet=-1e101), "is not a measurement (at most 1e+100"),
        (lambda b: b.pop("made"), "'made' must be an object with 'hardware' and 'budget'"),
        (lambda b: b["made"].pop("settings"), "'made.settings' must be an object"),
        (lambda b: b["made"].update(versions=3), "'made.versions' must be an object"),
        (lambda b: b["made"].update(date="2026-12-04\n\n# ALL PASS"), "'made.date' must be a date as YYYY-MM-DD"),
        (lambda b: b["made"].update(date="2026-99-99"), "'made.date' must be a date as YYYY-MM-DD"),
        (lambda b: b["made"].update(date="\uff12\uff10\uff12\uff16-12-05"), "'made.date' must be a date"),  # full width
        (lambda b: b["made"].update(data=[]), "'made.data' must map each dataset to an object"),
        (lambda b: b["made"]["data"].update(ring8="ring"), "'made.data' must map each dataset to an object"),
        (lambda b: b["runs"][0].update(run_id=7), "runs[0].run_id must be a run id (16 hex digits), not 7"),
        (lambda b: b["runs"][0].update(run_id="zz"), "runs[0].run_id must be a run id (16 hex digits), not 'zz'"),
        (lambda b: b["runs"][0].pop("metrics"), "runs[0].metrics must map names"),
        (
            lambda b: b["runs"][0]["metrics"].update(frechet=-3.0),
            "runs[0].metrics: frechet = -3.0 is outside the values frechet can",
        ),
        (lambda b: b["runs"][0]["metrics"].update(hq_fraction=7.5), "= 7.5 is outside the values hq_fraction can take"),
        (lambda b: b["runs"][0]["metrics"].update(modes_captured=-1), "modes_captured can take, [0, 8]"),
        (lambda b: b["runs"][0]["metrics"].update(modes_captured=9), "= 9 is outside the values modes_captured can"),
        (lambda b: b["runs"][0]["metrics"].update(modes_captured=2.5), "modes_captured = 2.5 is not a whole number"),
        (lambda b: b["runs"][0]["metrics"].update(reverse_kl=2.1), "reverse_kl can take, [0, 2.07944]"),  # log 8
        (lambda b: b["runs"][0]["metrics"].update(bogus=1.0), "metrics['bogus'] is reported by no installed metric"),
        (lambda b: b["runs"][0]["metrics"].update(hq_fraction_bogus=1.0), "'hq_fraction_bogus'] is reported by no"),
        (lambda b: b["runs"][0]["metrics"].update(frechet_std=-1.0), "frechet_std = -1.0 is outside the values"),
        (lambda b: b["runs"][0]["metrics"].update(hq_fraction=1.0009), "hq_fraction = 1.0009 is outside the values"),
        (lambda b: b["made"]["budget"].update(steps={}), "'made.budget.steps' must be a positive integer"),
        (lambda b: b["made"]["hardware"].update(cpu=["x"]), "'made.hardware.cpu' must be text"),
        (lambda b: b["made"]["hardware"].update(torch_threads=[-1, 0]), "list of positive integers"),
        (lambda b: b["runs"][0]["metrics"].update(precision_raw=0.5), "which the suite's metrics do not give for"),
        (lambda b: b["runs"][0]["metrics"].update(fid_classifier_std=0.1), "metrics['fid_classifier_std'], which"),
        (lambda b: b.update(schema=True), "is not a ganbench baseline"),
        (lambda b: b["made"]["data"]["ring8"].update(n_modes="8"), "'made.data.ring8.n_modes' is text \"8\", where"),
        (lambda b: b["made"].update(versions={"torch": 1}), "'made.versions' must map each library to its version"),
        (lambda b: b["made"]["settings"].update(metrics="modes"), "'made.settings.metrics' must be a list of metric"),
    ],
)
def test_a_malformed_baseline_is_one_line_before_any_run(cli, tmp_path, edit, fragment):
    path = made_baseline(cli, tmp_path)
    baseline = json.loads((tmp_path / "tiny.baseline.json").read_text())
    edit(baseline)
    (tmp_path / "tiny.baseline.json").write_text(json.dumps(baseline))
    for command in (["check", "--results", str(tmp_path / "b")], ["show"]):
        assert_one_line_error(cli("leaderboard", *command[:1], str(path), *command[1:]), "baseline", fragment)
    assert not (tmp_path / "b").exists()


def test_a_check_of_a_baseline_made_on_other_data_is_refused_and_an_older_baseline_is_read(cli, tmp_path):
    path = made_baseline(cli, tmp_path)
    baseline = json.loads((tmp_path / "tiny.baseline.json").read_text())
    assert baseline["made"]["data"]["ring8"]["sigma"] == 0.01
    baseline["made"]["data"]["ring8"]["sigma"] = 0.5
    (tmp_path / "tiny.baseline.json").write_text(json.dumps(baseline))
    check = ["leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "-q"]
    assert_one_line_error(
        cli(*check), "was made on ring8 with sigma=0.5; its data now has sigma=0.01 (the data changed since)"
    )
    baseline["made"]["data"] = {"grid25": baseline["made"]["data"]["ring8"]}  # another suite's, or an edit
    (tmp_path / "tiny.baseline.json").write_text(json.dumps(baseline))
    assert_one_line_error(cli(*check), "does not record the data of ring8 (made for another suite, or edited)")
    del baseline["made"]["data"]
    baseline["made"]["budget"]["steps"] = 20  # and one number of steps for every dataset, as older baselines say
    (tmp_path / "tiny.baseline.json").write_text(json.dumps(baseline))
    assert cli(*check).code == 0
    assert "): ring8 20 steps, seeds 0-1, made " in cli("leaderboard", "show", str(path)).out.splitlines()[0]


@pytest.mark.parametrize(
    "edit", [{"hq_fraction": 7.5}, {"modes_captured": 9}, {"modes_captured": 2.5}, {"precision_raw": 0.5}]
)
def test_a_record_edited_to_impossible_scores_is_unreadable_and_never_enters_a_baseline(cli, tmp_path, edit):
    """Edited consistently (record.json and metrics.json), the scores still cannot be ring8's (or are of a metric,
    prdc, the suite never ran): tables leave the run out saying why, and `update` trains it again rather than
    writing a baseline `check` refuses."""
    path = made_baseline(cli, tmp_path)
    run = sorted((tmp_path / "a").glob("*/record.json"))[0].parent
    record = json.loads((run / "record.json").read_text())
    record["metrics"].update(edit)
    (run / "record.json").write_text(json.dumps(record))
    (run / "metrics.json").write_text(json.dumps(record["metrics"]))
    table = cli("table", str(tmp_path / "a"))
    name, value = next(iter(edit.items()))
    assert table.code == 0 and f"unreadable record {run / 'record.json'}: metrics.{name} = {value}" in table.err
    assert cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q").code == 0
    assert json.loads((run / "record.json").read_text())["metrics"].get(name) != value  # trained again
    checked = cli("leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "-q")
    assert checked.code == 0, checked.err


def set_frechet(results: Path, values: dict[tuple[str, int], float]) -> dict[tuple[str, int], Path]:
    """Edit runs' frechet consistently (record.json and metrics.json), by (variant, seed): valid records still."""
    runs = {}
    for run in sorted(results.glob("*/record.json")):
        record = json.loads(run.read_text())
        key = (record["spec"]["variant"], record["spec"]["seed"])
        if key in values:
            record["metrics"]["frechet"] = values[key]
            run.write_text(json.dumps(record))
            (run.parent / "metrics.json").write_text(json.dumps(record["metrics"]))
            runs[key] = run.parent
    assert len(runs) == len(values)
    return runs


def test_update_refuses_a_value_no_baseline_may_hold_and_keeps_the_one_there(cli, tmp_path):
    """`update` wrote frechet = 1e101, which `show` and `check` then refused as malformed, the good baseline gone.
    And `check` of such values (finite, as every record check accepts) is a verdict: 1e160 and 2e160 against ~1
    is inconclusive as 1 and 2 are, with a finite se and seeds that would settle it (no number would, with an se of
    inf), 1.7e308 twice a regression (it was a traceback)."""
    from ganbench.tables import format_number

    stale, fresh, other = (tmp_path / f".ganbench-{name}.tmp" for name in ("abcd1234", "efgh5678", "notes"))
    for tmp in (stale, fresh, other):  # a kill -9 mid-write leaves one; a fresh one may be another process's
        tmp.write_text("{")
    for tmp in (stale, other):
        os.utime(tmp, (time.time() - 7200, time.time() - 7200))
    path = made_baseline(cli, tmp_path, here=True)
    assert not stale.exists() and fresh.exists() and other.exists()  # not a name the atomic writer makes
    baseline = tmp_path / "tiny.baseline.json"
    before = baseline.read_bytes()
    for big in (1e101, 1.7e308):
        run = set_frechet(tmp_path / "a", {("nsgan", 1): big})[("nsgan", 1)]
        result = cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q")
        assert_one_line_error(
            result,
            f"run nsgan on ring8, seed 1 ({run}): its metrics['frechet'] = {big!r} is not a measurement "
            "(at most 1e+100 in size); rerun that run with --force, or leave it out of the suite",
            f"{baseline} is unchanged",
        )
        assert baseline.read_bytes() == before
        assert cli("leaderboard", "show", str(path)).code == 0
    # 1e160 and 2e160 against ~0.93: per-seed differences of sd 0.71e160 about a mean of 1.5e160, t = 3 with 1
    # degree of freedom (p 0.2, as for 1 and 2): inconclusive; (1.96 + 0.84)^2 (0.71 / 1.5)^2 = 1.7 -> 3 seeds would
    # settle it. 1.7e308 twice: differences equal to float64's precision, no spread: a certain regression.
    for values, verdict, code in (
        ({("nsgan", 0): 1e160, ("nsgan", 1): 2e160}, "inconclusive (≈3 seeds on both sides would settle it)", 0),
        ({("nsgan", 0): 1.7e308, ("nsgan", 1): 1.7e308}, "regressed", 1),
    ):
        set_frechet(tmp_path / "a", values)
        checked = cli("leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "-q")
        assert checked.code == code and "Traceback" not in checked.err and "warning" not in checked.err, checked.err
        row = next(line for line in checked.out.splitlines() if line.startswith("| nsgan | ring8 | frechet"))
        assert verdict in row and "inf" not in row, row
        shown = cli("leaderboard", "show", str(path), "--results", str(tmp_path / "a"), "-m", "frechet")
        assert shown.code == 0 and "inf" not in shown.out and not shown.err, shown.err
        mean = statistics.mean(values.values())
        assert f"| nsgan | {format_number(mean)} ± " in shown.out  # finite, as the oracle says


def test_finished_results_on_a_read_only_disk_can_be_checked_and_unfinished_ones_are_one_line(
    cli, tmp_path, monkeypatch
):
    """Checking a copy of finished results writes nothing, so a read-only disk is no reason to refuse it."""
    import errno

    import ganbench.writable

    path = made_baseline(cli, tmp_path)

    def read_only(folder: Path) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(ganbench.writable, "probe", read_only)
    for command in ("check", "update"):
        result = cli("leaderboard", command, str(path), "--results", str(tmp_path / "a"), "-q")
        assert result.code == 0, result.err
    shutil.rmtree(sorted((tmp_path / "a").glob("ring8__*"))[0])  # a run to train: the disk must take it
    result = cli("leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "-q")
    assert_one_line_error(result, "--results", "is not writable (Read-only file system)")


def test_a_baseline_with_runs_the_suite_does_not_have_is_refused(cli, tmp_path):
    """Seed 7 of a suite of seeds 0-1 would enter the verdicts through the unpaired test."""
    path = made_baseline(cli, tmp_path)
    baseline = json.loads((tmp_path / "tiny.baseline.json").read_text())
    baseline["runs"].append({**baseline["runs"][0], "seed": 7})
    (tmp_path / "tiny.baseline.json").write_text(json.dumps(baseline))
    result = cli("leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "-q")
    assert_one_line_error(result, "holds a run of nsgan on ring8, seed 7, which the suite does not have")
    assert_one_line_error(cli("leaderboard", "show", str(path)), "holds a run of nsgan on ring8, seed 7")


def test_a_suite_over_the_size_limit_is_told_how_to_shrink_not_to_name_a_toml_file(cli, tmp_path):
    """Pass 83: a 1.2 MB suite.toml was told to "name a .toml file"."""
    seeds = ", ".join(map(str, range(200_000)))
    path = write_suite(tmp_path, SUITE.replace('seeds = "0-1"', f"seeds = [{seeds}]"), "huge.toml")
    assert_one_line_error(
        cli("sweep", str(path)), f"suite {path} is over 1 MiB", 'write seeds as a range (seeds = "0-99")'
    )


def test_a_results_folder_that_is_a_file_is_one_line_before_any_run(cli, tmp_path):
    path, afile = write_suite(tmp_path), tmp_path / "afile"
    afile.write_text("not a folder")
    for args in (["sweep", str(path), "--out"], ["leaderboard", "check", str(path), "--results"]):
        assert_one_line_error(cli(*args, str(afile), "-q"), "is a file, not a folder")
    shown = cli("leaderboard", "show", str(path), "--results", str(path))  # the suite file itself
    assert_one_line_error(shown, "is a file, not a folder; name the folder its runs were written to")
    assert "sweep" not in shown.err  # `sweep --out <the suite file>` is refused in turn
    os.mkfifo(tmp_path / "fifo")  # pass 50 F7: "is a file"
    shown = cli("leaderboard", "show", str(path), "--results", str(tmp_path / "fifo"))
    assert_one_line_error(shown, "is a FIFO, not a folder; name the folder its runs were written to")
    (tmp_path / "fifo").unlink()
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for below, why in ((afile / "sub", "is a file, not a folder"), (tmp_path / "dangling", "symbolic link to nothing")):
        for args in (
            ["sweep", str(path), "--out"],
            ["leaderboard", "update", str(path), "--results"],
            ["run", "-v", "nsgan", "-d", "ring8", "--steps", "5", "--out"],
        ):
            assert_one_line_error(cli(*args, str(below), "-q"), "cannot be written", why)
    assert afile.read_text() == "not a folder" and not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "dangling", "tiny.toml"]  # no probe left


def test_a_baseline_that_cannot_be_written_is_one_line_and_the_old_one_stays(cli, tmp_path, monkeypatch):
    path = made_baseline(cli, tmp_path)
    before = (tmp_path / "tiny.baseline.json").read_bytes()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("ganbench.leaderboard.write_json_atomic", refuse)
    result = cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q")
    assert_one_line_error(result, "cannot write baseline", "Permission denied", "make it writable, then run the")
    assert result.err.strip().endswith("the one there is unchanged")
    assert (tmp_path / "tiny.baseline.json").read_bytes() == before
    monkeypatch.undo()  # a link to a folder that does not exist: it blamed "the one there" of none (pass 52 F7)
    (tmp_path / "tiny.baseline.json").unlink()
    (tmp_path / "tiny.baseline.json").symlink_to(tmp_path / "nodir" / "b.json")
    result = cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q")
    said = f"the folder {tmp_path / 'nodir'}, where its link leads, does not exist: create it, or fix the link; none"
    assert_one_line_error(result, "cannot write baseline", "(No such file or directory)", said)


def test_a_baseline_of_another_budget_or_other_seeds_is_refused(cli, tmp_path):
    path = made_baseline(cli, tmp_path)
    path.write_text(SUITE.replace("steps = 20", "steps = 25"))
    assert_one_line_error(
        cli("leaderboard", "check", str(path)), "made with steps=20", "steps=25", "leaderboard update"
    )
    path.write_text(SUITE.replace('"0-1"', '"0-2"'))
    assert_one_line_error(cli("leaderboard", "check", str(path)), "no run of nsgan on ring8, seed 2 and 1 more")
    path.write_text(SUITE + "[set]\nlr_d = 2e-4\n")  # the same runs, trained otherwise: not comparable
    assert_one_line_error(
        cli("leaderboard", "check", str(path)), "made with set={}", 'the suite now has set={"lr_d": 0.0002}'
    )
    path.write_text(SUITE.replace('"frechet"]', '"frechet", "prdc"]'))
    assert_one_line_error(cli("leaderboard", "check", str(path)), 'made with metrics=["modes", "frechet"]')


def test_a_setting_respelt_is_no_change_where_the_runs_are_the_same(cli, tmp_path):
    """`betas = "0.5,0.9"` and `[0.5, 0.9]` are one setting (one run id): a check must not refuse the respelling."""
    path = write_suite(tmp_path, SUITE + '[set]\nlr_d = 2e-4\nbetas = "0.5,0.9"\n')
    assert cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q").code == 0
    path.write_text(SUITE + '[set]\nlr_d = "0.0002"\nbetas = [0.5, 0.9]\n')
    checked = cli("leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "-q")
    assert checked.code == 0 and "identical" in checked.out, checked.err
    baseline = json.loads((tmp_path / "tiny.baseline.json").read_text())
    for run in baseline["runs"]:  # as a baseline made by an earlier commit holds (run ids hold the code's version)
        run["run_id"] = "0" * 16
    (tmp_path / "tiny.baseline.json").write_text(json.dumps(baseline))
    from ganbench import leaderboard as lb
    from ganbench.suites import load_suite

    suite = load_suite(path)
    lb.check_fits(suite, lb.read_baseline(suite))  # the settings, read as --set reads them, are the same
    path.write_text(SUITE + "[set]\nlr_d = 3e-4\nbetas = [0.5, 0.9]\n")
    assert_one_line_error(cli("leaderboard", "check", str(path)), "made with set=", '"lr_d": 0.0003')


def test_report_files_are_checked_first_and_an_unwritable_summary_only_warns(cli, tmp_path, monkeypatch):
    path = made_baseline(cli, tmp_path)
    out = tmp_path / "b"
    for junit, fragment in ((tmp_path / "no" / "j.xml", "does not exist"), (tmp_path, "is a directory"), ("", "empty")):
        assert_one_line_error(
            cli("leaderboard", "check", str(path), "--results", str(out), "--junit", str(junit)), fragment
        )
    assert not out.exists()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "no" / "summary.md"))
    result = cli("leaderboard", "check", str(path), "--results", str(out), "-q")
    assert result.code == 0 and "identical" in result.out
    assert result.err.startswith("warning: could not append to $GITHUB_STEP_SUMMARY") and "Traceback" not in result.err


def test_a_summary_the_disk_fills_during_is_cut_back_to_what_it_was(cli, tmp_path, monkeypatch):
    """The disk filled after 6 bytes of the report: "### ga" was left at the end of the previous steps' text."""
    import builtins
    import errno

    from ganbench import cli as command_line

    path = made_baseline(cli, tmp_path)
    summary = tmp_path / "summary.md"
    summary.write_text("# the previous step\n")

    class Filling:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def __getattr__(self, name):
            return getattr(self.f, name)

        def write(self, data):
            self.f.write(data[:6])
            self.f.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    def opening(file, mode="r", *args, **kwargs):
        f = builtins.open(file, mode, *args, **kwargs)
        return Filling(f) if str(file) == str(summary) else f

    monkeypatch.setattr(command_line, "open", opening, raising=False)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = cli("leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "-q")
    assert result.code == 0 and "identical" in result.out
    said = f"warning: could not append to $GITHUB_STEP_SUMMARY {summary} (No space left on device); the file is as it"
    assert result.err.startswith(said), result.err
    assert summary.read_text() == "# the previous step\n"
    summary.unlink()  # a summary this append would make: gone again, not left empty "as it was" (pass 52 F8)
    result = cli("leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "-q")
    said = f"warning: could not append to $GITHUB_STEP_SUMMARY {summary} (No space left on device); nothing was"
    assert result.code == 0 and result.err.startswith(said) and not summary.exists(), result.err


def test_reports_never_replace_the_suite_its_baseline_its_runs_or_a_file_of_another_kind(cli, tmp_path, monkeypatch):
    path = made_baseline(cli, tmp_path)
    baseline = tmp_path / "tiny.baseline.json"
    record = next((tmp_path / "a").glob("*/record.json"))
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    pom = tmp_path / "pom.xml"  # XML, even another tool's JUnit report: not ganbench's to replace
    pom.write_text('<?xml version="1.0"?>\n<testsuite name="pytest" tests="312"></testsuite>\n')
    elsewhere = tmp_path / "elsewhere-baseline"  # another suite's baseline, named oddly: appending breaks its JSON
    elsewhere.write_bytes(baseline.read_bytes())
    kept = {p: p.read_bytes() for p in (path, baseline, record, other, pom, elsewhere)}
    check = ["leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "-q"]
    for target, fragment in ((path, "which this command keeps"), (baseline, "which this command keeps")):
        assert_one_line_error(cli(*check, "--junit", str(target)), fragment, "--junit leaderboard.xml")
    assert_one_line_error(cli(*check, "--junit", str(record)), f"is in {tmp_path / 'a'}", "which this command keeps")
    os.link(baseline, tmp_path / "linked.xml")  # "is in <the baseline>" before
    said = f"--junit {tmp_path / 'linked.xml'} is a hard link to {baseline}, which this command keeps"
    assert_one_line_error(cli(*check, "--junit", str(tmp_path / "linked.xml")), said)
    (tmp_path / "linked.xml").unlink()
    assert_one_line_error(cli(*check, "--junit", str(other)), "is not a report ganbench wrote")
    assert_one_line_error(cli(*check, "--junit", str(pom)), "is not a report ganbench wrote")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(elsewhere))
    assert_one_line_error(cli(*check), "$GITHUB_STEP_SUMMARY", "is JSON (a baseline or a record?), not a step summary")
    (tmp_path / "bom").write_bytes(b'\xef\xbb\xbf{"a": 1}')  # JSON as Notepad saves it
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "bom"))
    assert_one_line_error(cli(*check), "$GITHUB_STEP_SUMMARY", "is JSON (a baseline or a record?)")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "same.xml"))
    assert_one_line_error(cli(*check, "--junit", str(tmp_path / "same.xml")), "$GITHUB_STEP_SUMMARY", "which this")
    latin = tmp_path / "latin"  # no NUL, but no UTF-8 either: not a summary to append markdown to
    latin.write_bytes(bytes(range(1, 256)) * 8)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(latin))
    assert_one_line_error(cli(*check), "$GITHUB_STEP_SUMMARY", "is binary (not UTF-8 text), not a step summary")
    assert latin.read_bytes() == bytes(range(1, 256)) * 8
    for name, data in (("late.md", b"a" * 5000 + b"\ncaf\xe9\n"), ("cut_at_end.md", b"abc \xe2\x82")):
        (tmp_path / name).write_bytes(data)  # Latin-1 past the first 4 KiB; a file that ends inside a character
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / name))
        assert_one_line_error(cli(*check), "$GITHUB_STEP_SUMMARY", "is binary (not UTF-8 text)")
        assert (tmp_path / name).read_bytes() == data
    cut = tmp_path / "cut.md"  # UTF-8 whose 4096th byte falls inside a character: text
    cut.write_bytes(b"x" + "é".encode() * 3000)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(cut))
    assert cli(*check).code == 0 and cut.read_bytes().startswith(b"x" + "é".encode() * 3000 + b"\n### ganbench")
    for name, text in ((".gitignore", "x\n"), (".env", ""), ("Makefile", ""), ("README.md", "x"), ("new.json", None)):
        if text is not None:  # no suffix, settings or sources, empty or not, or a new .json (pass 51 F4, 52 F4)
            (tmp_path / name).write_text(text)
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / name))
        kind = "a .json file" if text is None else f"a file of settings or sources ({name})"
        assert_one_line_error(cli(*check), f"is {kind}, not a step summary")
        assert (tmp_path / name).read_text() == text if text is not None else not (tmp_path / name).exists()
    (tmp_path / "summary_42").write_text("42\n")  # a step's `echo 42 >> $GITHUB_STEP_SUMMARY`: text, not JSON
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary_42"))
    assert cli(*check).code == 0 and (tmp_path / "summary_42").read_text().startswith("42\n### ganbench")
    for name in ("other.toml", "x.py", "history.csv", "a.yaml"):  # text, but another tool's: markdown breaks it
        (tmp_path / name).write_text("print(1)\n")  # pass 50 F3: a suite appended to no longer parsed
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / name))
        suffix = name.rpartition(".")[2]
        assert_one_line_error(cli(*check), "$GITHUB_STEP_SUMMARY", f"is a .{suffix} file, not a step summary")
        assert (tmp_path / name).read_text() == "print(1)\n"
    os.mkfifo(tmp_path / "fifo.md")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "fifo.md"))
    assert_one_line_error(cli(*check), "$GITHUB_STEP_SUMMARY", "is a FIFO, which would wait for a reader forever")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(baseline))
    assert_one_line_error(cli(*check), "$GITHUB_STEP_SUMMARY", "which this command keeps")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(baseline / "s.md"))  # "is in it, which this command keeps"
    assert_one_line_error(cli(*check), f"$GITHUB_STEP_SUMMARY {baseline / 's.md'} lies under {baseline}, a file, not a")
    (tmp_path / "linked.md").hardlink_to(baseline)  # another name of the same file
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "linked.md"))
    assert_one_line_error(cli(*check), "$GITHUB_STEP_SUMMARY", "which this command keeps")
    (tmp_path / "record.md").hardlink_to(record)  # a run's record under another name, outside the results folder
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "record.md"))
    assert_one_line_error(cli(*check), "$GITHUB_STEP_SUMMARY", "has other names (hard links)")
    (tmp_path / "~").mkdir()  # no shell expands an environment variable's "~": checked where it is written
    (tmp_path / "~" / "x").write_text('{"keep": 1}')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "~/x")
    assert_one_line_error(cli(*check), "$GITHUB_STEP_SUMMARY ~/x is JSON")
    assert (tmp_path / "~" / "x").read_text() == '{"keep": 1}'
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "   ")  # blank: unset, not a file named by spaces
    assert cli(*check).code == 0 and not (tmp_path / "   ").exists()
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    assert {p: p.read_bytes() for p in kept} == kept
    junit = tmp_path / "j.xml"
    assert cli(*check, "--junit", str(junit)).code == 0
    assert cli(*check, "--junit", str(junit)).code == 0  # its own report it replaces
    summary = tmp_path / "summary.md"
    summary.write_text("## earlier steps\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert cli(*check).code == 0
    assert summary.read_text().startswith("## earlier steps\n") and "identical" in summary.read_text()


def test_suite_file_names_that_cannot_name_a_suite_or_its_baseline_are_one_line_before_any_run(cli, tmp_path):
    spaced = write_suite(tmp_path, SUITE.replace('name = "tiny"\n', ""), name="my suite.toml")
    assert_one_line_error(cli("sweep", str(spaced), "-q", "-o", str(tmp_path / "a")), "named by its file", "rename")
    long = write_suite(tmp_path, name="a" * 250 + ".toml")
    result = cli("leaderboard", "update", str(long), "-q", "--results", str(tmp_path / "b"))
    assert_one_line_error(result, "longer than 255 bytes", "rename the suite file shorter")
    named = write_suite(tmp_path, SUITE.replace('name = "tiny"', f'name = "{"n" * 300}"'), name="named.toml")
    result = cli("sweep", str(named), "-q")  # its default results folder, results/nnn..., could not exist
    assert_one_line_error(result, "named.toml:1: 'name': a suite name is at most 255 characters")
    too_long, ok = str(tmp_path / ("x" * 300)), write_suite(tmp_path, name="ok.toml")  # one line, not a traceback
    for args in (["sweep", str(ok), "-o", too_long], ["leaderboard", "show", str(ok), "--results", too_long],
                 ["leaderboard", "check", str(ok), "--junit", f"{too_long}.xml"], ["table", too_long]):  # fmt: skip
        assert_one_line_error(cli(*args, "-q") if args[0] == "sweep" else cli(*args), "x" * 300, "too long a name")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")  # a link to itself: pathlib's resolve() raises RuntimeError
    looped = cli("leaderboard", "check", str(ok), "--junit", str(tmp_path / "loop"))
    assert_one_line_error(looped, f"--junit {tmp_path / 'loop'} is a symbolic link that leads back to itself")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "loop"))
        assert_one_line_error(cli("leaderboard", "check", str(ok)), "$GITHUB_STEP_SUMMARY", "leads back to itself")
    from ganbench.atomic import write_atomic

    write_atomic(tmp_path / ("y" * 255), lambda f: f.write(b"ok"))  # the longest name a file system takes: its temp
    assert (tmp_path / ("y" * 255)).read_bytes() == b"ok"  # file's name beside it must fit too
    os.mkfifo(tmp_path / "fifo.toml")  # reading it would wait for a writer forever
    assert_one_line_error(cli("sweep", str(tmp_path / "fifo.toml")), "cannot read suite", "(not a regular file)")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_baseline_of_a_newer_ganbench_says_so(cli, tmp_path):
    path = made_baseline(cli, tmp_path)
    baseline = tmp_path / "tiny.baseline.json"
    baseline.write_text(baseline.read_text().replace('"schema": 1', '"schema": 2'))
    assert_one_line_error(cli("leaderboard", "check", str(path)), "written by a newer ganbench (schema 2")


def test_show_refuses_a_metric_no_run_has(cli, tmp_path):
    path = made_baseline(cli, tmp_path)
    result = cli("leaderboard", "show", str(path), "-m", "fid_classifier")
    assert_one_line_error(result, "the suite's runs do not compute 'fid_classifier'; they compute modes_captured")
    plot = ["plot", str(tmp_path / "a"), "-o", str(tmp_path / "figures")]  # plot named both spaces' (pass 67)
    for args in (["leaderboard", "show", str(path)], ["table", str(tmp_path / "a")], plot):  # fid named ones not had
        result = cli(*args, "-m", "fid")
        assert_one_line_error(result, "'fid' is a metric, and none of its outputs (fid_inception, fid_classifier) is",
                              "; these runs have ")  # fmt: skip
        result = cli(*args, "-m", "modes")
        assert_one_line_error(result, "'modes' is a metric; --metrics here takes its outputs: modes_captured, ")
        result = cli(*args, "-m", "is_classifier_std")  # "unknown metric output" of a value runs record (pass 69)
        assert_one_line_error(result, "'is_classifier_std' is the spread that comes with 'is_classifier', not an")
        result = cli(*args, "-m", "")  # the example one these runs have (frechet was named of image runs)
        assert_one_line_error(result, "--metrics is empty; name at least one, e.g. --metrics ")
        assert result.err.split("e.g. --metrics ")[1].strip() in ("frechet", "modes_captured"), result.err
    assert not (tmp_path / "figures").exists()
    missing = tmp_path / "nowhere"
    assert_one_line_error(cli("leaderboard", "show", str(path), "--results", str(missing)), "does not exist")
    other = tmp_path / "other"
    assert cli("run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-q", "--out", str(other)).code == 0
    result = cli("leaderboard", "show", str(path), "--results", str(other))
    assert_one_line_error(result, "none of the", "is in", "ganbench sweep")
    results = tmp_path / "a"
    gone = sorted(results.glob("ring8__nsgan__seed1__*"))[0]
    shutil.rmtree(gone)  # ranked from the others, and said (pass 65: said nothing)
    result = cli("leaderboard", "show", str(path), "--results", str(results), "-m", "frechet")
    assert result.code == 0 and "Traceback" not in result.err
    assert result.err == (
        f"warning: 1 of the suite's 4 runs is missing from {results} or failed ({gone.name}); ranked without them; "
        f"`ganbench sweep {path} --out {results}` runs them\n"
    )
    run_folder = next(other.glob("ring8__*"))  # not a folder to sweep into: its runs would nest in a run
    result = cli("leaderboard", "show", str(path), "--results", str(run_folder))
    assert_one_line_error(result, "is the folder of one run", f"(e.g. {other.resolve()})")
    assert "sweep" not in result.err


def test_a_pipe_its_reader_closed_discards_the_output_and_keeps_the_commands_exit_code(cli, tmp_path):
    """`table`, `leaderboard show` and `check` into `| head -1` exited 1 without a word (click's code for a closed
    pipe), which for `check` means a regression (pass 65). The rest is dropped; the code is the command's own, with
    stderr in the closed pipe too (a warning, or "Error: ...", that nobody reads)."""
    path = made_baseline(cli, tmp_path)
    ganbench_command = str(Path(sys.executable).parent / "ganbench")
    results = str(tmp_path / "a")
    check = ["leaderboard", "check", str(path), "--results", results, "-q"]
    for args, code in (
        (["table", results], 0),
        (["leaderboard", "show", str(path)], 0),
        (check, 0),
        (["table", str(tmp_path / "nowhere")], 2),
        (check, 1),  # a regression, made below
    ):
        if code == 1:
            set_frechet(tmp_path / "a", {("nsgan", 0): 1.7e308, ("nsgan", 1): 1.7e308})
        read, write = os.pipe()
        os.close(read)  # the reader is gone before the first write: every write meets a closed pipe
        try:
            done = subprocess.run([ganbench_command, *args], stdout=write, stderr=subprocess.PIPE, text=True)
            both = subprocess.run([ganbench_command, *args], stdout=write, stderr=write)  # 2>&1 | head -1 too
        finally:
            os.close(write)
        assert done.returncode == code, (args, done.stderr)
        assert ("Error: " in done.stderr) == (code == 2) and "Traceback" not in done.stderr, done.stderr
        assert both.returncode == code, args


def test_no_command_writes_or_reads_a_suite_inside_the_folder_of_one_run(cli, tmp_path):
    """`sweep --out`, `check/update --results` and `run --out` given one run's folder trained a whole suite nested
    in it; each is refused as `show --results` is, before any run, the run's folder unchanged."""
    path = write_suite(tmp_path)
    other = tmp_path / "other"
    assert cli("run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-q", "--out", str(other)).code == 0
    run_folder = next(other.glob("ring8__*"))
    held = sorted(p.name for p in run_folder.iterdir())
    for args, option in (
        (["sweep", str(path), "-q", "--out"], "--out"),
        (["leaderboard", "check", str(path), "-q", "--results"], "--results"),
        (["leaderboard", "update", str(path), "-q", "--results"], "--results"),
        (["leaderboard", "show", str(path), "--results"], "--results"),
        (["run", "-v", "lsgan", "-d", "ring8", "--steps", "3", "-q", "--out"], "--out"),
    ):
        result = cli(*args, str(run_folder))
        assert_one_line_error(result, f"{option} {run_folder} is the folder of one run", f"(e.g. {other.resolve()})")
    assert sorted(p.name for p in run_folder.iterdir()) == held
    assert not (tmp_path / "tiny.baseline.json").exists() and len(list(other.iterdir())) == 1


def test_no_command_writes_inside_the_folder_of_one_run_even_through_a_link(cli, tmp_path):
    """A folder inside a run's folder, or under a link to one, nests runs just as the run's folder does; a
    project's own spec.json above a results folder does not make it a run's."""
    (tmp_path / "spec.json").write_text("{}")  # someone's project file: not a run
    other = tmp_path / "other"
    run = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-m", "modes", "--eval-samples", "200", "-q"]
    assert cli(*run, "--out", str(other)).code == 0
    run_folder = next(other.glob("ring8__*"))
    (tmp_path / "link").symlink_to(run_folder)
    for inner in (run_folder / "inner", tmp_path / "link" / "inner"):
        result = cli(*run, "--out", str(inner))
        assert_one_line_error(result, f"--out {inner} is inside the folder of one run, {run_folder.resolve()}")
    result = cli("plot", str(other), "--out", str(run_folder))
    fix = f"name a folder for the figures, e.g. {other.resolve() / 'figures'}"  # it said to name the results folder
    assert_one_line_error(result, f"--out {run_folder} is the folder of one run; {fix}")
    assert not (run_folder / "inner").exists() and [p.name for p in run_folder.glob("*.png")] == ["samples.png"]


def test_update_refuses_runs_another_process_is_training(cli, tmp_path):
    from ganbench.locks import RunLock
    from ganbench.suites import load_suite

    path = write_suite(tmp_path)
    spec = load_suite(path).specs()[1]
    (tmp_path / "a" / spec.dirname).mkdir(parents=True)
    with RunLock(tmp_path / "a" / spec.dirname):
        result = cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q")
        swept = cli("sweep", str(path), "-o", str(tmp_path / "a"), "-q")
    for done in (result, swept):  # exit 1 as sweep and check: no user error (update said 2, pass 54)
        assert done.code == 1 and f"skipped: {tmp_path / 'a' / spec.dirname}: run folder" in done.err, done.err
        assert "Traceback" not in done.err and done.err.count("wait for it to finish") == 1
    assert "the baseline at " in result.err and "is unchanged: once those runs finish, run the same" in result.err
    assert not (tmp_path / "tiny.baseline.json").exists()


def test_update_says_why_a_run_failed(cli, tmp_path):
    path = write_suite(tmp_path)
    spec = load_suite_specs(path)[0]
    (tmp_path / "a" / spec.dirname / "record.json").mkdir(parents=True)  # in the way of the run's record
    result = cli("leaderboard", "update", str(path), "--results", str(tmp_path / "a"), "-q")
    assert result.code == 1 and "failed: " in result.err and "record.json is a folder" in result.err, result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "tiny.baseline.json").exists()


def load_suite_specs(path: Path) -> list:
    from ganbench.suites import load_suite

    return load_suite(path).specs()


def test_empty_and_unwritable_paths_are_one_line(cli, tmp_path):
    path = write_suite(tmp_path)
    assert_one_line_error(cli("sweep", str(path), "--out", " "), "--out is empty")
    assert_one_line_error(cli("sweep", str(path), "--executor-option", "=1"), "--executor-option takes KEY=VALUE")
    assert_one_line_error(cli("table", ""), "RESULTS_DIR is empty")
    assert cli("sweep", str(path), "-o", str(tmp_path / "out"), "-q").code == 0
    assert_one_line_error(cli("plot", str(tmp_path / "out"), "-o", ""), "--out is empty")
    (tmp_path / "file").write_text("")
    result = cli("plot", str(tmp_path / "out"), "-o", str(tmp_path / "file" / "figs"))  # checked as run's -o
    assert_one_line_error(result, "figs cannot be written:", "file is a file, not a folder; name another folder")
    metricless = SUITE.replace('"nsgan", "lsgan"', '"dcgan", "cgan"').replace("ring8", "digits")
    metricless = metricless.replace('["modes", "frechet"]', '["class_accuracy"]').split("[tolerance]")[0]
    assert_one_line_error(
        cli("sweep", str(write_suite(tmp_path, metricless, "m.toml"))), "'dcgan' would be scored on nothing"
    )


def test_show_of_results_says_which_records_it_could_not_read(cli, tmp_path):
    path = made_baseline(cli, tmp_path)
    broken = sorted((tmp_path / "a").glob("*/record.json"))[0]
    broken.write_text('{"x":')
    result = cli("leaderboard", "show", str(path), "--results", str(tmp_path / "a"))
    assert result.code == 0 and "Traceback" not in result.err
    assert result.err.strip().splitlines() == [line for line in result.err.strip().splitlines() if "warning" in line]
    assert len(result.err.strip().splitlines()) == 1 and str(broken.parent) in result.err and "--force" in result.err


def test_a_baseline_that_is_a_fifo_is_refused_not_waited_on(cli, tmp_path):
    import os

    path = write_suite(tmp_path)
    os.mkfifo(tmp_path / "tiny.baseline.json")  # reading it would block until someone writes
    for args in (["show", str(path)], ["check", str(path), "--results", str(tmp_path / "r"), "-q"]):
        assert_one_line_error(cli("leaderboard", *args), "is unreadable (not a regular file)")


def test_show_ranks_each_dataset_on_the_outputs_its_runs_compute(cli, tmp_path):
    """ring8 computes no fid_classifier, digits no frechet: neither is ranked there (a rank 1 without a value)."""
    from ganbench.leaderboard import SCHEMA
    from ganbench.results import strict_json
    from ganbench.suites import load_suite

    path = write_suite(
        tmp_path,
        'name = "mix"\nvariants = ["nsgan"]\ndatasets = ["ring8", "digits"]\nseeds = "0"\nsteps = 5\n'
        "\n[tolerance]\nfrechet = 0.05\nfid_classifier = 0.5\n",  # each dataset's own metrics
        "mix.toml",
    )
    suite = load_suite(path)
    made = {"hardware": {}, "budget": {"steps": suite.budget_steps, "max_seconds": None}, "settings": suite.settings}
    runs = [
        {"variant": "nsgan", "dataset": "ring8", "seed": 0, "status": "completed", "metrics": {"frechet": 0.5}},
        {"variant": "nsgan", "dataset": "digits", "seed": 0, "status": "completed", "metrics": {"fid_classifier": 3.0}},
    ]
    baseline = {"schema": SCHEMA, "suite": "mix", "made": made, "runs": runs}
    (tmp_path / "mix.baseline.json").write_text(json.dumps(strict_json(baseline)))
    shown = cli("leaderboard", "show", str(path), "--format", "csv")
    assert shown.code == 0, shown.err
    assert [line.split(",")[:2] for line in shown.out.splitlines()[1:]] == [
        ["ring8", "frechet"],
        ["digits", "fid_classifier"],
    ]


def test_a_hand_edited_machine_name_stays_on_the_report_line():
    from ganbench import leaderboard as lb

    text = lb.machine_text({"machine": "x86_64", "cpu": "Xeon\n> injected", "torch_threads": [1]})
    assert "\n" not in text and text.startswith("x86_64 (Xeon")


def test_update_never_writes_a_baseline_check_would_refuse(cli, tmp_path, monkeypatch):
    """A record odd in a way its own checks let through (threads of 0 did) was written into a baseline `check`
    then refused, and the advice, update again, wrote it again (pass 50 F2): now the update refuses, in one line,
    and the baseline there stays."""
    from ganbench import leaderboard

    path, out = write_suite(tmp_path), tmp_path / "out"
    assert cli("leaderboard", "update", str(path), "--results", str(out), "-q").code == 0
    baseline = path.with_suffix(".baseline.json")
    before = baseline.read_bytes()
    made = leaderboard.run_hardware
    monkeypatch.setattr(leaderboard, "run_hardware", lambda records: {**made(records), "torch_threads": [0]})
    result = cli("leaderboard", "update", str(path), "--results", str(out), "-q")
    assert_one_line_error(result, "would be malformed ('made.hardware.torch_threads' must be a list of positive")
    assert "is unchanged" in result.err and baseline.read_bytes() == before


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux), a device every write fills")
def test_a_junit_report_the_disk_refuses_says_how_to_go_on(cli, tmp_path):
    """It said only "could not write --junit X (No space left on device)" (pass 51 F6b)."""
    path, out = write_suite(tmp_path), tmp_path / "out"
    assert cli("leaderboard", "update", str(path), "--results", str(out), "-q").code == 0
    result = cli("leaderboard", "check", str(path), "--results", str(out), "-q", "--junit", "/dev/full")
    assert_one_line_error(
        result,
        "could not write --junit /dev/full (No space left on device); free some space or name a --junit file in a "
        "folder that can be written",
    )


@pytest.mark.parametrize(
    "key, line", [('"" = 1', 13), ('"nosuch" = 1', 13), ("'lr_d' = -1", 13), ('lr_d = 1e-4\n"network." = 1', 14)]
)
def test_every_error_in_a_suites_set_table_names_its_line(cli, tmp_path, key, line):
    """`"" = 1` in [set] was the one suite error without its line (pass 54)."""
    path = write_suite(tmp_path, SUITE + f"\n[set]\n{key}\n")
    assert_one_line_error(cli("sweep", str(path), "-q", "-o", str(tmp_path / "a")), f"tiny.toml:{line}: ")
    assert not (tmp_path / "a").exists()


def test_a_junit_report_names_each_run_that_did_not_finish_as_an_error(cli, tmp_path):
    """`check` exited 1 for a run another process was training, while its JUnit report held only passing cases
    (pass 55): a CI's test view was green for a failed job."""
    import xml.etree.ElementTree as ET

    from ganbench.locks import RunLock
    from ganbench.suites import load_suite

    path = write_suite(tmp_path)
    results = str(tmp_path / "a")
    assert cli("leaderboard", "update", str(path), "--results", results, "-q").code == 0
    spec = load_suite(path).specs()[1]
    (tmp_path / "a" / spec.dirname / "record.json").unlink()
    with RunLock(tmp_path / "a" / spec.dirname):
        result = cli("leaderboard", "check", str(path), "--results", results, "--junit", str(tmp_path / "j.xml"), "-q")
    assert result.code == 1
    suite = ET.parse(tmp_path / "j.xml").getroot()
    errors = suite.findall("testcase/error")
    assert suite.get("errors") == "1" and len(errors) == 1 and errors[0].get("message").startswith("skipped: run ")
    assert suite.find("testcase[error]").get("name") == str(tmp_path / "a" / spec.dirname)


def test_pass_68_show_and_check_advice(cli, tmp_path, monkeypatch):
    """`show --results '~/a'` looked for ./~/a (update and check expand it) and advised the sweep it had just run;
    `--results` one folder above the suite's runs advised training them all again; a path with spaces was advised
    unquoted; `update` wrote "1 runs"."""
    path = made_baseline(cli, tmp_path)
    baseline = json.loads((tmp_path / "tiny.baseline.json").read_text())
    baseline["made"]["hardware"]["cpu"] = "Other CPU"
    (tmp_path / "tiny.baseline.json").write_text(json.dumps(baseline))
    report = json.loads(cli("leaderboard", "check", str(path), "--results", str(tmp_path / "a"), "--json").out)
    assert any("Other CPU" in note for note in report["notes"]), report["notes"]  # --json left them out (pass 69)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli("leaderboard", "show", str(path), "--results", "~/a").code == 0
    result = cli("leaderboard", "show", str(path), "--results", str(tmp_path))
    below = tmp_path / "a"
    said = f"none of the 4 runs of suite 'tiny' is in {tmp_path}; they are in {below}: pass --results {below}"
    assert_one_line_error(result, said)
    for command in ("check", "update"):  # trained every run again, beside them (pass 69)
        result = cli("leaderboard", command, str(path), "--results", str(tmp_path), "-q")
        assert_one_line_error(result, said)
    assert not list(tmp_path.glob("ring8__*"))
    some = tmp_path / "up" / "some"  # a folder of some of them is no mistake: it was named as if it held all
    some.mkdir(parents=True)
    run = next(below.glob("ring8__*"))
    shutil.copytree(run, some / run.name)
    result = cli("leaderboard", "show", str(path), "--results", str(tmp_path / "up"))
    assert_one_line_error(result, "none of the 4 runs of suite 'tiny' is in", "ganbench sweep")
    assert "they are in" not in result.err
    spaced = tmp_path / "my dir"
    spaced.mkdir()
    one = write_suite(spaced, SUITE.replace('"0-1"', "[0]").replace('["nsgan", "lsgan"]', '["nsgan"]'), "s p.toml")
    result = cli("leaderboard", "check", str(one), "-q")
    assert_one_line_error(result, f"make one with `ganbench leaderboard update '{one}'`")
    monkeypatch.chdir(spaced)
    (spaced / "-s.toml").write_text(one.read_text())  # "update -s.toml" was read as an option (pass 69)
    assert_one_line_error(cli("leaderboard", "check", "--", "-s.toml"), "`ganbench leaderboard update ./-s.toml`")
    made = cli("leaderboard", "update", str(one), "--results", str(tmp_path / "one"), "-q")
    assert made.code == 0 and f"wrote {spaced / 's p.baseline.json'}: 1 run of suite 'tiny'" in made.out, made.out


def test_a_report_shows_no_test_it_did_not_compute_and_keeps_its_table_a_table():
    """A row with no p-value (too few values) said "Welch (1 vs 2) | 1"; a note before the table made the table the
    quote's lazy continuation, text in a step summary, not a table."""
    from ganbench.reports import markdown
    from ganbench.spec import parse_seeds, seeds_text
    from ganbench.verdicts import Comparison, Sample

    c = Comparison("nsgan", "ring8", "frechet", "lower", 0.05, Sample((1.0,), (0,)), Sample((1.0, 2.0), (0, 5)))
    c.test = "Welch (1 vs 2)"
    text = markdown("s", [c], notes=["the baseline was made on other hardware"])
    assert "| – | – |" in text, text
    assert "Welch" not in text and "| 1 |" not in text
    lines = text.splitlines()
    assert lines[lines.index("> the baseline was made on other hardware") + 1] == ""
    for seeds, said in (([0, 5], "0, 5"), ([0, 1], "0-1"), ([3, 0, 1, 2, 7, 9, 8], "0-3, 7-9"), ([4], "4")):
        assert seeds_text(seeds) == said and parse_seeds(said) == sorted(seeds)


def test_metrics_reordered_or_named_by_their_outputs_are_no_change_even_when_the_code_changed(cli, tmp_path):
    """Pass 87: once the code had changed (new run ids), `metrics = ["frechet", "modes"]` was refused as a change of
    settings, advising `update`, which would have hidden what the code changed."""
    from ganbench.leaderboard import BaselineError, check_fits, read_baseline
    from ganbench.suites import load_suite

    path = made_baseline(cli, tmp_path)
    baseline = read_baseline(load_suite(path))
    for run in baseline["runs"]:
        run["run_id"] = "0" * 16  # as a commit changing the code would make them
    for metrics in ('["frechet", "modes"]', '["modes_captured", "hq_fraction", "reverse_kl", "frechet"]'):
        path.write_text(SUITE.replace('["modes", "frechet"]', metrics))
        check_fits(load_suite(path), baseline)
    path.write_text(SUITE.replace('["modes", "frechet"]', '["modes", "frechet", "prdc"]'))
    with pytest.raises(BaselineError, match=r'was made with metrics=\["modes", "frechet"\]'):
        check_fits(load_suite(path), baseline)


def test_show_gives_no_place_to_variants_without_a_value(cli, tmp_path):
    """Pass 87: when no variant had a value (null everywhere, or every run diverged) all were shown tied first."""
    path = made_baseline(cli, tmp_path)
    shown = cli("leaderboard", "show", str(path), "-m", "reverse_kl")
    assert shown.code == 0, shown.err
    rows = {line.split(" | ")[1]: line for line in shown.out.splitlines() if line.startswith("| ") and "±" in line}
    rows |= {line.split(" | ")[1]: line for line in shown.out.splitlines() if "missing)" in line}
    assert rows["nsgan"].startswith("| – | nsgan | – | 0 (2 missing)") and rows["lsgan"].startswith("| 1 |"), rows
    csv_text = cli("leaderboard", "show", str(path), "-m", "reverse_kl", "--format", "csv").out
    assert [line.split(",")[2:5] for line in csv_text.splitlines()[1:]] == [["1", "0", "lsgan"], ["", "0", "nsgan"]]


def test_a_large_suite_is_read_without_making_every_run_s_spec(tmp_path, monkeypatch):
    """Pass 87: reading a suite of 2,000 runs made every spec to read the first one's data and bounds: 40 s before
    the refusal that asks for --yes."""
    import ganbench.suites as suites

    made = []
    create = suites.create_spec
    monkeypatch.setattr(suites, "create_spec", lambda *a, **k: made.append(a) or create(*a, **k))
    suite = suites.load_suite(write_suite(tmp_path, SUITE.replace('seeds = "0-1"', 'seeds = "0-999"')))
    assert len(suite.seeds) == 1000
    suite.output_bounds(), suite.data_of("ring8")
    assert len(made) <= 20, len(made)  # a few per variant, not 1 per run
