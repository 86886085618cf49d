"""Torch's thread count per run: the usable cores, shared out over a pool's workers; the user's OMP_NUM_THREADS wins."""

from __future__ import annotations

import os

import pytest

from ganbench.threads import threads_per_run, usable_cores

from .conftest import ganbench_process


def test_one_run_gets_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert usable_cores() == expected == threads_per_run(1)
    assert threads_per_run(expected) == 1 and threads_per_run(10 * expected) == 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this OS")
def test_an_affinity_narrower_than_the_machine_is_respected(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    saved = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(saved)})
        assert usable_cores() == 1 == threads_per_run(1)
    finally:
        os.sched_setaffinity(0, saved)


@pytest.mark.parametrize(
    ("value", "expected"), [("3", 3), ("1", 1), ("0", None), ("-2", None), ("x", None), ("", None)]
)
def test_the_users_omp_num_threads_wins_when_it_is_a_count(monkeypatch, value, expected):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert threads_per_run(2) == (expected or max(1, usable_cores() // 2))


@pytest.mark.parametrize("value", ["0", "abc", "-2", "1.5", ""])
def test_an_invalid_omp_num_threads_is_one_line_before_torch_complains(tmp_path, value):
    result = ganbench_process("run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "--out", str(tmp_path),
                              env={"OMP_NUM_THREADS": value})  # fmt: skip
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        f"Error: OMP_NUM_THREADS={value!r} is not a positive whole number of threads; unset it or set e.g. "
        "OMP_NUM_THREADS=2"
    ]
    assert not any(tmp_path.iterdir())


def test_more_omp_threads_than_a_machine_can_start_is_one_line(tmp_path):
    result = ganbench_process("run", "-v", "nsgan", "-d", "ring8", "--steps", "3", "--out", str(tmp_path),
                              env={"OMP_NUM_THREADS": "999999"})  # fmt: skip
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "OMP_NUM_THREADS=999999 asks for more threads than this machine can use" in result.stderr
    assert not any(tmp_path.iterdir())
