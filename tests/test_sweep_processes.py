"""Sweeps' worker processes: a killed worker's runs resume in a fresh pool, Ctrl-C and kill -9 of the command
stop its workers (one line, exit 130, no orphans), and what workers say or cannot take is one line. Apart from
test_leaderboard.py so that xdist (--dist loadfile) gives these minutes of subprocesses a worker of their own."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import ganbench
from ganbench.checkpoints import checkpoint_header
from ganbench.cli import _Interrupted

from .conftest import (
    ganbench_process,
    kill_a_worker_mid_sweep,
    metrics_by_run,
    processes_with,
    wait_for_checkpoint,
    write_mixture_suite,
)


@pytest.mark.slow
def test_a_sweep_whose_worker_process_is_killed_resumes_it(tmp_path):
    """SIGKILL the pool process training wgan-gp mid-sweep: the broken pool's runs start again in a
    fresh one and resume from their checkpoints; the sweep ends as one never interrupted."""
    suite = write_mixture_suite(tmp_path / "suite.toml", "wgan-gp,nsgan", steps=500, seeds="0")
    args = ("sweep", str(suite), "--checkpoint-every", "100", "-q", "--workers", "2")
    command = [str(Path(sys.executable).parent / "ganbench"), *args, "--out", str(tmp_path / "killed")]
    checkpoint, cmdline, killed_at, sweep = kill_a_worker_mid_sweep(command, tmp_path / "killed", step=200)
    assert b"multiprocessing" in cmdline, "not a pool worker"
    assert sweep.returncode == 0, sweep.stderr
    assert "Warning" not in sweep.stderr, sweep.stderr  # multiprocessing's two lines of "leaked semaphore objects"
    said = r"warning: a worker process died \(killed, or out of memory\) with [12] run\(s\) in flight; those start"
    assert re.search(said, sweep.stderr), sweep.stderr  # restarted without a word before
    record = json.loads((checkpoint.parent / "record.json").read_text())
    assert record["status"] == "completed" and record["resumed_from"] is not None
    assert record["resumed_from"] >= killed_at >= 200
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


def warn_and_return(text: str) -> str:
    import warnings

    warnings.warn(text, stacklevel=1)
    return text


def test_a_worker_process_says_warnings_in_one_line_as_the_command_line_does(capfd):
    """A pool worker printed Python's two-line form (file:line: UserWarning: ..., then the source line)."""
    from ganbench.executors.local import LocalExecutor

    said = ["said by worker 0", "said by worker 1"]
    assert LocalExecutor("local").run([(warn_and_return, {"text": text}) for text in said], workers=2) == said
    err = capfd.readouterr().err
    assert sorted(line for line in err.splitlines() if line) == [f"warning: {text}" for text in said]


@pytest.mark.slow
def test_a_job_that_cannot_be_pickled_for_workers_is_one_line():
    """A lambda as a job with workers=2 was pickle's traceback from the pool's thread (pass 64): now said before
    any job starts."""
    from ganbench.executors.local import LocalExecutor

    with pytest.raises(ganbench.GanbenchError, match="a job for worker processes must be picklable: Can't pickle"):
        LocalExecutor("local").run([(lambda x: x, {"x": 3})] * 2, workers=2)


@pytest.mark.slow
def test_a_pool_that_cannot_start_a_thread_is_one_line_and_leaves_no_worker(monkeypatch):
    """Near a memory cap (each thread reserves its stack), `--workers 2` was "can't start new thread" from submit,
    the pool's "cannot join thread before it is started" over it, then tracebacks of the workers it had started
    as they lost their parent (pass 77)."""
    import concurrent.futures.process as pool_module

    from ganbench.executors.local import LocalExecutor

    spawned = []
    launch = pool_module.ProcessPoolExecutor._spawn_process

    def spawn(pool):
        launch(pool)
        spawned.extend(pool._processes.values())

    def no_thread(thread):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(pool_module.ProcessPoolExecutor, "_spawn_process", spawn)
    monkeypatch.setattr(pool_module._ExecutorManagerThread, "start", no_thread)
    with pytest.raises(ganbench.GanbenchError) as raised:
        LocalExecutor("local").run([(warn_and_return, {"text": "x"})] * 2, workers=2)
    assert "pool could not start a thread (can't start new thread)" in str(raised.value)
    assert "\n" not in str(raised.value) and spawned
    for process in spawned:
        process.join(10)
        assert process.exitcode == -signal.SIGTERM


@pytest.mark.slow
def test_a_script_without_the_main_guard_is_told_to_add_it_not_that_workers_died(tmp_path):
    """Spawned workers import the script that started them: without `if __name__ == "__main__":` each asked for
    workers again and died, and the pool was restarted three times, then said "worker process died" (pass 61)."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""\
            from ganbench.executors.local import LocalExecutor
            from ganbench.harness import run_job
            from ganbench.resolve import create_spec

            specs = [create_spec("nsgan", "ring8", seed=s, steps=5, metrics=("modes",)) for s in (0, 1)]
            jobs = [(run_job, {{"spec": s.to_dict(), "out": {str(tmp_path / "out")!r}}}) for s in specs]
            print([r.status for r in LocalExecutor("local").run(jobs, workers=2)])
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines()[-1].endswith('put its code under `if __name__ == "__main__":` (Python\'s '
                                                  "multiprocessing guide)"), done.stderr  # fmt: skip
    assert "died" not in done.stderr and not (tmp_path / "out").exists()


def test_the_local_pool_restarts_the_jobs_a_dead_worker_took_with_it(tmp_path):
    from ganbench.executors.local import LocalExecutor

    finished = []
    jobs = [(die_once, {"marker": str(tmp_path / "died")}), (dict, {"a": 1})]
    with pytest.warns(UserWarning, match=r"^a worker process died \(killed, or out of memory\) with [12] run"):
        results = LocalExecutor("local").run(jobs, workers=2, on_result=lambda i, r: finished.append(i))
    assert results == ["resumed", {"a": 1}] and sorted(finished) == [0, 1]
    with (
        pytest.raises(ganbench.errors.GanbenchError, match="did not finish: its worker process died 2 time"),
        pytest.warns(UserWarning, match="a worker process died"),
    ):
        LocalExecutor("local", max_retries=1).run([(die_always, {}), *jobs[1:]], workers=2)


@pytest.mark.slow
def test_workers_exit_when_the_sweep_is_killed(tmp_path):
    """kill -9 of the sweep's own process: its pool workers notice and exit (no orphans training on)."""
    suite = write_mixture_suite(tmp_path / "suite.toml", "wgan-gp,nsgan", steps=100_000, seeds="0")
    command = [str(Path(sys.executable).parent / "ganbench"), "sweep", str(suite), "--workers", "2", "-q"]
    driver = subprocess.Popen([*command, "--out", str(tmp_path / "out"), "--checkpoint-every", "50"])
    try:
        wait_for_checkpoint(tmp_path / "out", "wgan-gp", 50, driver)
        workers = [
            pid
            for pid in processes_with(1, driver.pid)
            if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert len(workers) >= 2
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "orphaned workers still run"
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()


@pytest.mark.slow
def test_ctrl_c_of_the_sweep_process_alone_stops_its_workers_and_the_rerun_resumes(tmp_path):
    """`kill -INT` of the sweep's pid (not its group): the pool's shutdown waited for the workers' runs to end, so
    the command seemed to ignore it while its workers trained on. Now they are interrupted too: 130, one line."""
    suite = write_mixture_suite(tmp_path / "suite.toml", "nsgan,gan", steps=2_000, seeds="0")  # ~12 s a run
    command = [str(Path(sys.executable).parent / "ganbench"), "sweep", str(suite), "--workers", "2", "-q"]
    command += ["--out", str(tmp_path / "out"), "--checkpoint-every", "100"]
    default_ctrl_c = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731  (CI may start us ignoring it)
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=default_ctrl_c)
    try:
        checkpoints = [wait_for_checkpoint(tmp_path / "out", variant, 100, driver) for variant in ("nsgan", "__gan")]
        workers = [
            pid
            for pid in processes_with(1, driver.pid)
            if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        os.kill(driver.pid, signal.SIGINT)
        stdout, stderr = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert (driver.returncode, stdout) == (130, b""), stderr
    assert stderr.decode().strip() == _Interrupted.RESUMABLE
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(workers) >= 2 and not any(Path(f"/proc/{pid}").exists() for pid in workers), "workers train on"
    stopped_at = [checkpoint_header(c)["step"] for c in checkpoints]
    assert all(step < 2_000 for step in stopped_at) and not list((tmp_path / "out").glob("*/record.json"))
    resumed = subprocess.run(command, capture_output=True, timeout=300, preexec_fn=default_ctrl_c)
    assert resumed.returncode == 0, resumed.stderr
    records = [json.loads((c.parent / "record.json").read_text()) for c in checkpoints]
    assert [r["status"] for r in records] == ["completed", "completed"]
    assert all(r["resumed_from"] >= step for r, step in zip(records, stopped_at, strict=True)), (records, stopped_at)


def interrupted_run(out: Path, args: list[str], interrupt: Callable[[subprocess.Popen], None]) -> tuple[int, str]:
    """``ganbench run ARGS -o OUT -q`` in a session of its own, Ctrl-C at its default, ``interrupt``-ed: (exit
    code, stderr stripped); its stdout must be empty."""
    command = [str(Path(sys.executable).parent / "ganbench"), "run", *args, "-q", "-o", str(out)]
    default_ctrl_c = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731  (CI may start us ignoring it)
    driver = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=default_ctrl_c, start_new_session=True
    )
    try:
        interrupt(driver)
        stdout, stderr = driver.communicate(timeout=90)  # a whole run of 20,000 steps takes minutes
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    assert stdout == b"", stdout
    assert b"\n\n" not in b"\n" + stderr, stderr  # no empty line: click said one before ours (pass 63)
    return driver.returncode, stderr.decode().strip()


def when_processes(driver: subprocess.Popen, count: int) -> None:
    """Wait until the command's session holds ``count`` processes (itself, the resource tracker, workers)."""
    deadline = time.monotonic() + 60
    while len(processes_with(3, driver.pid)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(processes_with(3, driver.pid)) >= count


@pytest.mark.slow
def test_ctrl_c_while_the_workers_start_is_one_line_not_their_tracebacks(tmp_path):
    """A terminal's Ctrl-C (the whole group) in the seconds a worker imports ganbench and torch printed a
    KeyboardInterrupt traceback from each worker: they start ignoring it now, and the command says one line."""

    def ctrl_c(driver: subprocess.Popen) -> None:
        when_processes(driver, 3)  # a worker exists: starting
        os.killpg(driver.pid, signal.SIGINT)

    args = ["-v", "gan", "-d", "ring8", "-s", "0,1,2", "--workers", "3", "--steps", "200"]
    assert interrupted_run(tmp_path / "out", args, ctrl_c) == (130, _Interrupted.RESUMABLE)


@pytest.mark.slow
def test_ctrl_c_of_the_command_alone_while_its_workers_start_stops_them_before_they_train(tmp_path):
    """`kill -INT` of the command while its workers still imported torch: each dropped the Ctrl-C passed on to it
    and trained its whole run while the command waited (pass 61). A worker remembers it and starts no job."""

    def ctrl_c(driver: subprocess.Popen) -> None:
        when_processes(driver, 4)  # both workers exist
        os.kill(driver.pid, signal.SIGINT)

    args = ["-v", "gan", "-d", "ring8", "-s", "0,1", "--steps", "20000", "--workers", "2"]
    assert interrupted_run(tmp_path / "out", args, ctrl_c) == (130, _Interrupted.RESUMABLE)
    assert not list((tmp_path / "out").glob("*/record.json"))


@pytest.mark.slow
def test_a_second_ctrl_c_while_the_workers_stop_is_ignored_not_a_traceback(tmp_path):
    """Two Ctrl-C a moment apart broke the pool's shutdown: Python printed a KeyboardInterrupt traceback from its
    exit, and once the command hung waiting for a worker (pass 60). The second is ignored while the workers stop."""

    def twice(driver: subprocess.Popen) -> None:
        for variant in ("nsgan", "__gan"):
            wait_for_checkpoint(tmp_path / "out", variant, 100, driver)
        os.killpg(driver.pid, signal.SIGINT)
        time.sleep(0.2)
        os.killpg(driver.pid, signal.SIGINT)

    args = ["-v", "nsgan,gan", "-d", "ring8", "--steps", "20000", "--checkpoint-every", "100", "--workers", "2"]
    assert interrupted_run(tmp_path / "out", args, twice) == (130, _Interrupted.RESUMABLE)


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["workers starting", "training"])
def test_a_burst_of_ctrl_c_exits_130_not_killed_by_the_signal(tmp_path, moment):
    """Three Ctrl-C 50 ms apart: after "Interrupted." the process died of the signal (its caller saw -2, not 130)
    in 7 of 9 tries (pass 63). Once the command has ended, Ctrl-C is ignored while Python exits."""

    def burst(driver: subprocess.Popen) -> None:
        if moment == "training":
            wait_for_checkpoint(tmp_path / "out", "nsgan", 100, driver)
        else:
            when_processes(driver, 3)
        for _ in range(3):
            os.killpg(driver.pid, signal.SIGINT)
            time.sleep(0.05)

    args = ["-v", "nsgan", "-d", "ring8", "-s", "0,1", "--steps", "20000", "--checkpoint-every", "100"]
    code, said = interrupted_run(tmp_path / "out", [*args, "--workers", "2"], burst)
    assert code == 130 and said in (_Interrupted.RESUMABLE, _Interrupted.PLAIN), said
