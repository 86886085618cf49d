"""The ``ray`` executor (plugins/ganbench-ray) on real Ray clusters, not mocks.

The distribution is pip-installed into a target folder that only the subprocesses see
(PYTHONPATH), and every Ray driver is a ``ganbench`` subprocess, so no Ray process lives in
pytest's. A cluster started here with ``ray start`` does not get that PYTHONPATH: its workers
find the plugin through the executor's runtime_env. All Ray processes share one token
(RAY_AUTH_TOKEN), so nothing is written to ~/.ray.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from .conftest import (
    ROOT,
    ganbench_process,
    kill_a_worker_mid_sweep,
    metrics_by_run,
    processes_with,
    write_mixture_suite,
)

pytest.importorskip("ray", reason="the ray executor's tests need Ray: pip install 'ray>=2.9'")

BIN = Path(sys.executable).parent
TASK_TITLE = "ray::ganbench_job"
"""What Ray names a worker process while it runs the executor's task function."""


@pytest.fixture(scope="module")
def ray_env(tmp_path_factory):
    """Environment for the subprocesses: the installed plugin, and a Ray token of their own."""
    target = tmp_path_factory.mktemp("ganbench-ray")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target)]
        + [str(ROOT / "plugins" / "ganbench-ray")],
        check=True,
        capture_output=True,
        text=True,
    )
    return {"PYTHONPATH": str(target), **ray_auth()}


def ray_auth() -> dict[str, str]:
    return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": RAY_TOKEN, "RAY_USAGE_STATS_ENABLED": "0"}


RAY_TOKEN = secrets.token_hex(32)


@pytest.fixture(autouse=True)
def no_ambient_cluster(monkeypatch):
    """A RAY_ADDRESS in the developer's shell must not pick the cluster for these tests."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_cluster():
    """A 2-CPU cluster from ``ray start --head --block`` in a session of its own; its address.

    Teardown stops this cluster only (SIGTERM to ``ray start``, which stops what it started,
    then SIGKILL to whatever is left in its session), never other Ray processes on the machine
    as ``ray stop`` would.
    """
    port = free_port()
    temp = tempfile.mkdtemp(prefix="gbray", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    log = Path(temp) / "ray-start.log"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RAY_ADDRESS")}
    command = [str(BIN / "ray"), "start", "--head", "--port", str(port), "--num-cpus", "2"]
    command += ["--include-dashboard=false", "--disable-usage-stats", "--temp-dir", temp, "--block"]
    with open(log, "w") as out:
        head = subprocess.Popen(
            command, env={**env, **ray_auth()}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 90
        while "Ray runtime started" not in log.read_text():
            assert head.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "ray start did not finish in 90 s:\n" + log.read_text()
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        stop_session(head)
        shutil.rmtree(temp, ignore_errors=True)


def stop_session(leader: subprocess.Popen) -> None:
    leader.send_signal(signal.SIGTERM)
    try:
        leader.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    for pid in processes_with(3, leader.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if leader.poll() is None:
        leader.wait(timeout=10)


def test_the_executor_and_its_option_are_registered(ray_env):
    listed = ganbench_process("list", "--json", env=ray_env)
    assert listed.returncode == 0, listed.stderr
    entry = next(e for e in json.loads(listed.stdout)["executors"] if e["name"] == "ray")
    assert entry["source"] == "ganbench-ray" and entry["version"] == "0.1.0"
    for command in (["run"], ["sweep"], ["leaderboard", "check"], ["leaderboard", "update"]):
        shown = ganbench_process(*command, "--help", env=ray_env).stdout
        assert "--ray-address" in shown and "--executor-option" in shown, command  # run's too: num_gpus=1


@pytest.mark.parametrize("how", ["--ray-address", "RAY_ADDRESS"])
def test_an_unreachable_cluster_is_one_line_naming_it(ray_env, tmp_path, how):
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    args = ("run", "-v", "nsgan", "-d", "ring8", "-s", "0-1", "--steps", "5", "--executor", "ray")
    args += ("--out", str(tmp_path))
    if how == "--ray-address":
        result = ganbench_process(*args, "--ray-address", address, env=ray_env, timeout=60)
    else:
        result = ganbench_process(*args, env={**ray_env, "RAY_ADDRESS": address}, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"Error: no Ray cluster is reachable at {address} (from {how}")
    assert "`ray start --head`" in lines[0]


def test_without_ray_the_executor_still_registers_and_says_how_to_install_it(ray_env, tmp_path):
    broken = tmp_path / "no-ray" / "ray"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError(\"No module named 'ray'\")\n")
    env = {**ray_env, "PYTHONPATH": os.pathsep.join([str(broken.parent), ray_env["PYTHONPATH"]])}
    assert "ray " in ganbench_process("list", env=env).stdout
    args = ("run", "-v", "nsgan", "-d", "ring8", "-s", "0-1", "--steps", "5", "--executor", "ray")
    result = ganbench_process(*args, "--out", str(tmp_path), env=env)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "the ray executor needs Ray: pip install 'ray>=2.9'" in result.stderr
    assert not list(tmp_path.glob("*/record.json"))


def test_the_executors_options_are_validated(ray_env):
    script = (
        "import ganbench\n"
        "from ganbench.options import with_options\n"
        "ray = ganbench.registries().executors.get('ray')\n"
        "print(ray.num_cpus, ray.num_gpus, ray.max_retries, repr(ray.address))\n"
        "print(with_options(ray, {'num_cpus': '0.5', 'max_retries': '0'}, 'executor').num_cpus)\n"
        "for bad in ({'num_gpus': '-1'}, {'max_retries': '-2'}):\n"
        "    try:\n"
        "        with_options(ray, bad, 'executor')\n"
        "    except ganbench.errors.OptionError as exc:\n"
        "        print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, **ray_env}, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["0.0 0.0 3 ''", "0.5"]
    assert "executor 'ray' option 'num_gpus' must be >= 0" in lines[2]
    assert "executor 'ray' option 'max_retries' must be >= 0" in lines[3]


@pytest.mark.slow
def test_a_ray_sweep_writes_the_same_metrics_as_the_local_executor(ray_env, tmp_path):
    """A local cluster started by ray.init; 2 workers: 1 thread per run on both executors (2 CPUs)."""
    suite = write_mixture_suite(tmp_path / "suite.toml", "nsgan,wgan", steps=40, seeds="0-1")
    args = ("sweep", str(suite), "-q", "--workers", "2")
    on_ray = ganbench_process(*args, "--executor", "ray", "--out", str(tmp_path / "A"), env=ray_env, timeout=300)
    assert on_ray.returncode == 0, on_ray.stderr
    local = ganbench_process(*args, "--executor", "local", "--out", str(tmp_path / "B"), env=ray_env, timeout=300)
    assert local.returncode == 0, local.stderr
    on_ray_metrics, local_metrics = metrics_by_run(tmp_path / "A"), metrics_by_run(tmp_path / "B")
    assert len(on_ray_metrics) == 4 and on_ray_metrics == local_metrics
    assert on_ray.stdout == local.stdout and "| nsgan" in on_ray.stdout  # the suite's table
    record = json.loads(next((tmp_path / "A").glob("*/record.json")).read_text())
    assert record["environment"]["plugins"]["ray"] == {"source": "ganbench-ray", "version": "0.1.0"}


@pytest.mark.slow
def test_a_run_whose_worker_is_killed_is_retried_and_resumes_from_its_checkpoint(ray_env, ray_cluster, tmp_path):
    """SIGKILL the worker training wgan-gp mid-sweep: Ray retries the task, which resumes, and
    the run ends with the metrics of a run never interrupted (local executor, same threads)."""
    suite = write_mixture_suite(tmp_path / "suite.toml", "wgan-gp,nsgan", steps=500, seeds="0")
    args = ("sweep", str(suite), "--checkpoint-every", "100", "-q", "--workers", "2")
    ray_out, local_out = tmp_path / "ray", tmp_path / "local"
    command = [str(BIN / "ganbench"), *args, "--executor", "ray", "--ray-address", ray_cluster, "--out", str(ray_out)]
    checkpoint, cmdline, killed_at, sweep = kill_a_worker_mid_sweep(command, ray_out, ray_env, step=200)
    assert cmdline.startswith(TASK_TITLE.encode()), "not a Ray worker"
    assert sweep.returncode == 0, sweep.stderr
    record = json.loads((checkpoint.parent / "record.json").read_text())
    assert record["status"] == "completed" and record["steps_done"] == 500
    assert killed_at >= 200 and record["resumed_from"] == killed_at
    print(f"worker killed with its checkpoint at step {killed_at}; resumed from {record['resumed_from']}")  # -rP

    local = ganbench_process(*args, "--executor", "local", "--out", str(local_out), env=ray_env, timeout=300)
    assert local.returncode == 0, local.stderr
    on_ray_metrics, local_metrics = metrics_by_run(ray_out), metrics_by_run(local_out)
    assert len(on_ray_metrics) == 2 and on_ray_metrics == local_metrics
