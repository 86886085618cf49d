"""The command line: what a user sees, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import ganbench
from ganbench.datasets.mog import sample_mixture

from .conftest import assert_one_line_error

RUN = ["run", "--dataset", "ring8", "--steps", "20", "-q"]


def test_run_prints_the_metrics_table(cli, tmp_path):
    result = cli(*RUN, "--variant", "hinge", "--out", str(tmp_path))
    assert result.code == 0, result.err
    assert "completed, 20 steps (stopped by steps)" in result.out
    for key in ("modes_captured", "hq_fraction", "reverse_kl", "frechet"):
        assert f"| {key}" in result.out
    again = cli(*RUN, "--variant", "hinge", "--out", str(tmp_path))  # the record read back: its keys sorted
    rows = [[line for line in r.out.splitlines() if line.startswith("| ")] for r in (result, again)]
    assert rows[1] == rows[0] and rows[0][1].startswith("| modes_captured")  # the dataset's order, both times


def test_run_many_prints_a_comparison_table(cli, tmp_path):
    result = cli(*RUN, "--variant", "nsgan,lsgan", "--seed", "0-1", "--out", str(tmp_path), "--metrics", "modes")
    assert result.code == 0, result.err
    lines = [line for line in result.out.splitlines() if line.startswith("| ring8")]
    assert len(lines) == 2 and all("| 2 " in line for line in lines)
    assert len(list(tmp_path.glob("*/record.json"))) == 4


def test_list_shows_every_kind_with_its_plugin(cli):
    result = cli("list")
    assert result.code == 0
    for kind in ("variants:", "datasets:", "networks:", "metrics:", "feature_extractors:", "executors:", "loggers:"):
        assert kind in result.out
    assert "history_csv  ganbench.loggers.history_csv" in result.out
    assert "wgan-gp" in result.out and "ganbench.variants.wgan" in result.out
    listing = json.loads(cli("list", "--json").out)
    entry = next(e for e in listing["variants"] if e["name"] == "wgan-gp")
    assert entry["source"] == "ganbench.variants.wgan" and entry["version"] == ganbench.__version__
    assert "Gulrajani" in entry["about"]
    assert {e["name"] for e in listing["datasets"]} >= {"grid25", "ring8"}


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--variant", "wgan_gp"], ["unknown variant 'wgan_gp'", "wgan-gp"]),
        (["--variant", "nsgan", "--dataset", "grid24"], ["unknown dataset 'grid24'", "grid25"]),
        (["--variant", "nsgan", "--network", "mpl"], ["unknown network 'mpl'", "mlp"]),
        (["--variant", "nsgan", "--metrics", "modez"], ["unknown metric 'modez'", "modes"]),
        (
            ["--variant", "nsgan", "-m", "fid_inception"],
            ["'fid_inception' is metric 'fid' in the inception space", "offers raw"],
        ),
        (["--variant", "nsgan", "-m", "class_accuracy"], ["'class_accuracy' is class-accuracy's, which does not"]),
        (["--variant", "nsgan", "--steps", "0"], ["steps must be a positive integer"]),
        (["--variant", "nsgan", "--steps", "2.5"], ["steps must be a positive integer", "'2.5'"]),
        (["--variant", "nsgan", "--steps", "ten"], ["steps must be a positive integer"]),
        (["--variant", "nsgan", "--max-seconds", "-3"], ["max_seconds must be a positive finite number"]),
        (["--variant", "nsgan", "--set", "lr=1"], ["has no option 'lr'", "lr_d"]),
        (
            ["--variant", "nsgan", "--set", "n_critic=many"],
            ["option 'n_critic' must be int, not 'many' (--set n_critic=VALUE)"],
        ),
        (["--variant", "nsgan", "--set", "lr_d"], ["--set takes KEY=VALUE"]),
        (["--variant", "nsgan", "--set", "lr_d=1e-4", "--set", "lr_d=2e-4"], ["--set lr_d is given twice", "keep one"]),
        (["--variant", "nsgan", "--seed", "x"], ["--seed takes integers"]),
        # what int() and float() read but no one writes as a number: digit groups, other scripts' digits (pass 50)
        (["--variant", "nsgan", "--steps", "1_0"], ["steps must be a positive integer, not '1_0'"]),
        (["--variant", "nsgan", "--steps", "\uff11\uff10"], ["steps must be a positive integer"]),
        (["--variant", "nsgan", "--eval-samples", "\u0665\u0660"], ["eval_samples must be an integer from 2"]),
        (["--variant", "nsgan", "--max-seconds", "\uff15"], ["max_seconds must be a positive finite number"]),
        (["--variant", "nsgan", "--set", "lr_d=\uff11e-3"], ["option 'lr_d' must be float, not"]),
        (["--variant", "nsgan", "--set", "n_critic=1_0"], ["option 'n_critic' must be int, not '1_0'"]),
        (["--variant", "nsgan", "--checkpoint-every", "\uff15"], ["is not a whole number written in the digits 0-9"]),
        (["--variant", "nsgan", "--workers", "1_0"], ["'--workers': '1_0' is not a whole number written in"]),
        # click said "'1e3' is not a valid integer range"
        (["--variant", "nsgan", "--workers", "1e3"], ["'--workers': '1e3' is not a whole number (e.g. 1)"]),
        (["--variant", "nsgan", "--log-every", "1.5"], ["'--log-every': '1.5' is not a whole number"]),
        (["--variant", "nsgan", "--seed", "\u0663"], ["--seed takes integers or ranges like 0-4, not"]),
        (["--variant", "nsgan", "--seed", "1_0"], ["--seed takes integers or ranges like 0-4, not '1_0'"]),
        (["--variant", "nsgan", "--seed", ",1"], ["--seed takes integers or ranges like 0-4, not an empty item in"]),
        (["--variant", "nsgan", "--seed", "0,"], ["not an empty item in '0,'"]),
        (["--variant", "nsgan", "--bogus"], ["No such option '--bogus'"]),
    ],
)
def test_bad_run_arguments_give_one_line(cli, tmp_path, args, fragments):
    base = ["run", "--dataset", "ring8", "--steps", "20", "-q", "--out", str(tmp_path)]
    assert_one_line_error(cli(*base, *args), *fragments)
    assert not any(tmp_path.iterdir()), "a rejected command wrote results"


def test_unwritable_output_folder(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_one_line_error(
        cli(*RUN, "--variant", "nsgan", "--out", str(blocker / "out")),
        "cannot be written",
        "is a file, not a folder",
        "--out",
    )


def test_corrupt_checkpoint_via_cli_leaves_the_folder_alone(cli, tmp_path):
    spec = ganbench.create_spec("nsgan", "ring8", steps=20)
    run_dir = tmp_path / spec.dirname
    run_dir.mkdir()
    (run_dir / "checkpoint.pt").write_bytes(b"\x00" * 100)
    assert_one_line_error(cli(*RUN, "--variant", "nsgan", "--out", str(tmp_path)), "corrupt", "--force")
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoint.pt"]
    assert (run_dir / "checkpoint.pt").read_bytes() == b"\x00" * 100


def write_points(path: Path, points) -> str:
    np.save(path, points)
    return str(path)


def test_eval_scores_true_samples(cli, tmp_path):
    grid = ganbench.get_dataset("grid25")
    points = sample_mixture(grid.modes.means, grid.modes.sigma, 2500, seed=5).numpy()
    result = cli("eval", "--dataset", "grid25", "--samples", write_points(tmp_path / "p.npy", points), "--json")
    assert result.code == 0, result.err
    scores = json.loads(result.out)
    assert scores["modes_captured"] == 25 and scores["reverse_kl"] < 0.02
    table = cli("eval", "--dataset", "grid25", "--samples", str(tmp_path / "p.npy"))
    assert "| modes_captured | 25 |" in table.out


def test_eval_reads_npz(cli, tmp_path):
    np.savez(tmp_path / "p.npz", samples=np.zeros((10, 2), np.float32), other=np.ones(3))
    result = cli("eval", "--dataset", "grid25", "--samples", str(tmp_path / "p.npz"), "--metrics", "modes", "--json")
    assert json.loads(result.out)["modes_captured"] == 1


@pytest.mark.parametrize(
    "make, fragments",
    [
        (lambda d: str(d / "missing.npy"), ["do not exist; pass an .npy, .npz or .pt file"]),
        (lambda d: write_points(d / "a.npy", np.zeros((10, 3))), ["shape (10, 3)", "(N, 2)"]),
        (lambda d: write_points(d / "a.npy", np.zeros(10)), ["shape (10,)"]),
        (lambda d: write_points(d / "a.npy", np.array([[0.0, 1.0], [np.nan, 0.0], [1, 1]])), ["NaN or inf", "row 1"]),
        (lambda d: write_points(d / "a.npy", np.zeros((1, 2))), ["at least 2 samples"]),
        (lambda d: (d / "a.npy").write_bytes(b"garbage") and str(d / "a.npy"), ["is not a .npy, .npz or .pt file"]),
    ],
)
def test_bad_samples_give_one_line(cli, tmp_path, make, fragments):
    assert_one_line_error(cli("eval", "--dataset", "grid25", "--samples", make(tmp_path)), *fragments)


def test_eval_set_without_a_value_gives_an_example_eval_takes(cli, tmp_path):
    """Its example was run's `--set lr_d=1e-4`, which eval then refused: it takes dataset options only (pass 61)."""
    samples = write_points(tmp_path / "a.npy", np.zeros((10, 2)))
    result = cli("eval", "-d", "ring8", "--samples", samples, "--set", "dataset.sigma")
    assert_one_line_error(result, "--set takes KEY=VALUE, not 'dataset.sigma'; e.g. --set dataset.split=test")
    assert_one_line_error(cli("eval", "-d", "ring8", "--samples", samples, "--set", "lr_d=1"), "dataset options only")


def test_table_of_real_runs_in_every_format(cli, tmp_path):
    assert cli(*RUN, "--variant", "nsgan,wgan", "--seed", "0,1", "--out", str(tmp_path)).code == 0
    md = cli("table", str(tmp_path))
    assert md.code == 0 and re.search(r"\| ring8 +\| nsgan +\| 2 ", md.out) and "±" in md.out and "**" in md.out
    assert "modes_captured" in md.out and "frechet" in md.out
    references = [line for line in md.out.splitlines() if re.match(r"\| ring8 +\| \[", line)]
    assert [line.split("|")[2].strip() for line in references] == ["[real]", "[gaussian]", "[uniform]", "[one-mode]"]
    assert not any("**" in line for line in references)  # references are never the best
    assert "reference rows, not runs" in md.out and "mean ± standard error" in md.out
    csv = cli("table", str(tmp_path), "--format", "csv", "--metrics", "frechet")
    header = "dataset,variant,setting,n,diverged,frechet_mean,frechet_se,frechet_n,frechet_missing"
    assert csv.out.splitlines()[0] == header
    assert r"\textbf" in cli("table", str(tmp_path), "--format", "latex").out
    assert "<b>" in cli("table", str(tmp_path), "--format", "html").out


def test_table_errors(cli, tmp_path):
    assert_one_line_error(cli("table", str(tmp_path / "nope")), "does not exist")
    assert_one_line_error(cli("table", str(tmp_path)), "no runs found")
    assert cli(*RUN, "--variant", "nsgan", "--out", str(tmp_path)).code == 0
    assert_one_line_error(cli("table", str(tmp_path), "--metrics", "fidd"), "unknown metric output 'fidd'")
    assert_one_line_error(  # a metric's name, not its outputs' (pass 60: "did you mean loud_modes?")
        cli("table", str(tmp_path), "--metrics", "fid"), "'fid' is a metric, and none of its outputs (fid_inception, "
    )


@pytest.mark.slow
def test_workers_run_in_separate_processes_with_the_same_results(tmp_path):
    from .conftest import ganbench_process

    args = ["run", "-v", "nsgan,lsgan", "-d", "ring8", "--steps", "15", "-q", "--metrics", "modes"]
    pooled = ganbench_process(*args, "--workers", "2", "--out", str(tmp_path / "pool"), timeout=600)
    assert pooled.returncode == 0, pooled.stderr
    # pool workers run torch on one thread each (2 cores / 2 workers); so does the serial reference
    serial = ganbench_process(*args, "--out", str(tmp_path / "serial"), env={"OMP_NUM_THREADS": "1"}, timeout=600)
    for record in (tmp_path / "serial").glob("*/metrics.json"):
        twin = tmp_path / "pool" / record.parent.name / "metrics.json"
        assert twin.read_bytes() == record.read_bytes()
    assert len(list((tmp_path / "pool").glob("*/metrics.json"))) == 2 and serial.returncode == 0


def test_help_lists_every_command_without_importing_torch():
    """``ganbench --help`` answers without torch (seconds to import): commands import what they need."""
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; import ganbench.cli as c; "
        "from ganbench.commands import add_plugin_commands; add_plugin_commands(c.cli); "
        "r = CliRunner().invoke(c.cli, ['run', '--help']); "
        "print('torch' in sys.modules, 'pandas' in sys.modules, '--inception-weights' in r.output)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "True"]
    top = subprocess.run([sys.executable, "-m", "ganbench", "--help"], capture_output=True, text=True)
    assert top.returncode == 0, top.stderr
    for command in ("run", "sweep", "table", "plot", "eval", "list", "leaderboard"):
        assert f"  {command} " in top.stdout


def test_the_public_api_still_resolves_every_name():
    for name in ganbench.__all__:
        assert getattr(ganbench, name) is not None
    with pytest.raises(AttributeError):
        ganbench.no_such_name  # noqa: B018


def test_the_classifier_space_says_when_it_is_trained_and_its_held_out_accuracy_once(tmp_path):
    """In a fresh process with an empty cache (this process may hold the classifier in memory already)."""
    from .conftest import ganbench_process

    env = {"GANBENCH_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    args = ["run", "-v", "dcgan", "-d", "digits", "--steps", "2", "--set", "network.width=8", "-q"]
    args += ["--eval-samples", "200"]
    first = ganbench_process(*args, "--out", str(tmp_path / "a"), env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    lines = first.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("training the classifier feature space"), first.stderr
    assert re.search(r"held-out accuracy 0\.9\d+$", lines[1])
    again = ganbench_process(*args, "--out", str(tmp_path / "b"), env=env, timeout=600)
    assert again.returncode == 0 and "classifier" not in again.stderr  # cached: trained once


def test_finished_runs_in_a_folder_that_cannot_be_written_are_shown_not_refused(cli, tmp_path, monkeypatch):
    """`run`/`sweep` of finished runs in a read-only results folder said "cannot be written; name another folder",
    which would train them all again (pass 51 F3); `table` read the same folder. Refused still where something
    would be written (--force, a run not finished)."""
    import ganbench.cli

    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "5", "-m", "modes", "--eval-samples", "100", "-q"]
    assert cli(*args, "-s", "0,1", "-o", str(tmp_path / "out")).code == 0
    suite = tmp_path / "s.toml"
    suite.write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nseeds = [0, 1]\nsteps = 5\neval_samples = 100\n'
                     'metrics = ["modes"]\n')  # fmt: skip
    assert cli("sweep", str(suite), "-o", str(tmp_path / "swept"), "-q").code == 0
    monkeypatch.setattr(ganbench.cli, "why_unwritable", lambda folder: "not writable (Read-only file system)")
    for more in (["-s", "0,1"], ["-s", "0"]):
        shown = cli(*args, *more, "-o", str(tmp_path / "out"))
        assert shown.code == 0 and "modes_captured" in shown.out, shown.err
    swept = cli("sweep", str(suite), "-o", str(tmp_path / "swept"), "-q")
    assert swept.code == 0 and "modes_captured" in swept.out, swept.err
    for more in (["-s", "0", "--force"], ["-s", "0-2"]):
        refused = cli(*args, *more, "-o", str(tmp_path / "out"))
        assert_one_line_error(refused, "cannot be written: not writable (Read-only file system)")
    assert not (tmp_path / "out" / "ring8__nsgan__seed2").exists() and len(list((tmp_path / "out").iterdir())) == 2
    suite.write_text(suite.read_text().replace("seeds = [0, 1]", "seeds = [0, 1, 2]"))  # some finished (pass 52)
    partly = cli("sweep", str(suite), "-o", str(tmp_path / "swept"), "-q")
    assert_one_line_error(partly, "cannot be written: not writable", "2 of its 3 runs are finished there: make it")
