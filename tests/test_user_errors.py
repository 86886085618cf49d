"""Every user error: one line, exit 2, no traceback, nothing written. Options are checked
where they are defined, so a third-party plugin's options get the same checks."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import ganbench
from ganbench.errors import GanbenchError
from ganbench.harness import run_spec
from ganbench.network import Network
from ganbench.options import option

from .conftest import ROOT, assert_one_line_error, refused_plugin

BASE = ["run", "-d", "ring8", "--steps", "10", "-q"]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["-v", ""], ["--variant is empty"]),
        (["-v", ","], ["--variant is empty"]),
        (["-v", "nsgan", "-d", ""], ["--dataset is empty"]),
        (["-v", "nsgan", "-n", ""], ["--network is empty"]),
        (["-v", "nsgan", "-n", "mlp,pacgan-mlp"], ["--network takes one network"]),
        (["-v", "nsgan", "-m", ","], ["metrics is empty: name at least one (e.g. --metrics modes)"]),
        (["-v", "nsgan", "-d", "digits", "-m", ""], ["metrics is empty: name at least one (e.g. --metrics fid)"]),
        (["-v", "nsgan", "--seed", "3-1"], ["--seed 3-1 is an empty range"]),
        (["-v", "nsgan", "--seed", ""], ["--seed is empty"]),
        (["-v", "nsgan", "--seed", "-1"], ["seed must be a non-negative integer"]),
        (["-v", "nsgan", "--seed", str(2**64)], ["seed must be a non-negative integer below 2^63"]),
        (["-v", "wgan", "--set", "n_critic=1000000000"], ["n_critic", "1000"]),
        (["-v", "nsgan", "--seed", "0-100000"], ["100,001 runs", "--yes"]),
        (["-v", "nsgan,lsgan", "--seed", "0-50"], ["102 runs", "2 variant(s)", "--yes"]),
        (["-v", "nsgan", "--device", "foo"], ["unknown device 'foo'", "cpu"]),
        (["-v", "nsgan", "--executor", "nope"], ["unknown executor 'nope'"]),  # one run too: never ignored
        (["-v", "nsgan", "--device", "cuda:99"], ["cuda:99"]),
        (["-v", "nsgan", "--device", "meta"], ["not supported"]),
        (["-v", "nsgan", "--out", ""], ["--out is empty"]),
        (["-v", "nsgan", "--set", "betas=0.5,1.5"], ["'betas' must be >= 0 and < 1", "--set betas="]),
        (["-v", "wgan-gp", "--set", "network.depth=-1"], ["'mlp' option 'depth' must be >= 0 and <= 64, not -1"]),
        (["-v", "nsgan", "--set", "dataset.n_modes=0"], ["dataset 'ring8' option 'n_modes' must be >= 1"]),
        (["-v", "nsgan", "--set", "lr_d=inf"], ["'lr_d' must be a finite number"]),
        (["-v", "nsgan", "--set", "lr_g=-1e-4"], ["'lr_g' must be > 0"]),
        (["-v", "wgan-gp", "--set", "gp_lambda=-10"], ["'gp_lambda' must be >= 0, not -10"]),
        (["-v", "wgan-gp", "--set", "gp_lambda=nan"], ["'gp_lambda' must be a finite number"]),
        (["-v", "nsgan", "--set", "dataset.sigma=0"], ["'sigma' must be > 0 and <= 1e+06, not 0"]),
        (["-v", "nsgan", "--set", "dataset.sigma=-1"], ["'sigma' must be > 0 and <= 1e+06, not -1"]),
        (
            ["-v", "nsgan", "--set", "dataset.n_samples=1e99"],
            ["'n_samples' must be int, not '1e99' (--set dataset.n_samples=VALUE)"],
        ),
        (["-v", "wgan-gp", "--set", "network.width=0"], ["'width' must be >= 1 and <= 16384, not 0"]),
        (["-v", "nsgan", "--set", "network.z_dim=0"], ["'z_dim' must be >= 1 and <= 16384, not 0"]),
        (["-v", "nsgan", "--max-seconds", "inf"], ["max_seconds must be a positive finite number"]),
        (["-v", "nsgan", "--max-seconds", "nan"], ["max_seconds must be a positive finite number"]),
        (["-v", "nsgan", "--eval-samples", "10000000000"], ["eval_samples must be an integer from 2 to 1,000,000"]),
        (["-v", "nsgan", "--eval-samples", "1"], ["eval_samples"]),
        (["-v", "nsgan", "--eval-samples", "2"], ["metric 'prdc' needs at least 6 samples", "--eval-samples"]),
        (["-v", "nsgan", "-m", "improved-pr", "--eval-samples", "3"], ["'improved-pr' needs at least 4 samples"]),
        (  # evaluation asks for the classes in turn: 2 of each of digits' 10 (it failed after training)
            ["-v", "cgan", "-d", "digits", "-m", "intra-fid", "--eval-samples", "19"],
            ["'intra-fid' needs at least 20 samples", "eval_samples 19 is too few", "--eval-samples 1000"],
        ),
        (["-v", "nsgan", "--set", "dataset.sigma=1e-320"], ["'sigma' must be between 1.2e-38 and 3.4e38"]),
        (["-v", "nsgan", "--set", "dataset.sigma=1e300"], ["'sigma' must be > 0 and <= 1e+06, not 1e+300"]),
        (["-v", "nsgan", "--set", "lr_d=1e-40"], ["'lr_d' must be between 1.2e-38"]),
        (["-v", "wgan-gp", "--set", "gp_lambda=1e-40"], ["'gp_lambda' must be 0 or between 1.2e-38"]),
        (["-v", "nsgan", "--set", "dataset.n_modes=100000000"], ["'n_modes' must be >= 1 and <= 1000000, not"]),
        (["-v", "nsgan", "--set", "pack=100000000000000000000"], ["'pack' must be >= 1 and <= 1024"]),
        (["-v", "nsgan", "--set", "dataset.data_seed=18446744073709551616"], ["'data_seed' must be >= 0 and <="]),
        (["-v", "nsgan", "--set", "dataset.data_seed=-1"], ["'data_seed' must be >= 0 and <= 9223372036854775807,"]),
        (["-v", "nsgan", "--set", "network.z_dim=1000000000000000"], ["'z_dim' must be >= 1 and <= 16384"]),
        (["-v", "wgan-gp", "--set", "network.depth=1000"], ["'depth' must be >= 0 and <= 64"]),
        (["-v", "nsgan", "--checkpoint-every", "0"], ["--checkpoint-every"]),
        (["-v", "nsgan", "--executor-option", "foo=1"], ["executor 'local' has no option 'foo'; its options are"]),
        (["-v", "nsgan", "--executor-option", "max_retries=-1"], ["'max_retries' must be"]),
        (["-v", "nsgan", "--eval-every", "0"], ["eval_every (--eval-every) must be a whole number", "not 0"]),
        (["-v", "nsgan", "--eval-every", "-1"], ["eval_every (--eval-every) must be a whole number", "not -1"]),
        (["-v", "nsgan", "--eval-every", "11"], ["eval_every (--eval-every) is 11, more than the 10 steps trained"]),
        (["-v", "nsgan", "--set", "batch_size=1000000"], ["batches of 1000000 samples", "holds 100000"]),
        (["-v", "nsgan", "--set", "batch_size=1"], ["batch norm of network 'pacgan-mlp'", "batch_size=2 or more"]),
        (["-v", "nsgan", "--set", "dataset.n_samples=0"], ["'n_samples' must be >= 2"]),
        (["-v", "stylegan2", "-d", "digits", "--set", "network.width=16384"], ["GiB", "lower --set network.width"]),
        (["-v", "stylegan2", "--set", "style_mixing=0.5"], ["style-based", "stylegan2 (images)", "style_mixing=0"]),
    ],
)
def test_bad_run_arguments_give_one_line_and_write_nothing(cli, tmp_path, args, fragments):
    out = tmp_path / "out"
    base = ["run", "--steps", "10", "-q", *([] if "-d" in args else ["-d", "ring8"])]
    result = cli(*base, *args, *([] if "--out" in args else ["--out", str(out)]))
    assert_one_line_error(result, *fragments)
    assert not out.exists(), "a rejected command wrote results"


def test_a_run_out_of_memory_is_one_line_naming_what_to_lower(cli, tmp_path, monkeypatch):
    """Activations the pre-check does not count (a batch of 100,000 through width 4096) failed in torch.relu with
    the allocator's traceback, exit 1 (pass 64)."""

    def fit(self, *args, **kwargs):
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: can't allocate memory: you tried to "
            "allocate 1638400000 bytes. Error code 12 (Cannot allocate memory)"
        )

    monkeypatch.setattr("ganbench.training.Trainer.fit", fit)
    result = cli("run", "-v", "nsgan", "-d", "ring8", "--steps", "5", "-q", "-o", str(tmp_path / "out"))
    said = "ran out of memory on cpu at step 0 (it asked for 1.5 GiB more); lower --set batch_size"
    assert_one_line_error(result, said)


def test_memory_sizes_are_said_in_the_unit_that_shows_them():
    """A run of 100 MiB was "0.1 GiB", a smaller one "0.0 GiB" (pass 65)."""
    from ganbench.errors import memory_size

    assert [memory_size(n) for n in (0, 3000, 100 * 2**20, 1638400000, 2**40)] == [
        "0 KiB", "3 KiB", "100 MiB", "1.5 GiB", "1,024.0 GiB"
    ]  # fmt: skip


ALLOCATOR_REFUSES = RuntimeError(
    "[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: can't allocate memory: you tried to allocate "
    "1638400000 bytes. Error code 12 (Cannot allocate memory)"
)


def test_running_out_of_memory_in_the_forward_check_is_one_line_in_the_suites_terms_in_a_sweep(
    cli, tmp_path, monkeypatch
):
    """The forward check before training (a batch through both networks) ran out of memory with a traceback, exit 1;
    a sweep's failed line was the allocator's raw text, and its advice said --set, which a suite has not (pass 65)."""

    def check(*args, **kwargs):
        raise ALLOCATOR_REFUSES

    monkeypatch.setattr("ganbench.training.check_forward", check)
    result = cli("run", "-v", "nsgan", "-d", "ring8", "--steps", "5", "-q", "-o", str(tmp_path / "out"))
    said = "ran out of memory on cpu as it checked a batch through its networks (it asked for 1.5 GiB more)"
    assert_one_line_error(result, said, "lower --set batch_size")
    assert not (tmp_path / "out").exists()
    suite = tmp_path / "s.toml"
    suite.write_text('name = "s"\nvariants = ["nsgan"]\ndatasets = ["ring8"]\nseeds = [0, 1]\nsteps = 5\n')
    result = cli("sweep", str(suite), "-q", "-o", str(tmp_path / "swept"))
    assert result.code == 1 and "Traceback" not in result.err
    failed = [line for line in result.err.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 2 and all(said in line and "lower [set] batch_size, or" in line for line in failed)
    assert all(re.match(r"failed: \S+ \(no folder\): run ", line) for line in failed)  # it named a folder not made
    assert "none has a folder in" in result.err


def test_running_out_of_memory_names_what_to_lower_for_the_part_that_ran_out(cli, tmp_path, monkeypatch):
    """Every allocation that failed in a run was told to lower batch_size, which did nothing for the data, the
    scoring or the checkpoint (that loop lost every step trained); `eval` out of memory was a traceback (pass 68)."""
    import numpy as np

    def load_checked(*args, **kwargs):  # as the functions of those names fail: the advice is found by them
        raise MemoryError

    def score(*args, **kwargs):
        raise MemoryError

    def save_checkpoint(*args, **kwargs):
        raise ALLOCATOR_REFUSES

    def matched_subset(*args, **kwargs):
        raise MemoryError

    def step(self, *args, **kwargs):
        raise MemoryError

    def library(*args, **kwargs):
        raise ImportError("libopenblas.so: failed to map segment from shared object")

    run = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "4", "-m", "modes", "-q", "--eval-samples", "400"]
    for target, function, said in [
        ("ganbench.training.load_checked", load_checked, "as it loaded the dataset (Python could not allocate); "
         "lower --set dataset.n_samples, e.g. --set dataset.n_samples=25000"),
        ("ganbench.harness.score", score, "as it scored 400 samples (Python could not allocate); lower --eval-samples"
         ", e.g. --eval-samples 100"),
        ("ganbench.harness.save_checkpoint", save_checkpoint, "as it saved its checkpoint (it asked for 1.5 GiB more)"
         "; use a smaller network (`ganbench list` shows the options of network 'pacgan-mlp')"),
        # pass 69: the data copied for scoring were told --eval-samples, down to 1 (refused); Adam's state batch_size
        ("ganbench.evaluation.matched_subset", matched_subset, "as it loaded the dataset (Python could not allocate)"),
        ("torch.optim.Adam.step", step, "as it made the optimizer's state (Python could not allocate); use a smaller"),
        ("ganbench.harness.score", library, "as it loaded a library (a library could not be loaded into memory); give"),
    ]:  # fmt: skip
        with monkeypatch.context() as patched:
            patched.setattr(target, function)
            result = cli(*run, "-o", str(tmp_path / target))
        assert_one_line_error(result, f"ran out of memory on cpu {said}")
        assert "batch_size" not in result.err
    finished = cli(*run, "-o", str(tmp_path / "resumed"), "--checkpoint-every", "2", "--steps", "2")
    assert finished.code == 0, finished.err
    (tmp_path / "resumed" / next(os.walk(tmp_path / "resumed"))[1][0] / "record.json").unlink()  # to resume
    with monkeypatch.context() as patched:  # a resume's checkpoint read: a traceback, exit 1
        patched.setattr("ganbench.harness.load_checkpoint", lambda *args: (_ for _ in ()).throw(MemoryError()))
        result = cli(*run, "-o", str(tmp_path / "resumed"), "--checkpoint-every", "2", "--steps", "2")
    assert_one_line_error(result, "as it read its checkpoint to resume (Python could not allocate); give it more")

    def read_images(*args, **kwargs):  # a dataset claimed as the command starts: no part said what to lower
        raise MemoryError

    (tmp_path / "imgs").mkdir()
    with monkeypatch.context() as patched:
        patched.setattr("ganbench.datasets.files.read_images", read_images)
        result = cli("run", "-v", "dcgan", "-d", str(tmp_path / "imgs"), "-q", "-o", str(tmp_path / "o"))
    assert_one_line_error(result, "reading the dataset ran out of memory (Python could not allocate); its items")
    monkeypatch.setattr("ganbench.evaluation.select_metrics", lambda *args, **kwargs: score())
    np.save(tmp_path / "s.npy", np.zeros((50, 2), np.float32))
    result = cli("eval", "-d", "ring8", "--samples", str(tmp_path / "s.npy"))
    assert_one_line_error(result, "scoring the samples ran out of memory (Python could not allocate); score fewer")
    with pytest.raises(GanbenchError, match="scoring the samples ran out of memory"):
        ganbench.evaluate_samples("ring8", np.zeros((50, 2), np.float32))


def test_an_option_the_papers_network_refuses_names_another_network_only_if_there_is_one(cli, tmp_path):
    """wgan-gp trains mlp on vectors, as the dataset does: "name another, e.g. --network mlp" changed nothing."""
    run = ["run", "--steps", "10", "-q", "-d", "ring8", "-o", str(tmp_path / "out")]
    result = cli(*run, "-v", "wgan-gp", "--set", "network.width=40000")
    assert_one_line_error(result, "<= 16384, not 40000")
    assert "name another" not in result.err
    result = cli(*run, "-v", "nsgan", "--set", "network.g_width=-1")  # a value out of range: no other network helps
    assert_one_line_error(result, "'g_width' must be >= 1")
    assert "name another" not in result.err
    result = cli(*run, "-v", "nsgan", "--set", "network=mlp")
    assert_one_line_error(result, "--set network=mlp sets no option: the network is chosen with --network mlp")
    for key, flag in (("steps=20", "--steps 20"), ("eval_samples=9", "--eval-samples 9"), ("seed=3", "--seed 3")):
        result = cli(*run, "-v", "nsgan", "--set", key)  # the variant's options named none of them (pass 68)
        assert_one_line_error(result, f"has no option '{key.split('=')[0]}'; its options are: ", f"own flag: {flag}")
    assert "own flag" not in cli(*run, "-v", "nsgan", "--set", "bogus=1").err
    for key, flag in (("force=1", "own flag: --force"), ("quiet=0", "own flag: leave --quiet out")):  # pass 69
        assert_one_line_error(cli(*run, "-v", "nsgan", "--set", key), flag)
    result = cli(*run, "-v", "nsgan", "--set", "dataset.steps=3", "--set", "steps=5")  # the dataset's, not steps'
    assert_one_line_error(result, "dataset 'ring8' has no option 'steps'")
    assert "own flag" not in result.err
    with pytest.raises(GanbenchError, match="option 'path' holds a NUL character"):
        ganbench.create_spec("dcgan", "files", overrides={"dataset.path": "imgs\0", "dataset.sha256": "0" * 64})
    result = cli(*run, "-v", "nsgan", "--set", "network=")  # advised "--network ''"
    assert_one_line_error(result, "--set network='' sets no option: the network is chosen with --network NAME")
    result = cli(*run, "-v", "nsgan", "--set", "network.width=8")  # pacgan-mlp has no width; the dataset's mlp has
    assert_one_line_error(result, "has no option 'width'", "trains pacgan-mlp on vectors by default", "--network mlp")
    result = cli(*run, "-v", "lsgan", "--set", "network.g_width=8")  # the dataset's mlp lacks it; pacgan-mlp has it
    assert_one_line_error(result, "has no option 'g_width'", "(networks that take it here: pacgan-mlp; name one with")
    result = cli(*run, "-v", "lsgan", "--set", "network.no_such_option=8")  # no network takes it: nothing to name
    assert_one_line_error(result, "has no option 'no_such_option'; its options are: ")
    assert "networks that take it" not in result.err
    result = cli(*run, "-v", "nsgan", "--set", "network.no_such_option=8")  # "name another": mlp lacks it too
    assert_one_line_error(result, "network 'pacgan-mlp' has no option 'no_such_option'; its options are: ")
    assert "name another" not in result.err and "take it" not in result.err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_on_a_machine_without_a_gpu(cli, tmp_path):
    assert_one_line_error(cli(*BASE, "-v", "nsgan", "--device", "cuda", "-o", str(tmp_path)), "no CUDA GPU", "cpu")
    assert not any(tmp_path.iterdir())


def test_many_runs_start_with_yes(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("ganbench.cli.MAX_RUNS_UNASKED", 2)
    args = [*BASE, "-v", "nsgan", "--steps", "5", "-s", "0-2", "-m", "modes", "-o", str(tmp_path)]
    assert_one_line_error(cli(*args), "3 runs", "--yes")
    assert cli(*args, "--yes").code == 0
    assert len(list(tmp_path.glob("*/record.json"))) == 3


def test_ctrl_c_advises_resuming_only_a_command_that_trains(cli, tmp_path, monkeypatch):
    """Ctrl-C during `list` (or `table`, or a run refused before training) advised resuming from a checkpoint."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("ganbench.listing.listing", interrupted)
    result = cli("list")
    assert (result.code, result.out, result.err.strip()) == (130, "", "Interrupted.")  # after click's newline
    monkeypatch.setattr("ganbench.harness.run_spec", interrupted)
    result = cli(*BASE, "-v", "nsgan", "--steps", "5", "-o", str(tmp_path))
    resume = (
        "Interrupted; rerun the same command to resume from the last checkpoint (a run interrupted before its "
        "first starts again)."
    )
    assert (result.code, result.err.strip()) == (130, resume)
    result = cli("list")  # the next command in this process starts afresh
    assert (result.code, result.err.strip()) == (130, "Interrupted.")


def test_numpy_integers_are_taken_as_integers(tmp_path):
    """A seed or a step count computed with numpy is an integer like any other (and spec.json stays JSON)."""
    record = ganbench.run("nsgan", "ring8", seed=np.int64(1), steps=np.int64(2), out=tmp_path)
    assert record.status == "completed" and record.spec["budget"]["steps"] == 2 and record.spec["seed"] == 1


def test_duplicate_metric_names_are_one_metric():
    twice = ganbench.create_spec("nsgan", "ring8", steps=2, metrics=["modes", "modes"])
    assert twice.run_id == ganbench.create_spec("nsgan", "ring8", steps=2, metrics=["modes"]).run_id


def test_the_time_budget_holds_inside_a_long_critic_loop(tmp_path):
    start = time.perf_counter()
    record = ganbench.run(
        variant="wgan", dataset="ring8", steps=10, max_seconds=1.0, overrides={"n_critic": 1000}, out=tmp_path
    )
    assert time.perf_counter() - start < 60
    assert record.stopped_by == "max_seconds" and record.steps_done == 0
    assert 1.0 <= record.train_seconds < 10


def test_a_run_whose_time_ends_before_its_first_step_says_so(cli, tmp_path):
    args = ("run", "-v", "wgan", "-d", "ring8", "--steps", "10", "--max-seconds", "0.3", "--set", "n_critic=1000")
    result = cli(*args, "-o", str(tmp_path), "-q")
    assert result.code == 0 and "0 steps (stopped by max_seconds)" in result.out
    assert "the time ran out before the first step: these are the scores of an untrained generator" in result.out


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def npy_header(shape: tuple, dtype: str = "<f8") -> bytes:
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


def object_npz(d: Path) -> str:
    np.savez(d / "o.npz", samples=np.array([{"a": 1}, None], dtype=object))
    return str(d / "o.npz")


def saved(d: Path, array: np.ndarray, name: str = "a.npy") -> str:
    np.save(d / name, array)
    return str(d / name)


def corrupt_npz(d: Path) -> str:
    np.savez(d / "c.npz", samples=np.zeros((100, 2)))
    data = bytearray((d / "c.npz").read_bytes())
    data[200] ^= 0xFF  # inside the array's bytes: the zip's CRC catches it
    return write(d / "c.npz", bytes(data))


@pytest.mark.parametrize(
    "make, fragments, not_fragments",
    [
        (object_npz, ["holds Python objects"], []),
        (lambda d: write(d / "h.npy", npy_header((10**12, 2)) + b"\x00" * 64), ["needs 16,000,000,000,000 bytes"], []),
        (lambda d: write(d / "e.npy", b""), ["is empty (0 bytes)"], []),
        (lambda d: saved(d, np.zeros((100, 2), np.complex128)), ["complex"], []),
        (lambda d: str(d), ["is a folder"], ["does not exist"]),
        (lambda d: write(d / "t.npy", b"x,y\n1,2\n3,4\n"), ["is not a .npy, .npz or .pt file"], ["pickle"]),
        (lambda d: saved(d, np.array([[0.0, 1.0], [1e308, 2.0]])), ["beyond float32's range", "row 1"], ["NaN"]),
        (  # inside float32, but kid and frechet square it: numpy's bare "overflow encountered in square" before
            lambda d: saved(d, np.array([[0.0, 1.0], [2.0, 1e30]] * 50, np.float32)),
            ["where squared distances overflow float32", "row 1", "rescale the samples"],
            ["NaN"],
        ),
        (lambda d: saved(d, np.array([[0.0, 1.0], [np.inf, 2.0]])), ["NaN or inf", "row 1"], []),
        (  # integers skipped the check: frechet 6.8e38, precision and recall 0, exit 0
            lambda d: saved(d, np.full((100, 2), 2**64 - 1, np.uint64)),
            ["where squared distances overflow float32", "row 0", "rescale the samples"],
            [],
        ),
        (lambda d: saved(d, np.full((100, 2), -(2**63), np.int64)), ["overflow float32", "row 0"], []),
        (lambda d: saved(d, np.zeros((3, 2), bool)), ["must be numbers"], []),
        (lambda d: saved(d, np.zeros((3, 2), "timedelta64[s]")), ["must be numbers, not timedelta64"], []),
        (lambda d: saved(d, np.zeros((3, 2), "datetime64[s]")), ["must be numbers, not datetime64"], []),
        (lambda d: saved(d, np.zeros((3, 2)).astype(str)), ["must be numbers, not <U"], []),
        (lambda d: saved(d, np.zeros((3, 2), [("a", "f4")])), ["must be numbers"], []),
        (lambda d: saved(d, np.array(3.0)), ["samples have shape ()"], []),
        (lambda d: write(d / "z.npz", b"PK\x03\x04" + b"\x00" * 40), ["cannot read"], []),
        (corrupt_npz, ["cannot read"], []),
        (lambda d: write(d / "trunc.npy", Path(saved(d, np.zeros((100, 2)))).read_bytes()[:500]), ["truncated"], []),
    ],
)
def test_bad_samples_files_give_one_line(cli, tmp_path, make, fragments, not_fragments):
    result = cli("eval", "--dataset", "grid25", "--samples", make(tmp_path))
    assert_one_line_error(result, *fragments)
    for fragment in not_fragments:
        assert fragment not in result.err


def test_flipped_views_and_half_precision_samples_score_as_plain_ones(tmp_path):
    """x[::-1] (negative strides) was torch's raw ValueError; float16 points a numpy "overflow in cast" warning."""
    import warnings

    points = np.random.default_rng(0).normal(size=(500, 2)).astype(np.float16)
    plain = ganbench.evaluate_samples("grid25", np.ascontiguousarray(points[::-1]), ["frechet"])["frechet"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ganbench.evaluate_samples("grid25", points[::-1], ["frechet"])["frechet"] == plain
        assert ganbench.evaluate_samples("grid25", np.flip(points), ["frechet"])["frechet"] is not None


def test_big_endian_samples_score_as_native_ones(tmp_path):
    """Arrays saved on a big-endian machine (or with astype('>f4')) hold the same numbers: the same scores."""
    points = np.random.default_rng(0).normal(size=(500, 2)).astype(np.float32)
    native = ganbench.evaluate_samples("grid25", points, ["modes", "frechet"])
    swapped = ganbench.evaluate_samples("grid25", saved(tmp_path, points.astype(">f4")), ["modes", "frechet"])
    assert {k: swapped[k] for k in ("modes_captured", "frechet")} == {
        k: native[k] for k in ("modes_captured", "frechet")
    }


@pytest.mark.parametrize(
    "images, fragment",
    [
        (np.zeros((4, 8, 8, 1)).astype(str), "images must be numbers, not <U"),
        (np.zeros((4, 8, 8, 1), "datetime64[s]"), "images must be numbers, not datetime64"),
        (np.zeros((4, 8, 8, 1), [("a", "f4")]), "images must be numbers"),
        (np.array(3.0), "images must be 4-D"),
        (np.zeros((4, 8, 8, 1), bool), "images must be numbers, not bool"),
    ],
)
def test_image_samples_that_are_not_numbers_give_one_line(cli, tmp_path, images, fragment):
    assert_one_line_error(cli("eval", "--dataset", "digits", "--samples", saved(tmp_path, images)), fragment)


def test_a_plugin_network_option_is_checked_like_a_builtin(cli, tmp_path, fresh_plugins):
    mlp = ganbench.get_network("mlp")

    @dataclasses.dataclass(frozen=True)
    class DropoutMLP(type(mlp)):
        dropout: float = option(0.1, ge=0, lt=1)

    class Plugin:
        @ganbench.hookimpl
        def register_networks(self, register):
            register(DropoutMLP("dropout-mlp"))

    fresh_plugins.register_plugin(Plugin(), name="dropout-plugin")
    args = [*BASE, "-v", "nsgan", "-n", "dropout-mlp", "-o", str(tmp_path)]
    assert_one_line_error(cli(*args, "--set", "network.dropout=1.5"), "network 'dropout-mlp' option 'dropout'", "< 1")
    assert_one_line_error(cli(*args, "--set", "network.dropout=nan"), "'dropout' must be a finite number")
    assert_one_line_error(cli(*args, "--set", "network.z_dim=0"), "'z_dim' must be >= 1")


def test_a_plugin_registering_invalid_defaults_is_named(cli, fresh_plugins):
    class Plugin:
        @ganbench.hookimpl
        def register_networks(self, register):
            @dataclasses.dataclass(frozen=True)
            class Skipper(Network):
                width: int = option(8, ge=1)

                def __post_init__(self) -> None:  # forgets the base class's checks
                    pass

            register(Skipper("skipper", width=0))

    refused_plugin(fresh_plugins, Plugin(), "skipper-plugin", "plugin 'skipper-plugin'", "'width' must be >= 1")
    assert cli("list").code == 0


def test_a_plugin_derives_from_builtins_inside_its_hook(cli, tmp_path, fresh_plugins):
    class Plugin:
        @ganbench.hookimpl
        def register_variants(self, register):
            register(dataclasses.replace(ganbench.get_variant("nsgan"), name="mine", lr_d=1e-4))

        @ganbench.hookimpl
        def register_datasets(self, register):
            register(dataclasses.replace(ganbench.get_dataset("ring8"), name="ring12", n_modes=12))

    fresh_plugins.register_plugin(Plugin(), name="deriving-plugin")
    assert ganbench.get_variant("mine").lr_d == 1e-4 and ganbench.get_variant("mine").d_loss
    result = cli("run", "-v", "mine", "-d", "ring12", "--steps", "5", "-m", "modes", "-q", "-o", str(tmp_path))
    assert result.code == 0, result.err


def test_a_plugin_asking_for_an_unknown_name_is_named(cli, fresh_plugins):
    class Plugin:
        @ganbench.hookimpl
        def register_variants(self, register):
            register(dataclasses.replace(ganbench.get_variant("nsgan-ttur2"), name="mine"))

    fragments = ("plugin 'asking-plugin'", "unknown variant 'nsgan-ttur2'", "register_variants")
    refused_plugin(fresh_plugins, Plugin(), "asking-plugin", *fragments)
    assert cli("list").code == 0


PLUGIN_PACKAGES = {"variants", "datasets", "networks", "metrics", "features", "executors", "loggers"}


def test_no_core_module_imports_a_builtin_plugin():
    offenders = []
    for path in sorted((ROOT / "ganbench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                parts = name.split(".")
                if parts[0] == "ganbench" and len(parts) > 1 and parts[1] in PLUGIN_PACKAGES:
                    offenders.append(f"{path.name}: {name}")
    assert not offenders, offenders


def ring8(**arguments):
    """ganbench.run on ring8, two steps, with ``arguments``: a call to make with a results folder."""
    return lambda out: ganbench.run(**{"variant": "nsgan", "dataset": "ring8", "steps": 2, "out": out, **arguments})


POINTS = np.random.default_rng(0).normal(size=(100, 2))


def nested_points() -> torch.Tensor:
    with warnings.catch_warnings():  # torch calls its strided nested tensors a prototype
        warnings.simplefilter("ignore")
        return torch.nested.nested_tensor([torch.ones(60, 2), torch.ones(40, 2)])


def quantized_points() -> torch.Tensor:
    with warnings.catch_warnings():  # torch deprecates creating quantized tensors; users still have them
        warnings.simplefilter("ignore")
        return torch.quantize_per_tensor(torch.ones(100, 2), 0.1, 0, torch.qint8)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (ring8(variant=1), "variant must be a name (text), not 1"),
        (ring8(dataset=None), "dataset must be a name"),
        (ring8(network=""), "network must be a name"),
        (ring8(overrides="x"), "overrides must map"),
        (ring8(overrides={1: 2}), "overrides must map"),
        (ring8(metrics="frechet"), "metrics must be a list"),
        (ring8(metrics=["modes", 3]), "metrics must be a list"),
        (lambda out: ring8(out=None)(out), "out must name a results folder"),
        (lambda out: ring8(out="  ")(out), "out must name a results folder"),
        (lambda out: ring8(out=f"{out}\0x")(out), "out must name a results folder (text or a Path, without NUL)"),
        (ring8(overrides={"lr_d": 10**400}), "option 'lr_d' must be a finite number, not inf"),  # past every float
        (ring8(overrides={"betas": (0.5, -(10**400))}), "option 'betas' must be a finite number, not -inf"),
        (ring8(overrides={"dataset.sigma": 10**400}), "option 'sigma' must be a finite number, not inf"),
        (lambda out: ganbench.evaluate_samples("ring8", POINTS, None, {"sigma": 10**400}), "must be a finite number"),
        (lambda out: ganbench.load_results(out / "no" / "such"), "does not exist"),
        (lambda out: ganbench.evaluate_samples("ring8", None), "samples must be numbers"),
        (lambda out: ganbench.evaluate_samples(5, [[0.0, 0.0]]), "dataset must be a registered dataset's name"),
        (lambda out: ganbench.evaluate_samples("ring8", POINTS, "frechet"), "metrics must be a list"),
        (  # pass 97: scored for hours without a word
            lambda out: ganbench.evaluate_samples("ring8", np.zeros((1_000_001, 2), np.float32)),
            "1,000,001 samples are more than ganbench scores (1,000,000); pass a subset of them",
        ),
        (lambda out: ganbench.evaluate_samples("ring8", POINTS, [None]), "metrics must be a list"),
        (lambda out: ganbench.evaluate_samples("ring8", POINTS, []), "name at least one (e.g. --metrics modes)"),
        (lambda out: ganbench.evaluate_samples("ring8", POINTS, None, ["sigma"]), "overrides must map"),
        (lambda out: ganbench.evaluate_samples("ring8", POINTS, None, "sigma=1"), "overrides must map"),
        (lambda out: ganbench.evaluate_samples("ring8", torch.empty(100, 2, device="meta")), "not a meta tensor"),
        (lambda out: ganbench.evaluate_samples("ring8", torch.ones(100, 2).to_sparse()), "pass x.to_dense()"),
        (lambda out: ganbench.evaluate_samples("ring8", nested_points()), "not a nested tensor"),
        (lambda out: ganbench.evaluate_samples("ring8", quantized_points()), "pass x.dequantize()"),
        (lambda out: ganbench.evaluate_samples("ring8", torch.ones(100, 2).to(torch.float8_e4m3fn)), "pass x.float()"),
        *[(lambda out: ganbench.evaluate_samples("ring8", np.ones((100, 2), np.longdouble)), "astype('float64')")]
        * (np.dtype(np.longdouble).itemsize > 8),  # extended precision where the platform has it
        (lambda out: ganbench.evaluate_samples("ring8", np.ma.masked_less(POINTS, 0)), "masked value(s)"),
        (lambda out: ganbench.evaluate_samples(Path("/no/such/x"), POINTS), "neither a registered dataset nor"),
        (lambda out: ganbench.load_results(""), "results folder must be a path"),
        (lambda out: ganbench.load_results(__file__), "is a file, not a folder"),
        (lambda out: ganbench.load_results(out.parent), "no runs found under"),  # empty: a frame of no columns
        (ring8(overrides={"batch_size": 1}), "batch norm of network 'pacgan-mlp'"),
        (ring8(log_every=0), "log_every (--log-every) must be a whole number of steps from 1"),
        (ring8(log_every=1.5), "log_every (--log-every) must be a whole number of steps from 1"),
        (ring8(checkpoint_every="5"), "checkpoint_every (--checkpoint-every) must be a whole number of steps from 1"),
        (ring8(checkpoint_every=0), "checkpoint_every (--checkpoint-every) must be a whole number of steps from 1"),
        (ring8(eval_every=2.5), "eval_every (--eval-every) must be a whole number of steps from 1"),
        (ring8(eval_every=np.int64(10**6)), "eval_every (--eval-every) is 1,000,000, more than the"),
        (ring8(force="yes"), "force must be True or False"),
        (ring8(progress=1), "progress must be True or False"),
        (ring8(metrics=[]), "metrics is empty: name at least one (e.g. --metrics modes)"),
        (ring8(max_seconds=1e-300), "max_seconds must be a positive finite number of seconds from 0.01"),
        (ring8(max_seconds=1e300), "max_seconds must be a positive finite number of seconds from 0.01"),
        (ring8(overrides={"lr_d": 1e-3, "variant.lr_d": 1e-4}), "option 'variant.lr_d' is set twice"),
        (lambda out: ganbench.get_variant(None), "a variant is named by text, not None"),
        (lambda out: ganbench.get_variant("nsgan").derive("x", foo=1), "variant 'nsgan' has no option 'foo'"),
        (lambda out: ganbench.get_variant("nsgan").derive("a/b"), "a derived variant's name must be lower-case"),
        (lambda out: ganbench.get_variant("nsgan").derive(""), "a derived variant's name must be lower-case"),
        (lambda out: ganbench.get_variant("nsgan").derive("nsgan"), "needs a name of its own, not its parent's"),
        (
            lambda out: ring8(variant=ganbench.get_variant("nsgan").derive("mine", lr_d=1e-4))(out),
            "not a Variant object: register 'mine' from a plugin",
        ),
        (lambda out: ring8(variant=ganbench.get_variant("nsgan"))(out), "not a Variant object: pass variant='nsgan'"),
        (lambda out: ganbench.get_variant("nsgan").derive("a" * 101), "at most 100 characters"),  # a run folder's
        (lambda out: ganbench.run("nsgan", "x" * 300, out=out), "x" * 300 + " is too long a name for the file"),
        (lambda out: ganbench.create_spec("nsgan", f"{'x' * 300}/y"), "is too long a name for the file"),
        (lambda out: ring8(out=out / ("x" * 300) / "runs")(out), "is a name of more than 255 bytes"),  # no out/
        (lambda out: ganbench.evaluate_samples("ring8", "x" * 300), "is too long a name for the file system"),
        (lambda out: ganbench.load_results("x" * 300), "is too long a name for the file system; choose a shorter"),
        *[  # "no" was taken as True: class-accuracy was dropped without a word (pass 63)
            (lambda out, v=v: ganbench.create_spec("dcgan", "digits", shared_metrics=v), "shared_metrics must be True")
            for v in ("no", 2, None)
        ],
        (  # a suite's [set] network = {width = 8}: "variant 'nsgan' has no option 'network'" (pass 63)
            lambda out: ganbench.create_spec("nsgan", "ring8", network="mlp", overrides={"network": {"width": 8}}),
            "overrides['network'] is a table {width = 8}; name each option with its group, e.g. {'network.width': ",
        ),
    ],
)
def test_the_python_api_checks_its_arguments_as_the_cli_does(tmp_path, call, fragment):
    """A GanbenchError with the CLI's one-line message, never a TypeError from deep inside; nothing written."""
    with pytest.raises(ganbench.GanbenchError, match=re.escape(fragment)):
        call(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_path_this_user_may_not_read_is_one_line_in_the_cli_and_the_api(cli, tmp_path, monkeypatch):
    """A non-root user naming a path below a folder of mode 000 got PermissionError tracebacks from table, plot,
    eval, -o and --data-root: one translation, where PathError's others are, at the CLI and the API's edge."""
    locked = tmp_path / "locked"
    locked.mkdir()
    np.save(locked / "a.npy", POINTS)  # there, but (as if) behind a folder this user may not enter
    is_dir = Path.is_dir

    def refused(self):
        if locked in (self, *self.parents):
            raise PermissionError(13, "Permission denied", str(self))
        return is_dir(self)

    monkeypatch.setattr(Path, "is_dir", refused)
    for args in (["table", str(locked / "q")], ["plot", str(locked / "q")],
                 ["eval", "-d", "ring8", "--samples", str(locked / "a.npy")]):  # fmt: skip
        assert_one_line_error(cli(*args), f"permission denied on {locked}/", "give this user access to it")
    with pytest.raises(ganbench.GanbenchError, match=f"^permission denied on {re.escape(str(locked))}/q; give"):
        ganbench.load_results(locked / "q")

    def unreadable(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("ganbench.arrays.open", unreadable, raising=False)  # a sound file this user may not read
    np.save(tmp_path / "ok.npy", POINTS)
    result = cli("eval", "-d", "ring8", "--samples", str(tmp_path / "ok.npy"))
    assert_one_line_error(result, "ok.npy (Permission denied); make it readable")
    assert "corrupt" not in result.err  # it said "it is truncated or corrupt"


def test_derived_options_are_kept_as_the_types_they_declare():
    """derive(n_critic="3") ran, but its spec recorded "3": one setting written three ways, three records."""
    base = ganbench.get_variant("nsgan")
    for changes in (
        {"n_critic": "3", "lr_d": "1e-4 "},
        {"n_critic": 3.0, "lr_d": 1e-4},
        {"n_critic": 3, "lr_d": 0.0001},
    ):
        derived = base.derive("mine", **changes)
        assert (type(derived.n_critic), derived.n_critic, type(derived.lr_d), derived.lr_d) == (int, 3, float, 1e-4)


def test_a_disk_full_before_the_first_step_is_one_line(cli, tmp_path, monkeypatch):
    import errno

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-q", "-o", str(tmp_path)]
    for where in ("ganbench.locks.write_json_atomic", "ganbench.harness.write_json_atomic"):  # lock, then spec
        with monkeypatch.context() as patch:
            patch.setattr(where, full)
            assert_one_line_error(cli(*args), "No space left on device", "free some space", "run the same command")
    assert cli(*args).code == 0  # the lock was let go


def test_too_few_real_samples_for_a_metric_is_refused_before_training(cli, tmp_path):
    args = ["run", "-v", "nsgan", "-d", "grid25", "--set", "dataset.n_samples=2", "--set", "batch_size=2"]
    result = cli(*args, "--steps", "3", "-q", "-o", str(tmp_path / "out"))
    assert_one_line_error(result, "metric 'prdc' needs at least 6 real samples", "holds 2")
    assert not (tmp_path / "out").exists()  # refused before any folder, not lost after training


def test_a_python_warning_is_one_line_on_the_command_line(tmp_path):
    from .conftest import ganbench_process

    np.save(tmp_path / "two.npy", np.array([[0.0, 0.0], [1.0, 1.0]], np.float32))
    result = ganbench_process("eval", "-d", "grid25", "--samples", str(tmp_path / "two.npy"), "-m", "frechet")
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "covariance is singular" in line]
    assert len(warned) == 1 and warned[0].startswith("warning: ") and "compute(" not in result.stderr


def test_force_that_cannot_remove_a_finished_runs_files_names_them_and_keeps_the_record(cli, tmp_path):
    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "5", "-q", "--out", str(tmp_path)]
    assert cli(*args).code == 0
    run_dir = next(tmp_path.glob("ring8__nsgan__*"))
    (run_dir / "metrics.json").unlink()
    (run_dir / "metrics.json").mkdir()  # not removable as a file
    (run_dir / "metrics.json" / "x").touch()
    assert_one_line_error(cli(*args, "--force"), "metrics.json is a folder, in the way", "move or delete it")
    assert (run_dir / "record.json").is_file()


def test_a_folder_or_file_in_the_way_of_a_runs_files_is_named(cli, tmp_path):
    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "5", "-q", "--out"]
    assert cli(*args, str(tmp_path / "a")).code == 0
    run_dir = next((tmp_path / "a").iterdir())
    (run_dir / "record.json").unlink()
    (run_dir / "record.json").mkdir()  # a folder where the record goes
    for extra in ([], ["--force"]):
        assert_one_line_error(
            cli(*args, str(tmp_path / "a"), *extra), "record.json is a folder, in the way", "move or delete"
        )
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / run_dir.name).write_text("mine")  # a file named like the run's folder
    assert_one_line_error(cli(*args, str(tmp_path / "b")), f"{run_dir.name} is a file, in the way of the run's folder")
    assert (tmp_path / "b" / run_dir.name).read_text() == "mine"


def _nested(folder, depth: int):
    """``folder``/d/d/.../d, ``depth`` levels (made one level at a time: os.makedirs recurses)."""
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(depth):
        folder = folder / "d"
        folder.mkdir()
    return folder


def _remove_nested(folder) -> None:
    """Remove ``folder``, a chain of single subfolders with files, bottom up (shutil.rmtree recurses, and pytest's
    clean-up of old temporary folders with it)."""
    import shutil

    chain = [folder]
    while any(p.is_dir() for p in chain[-1].iterdir()):
        chain.append(next(p for p in chain[-1].iterdir() if p.is_dir()))
    for level in reversed(chain):
        shutil.rmtree(level)


def test_folders_nested_a_thousand_deep_are_walked_not_recursed(cli, tmp_path):
    import numpy as np
    from PIL import Image

    out, images = tmp_path / "out", tmp_path / "images"
    try:
        assert cli("run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-q", "--out", str(out)).code == 0
        _nested(out / "deep", 1100)  # deeper than Python's recursion limit
        result = cli("table", str(out))
        assert result.code == 0 and "nsgan" in result.out, result.err
        for c in range(2):
            deep = _nested(images / f"class{c}", 1050)
            for i in range(12):
                Image.fromarray(np.full((8, 8), 100 * c + i, np.uint8)).save(deep / f"{i}.png")
        args = ["run", "-v", "dcgan", "-d", str(images), "--steps", "1", "-q", "-o", str(tmp_path / "r")]
        result = cli(*args, "--set", "network.width=8", "--set", "batch_size=4", "-m", "fid_classifier")
        assert result.code == 0, result.err
    finally:
        for top in (out / "deep", images / "class0", images / "class1"):
            if top.exists():
                _remove_nested(top)


def test_a_run_folder_linked_into_results_is_shown_once_and_a_link_loop_ends(cli, tmp_path):
    out, shown = tmp_path / "out", tmp_path / "shown"
    assert cli("run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-s", "0-1", "-q", "--out", str(out)).code == 0
    shown.mkdir()
    (shown / "mine").symlink_to(sorted(out.iterdir())[0], target_is_directory=True)
    (shown / "all").symlink_to(out, target_is_directory=True)  # the same run again, through another link
    (shown / "loop").symlink_to(shown, target_is_directory=True)
    result = cli("table", str(shown))
    assert result.code == 0 and "| ring8   | nsgan   | 2 " in result.out, result.err
    assert "twice" not in result.err and "repeated" not in result.err


def test_a_fifo_where_a_runs_metrics_go_neither_hangs_table_nor_the_run(cli, tmp_path):
    import os

    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "5", "-q", "--out", str(tmp_path)]
    assert cli(*args).code == 0
    run_dir = next(tmp_path.iterdir())
    (run_dir / "metrics.json").unlink()
    os.mkfifo(run_dir / "metrics.json")  # opening it to read or write would block forever
    assert_one_line_error(cli("table", str(tmp_path)), "metrics.json is not a regular file")
    for extra in ([], ["--force"]):
        assert_one_line_error(cli(*args, *extra), "metrics.json is a FIFO", "move or delete it")
    (run_dir / "metrics.json").unlink()
    for name in ("checkpoint.pt", "spec.json", "history.csv", "samples.png"):  # resumed or forced: never waits
        (run_dir / "record.json").unlink(missing_ok=True)
        saved = (run_dir / name).read_bytes()
        (run_dir / name).unlink()
        os.mkfifo(run_dir / name)
        for extra in ([], ["--force"]):
            assert_one_line_error(cli(*args, *extra), f"{name} is a FIFO, in the way of the run's {name}")
        (run_dir / name).unlink()
        (run_dir / name).write_bytes(saved)
    assert cli(*args).code == 0


@pytest.mark.parametrize("target", ["nowhere", "itself"])
def test_a_link_to_nothing_where_a_runs_file_goes_is_refused_before_training(cli, tmp_path, target):
    """A dangling or looping checkpoint.pt read as no checkpoint: the run trained again from step 0 and failed with
    a traceback at its first checkpoint (a link to itself: replaced, the steps lost); at samples.png, metrics.json
    or record.json, a traceback after training, no record (pass 54)."""
    import os

    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "5", "-q", "--out", str(tmp_path)]
    assert cli(*args).code == 0
    run_dir = next(tmp_path.iterdir())
    (run_dir / "record.json").unlink()  # unfinished: resumes from its checkpoint
    for name in ("checkpoint.pt", "samples.png", "metrics.json", "record.json"):
        path = run_dir / name
        saved = path.read_bytes() if path.exists() else None
        path.unlink(missing_ok=True)
        os.symlink(tmp_path / "nowhere" / "x" if target == "nowhere" else path, path)
        before = sorted(p.name for p in run_dir.iterdir())
        kind = "a symbolic link to nothing" if target == "nowhere" else "a symbolic link that leads back to itself"
        for extra in ([], ["--force"]):
            assert_one_line_error(cli(*args, *extra), f"{name} is {kind}, in the way of the run's {name}")
        assert os.path.islink(path) and sorted(p.name for p in run_dir.iterdir()) == before
        path.unlink()
        if saved is not None:
            path.write_bytes(saved)
    assert cli(*args).code == 0


def test_a_runs_file_that_links_to_another_file_is_never_written_through(cli, tmp_path):
    """record.json linked to another run's (or any file): the run trained again and wrote its record into the
    target; `leaderboard check` so replaced seed 1's record with seed 0's, and `table` then dropped seed 1 (pass 54)."""
    import os

    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "5", "-q", "--out", str(tmp_path / "r")]
    assert cli(*args).code == 0
    run_dir = next((tmp_path / "r").iterdir())
    victim, record = tmp_path / "victim.txt", (run_dir / "record.json").read_bytes()
    (run_dir / "record.json").unlink()  # unfinished: the run trains on, and writes its files
    for name in ("record.json", "spec.json", "metrics.json", "history.csv", "checkpoint.pt", "samples.png"):
        victim.write_text("precious")
        saved = (run_dir / name).read_bytes() if name != "record.json" else record
        (run_dir / name).unlink(missing_ok=True)
        os.symlink(victim, run_dir / name)
        for extra in ([], ["--force"]):
            result = cli(*args, *extra)
            assert_one_line_error(result, f"{name} is a link (to {victim}); a run writes only files of its own")
        assert victim.read_text() == "precious" and os.path.islink(run_dir / name)
        (run_dir / name).unlink()
        if name != "record.json":
            (run_dir / name).write_bytes(saved)
    assert cli(*args).code == 0


def test_a_run_folder_that_is_a_link_to_another_runs_is_never_trained_through(cli, tmp_path):
    """Trained through the link, seed 1 would overwrite seed 0's record, metrics and checkpoint."""
    import shutil

    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-q", "--out", str(tmp_path)]
    assert cli(*args, "-s", "0-1").code == 0
    seed0, seed1 = sorted(tmp_path.iterdir(), key=lambda p: "seed1" in p.name)
    before = {p.name: p.read_bytes() for p in seed0.iterdir() if p.is_file()}
    shutil.rmtree(seed1)
    seed1.symlink_to(seed0, target_is_directory=True)
    assert_one_line_error(cli(*args, "-s", "1"), f"run folder {seed1} is a link", "delete the link")
    assert {p.name: p.read_bytes() for p in seed0.iterdir() if p.is_file()} == before


def test_evaluate_samples_takes_what_users_hand_it_as_the_cli_does(tmp_path, recwarn):
    """Read-only memmaps without torch's warning, None (not NaN) where a score has no value, dataset options
    spelled as --set spells them, and a real side too small for a metric named as `run` names it."""
    np.save(tmp_path / "p.npy", np.full((2500, 2), 100.0, np.float32))  # far from every mode: reverse_kl undefined
    scores = ganbench.evaluate_samples("ring8", np.load(tmp_path / "p.npy", mmap_mode="r"), ["modes"])
    assert scores["reverse_kl"] is None and scores["modes_captured"] == 0
    assert not [w for w in recwarn if "not writable" in str(w.message)]
    sigma = ganbench.evaluate_samples("ring8", POINTS, ["frechet"], {"dataset.sigma": 0.05})
    assert sigma == ganbench.evaluate_samples("ring8", POINTS, ["frechet"], {"sigma": 0.05})
    with pytest.raises(ganbench.GanbenchError, match="option 'dataset.sigma' is set twice"):
        ganbench.evaluate_samples("ring8", POINTS, ["frechet"], {"sigma": 0.05, "dataset.sigma": 0.03})
    with pytest.raises(ganbench.GanbenchError, match=re.escape("e.g. {'dataset.sigma': 0.02}")):
        ganbench.evaluate_samples("ring8", POINTS, None, [("sigma", 0.02)])
    with pytest.raises(
        ganbench.GanbenchError, match="'prdc' needs at least 6 real samples, but dataset 'ring8' holds 3"
    ):
        ganbench.evaluate_samples("ring8", POINTS, None, {"n_samples": 3})
    with pytest.warns(UserWarning, match="2,000 generated samples are scored against the 1,797 real ones.*passing as"):
        ganbench.evaluate_samples("digits", np.zeros((2000, 1, 8, 8), np.uint8) + 60, ["fid"])
    images = np.random.default_rng(0).integers(0, 256, (70, 1, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "real.npz", images=images[:30], labels=np.arange(30) % 2)  # labels: the classifier space
    with pytest.warns(UserWarning, match="40 generated samples are scored against the 30 real ones"):
        ganbench.evaluate_samples(tmp_path / "real.npz", images[30:], ["fid_classifier"])


@pytest.mark.parametrize("variable", ["GANBENCH_CACHE_DIR", "GANBENCH_DATA"])
def test_a_cache_or_data_folder_from_the_environment_expands_a_tilde_and_a_blank_one_is_unset(
    variable, monkeypatch, tmp_path
):
    """A quoted "~" (a .env file, a systemd unit: no shell expands it) made a folder named "~" in the working
    tree; "   " one named "   ". Expanded as a shell would, and blank is unset, for both variables alike."""
    from ganbench.paths import cache_dir, data_root

    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    folder = {"GANBENCH_CACHE_DIR": cache_dir, "GANBENCH_DATA": data_root}[variable]
    unset = {"GANBENCH_CACHE_DIR": home / ".cache" / "ganbench", "GANBENCH_DATA": home / ".cache" / "ganbench" / "data"}
    for value, expected in (("~/gb", home / "gb"), ("~", home), ("   ", unset[variable]), ("", unset[variable])):
        monkeypatch.setenv(variable, value)
        assert folder() == expected, value
    monkeypatch.setenv("XDG_CACHE_HOME", " ")  # blank: unset too, not a folder " "
    assert folder() == unset[variable]
    monkeypatch.setenv(variable, "  relative/x ")  # not blank: a folder may end in a space, but a leading one is
    assert folder() == Path("relative/x ")  # the trap "~" was: " ~/c" made a folder " ~"
    monkeypatch.setenv(variable, " ~/c")
    assert folder() == home / "c"


@pytest.mark.parametrize("variable", ["GANBENCH_CACHE_DIR", "GANBENCH_DATA", "XDG_CACHE_HOME", "--data-root"])
def test_a_folder_of_a_user_who_does_not_exist_is_one_line_before_any_command(variable, cli, monkeypatch, tmp_path):
    """ "~nosuchuser/c" cannot be expanded: a traceback before, for a digits run after its training."""
    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "-m", "modes", "--eval-samples", "200", "-q"]
    if variable.startswith("--"):
        args += [variable, "~nosuchuser-ganbench/c"]
    else:
        monkeypatch.setenv(variable, "~nosuchuser-ganbench/c")
    result = cli(*args, "--out", str(tmp_path / "out"))
    assert_one_line_error(
        result, f"{variable} ~nosuchuser-ganbench/c:", "name a folder that exists, or a user who does"
    )
    assert not (tmp_path / "out").exists()


def test_a_quoted_tilde_in_an_output_path_is_home_not_a_folder_named_tilde(cli, monkeypatch, tmp_path):
    """`-o "~/results"` from a script meets no shell: it made ./~ (a trap: `rm -rf ~`); "~nosuchuser" was a
    traceback wherever a path is read (-d, --junit)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    args = ["-v", "nsgan", "-d", "ring8", "--steps", "3", "-m", "modes", "--eval-samples", "200", "-q"]
    assert cli("run", *args, "-o", "~/results").code == 0
    assert len(list((tmp_path / "home" / "results").glob("*/record.json"))) == 1 and not (tmp_path / "~").exists()
    result = cli("run", *args, "-o", "~nosuchuser-ganbench/x")
    assert_one_line_error(result, "--out ~nosuchuser-ganbench/x: Could not determine home directory; name a folder")
    result = cli("run", *args[:2], "-d", "~nosuchuser-ganbench/x", "-o", "out")
    assert_one_line_error(result, "dataset '~nosuchuser-ganbench/x' is neither a registered dataset nor an existing")
    (tmp_path / "s.toml").write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 2\nmetrics = ["modes"]\n')
    result = cli("leaderboard", "check", "s.toml", "--junit", "~nosuchuser-ganbench/j.xml")
    assert_one_line_error(result, "--junit ~nosuchuser-ganbench/j.xml: Could not determine home directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "s.toml"]
    # what is read through a quoted "~" too: -o "~/results" wrote there, `table "~/results"` did not find it
    (tmp_path / "home" / "s.toml").write_text((tmp_path / "s.toml").read_text())
    np.save(tmp_path / "home" / "points.npy", POINTS)
    for command in (["table", "~/results"], ["plot", "~/results", "--out", "~/figures"],
                    ["eval", "-d", "ring8", "--samples", "~/points.npy", "-m", "modes"],
                    ["sweep", "~/s.toml", "-q", "-o", "~/suite"], ["leaderboard", "update", "~/s.toml", "-q"],
                    ["leaderboard", "show", "~/s.toml"]):  # fmt: skip
        result = cli(*command)
        assert result.code == 0 and "does not exist" not in result.err, (command, result.err)
    assert (tmp_path / "home" / "s.baseline.json").exists() and any((tmp_path / "home" / "figures").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "results", "s.toml"]  # update's: results/s


@pytest.mark.parametrize("value, folder", [("~/gbcache", "home/gbcache"), ("   ", "home/.cache/ganbench")])
def test_list_with_a_quoted_tilde_or_blank_cache_writes_under_home(value, folder, tmp_path):
    """The tester's repro, in a fresh process in the working folder: `GANBENCH_CACHE_DIR='~/gbcache' ganbench list`."""
    import os
    import subprocess
    import sys

    from ganbench.listing import CACHE_FILE

    env = {**os.environ, "HOME": str(tmp_path / "home"), "GANBENCH_CACHE_DIR": value, "PYTHONPATH": str(ROOT)}
    env.pop("XDG_CACHE_HOME", None)
    done = subprocess.run([sys.executable, "-m", "ganbench", "list"], cwd=tmp_path, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / folder / CACHE_FILE).is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_stale_temporary_files_of_a_killed_write_are_removed_and_fresh_ones_kept(tmp_path):
    """atomic.remove_stale_temps: an hour untouched is no write in progress; a file of another name is not ours."""
    import os

    from ganbench.atomic import remove_stale_temps, write_atomic

    write_atomic(tmp_path / "kept.json", lambda f: f.write(b"{}"))  # its own temp file is gone once written
    assert [p.name for p in tmp_path.iterdir()] == ["kept.json"]
    old, fresh, link = tmp_path / ".ganbench-aaaa1111.tmp", tmp_path / ".ganbench-bbbb2222.tmp", tmp_path / "x"
    for path in (old, fresh):
        path.write_bytes(b"half a baseline")
    os.utime(old, (time.time() - 3601, time.time() - 3601))
    (tmp_path / ".ganbench-cccc3333.tmp").symlink_to(old)  # a link is no temp file of ours
    link.write_text("x")
    os.utime(link, (0, 0))
    assert remove_stale_temps(tmp_path) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["kept.json", ".ganbench-bbbb2222.tmp", ".ganbench-cccc3333.tmp", "x"]
    )


def test_data_root_drops_a_blank_before_its_tilde_as_the_variable_does(cli, monkeypatch, tmp_path):
    import os

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GANBENCH_DATA", "")  # restored after: --data-root sets it for the workers
    args = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "2", "-m", "modes"]
    assert cli(*args, "--eval-samples", "200", "-q", "--out", str(tmp_path / "out"), "--data-root", " ~/x").code == 0
    assert os.environ["GANBENCH_DATA"] == str(tmp_path / "home" / "x")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux), a device every write fills")
@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["eval", "--help"]])
def test_output_to_a_full_disk_is_one_line_and_a_closed_pipe_is_quiet(args):
    """`ganbench list > file` on a full disk was a traceback from inside click, exit 1; `| head -c 1` stays quiet."""
    import shlex
    import subprocess
    import sys
    import types

    command = shlex.join([str(Path(sys.executable).parent / "ganbench"), *args])
    done = subprocess.run(f"{command} > /dev/full", shell=True, capture_output=True, text=True)
    assert_one_line_error(types.SimpleNamespace(code=done.returncode, out="", err=done.stderr), "cannot write the "
                          "output to standard output (No space left on device)")  # fmt: skip
    head = subprocess.run(f"{command} | head -c 1", shell=True, capture_output=True, text=True)
    assert len(head.stdout) == 1 and not head.stderr
    for redirect, why in ((">&-", "it is closed"), ("1</dev/null", "Bad file descriptor")):  # a traceback, exit 1
        done = subprocess.run(f"{command} {redirect}", shell=True, capture_output=True, text=True)
        assert_one_line_error(types.SimpleNamespace(code=done.returncode, out="", err=done.stderr), f"({why}); "
                              "give it a place to write to: > FILE, or > /dev/null")  # fmt: skip


def test_a_dataset_path_that_is_a_fifo_or_a_broken_link_says_what_it_is(cli, tmp_path, monkeypatch):
    """It was "neither a registered dataset nor an existing folder" of a path that exists."""
    monkeypatch.chdir(tmp_path)
    os.mkfifo("fifo")
    Path("loop").symlink_to("loop")
    Path("dangling").symlink_to("nowhere")
    for name, kind in (("fifo", "a FIFO"), ("loop", "a symbolic link that leads back to itself"),
                       ("dangling", "a symbolic link to nothing"), ("/dev/null", "a device or socket")):  # fmt: skip
        result = cli("run", "-v", "nsgan", "-d", name, "--steps", "2", "-q", "-o", "out")
        assert_one_line_error(result, f"dataset '{name}' is {kind}, not a folder of images or an .npz/.npy file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "fifo", "loop"]


def test_a_symbolic_link_loop_anywhere_a_path_is_named_is_called_a_loop_not_missing(cli, tmp_path, monkeypatch):
    """Path.exists() is False for a link that leads back to itself: "does not exist" sent users looking for a typo."""
    monkeypatch.chdir(tmp_path)
    Path("loop").symlink_to("loop")
    Path("a").symlink_to("b")
    Path("b").symlink_to("a")
    Path("suite.toml").write_text('name = "s"\nvariants = ["nsgan"]\ndatasets = ["ring8"]\nseeds = "0"\nsteps = 5\n')
    itself, below = "is a symbolic link that leads back to itself", "is below a symbolic link that leads back to itself"
    fix = "fix the link (ls -l shows where it points) or name another path"
    cases = [
        (["table", "loop"], f"results folder loop {itself}; {fix}"),
        (["plot", "a"], f"results folder a {itself}; {fix}"),
        (["table", "loop/x"], f"results folder loop/x {below}; {fix}"),
        (["eval", "-d", "ring8", "--samples", "loop"], f"samples file loop {itself}; {fix}"),
        (["eval", "-d", "ring8", "--samples", "a/s.npy"], f"samples file a/s.npy {below}; {fix}"),
        (["run", "-v", "nsgan", "-d", "loop/x"], f"dataset 'loop/x' {below}, not a folder of images"),
        (["run", "-v", "nsgan", "-d", "ring8", "-o", "loop/x"], f"./loop/x {below}; {fix}"),
        (["run", "-v", "nsgan", "-d", "ring8", "--data-root", "a"], f"./a {itself}; {fix}"),
        (["leaderboard", "check", "suite.toml", "--junit", "loop/j.xml"], f"the folder loop {itself}; {fix}"),
    ]
    for args, words in cases:
        assert_one_line_error(cli(*args, "-q") if args[0] == "run" else cli(*args), words)
    for call, words in (
        (lambda: ganbench.load_results("a"), f"results folder a {itself}"),
        (lambda: ganbench.run("nsgan", "ring8", out="loop/x", steps=2), f"results folder loop/x {below}"),
        (lambda: ganbench.evaluate_samples("ring8", "loop"), f"samples file loop {itself}"),
    ):
        with pytest.raises(GanbenchError, match=re.escape(words)):
            call()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "loop", "suite.toml"]


def test_empty_names_files_in_the_way_and_loops_of_the_remaining_path_options_are_one_line(cli, tmp_path, monkeypatch):
    """Pass 48: --inception-weights '' was "are a folder" (the working folder), `sweep ''` "cannot read suite .",
    `eval -d ''` the API's words; --junit and --data-root under a file said "does not exist" or "Not a
    directory" at the first download; a weights or suite link loop, "do not exist" or the OS's words."""
    monkeypatch.chdir(tmp_path)
    Path("loop").symlink_to("loop")
    Path("afile").write_text("")
    Path("s.toml").write_text('name = "s"\nvariants = ["nsgan"]\ndatasets = ["ring8"]\nseeds = "0"\nsteps = 5\n')
    loop = "loop is a symbolic link that leads back to itself; fix the link"
    for args, words in (
        (["eval", "-d", "ring8", "--samples", "x.npy", "--inception-weights", ""], "--inception-weights is empty"),
        (
            ["eval", "-d", "ring8", "--samples", "x.npy", "--inception-weights", "loop"],
            f"(from --inception-weights) {loop}",
        ),
        (["sweep", ""], "the suite file's name is empty; name a .toml file"),
        (["leaderboard", "update", " "], "the suite file's name is empty; name a .toml file"),
        (["sweep", "loop"], f"suite {loop}"),
        (["eval", "-d", "", "--samples", "x.npy"], "--dataset is empty; name one"),
        (["leaderboard", "check", "s.toml", "--junit", "afile/j.xml"], "afile is a file, not a folder; name a file in"),
        (
            ["run", "-v", "nsgan", "-d", "mnist", "--data-root", "afile/raw"],
            "afile is a file, not a folder; name a folder",
        ),
    ):
        assert_one_line_error(cli(*args), words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "loop", "s.toml"]


def test_arrays_of_the_wrong_rank_or_dtype_and_numpy_option_values_are_said_plainly(cli, tmp_path):
    """Pass 48: a 3-D images array was "it holds images" (it is named so), int16 "not torch.int16" of a numpy array,
    np.float32(1e-4) for lr_d "must be float" while np.int64 steps were taken."""
    np.savez(tmp_path / "grey.npz", images=np.zeros((40, 8, 8), np.uint8))
    np.savez(tmp_path / "short.npz", images=np.zeros((40, 8, 8, 3), np.int16))
    result = cli("run", "-v", "dcgan", "-d", str(tmp_path / "grey.npz"), "--steps", "1")
    assert_one_line_error(result, "it holds images of shape (40, 8, 8); give them a channel axis (4-D, e.g. N x 1 x H")
    result = cli("run", "-v", "dcgan", "-d", str(tmp_path / "short.npz"), "--steps", "1")
    assert_one_line_error(result, "images must be uint8 or float, not int16")
    np.savez(tmp_path / "fine.npz", images=np.zeros((40, 1, 8, 8), np.uint8))
    for key in ("path", "sha256"):  # "the images changed since the run's spec was made" of images that did not
        result = cli(
            "run", "-v", "dcgan", "-d", str(tmp_path / "fine.npz"), "--set", f"dataset.{key}=x", "--steps", "1"
        )
        assert_one_line_error(result, f"dataset option {key!r} comes from the dataset's name (", "not from an option")
    made = ganbench.create_spec("dcgan", str(tmp_path / "fine.npz"), steps=1, overrides={"network.width": 8})
    np.savez(tmp_path / "fine.npz", images=np.ones((40, 1, 8, 8), np.uint8))  # changed between a sweep's runs
    with pytest.raises(GanbenchError, match=r"restore them, or run the command again \(`run --dataset .*`, or the "
                       r"same sweep\): the images it reads now get a new run id$"):  # fmt: skip
        run_spec(made, tmp_path / "out")  # "start afresh with --dataset" of a sweep (pass 93)
    spec = ganbench.create_spec("nsgan", "ring8", overrides={"lr_d": np.float32(0.5), "batch_size": np.int64(32)})
    assert (spec.variant_options["lr_d"], spec.variant_options["batch_size"]) == (0.5, 32)
    with pytest.raises(GanbenchError, match=r"option 'batch_size' must be int, not True"):
        ganbench.create_spec("nsgan", "ring8", overrides={"batch_size": np.bool_(True)})
    spec = ganbench.create_spec("nsgan", "ring8", overrides={"spectral_norm": np.bool_(True)})  # refused, pass 61
    assert spec.variant_options["spectral_norm"] is True
    # steps=np.float64(20) was refused while batch_size 8.0 was taken (pass 64), seed=1.0 too (pass 66); 1e300 was
    # said in 301 digits, max_seconds=10**400 in 401
    assert ganbench.create_spec("nsgan", "ring8", steps=np.float64(20)).budget.steps == 20
    assert ganbench.create_spec("nsgan", "ring8", steps=2.0, overrides={"batch_size": 8.0}).budget.steps == 2
    for steps, said in ((2.5, "not 2.5"), (float("nan"), "nan"), (1e300, "at most 1,000,000,000, not about 10^300")):
        with pytest.raises(GanbenchError, match=re.escape(said)):
            ganbench.create_spec("nsgan", "ring8", steps=steps)
    spec = ganbench.create_spec("nsgan", "ring8", seed=1.0, eval_samples=np.float64(100), eval_every=5.0, steps=10)
    assert (spec.seed, spec.eval.n_samples, spec.eval.every) == (1, 100, 5)
    with pytest.raises(GanbenchError, match=re.escape("from 0.01 to 1e+09, not about 10^400; e.g.")):
        ganbench.create_spec("nsgan", "ring8", max_seconds=10**400)
    with pytest.raises(GanbenchError, match=re.escape("(or None: never), not 0")):  # left out, it is 1,000
        ganbench.run("nsgan", "ring8", out=str(tmp_path / "never"), steps=2, checkpoint_every=0)


def test_an_unknown_dataset_says_where_a_folder_of_that_name_was_looked_for(cli, tmp_path, monkeypatch):
    """`-d cls` from a folder without ./cls suggested `files` without saying no folder cls is here; a suite's
    dataset path is looked for beside the suite, and a misspelt registered name is still suggested."""
    monkeypatch.chdir(tmp_path)
    result = cli("run", "-v", "nsgan", "-d", "cls", "--steps", "2", "-q")
    assert_one_line_error(
        result, "unknown dataset 'cls'", f"nor is there a folder or .npz/.npy file 'cls' in {tmp_path}"
    )
    result = cli("eval", "-d", "cls", "--samples", "x.npy", "-m", "frechet")  # eval's -d takes folders too
    assert_one_line_error(
        result, "unknown dataset 'cls'", f"nor is there a folder or .npz/.npy file 'cls' in {tmp_path}"
    )
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "s.toml").write_text('variants = ["nsgan"]\ndatasets = ["rign8", "mine/pngs"]\nsteps = 2\n')
    result = cli("sweep", "suites/s.toml", "-q", "-o", "out")
    assert_one_line_error(result, "s.toml:2: unknown dataset 'rign8'; did you mean ring8?", "beside the suite, in")
    (tmp_path / "suites" / "s.toml").write_text('variants = ["nsgan"]\ndatasets = ["mine/pngs"]\nsteps = 2\n')
    (tmp_path / "mine" / "pngs").mkdir(parents=True)  # here, not beside the suite: not taken
    result = cli("sweep", "suites/s.toml", "-q", "-o", "out")
    assert_one_line_error(result, "dataset 'suites/mine/pngs' is neither a registered dataset nor an existing folder")
    assert not (tmp_path / "out").exists()
    result = cli("run", "-v", "nsgan", "-d", "./mine/pnsg", "--steps", "2", "-q")  # a typo in a path: the near one
    assert_one_line_error(result, "dataset './mine/pnsg' is neither", "did you mean ./mine/pngs?")
    for typed, meant in (
        ("./mien/pngs", "./mine/pngs"),
        ("MINE/PNGS", "mine/pngs"),
        ("mine/../mien/pngs", "mine/../mine/pngs"),
    ):
        result = cli("run", "-v", "nsgan", "-d", typed, "--steps", "2", "-q")  # a typo before the last part too
        assert_one_line_error(result, f"did you mean {meant}?")
    monkeypatch.setenv("HOME", str(tmp_path))
    result = cli("run", "-v", "nsgan", "-d", "~/mine/pnsg", "--steps", "2", "-q")  # below a quoted "~" too
    assert_one_line_error(result, "dataset '~/mine/pnsg' is neither", "did you mean ~/mine/pngs?")
    result = cli("run", "-v", "nsgan", "-d", "MINE", "--steps", "2", "-q")  # a folder's name in other case
    assert_one_line_error(result, "dataset 'MINE' is neither a registered dataset nor", "; did you mean mine?")
    result = cli("run", "-v", "nsgan", "-d", "mien", "--steps", "2", "-q")
    assert_one_line_error(result, f"'mien' in {tmp_path} (did you mean mine?)")
    (tmp_path / "mine" / "pngs" / "0.png").write_bytes(b"")  # one image, not a folder of them
    result = cli("run", "-v", "nsgan", "-d", "mine/pngs/0.png", "--steps", "2", "-q")
    assert_one_line_error(
        result, "'mine/pngs/0.png' is a file, not a folder", "pass the folder of images it is in (./mine/pngs)"
    )
    (tmp_path / "mine" / "s.toml").write_text('variants = ["nsgan"]\ndatasets = ["pngs/0.png"]\nsteps = 2\n')
    result = cli("sweep", "mine/s.toml", "-q", "-o", "out")  # the suite's paths are from its folder (pass 63: ./mine)
    assert_one_line_error(result, "s.toml:2: ", "pass the folder of images it is in (from the suite's folder, 'pngs')")
    (tmp_path / "mine" / "arr").mkdir()
    (tmp_path / "mine" / "arr" / "data.pt").write_bytes(b"PK\x03\x04")  # not an image: its folder holds none
    result = cli("run", "-v", "nsgan", "-d", "mine/arr/data.pt", "--steps", "2", "-q")
    assert_one_line_error(result, "'mine/arr/data.pt' is a file, not a folder", "save the data as .npz (numpy.savez")
    assert "pass the folder" not in result.err  # it was told, of a folder with no images (pass 54)
    result = cli("eval", "-d", "digits", "--samples", "mine/pngs/0.png")  # one image: its folder, not numpy.save
    assert_one_line_error(result, "0.png is one image; pass the folder of images it is in (", "pngs, say), or an")
    result = cli("run", "-v", "nsgan", "-d", "mine/pngs/0.png/x", "--steps", "2", "-q")  # a path through a file
    assert_one_line_error(result, "'mine/pngs/0.png/x' is neither", "; mine/pngs/0.png is a file, not a folder")
    result = cli("run", "-v", "nsgan", "-d", "RING8", "--steps", "2", "-q")  # case is a typo too
    assert_one_line_error(result, "unknown dataset 'RING8'; did you mean ring8")


@pytest.mark.parametrize("samples", ["", "  "])
def test_evaluate_samples_named_by_an_empty_string_says_so(samples):
    """The API said "samples  do not exist" (a name never given, pass 50 F7); the CLI refused it already."""
    with pytest.raises(ganbench.GanbenchError, match=r"^samples is '\s*', which names no file; pass the path of an"):
        ganbench.evaluate_samples("ring8", samples)


def test_image_sizes_are_width_x_height_in_every_message(cli, tmp_path, monkeypatch):
    """A folder of images 16 wide and 8 high was "not 8x16" to dcgan and 16x8 where sizes differ (pass 54)."""
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    (tmp_path / "wide").mkdir()
    for i in range(4):
        Image.fromarray(np.full((8, 16), 40 * i, np.uint8)).save(tmp_path / "wide" / f"{i}.png")  # 8 rows of 16
    result = cli("run", "-v", "dcgan", "-d", "wide", "--steps", "2", "-q")
    assert_one_line_error(result, "needs square images, not 16 wide and 8 high")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "wide" / "9.png")
    result = cli("run", "-v", "dcgan", "-d", "wide", "--steps", "2", "-q")
    assert_one_line_error(result, "is 16x8", "is 16x16; resize them to one size")


def test_a_library_warning_of_several_lines_is_one_line_of_words():
    """torch's warnings span lines; shown as one line they read as words, not with literal \\n between them."""
    from ganbench.errors import one_line, one_line_warning

    several = UserWarning("first line\n   second line\n\n")
    assert one_line_warning(several, UserWarning) == "warning: first line second line\n"
    quoted = f"a file named {one_line('a' + chr(10) + 'b')} is odd"  # ganbench's own: the newline already escaped
    assert one_line_warning(UserWarning(quoted), UserWarning) == "warning: a file named a\\nb is odd\n"
    assert one_line_warning("bell \a here", UserWarning) == "warning: bell \\x07 here\n"


@pytest.mark.parametrize(
    "body, line, advice",
    [
        ('metrics = ["fid"]', 5, "the dataset offers raw); drop it from metrics"),
        ('metrics = ["modes", "fid_inception"]', 5, "which dataset 'ring8' does not offer (it offers raw); drop it"),
        ("[set]\nnetwork = {width = 8}", 6, 'name another, e.g. network = "mlp")'),  # no line before (inline)
        ("[set]\nbatch_size = 9223372036854775808", 6, "not 9223372036854775808 ([set] batch_size = VALUE)"),
        ("[set]\nn_critic = 'many'", 6, "option 'n_critic' must be int, not 'many' ([set] n_critic = VALUE)"),
        # pass 61: flags left in messages of the code run shares, a line of another key, a check at sweep time
        ("eval_every = 0", 5, "eval_every must be a whole number of steps from 1"),
        ("[set]\nstyle_mixing = 0.9", 6, 'use network = "stylegan2" (images) or [set] style_mixing = 0'),
        ('metrics = ["prdc"]\neval_samples = 3', 6, "eval_samples 3 is too few; e.g. eval_samples = 1000"),
        ("[set]\nbatch_size = 1", 6, "one sample per channel, which it cannot normalise; [set] batch_size = 2"),
        ("lr_d = 1979-05-27", 5, "unknown key 'lr_d'"),
        # pass 66: the dataset or network chosen in [set], in the command line's words; a suite key put in [set]
        (
            '[set]\ndataset = "grid25"',
            6,
            '[set] dataset = "grid25" sets no option: the dataset is chosen with datasets = ["grid25"]',
        ),  # fmt: skip
        ('[set]\nnetwork = "m l p"', 6, 'the network is chosen with network = "m l p"'),
        ("[set]\nsteps = 20", 6, "has no option 'steps'; its options are: "),
        ("[set]\nsteps = 20", 6, "; steps is a key of the suite itself: write it above [set]"),
        # pass 67: the hint before "the suite's only metric"; shell quotes inside TOML
        ('metrics = ["modes"]\n[set]\nmetrics = ["modes"]', 7, "; metrics is a key of the suite itself: write it"),
        ('[set]\nnetwork = "m\'lp"', 6, 'the network is chosen with network = "m\'lp"'),
        # pass 68: a quoted key's escapes, read as TOML reads them (no line before); a quote inside a literal key
        ('[set]\n"a\\"b" = 1', 6, "variant 'nsgan' has no option 'a\"b'"),
        ('[set.network]\n"w\\u0069dth" = 1', 6, "has no option 'width'"),
        ("[set]\n'\"x\"' = 1", 6, "has no option '\"x\"'"),
        # pass 69: keys Python quotes otherwise ("a'b", 'de\tpth', 'a\x00b') were said at [set] or at no line
        ('[set]\n"a\'b" = 1', 6, 'has no option "a\'b"'),
        ('[set]\nnetwork."de\\tpth" = 1', 6, "has no option 'de\\tpth'"),
        ('[set]\n"a\\u0000b" = 1', 6, "has no option 'a\\x00b'"),
        # pass 69: an error of two options was said at the variants line
        ("[set]\nema_decay = 0.9\nema_kimg = 2.0", 7, "set one of them to 0 ([set] ema_kimg = 0 or [set] ema_decay"),
        ("[set]\nbatch_size = 4\npl_weight = 1.0\npl_batch_shrink = 8", 8, "; lower [set] pl_batch_shrink"),
        # pass 68: a value that is no name was echoed in Python's words and advised as one ("True")
        (
            "[set]\nnetwork = true",
            6,
            '[set] network = true sets no option: the network is chosen with network = "NAME"',
        ),
        ("[set]\ndataset = 3", 6, '[set] dataset = 3 sets no option: the dataset is chosen with datasets = ["NAME"]'),
        ('[set]\nnetwork = ""', 6, '[set] network = "" sets no option: the network is chosen with network = "NAME"'),
    ],
)
def test_a_suite_s_errors_give_its_line_and_advice_in_its_own_words(cli, tmp_path, body, line, advice):
    """Errors made by the code `run` shares gave a suite's user command-line advice ("drop it from --metrics",
    "(--set batch_size=VALUE)", "--network mlp") and, for an inline table, no line (pass 59)."""
    suite = tmp_path / "s.toml"
    suite.write_text(f'name = "s"\nvariants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 3\n{body}\n')
    result = cli("sweep", str(suite), "-q", "-o", str(tmp_path / "out"))
    assert_one_line_error(result, f"s.toml:{line}: " if line else "s.toml: ", advice)
    assert "--" not in result.err, result.err
    assert not (tmp_path / "out").exists()


def test_command_line_advice_is_spelled_as_a_suite_spells_it():
    from ganbench.suites import suite_spelling

    assert suite_spelling("too few; --set dataset.n_samples=20000 (or fewer metrics)") == (
        "too few; [set] dataset.n_samples = 20000 (or fewer metrics)"
    )
    assert suite_spelling("score without fid: --metrics kid,prdc") == 'score without fid: metrics = ["kid", "prdc"]'
    assert suite_spelling("lower --set batch_size, or --set diffaugment= turns it off; use --network dcgan") == (
        'lower [set] batch_size, or [set] diffaugment = "" turns it off; use network = "dcgan"'
    )
    assert suite_spelling("e.g. --eval-samples 1000; e.g. --steps 2000 or other --metrics") == (
        "e.g. eval_samples = 1000; e.g. steps = 2000 or other metrics"
    )
    assert suite_spelling("eval_every (--eval-every) must be; e.g. --truncation 1.0; or --eval-every 500") == (
        "eval_every must be; e.g. truncation = 1.0; or eval_every = 500"
    )


@pytest.mark.parametrize(
    "text, line",
    [
        ('description = """\nbatch_size = 64 is the paper\'s\n"""\n[set]\nbatch_size = 0', 9),  # not in a string
        ('network = "mlp"\n[set]\n"network.init_gain" = 1.0\n"network.gain" = 2', 8),  # not a longer key
        ("[set]\nsteps = 20", 6),  # the option in [set], not the suite's own steps (line 4)
        # pass 65: a key of several [set.*] tables, the first one's line; a dotted or inline tolerance, none
        ("[set]\nsigma = 0.5\n[set.dataset]\nsigma = -1", 8),
        ('[set]\n"dataset.sigma" = -1', 6),
        ("set.dataset.sigma = -1", 5),
        ('metrics = ["modes"]\ntolerance.modes_captured = -0.1', 6),
        ('metrics = ["modes"]\ntolerance.fid = 0.1', 6),
        ('metrics = ["modes"]\ntolerance = {modes_captured = 9}', 6),
        # pass 66: three quotes in a comment or a one-line string, a line break only Python sees, a dotted key
        ('description = "x"  # a """ here\n[set]\nlr_d = -1', 7),
        ('description = \'x"""\'\n[set]\nlr_d = -1', 7),
        ('description = """a \\""" b\nlr_d = 1\n"""\n[set]\nlr_d = -1', 9),
        ('description = "para\u2028sep"  # \x85\n[set]\nlr_d = -1', 7),
        ("foo.bar = 1", 5),
        ("[foo.bar]\nx = 1", 5),
        ('[set]\nnetwork = "mlp"', 6),
    ],
)
def test_a_suite_error_names_the_line_of_the_key_it_is_about(cli, tmp_path, text, line):
    """Pass 61: a key's text inside a multi-line string, a longer key ending alike and a top-level key of the
    option's name were taken for the key. Pass 65: the same key in another [set.*] table too."""
    suite = tmp_path / "s.toml"
    suite.write_text(f'name = "s"\nvariants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 20\n{text}\n')
    assert_one_line_error(cli("sweep", str(suite), "-q", "-o", str(tmp_path / "out")), f"s.toml:{line}: ")


def test_run_suite_and_load_suite_refuse_wrong_arguments_in_one_line_before_anything_starts(tmp_path):
    """From Python, run_suite(workers="x") was a TypeError from deep inside, workers=0 trained, and force="no" made
    every run fail on the same argument (pass 66)."""
    from ganbench.suites import load_suite
    from ganbench.sweeps import run_suite

    for path in (None, 5, b"x"):
        with pytest.raises(GanbenchError, match=r"^a suite is named by its file's path \(text or a Path\), not "):
            load_suite(path)
    (tmp_path / "s.toml").write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 2\n')
    suite = load_suite(tmp_path / "s.toml")
    out = tmp_path / "out"
    for arguments, said in (
        ({"workers": "x"}, "workers must be a whole number from 1, not 'x'"),
        ({"workers": 2.5}, "workers must be a whole number from 1, not 2.5"),
        ({"workers": 0}, "workers must be a whole number from 1, not 0"),
        ({"workers": True}, "workers must be a whole number from 1, not True"),
        ({"executor_options": [1]}, "executor_options must map option names to values, not [1]"),
        ({"out": 5}, "out must name a results folder (text or a Path, without NUL), not 5"),
        ({"force": "no"}, "force must be True or False, not 'no'"),
        ({"checkpoint_every": 0}, "checkpoint_every (--checkpoint-every) must be a whole number of steps from 1"),
    ):
        with pytest.raises(GanbenchError, match=re.escape(said)):
            run_suite(suite, **{"out": out, **arguments})
    with pytest.raises(GanbenchError, match=re.escape("suite must be a Suite (ganbench.load_suite reads")):
        run_suite(str(tmp_path / "s.toml"), out=out)
    assert not out.exists()


def test_a_suites_data_a_run_count_and_a_checkpoints_advice_are_said_at_their_lines_in_its_words(cli, tmp_path):
    """Pass 66: a dataset that fails as its runs are built and a suite of too many runs had no line; a failed run's
    advice named `ganbench run`'s --force, which the suite commands do not take."""
    from ganbench.suites import suite_spelling

    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "d.toml").write_text('variants = ["nsgan"]\ndatasets = ["empty.npz"]\nsteps = 2\n')
    assert_one_line_error(cli("sweep", str(tmp_path / "d.toml"), "-q"), "d.toml:2: nsgan on empty.npz: ", "is empty")
    (tmp_path / "m.toml").write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 2\nseeds = "0-150"\n')
    result = cli("sweep", str(tmp_path / "m.toml"), "-q", "-o", str(tmp_path / "out"))
    assert_one_line_error(result, "m.toml:4: the suite asks for 151 runs", "pass --yes")
    said = "it is damaged; delete x/checkpoint.pt to start this run afresh (`ganbench run` also takes --force)"
    assert suite_spelling(said) == "it is damaged; delete x/checkpoint.pt to start this run afresh"
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux), a device every write fills")
def test_a_standard_error_that_cannot_be_written_keeps_the_exit_code_and_a_closed_output_is_said_first(tmp_path):
    """`sweep bad.toml 2>/dev/full` exited 1, not 2; `leaderboard check >&-` trained every run, then said it could not
    write its verdicts (pass 66)."""
    import subprocess
    import sys

    ganbench_command = str(Path(sys.executable).parent / "ganbench")
    (tmp_path / "bad.toml").write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 0\n')
    done = subprocess.run([ganbench_command, "sweep", "bad.toml"], cwd=tmp_path, stderr=open("/dev/full", "w"))
    assert done.returncode == 2
    (tmp_path / "s.toml").write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 2\nmetrics = ["modes"]\n')
    done = subprocess.run(
        f"{ganbench_command} leaderboard check s.toml --results out -q >&-", shell=True, cwd=tmp_path, text=True,
        capture_output=True,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("Error: cannot write the output to standard output (it is")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "s.toml"]


def test_the_memory_pre_check_counts_a_process_cap_and_names_it(tmp_path):
    """Under `ulimit -v`, an mlp of 8 GiB of parameters passed the pre-check (the host had 22 GiB free), then ran out
    of memory at step 0, advised to lower batch_size, which did nothing, and left a folder (pass 66)."""
    import resource
    import subprocess
    import sys

    def capped() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (6 * 10**9, resource.getrlimit(resource.RLIMIT_AS)[1]))

    command = [str(Path(sys.executable).parent / "ganbench"), "run", "-v", "gan", "-d", "ring8", "-n", "mlp", "-q"]
    big = ["--set", "network.width=16384", "--set", "network.depth=2", "--steps", "2", "-m", "modes"]
    done = subprocess.run(
        [*command, *big, "-o", "out"], cwd=tmp_path, capture_output=True, text=True, preexec_fn=capped
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert re.match(
        r"Error: network 'mlp' with these options holds 537,051,139 parameters: 14\.0 GiB with gradients and Adam's "
        r"state \(and a checkpoint of them\), more than the [\d.]+ GiB a process may still take here \(ulimit -v\); "
        r"lower --set network\.width$",
        done.stderr,
    ), done.stderr
    assert not (tmp_path / "out").exists()


def test_pass_67_streams_memory_labels_and_api_arguments(tmp_path, cli):
    """Pass 67: a closed stderr failed run and check (exit 1, nothing said: a regression to a CI); workers failed
    every run on a stderr they could not write; Python's MemoryError was a traceback; biggan was named for cgan's
    option; cgan on one class blamed --metrics; numpy's bools and 2.0 workers were refused."""
    import subprocess
    import sys

    import numpy as np

    from ganbench.devices import out_of_memory
    from ganbench.suites import load_suite
    from ganbench.sweeps import run_suite

    ganbench_command = str(Path(sys.executable).parent / "ganbench")
    run = f"{ganbench_command} run -v nsgan -d ring8 --steps 3 -n mlp -m modes --eval-samples 50 -q"
    done = subprocess.run(f"{run} -o closed 2>&-", shell=True, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and len(list(tmp_path.glob("closed/*/record.json"))) == 1
    done = subprocess.run(f"{run} -s 0,1 --workers 2 -o full 2>/dev/full", shell=True, cwd=tmp_path)
    assert done.returncode == 0 and len(list(tmp_path.glob("full/*/record.json"))) == 2
    try:
        try:
            raise MemoryError
        except MemoryError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 4903872 vs 4903764")  # noqa: B904 (as torch.save raises it)
    except RuntimeError as exc:
        assert out_of_memory(exc) == "Python could not allocate"
    assert out_of_memory(RuntimeError("unexpected pos")) is None
    result = cli("run", "-v", "cgan", "-d", "digits", "-n", "dcgan", "--set", "network.shared_dim=8", "-q")
    assert_one_line_error(result, "network 'dcgan' has no option 'shared_dim'")
    assert "biggan" not in result.err  # it takes labels by projection, which cgan's do not come as
    np.savez(tmp_path / "one.npz", images=np.zeros((40, 8, 8, 3), np.uint8), labels=np.zeros(40, int))
    result = cli("run", "-v", "cgan", "-d", str(tmp_path / "one.npz"), "--steps", "1", "-q", "-o", str(tmp_path / "o"))
    assert_one_line_error(result, "variant 'cgan' is class-conditional but dataset 'files'", "has one class; pick")
    record = ganbench.run("nsgan", "ring8", out=str(tmp_path / "api"), steps=2, metrics=["modes"], eval_samples=50,
                          force=np.True_, progress=np.False_)  # fmt: skip
    assert record.status == "completed"
    (tmp_path / "s.toml").write_text('variants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 2\nmetrics = ["modes"]\n')
    records = run_suite(load_suite(tmp_path / "s.toml"), out=tmp_path / "swept", workers=1.0, force=np.False_)
    assert [r.status for r in records] == ["completed"]
    with pytest.raises(GanbenchError, match="a suite's path holds a NUL character"):
        load_suite("a\0b")


def test_pass_68_suites_and_api_arguments(cli, tmp_path, monkeypatch):
    """A NUL after "~" in a dataset's name was a traceback (expanduser); run_suite took progress="no" (and drew the
    bar) and failed every run of an out that is a file; a suite not in UTF-8 was told a byte offset; the empty key of
    an inline table, and pack's advice, were said at no line or at the variants line; diffaugment's example was not
    TOML; a dataset without options said "its options are: none"."""
    from ganbench.errors import OptionError, OutputError, UnknownNameError
    from ganbench.suites import load_suite
    from ganbench.sweeps import run_suite

    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownNameError, match="unknown dataset"):
        ganbench.create_spec("nsgan", "~\0")
    with pytest.raises(UnknownNameError, match="unknown dataset"):
        ganbench.evaluate_samples("~\0", np.zeros((10, 2)))
    head = 'variants = ["nsgan"]\nsteps = 2\nmetrics = ["modes"]\n'
    (tmp_path / "nul.toml").write_text(head + 'datasets = ["~\\u0000"]\n')
    assert_one_line_error(cli("sweep", "nul.toml", "-q"), "nul.toml:4: unknown dataset '~\\x00'")
    (tmp_path / "s.toml").write_text(head + 'datasets = ["ring8"]\n')
    suite = load_suite("s.toml")
    for progress in ("no", None, []):
        with pytest.raises(OptionError, match="progress must be True or False"):
            run_suite(suite, out="res", progress=progress)
    with pytest.raises(OutputError, match="out s.toml is a file, not a folder; name a results folder"):
        run_suite(suite, out="s.toml")
    with pytest.raises(OutputError, match="out s.toml/x is below s.toml, a file, not a folder"):  # pass 69
        run_suite(suite, out="s.toml/x")
    assert not (tmp_path / "res").exists()
    (tmp_path / "latin.toml").write_bytes((head + 'datasets = ["ring8"]\n# caf\xe9\n').encode("latin-1"))
    assert_one_line_error(cli("sweep", "latin.toml"), "latin.toml:5: the suite is not UTF-8 text (byte 0xe9); save")
    for encoding, said in (("utf-16", "UTF-16"), ("utf-32", "UTF-32"), ("utf-16-le", "UTF-16 or UTF-32 (no byte")):
        (tmp_path / "wide.toml").write_text(head, encoding=encoding)  # pass 69: UTF-32 was "UTF-16", no mark TOML's
        assert_one_line_error(cli("sweep", "wide.toml"), f"wide.toml:1: the suite is {said}", "save it as UTF-8")
    with pytest.raises(GanbenchError, match="an executor is named by text, not 3"):  # "a executor"
        run_suite(suite, out="res", executor=3)
    cgan = head.replace("nsgan", "cgan").replace("modes", "fid_classifier")
    for text, said in [
        (head + 'datasets = ["ring8"]\n[set]\nnetwork = {"" = 3}', "s.toml:6: network 'pacgan-mlp' has no option ''"),
        (cgan + 'datasets = ["digits"]\n[set]\nnetwork.width = 4\npack = 2', "s.toml:7: variant 'cgan' is class-"),
        (
            cgan + 'datasets = ["digits"]\n[set]\ndiffaugment = "colour"',
            "s.toml:6: variant 'cgan' option 'diffaugment' has no policy 'colour'; choose from color, translation,"
            ' cutout; e.g. [set] diffaugment = "color,translation,cutout"',
        ),
        (
            cgan + 'datasets = ["digits"]\n[set]\ndataset.split = "test"',
            "dataset 'digits' has no option 'split'; it has",
        ),
    ]:
        (tmp_path / "s.toml").write_text(text)
        assert_one_line_error(cli("sweep", "s.toml", "-q"), said)
    (tmp_path / "s.toml").write_text(cgan + 'datasets = ["digits"]\n[set]\ndiffaugment = "color,translation,cutout"')
    assert load_suite("s.toml").overrides["diffaugment"] == "color,translation,cutout"  # the advice is a suite's
    result = cli("run", "-v", "nsgan", "-d", "ring8", "--set", "diffaugment=colour", "-q")
    assert_one_line_error(result, "e.g. --set diffaugment='color,translation,cutout'")


def test_pass_70_memory_plugins_flags_and_api_paths(cli, tmp_path, monkeypatch):
    """A plugin's own bug raised while it handled a MemoryError was told "ran out of memory" (its traceback and
    name hidden); eval's library out of memory blamed the samples; a sweep's pre-check out of memory as it loaded
    the data spelled --set, at no line; `--set quiet=maybe` was told "leave --quiet out"; the API made a folder "~"
    of out="~/x"; stylegan2's own ema_kimg sent the two-option error to the variants line."""
    from ganbench.devices import out_of_memory
    from ganbench.suites import load_suite
    from ganbench.sweeps import run_suite

    try:
        try:
            raise MemoryError
        except MemoryError:
            {}["logger_bug"]
    except KeyError as exc:
        assert out_of_memory(exc) is None
    monkeypatch.chdir(tmp_path)

    def load_checked(*args, **kwargs):
        raise MemoryError

    (tmp_path / "s.toml").write_text(
        'variants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 2\nmetrics = ["modes"]\n[set]\ndataset.n_samples = 9000\n'
    )
    with monkeypatch.context() as patched:
        patched.setattr("ganbench.training.load_checked", load_checked)
        result = cli("sweep", "s.toml", "-q", "-o", "swept")
    assert_one_line_error(result, "s.toml:6: reading the dataset ran out of memory", "[set] dataset.n_samples")
    assert "--set" not in result.err and not (tmp_path / "swept").exists()

    def library(*args, **kwargs):
        raise ImportError("libscipy.so: failed to map segment from shared object")

    np.save(tmp_path / "p.npy", np.zeros((50, 2), np.float32))
    with monkeypatch.context() as patched:
        patched.setattr("ganbench.evaluation.select_metrics", library)
        result = cli("eval", "-d", "ring8", "--samples", "p.npy")
    assert_one_line_error(result, "loading a library ran out of memory (a library could not be loaded into memory)")
    result = cli("run", "-v", "nsgan", "-d", "ring8", "--set", "quiet=maybe", "-q")
    assert_one_line_error(result, "quiet is this command's own flag: --quiet (a flag: no value)")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (record,) = run_suite(load_suite("s.toml"), out="~/swept", progress=False)
    assert Path(record.run_dir).parent == tmp_path / "home" / "swept" and not (tmp_path / "~").exists()
    (tmp_path / "g.toml").write_text(
        'variants = ["stylegan2"]\ndatasets = ["digits"]\nsteps = 3\n[set]\nema_decay = 0.99\n'
    )
    assert_one_line_error(cli("leaderboard", "show", "g.toml"), "g.toml:5: variant 'stylegan2' sets both ema_decay")


def test_pass_71_out_of_memory_reading_files_training_the_classifier_and_importing(cli, tmp_path, monkeypatch):
    """A sound checkpoint that did not fit was called corrupt ("delete it"), and its resume advised --force, which
    needs as much to save one; eval's samples file too; the classifier space's training was blamed on the samples
    (lowering them looped); an import that ran out was blamed on the batch that called it; the catch-all's own
    import could fail as memory ran out, a traceback (pass 71)."""
    import sys

    from ganbench import cli as cli_module
    from ganbench.devices import out_of_memory
    from ganbench.errors import PluginError
    from ganbench.torchfiles import load_torch_file

    def allocator_refuses(*args, **kwargs):  # a new one each time: a raised one keeps its traceback's frames
        raise RuntimeError(str(ALLOCATOR_REFUSES))

    torch.save(torch.zeros(3), tmp_path / "s.pt")
    with monkeypatch.context() as patched:
        patched.setattr("ganbench.torchfiles.torch.load", allocator_refuses)
        with pytest.raises(RuntimeError, match="can't allocate memory"):  # not TorchFileError "truncated or corrupt"
            load_torch_file(tmp_path / "s.pt")
        result = cli("eval", "-d", "ring8", "--samples", str(tmp_path / "s.pt"))
    assert_one_line_error(result, "reading a file of arrays ran out of memory (it asked for 1.5 GiB more); give it")
    run = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "2", "-m", "modes", "-q", "--eval-samples", "50"]
    out = tmp_path / "resumed"
    assert cli(*run, "-o", str(out), "--checkpoint-every", "1").code == 0
    (record,) = out.glob("*/record.json")
    record.unlink()
    with monkeypatch.context() as patched:
        patched.setattr("ganbench.torchfiles.torch.load", allocator_refuses)
        result = cli(*run, "-o", str(out), "--checkpoint-every", "1")
    assert_one_line_error(
        result, "as it read its checkpoint to resume (it asked for 1.5 GiB more); give it more memory (ulimit -v"
    )
    assert "corrupt" not in result.err and "--force" not in result.err and (record.parent / "checkpoint.pt").exists()

    def train_classifier(*args, **kwargs):
        allocator_refuses()

    np.save(tmp_path / "d.npy", np.zeros((20, 1, 8, 8), np.uint8))
    with monkeypatch.context() as patched:
        patched.setattr("ganbench.features.classifier.train_classifier", train_classifier)
        patched.setattr("ganbench.features.classifier._loaded", {})
        patched.setattr("ganbench.features.classifier.load_entry", lambda *args: None)
        result = cli("eval", "-d", "digits", "--samples", str(tmp_path / "d.npy"), "-m", "fid_classifier")
        assert_one_line_error(
            result, "training the classifier space's network on the dataset's images ran out of memory (it asked for "
            "1.5 GiB more); give it more memory (ulimit -v, a container's limit), use a smaller dataset, or name no "
            "metrics of the classifier space"
        )  # fmt: skip
        image_run = ["run", "-v", "dcgan", "-d", "digits", "--set", "network.width=4", "--steps", "1", "-q"]
        result = cli(*image_run, "-m", "fid_classifier", "--eval-samples", "20", "-o", str(tmp_path / "img"))
    assert_one_line_error(result, "as it trained the classifier space's network on the dataset's images (it asked")
    assert "eval-samples" not in result.err

    (tmp_path / "hungry_module.py").write_text("raise MemoryError\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def score(*args, **kwargs):  # torch._dynamo imported by nn.init under ulimit -v: its compile ran out
        import hungry_module  # noqa: F401

    with monkeypatch.context() as patched:
        patched.setattr("ganbench.harness.score", score)
        result = cli(*run, "-o", str(tmp_path / "imports"))
    assert_one_line_error(result, "as it loaded a library (Python could not allocate); give it more memory")
    sys.modules.pop("hungry_module", None)

    assert out_of_memory(PluginError(f"logger of plugin 'x' failed: RuntimeError: {ALLOCATOR_REFUSES}")) is None
    assert out_of_memory(ValueError("can't allocate memory")) is None  # a plugin's own words
    assert out_of_memory(ALLOCATOR_REFUSES) == "it asked for 1.5 GiB more"
    with monkeypatch.context() as patched:
        patched.setitem(sys.modules, "ganbench.devices", None)  # importing it fails as memory runs out
        assert cli_module._out_of_memory_line(MemoryError()) == (
            "ganbench ran out of memory; give it more memory (ulimit -v, a container's limit)"
        )
        assert cli_module._out_of_memory_line(KeyError("x")) is None


def test_pass_71_results_above_tilde_paths_and_plot_directions(cli, tmp_path, monkeypatch):
    """`--results .` two levels above a suite's runs (results/NAME) trained every run again; `eval --dataset=~/x`
    and the API's load_results, evaluate_samples and load_suite did not expand "~"; plot_results with directions
    deleted an earlier plot's figure; plot_results, run_suite and load_suite were not ganbench's (pass 71)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s5.toml").write_text(
        'name = "s5"\nvariants = ["nsgan"]\ndatasets = ["ring8"]\nseeds = "0"\nsteps = 2\nmetrics = ["modes"]\n'
        "eval_samples = 50\n"
    )
    assert cli("sweep", "s5.toml", "-q").code == 0
    for command in ("show", "check", "update"):
        result = cli("leaderboard", command, "s5.toml", "--results", ".", *(["-q"] if command != "show" else []))
        assert_one_line_error(result, "none of the 1 run of suite 's5' is in .; they are in results/s5: pass --results")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "s5.toml"]
    monkeypatch.setenv("HOME", str(tmp_path))
    np.save(tmp_path / "p.npy", np.zeros((50, 2), np.float32))
    assert set(ganbench.evaluate_samples("ring8", "~/p.npy", metrics=["modes"])) >= {"modes_captured"}
    assert len(ganbench.load_results("~/results/s5")) == 1
    assert ganbench.load_suite("~/s5.toml").name == "s5"
    images = tmp_path / "imgs.npz"
    np.savez(images, x=np.random.default_rng(0).integers(0, 256, (30, 1, 8, 8), dtype=np.uint8), y=np.arange(30) % 3)
    np.save(tmp_path / "fake.npy", np.zeros((30, 1, 8, 8), np.uint8))
    result = cli("eval", "--dataset=~/imgs.npz", "--samples", "fake.npy", "-m", "fid_classifier")
    assert result.code == 0 and "does not exist" not in result.err, result.err
    first = ganbench.plot_results("results/s5")
    assert any(p.name == "leaderboard-ring8.png" for p in first)
    warned = []
    ganbench.plot_results("results/s5", directions={"nothing": "lower"}, on_problem=warned.append)
    assert (tmp_path / "results" / "s5" / "figures" / "leaderboard-ring8.png").is_file(), warned
    assert ganbench.run_suite is ganbench.sweeps.run_suite and "plot_results" in ganbench.__all__


def test_pass_72_onednn_capped_imports_reference_rows_and_a_resume_too_big(cli, tmp_path, monkeypatch):
    """Pass 72: oneDNN's "could not create a primitive" under ulimit -v was a traceback at a convolution's backward;
    an import that failed oddly under a cap (SystemError, a segment not mapped while devices itself could not be
    imported) was a traceback; eval threw away the samples' scores when its reference rows ran out of memory;
    a run that resumes was told by the memory pre-check to shrink its network (another run); a bare MemoryError
    of a plugin read "MemoryError: ;"."""
    import resource
    import sys

    from ganbench import cli as cli_module
    from ganbench import memory_limits
    from ganbench.devices import out_of_memory
    from ganbench.errors import PluginError

    primitive = RuntimeError("could not create a primitive")
    assert out_of_memory(primitive) == "oneDNN could not create a primitive"

    def fit(self, *args, **kwargs):
        raise RuntimeError("could not create a primitive")

    run = ["run", "-v", "nsgan", "-d", "ring8", "--steps", "2", "-m", "modes", "-q", "--eval-samples", "50"]
    with monkeypatch.context() as patched:
        patched.setattr("ganbench.training.Trainer.fit", fit)
        result = cli(*run, "-o", str(tmp_path / "primitive"))
    assert_one_line_error(result, "at step 0 (oneDNN could not create a primitive); lower --set batch_size")

    (tmp_path / "odd_module.py").write_text("raise SystemError('error return without exception set')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        import odd_module  # noqa: F401
    except SystemError as exc:
        failed = exc
    sys.modules.pop("odd_module", None)
    unmapped = ImportError("libpandas.so: failed to map segment from shared object")
    with monkeypatch.context() as patched:
        patched.setattr(memory_limits, "memory_is_short", lambda: True)
        assert memory_limits.capped_import_line(failed) == (
            "loading a library failed under this process's memory cap (ulimit -v): error return without exception "
            "set; give it more memory (ulimit -v, a container's limit)"
        )
        assert memory_limits.capped_import_line(unmapped).startswith("loading a library failed under")
        assert memory_limits.capped_import_line(SystemError("not in an import")) is None
        patched.setitem(sys.modules, "ganbench.devices", None)
        assert cli_module._out_of_memory_line(unmapped).startswith("loading a library failed under")
    with monkeypatch.context() as patched:  # memory not short (no cap, or a wide one): a bug, its traceback stands
        patched.setattr(memory_limits, "memory_is_short", lambda: False)
        assert memory_limits.capped_import_line(failed) is None
        assert memory_limits.capped_import_line(unmapped) is None
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    for soft, short in ((mapped + 2**20, True), (mapped + 60 * 2**30, False), (resource.RLIM_INFINITY, False)):
        with monkeypatch.context() as patched:  # pass 73: any finite cap, 60 GB too, told a plugin's bug as memory
            patched.setattr(resource, "getrlimit", lambda which, soft=soft: (soft, resource.RLIM_INFINITY))
            assert memory_limits.memory_is_short() is short
    with monkeypatch.context() as patched:
        patched.setattr(memory_limits, "memory_is_short", lambda: True)
        for exc in (ValueError("a plugin's"), ImportError("cannot import name x (version mismatch)")):
            try:
                exec("raise exc", {"exc": exc})  # noqa: S102 (a frame of a module: <module>)
            except Exception as raised_in_a_module:
                assert memory_limits.capped_import_line(raised_in_a_module) is None
    descriptor = "could not create a primitive descriptor for a deconvolution forward propagation primitive"
    assert out_of_memory(RuntimeError(descriptor)) is None  # a shape oneDNN does not support (pass 73)

    def reference_scores(*args, **kwargs):
        raise RuntimeError(str(ALLOCATOR_REFUSES))

    np.save(tmp_path / "s.npy", np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32))
    with monkeypatch.context() as patched:
        patched.setattr("ganbench.reference_rows.reference_scores", reference_scores)
        result = cli("eval", "-d", "ring8", "--samples", str(tmp_path / "s.npy"), "-m", "modes")
    assert result.code == 0 and "modes_captured" in result.out, result.err
    warned = "warning: the reference rows are left out: scoring them ran out of memory (it asked for 1.5 GiB more); "
    warned += "give it more memory (ulimit -v, a container's limit), or use --json (no rows)\n"
    assert result.err.count("\n") == 2 and warned in result.err  # and the warning of N below the protocol's

    out = tmp_path / "resumes"
    assert cli(*run, "-o", str(out), "--checkpoint-every", "1").code == 0
    (record,) = out.glob("*/record.json")
    record.unlink()
    with monkeypatch.context() as patched:
        patched.setattr("ganbench.training.process_memory_room", lambda: 1000)
        result = cli(*run, "-o", str(out), "--checkpoint-every", "1")
        assert_one_line_error(result, "more than the 1 KiB a process may still take here (ulimit -v); run ")
        assert "resumes from its checkpoint, which a smaller network would not: give it more memory" in result.err
        result = cli(*run, "-o", str(tmp_path / "fresh"))
        assert_one_line_error(result, "more than the 1 KiB a process may still take here (ulimit -v); use a smaller")
    assert (record.parent / "checkpoint.pt").is_file() and not (tmp_path / "fresh").exists()

    def check_forward(*args, **kwargs):  # the batch check of a run that resumes: pass 73 said lower batch_size
        raise RuntimeError(str(ALLOCATOR_REFUSES))

    with monkeypatch.context() as patched:
        patched.setattr("ganbench.training.check_forward", check_forward)
        result = cli(*run, "-o", str(out), "--checkpoint-every", "1")
    assert_one_line_error(result, "as it checked a batch through its networks (it asked for 1.5 GiB more); give it")
    assert "batch_size" not in result.err and (record.parent / "checkpoint.pt").is_file()

    def fit(self, hooks):  # out of memory as it trains on: a resumed run was told to lower batch_size (pass 74)
        raise RuntimeError(str(ALLOCATOR_REFUSES))

    with monkeypatch.context() as patched:
        patched.setattr("ganbench.training.Trainer.fit", fit)
        result = cli(*run, "-o", str(out), "--checkpoint-every", "1")
        assert_one_line_error(result, "ran out of memory on cpu at step ", "(it asked for 1.5 GiB more); give it more")
        assert "batch_size" not in result.err and (record.parent / "checkpoint.pt").is_file()
        result = cli(*run, "-o", str(tmp_path / "fresh"))
        assert_one_line_error(result, "ran out of memory on cpu at step 0 (it asked for 1.5 GiB more); lower --set")

    said = str(PluginError.failed("metric 'big' of plugin 'lp'", "compute", MemoryError()))
    assert "failed in compute: MemoryError; fix the plugin" in said


def test_pass_72_the_runs_are_found_below_results_through_links_wide_folders_and_four_levels(tmp_path, monkeypatch):
    """`--results` above the runs trained them again where the runs lay behind a link, past the first 2,000 folders
    of a level, or four levels down (pass 72)."""
    from ganbench.cli import _folder_holding

    def runs_in(folder: Path) -> Path:
        for name in ("ring8__a", "ring8__b"):
            (folder / name).mkdir(parents=True)
            (folder / name / "record.json").write_text("{}")
        return folder

    names = ["ring8__a", "ring8__b"]
    store = runs_in(tmp_path / "store" / "s2")
    (tmp_path / "linked" / "results").mkdir(parents=True)
    (tmp_path / "linked" / "results" / "s2").symlink_to(store)
    assert _folder_holding(tmp_path / "linked", names) == tmp_path / "linked" / "results" / "s2"
    wide = tmp_path / "wide"
    for i in range(2_100):
        (wide / f"a{i:04}").mkdir(parents=True)
    assert _folder_holding(wide, names) is None
    runs_in(wide / "zz" / "s2")
    assert _folder_holding(wide, names) == wide / "zz" / "s2"
    deep = runs_in(tmp_path / "deep" / "a" / "b" / "results" / "s2")
    assert _folder_holding(tmp_path / "deep", names) == deep
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "again").symlink_to(tmp_path / "loop")
    assert _folder_holding(tmp_path / "loop", names) is None
    monkeypatch.chdir(runs_in(tmp_path / "cwd" / "results" / "m").parent.parent)
    assert _folder_holding(Path("/proc"), names) is None  # not /proc/PID/cwd/results/m, gone with its process
    (tmp_path / "up" / "aroot").mkdir(parents=True)
    held = runs_in(tmp_path / "up" / "zz" / "m")
    real_is_file = Path.is_file

    def is_file(self):  # a folder this user may not enter (as root, none is)
        if "aroot" in str(self):
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    assert _folder_holding(tmp_path / "up", names) == held  # pass 73: "permission denied" of a file not there


@pytest.mark.parametrize("failure", [MemoryError(), SystemError("error return without exception set")])
def test_the_programs_last_step_failing_under_a_memory_cap_leaves_the_commands_exit(monkeypatch, failure):
    """console_main's last exec("") (it clears CPython's Ctrl-C mark) failed with SystemError under ulimit -v,
    after the command's own "Error:" line: a traceback and exit 1 instead of its exit 2 (pass 74)."""
    import signal

    from ganbench import cli as cli_module

    def failing_exec(*args):
        raise failure

    def command():
        raise SystemExit(2)

    monkeypatch.setattr(cli_module, "main", command)
    monkeypatch.setattr(cli_module, "exec", failing_exec, raising=False)
    handler = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as ended:
            cli_module.console_main()
    finally:
        signal.signal(signal.SIGINT, handler)
    assert ended.value.code == 2


def test_a_worker_out_of_memory_fails_its_run_with_the_line_one_process_gives(tmp_path, monkeypatch):
    """Under ulimit -v, runs in --workers processes failed with "MemoryError" or "SystemError: error return without
    exception set" where one process said what ran out and what to do (pass 74)."""
    from ganbench import harness, memory_limits
    from ganbench.resolve import create_spec

    spec = create_spec("nsgan", "ring8", steps=2).to_dict()
    (tmp_path / "odd_module.py").write_text("raise SystemError('error return without exception set')\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def import_odd(*args, **kwargs):
        import odd_module  # noqa: F401

    for failure, said in (
        (MemoryError(), "ganbench ran out of memory (Python could not allocate); give it more memory"),
        (import_odd, "loading a library failed under this process's memory cap (ulimit -v): error return without"),
        (ValueError("a bug"), "Traceback (most recent call last)"),  # not memory: its traceback stands
    ):

        def run_spec(*args, failure=failure, **kwargs):
            if callable(failure):
                failure()
            raise failure

        monkeypatch.setattr(harness, "run_spec", run_spec)
        monkeypatch.setattr(memory_limits, "memory_is_short", lambda: True)
        monkeypatch.delitem(sys.modules, "odd_module", raising=False)
        record = harness.run_job(spec, str(tmp_path / "out"))
        assert record.status == "failed" and record.error.startswith(said), record.error


def test_a_results_folder_whose_name_is_not_utf8_is_refused_before_any_run(cli, tmp_path):
    """Its runs' records held the name as a lone surrogate ("bad\\udcffname"), read back by other tools as another
    path, and TensorBoard's writer warned on every run (pass 74)."""
    from .conftest import write_mixture_suite

    bad = os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xffname")
    result = cli("run", "-v", "nsgan", "-d", "ring8", "--steps", "2", "-m", "modes", "-q", "-o", bad)
    assert_one_line_error(result, "out ", "bad\\udcffname is not UTF-8 text", "choose a folder whose name is UTF-8")
    suite = write_mixture_suite(tmp_path / "s.toml", "nsgan", steps=2, seeds="0")
    result = cli("sweep", str(suite), "-q", "-o", bad + "/sub")
    assert_one_line_error(result, "is not UTF-8 text")
    result = cli("leaderboard", "update", str(suite), "--results", bad)  # named as the option it is (pass 75)
    assert_one_line_error(result, "--results ", "bad\\udcffname is not UTF-8 text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]
    (Path(bad) / "data").mkdir(parents=True)  # data whose path is not UTF-8: runs recorded it so too (pass 75)
    np.savez(Path(bad) / "data" / "x.npz", images=np.zeros((40, 8, 8, 3), dtype=np.uint8))
    result = cli("run", "-v", "nsgan", "-d", bad + "/data/x.npz", "--steps", "2", "-q", "-o", str(tmp_path / "r"))
    assert_one_line_error(result, "dataset 'files' option 'path' ", "is not UTF-8 text", "rename the data")
    assert not (tmp_path / "r").exists()


def test_pass_75_memory_lost_outside_imports_and_while_asking_is_still_one_line(monkeypatch):
    """Near a cap (torch maps 3.2 GB, the cap 3.3 GB): CPython's "error return without exception set" raised outside
    an import, ENOMEM as an OSError from importlib, and a MemoryError as the handler itself read /proc: each was a
    traceback, exit 1 (pass 75)."""
    import errno

    from ganbench import cli as cli_module
    from ganbench import memory_limits
    from ganbench.devices import out_of_memory

    lost = SystemError("error return without exception set")
    with monkeypatch.context() as patched:
        patched.setattr(memory_limits, "memory_is_short", lambda: True)
        assert memory_limits.capped_import_line(lost) == (
            "ganbench failed under this process's memory cap (ulimit -v): error return without exception set; give "
            "it more memory (ulimit -v, a container's limit)"
        )
        assert memory_limits.capped_import_line(SystemError("a plugin's own")) is None  # not the lost exception
    with monkeypatch.context() as patched:
        patched.setattr(memory_limits, "memory_is_short", lambda: False)  # no cap: a bug, its traceback stands
        assert memory_limits.capped_import_line(lost) is None

    def asking(*args):
        raise MemoryError

    with monkeypatch.context() as patched:
        patched.setattr(memory_limits, "process_memory_room", asking)
        assert memory_limits.memory_is_short() is True
        patched.setattr(memory_limits, "memory_is_short", asking)
        assert cli_module._out_of_memory_line(lost) == (
            "ganbench ran out of memory; give it more memory (ulimit -v, a container's limit)"
        )
    nomem = OSError(errno.ENOMEM, "Cannot allocate memory")
    assert out_of_memory(nomem) == "the system could not allocate"
    assert out_of_memory(OSError(errno.ENOENT, "No such file")) is None


def test_pass_76_an_error_whose_telling_ran_out_of_memory_is_still_one_line(monkeypatch, capsys):
    """Near a cap (3.21 GB): _main's "torch cannot be imported (std::bad_alloc)" ran out of memory in one_line, and
    console_main's own handler and its signal.signal too: tracebacks, exit 1 (pass 76)."""
    import signal

    from ganbench import cli as cli_module
    from ganbench.errors import GanbenchError

    def command():
        try:
            raise GanbenchError("torch cannot be imported (std::bad_alloc); give it more memory")
        except GanbenchError:
            raise MemoryError from None  # as one_line(exc) ran out, telling it

    def no_memory(*args):
        raise MemoryError

    monkeypatch.setattr(cli_module, "main", command)
    handler = signal.getsignal(signal.SIGINT)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(signal, "signal", no_memory)
            with pytest.raises(SystemExit) as ended:
                cli_module.console_main()
    finally:
        signal.signal(signal.SIGINT, handler)
    assert ended.value.code == 2
    assert capsys.readouterr().err == "Error: torch cannot be imported (std::bad_alloc); give it more memory\n"


def test_pass_77_where_even_the_words_run_out_the_line_made_at_start_is_said(monkeypatch, capfd):
    """Near a cap (3.21 GB), _last_words itself, then its os.write fallback's formatting, ran out of memory:
    three chained tracebacks, exit 1 (pass 77)."""
    import signal

    from ganbench import cli as cli_module
    from ganbench.errors import MORE_MEMORY

    def no_memory(*args, **kwargs):
        raise MemoryError

    handler = signal.getsignal(signal.SIGINT)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(cli_module, "main", no_memory)
            patched.setattr(cli_module, "_last_words", no_memory)
            with pytest.raises(SystemExit) as ended:
                cli_module.console_main()
            assert ended.value.code == 2
            assert capfd.readouterr().err == f"Error: ganbench ran out of memory; {MORE_MEMORY}\n"
            patched.setattr(cli_module, "_last_words", lambda exc: "torch cannot be imported (MemoryError)")
            patched.setattr(cli_module.click, "echo", no_memory)
            with pytest.raises(SystemExit) as ended:
                cli_module.console_main()
            assert ended.value.code == 2
            assert capfd.readouterr().err == "Error: torch cannot be imported (MemoryError)\n"
    finally:
        signal.signal(signal.SIGINT, handler)


@pytest.mark.parametrize("name", ["bad\udcffdir", "two\nlines", "it's a-b", "-s.toml", "café", "tab\there\udcc3"])
def test_pass_77_a_path_in_advice_is_the_path_bash_reads_back(name):
    """`leaderboard show --results` advised "pass --results 'results/../bad\\udcffdir'", a name no file has: bytes
    that are not text (and newlines) are written as bash's $'\\xff', which reads back the name's own bytes."""
    from ganbench.errors import shell_path

    quoted = shell_path(name)
    assert quoted.isascii() or name == "café", quoted
    read_back = subprocess.run(["bash", "-c", f"printf %s {quoted}"], capture_output=True, check=True).stdout
    assert read_back == os.fsencode(f"./{name}" if name.startswith("-") else name)


def test_pass_78_a_suite_file_whose_name_is_not_utf8_is_one_line(tmp_path):
    """Its name names its baseline: `sweep`, `leaderboard check` of s\\xff.toml were a UnicodeEncodeError."""
    from ganbench.suites import SuiteError, load_suite

    path = tmp_path / "s\udcff.toml"
    path.write_text('name = "s"\nvariants = ["nsgan"]\ndatasets = ["ring8"]\nsteps = 2\n')
    with pytest.raises(SuiteError) as raised:
        load_suite(path)
    assert "the suite file's name s\\udcff.toml is not UTF-8 text" in str(raised.value), raised.value
    assert "rename the file" in str(raised.value) and "\n" not in str(raised.value)


def test_pass_77_finished_runs_out_of_memory_are_not_told_to_ask_for_less():
    """`plot` and `table` near a cap were told "give it more memory ..., or ask for less": they ask for nothing."""
    from ganbench.devices import memory_error_line
    from ganbench.errors import MORE_MEMORY

    assert memory_error_line(MemoryError(), data_fixed=True).endswith(f"(Python could not allocate); {MORE_MEMORY}")
    assert memory_error_line(MemoryError()).endswith(f"{MORE_MEMORY}, or ask for less")


def test_a_utf8_data_path_where_file_names_are_ascii_names_the_locale(tmp_path):
    """LC_ALL=C with PYTHONUTF8=0: `table` of runs on ./café was a UnicodeEncodeError traceback, and `-d ./café`
    was told its name "is not UTF-8", which it is: this process's file-name encoding is what is not (pass 76)."""
    from .conftest import ganbench_process

    np.savez(tmp_path / "café.npz", images=np.zeros((40, 8, 8, 3), dtype=np.uint8))
    env = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    done = ganbench_process("run", "-v", "nsgan", "-d", "./café.npz", "--steps", "2", "-q", "-o", "r", env=env,
                            cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "cannot be named in this process's file-name encoding (ascii); set PYTHONUTF8=1" in done.stderr
    assert not (tmp_path / "r").exists()
    done = ganbench_process("run", "-v", "nsgan", "-d", "ring8", "--steps", "2", "-q", "-o", "r\udcff", env=env,
                            cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr  # not UTF-8 in any locale (pass 77)
    assert "is not UTF-8 text" in done.stderr and "PYTHONUTF8" not in done.stderr, done.stderr
