"""The ``ray`` executor: each job a Ray task, results in job order, ``on_result`` as tasks finish.

The cluster is the first of: the executor's ``address`` option, ``--ray-address``,
``RAY_ADDRESS``, else a local cluster that ``ray.init`` starts (and stops when this process
exits). A process joins one cluster, once.

Threads: a task reserves ``num_cpus`` CPUs from Ray and runs torch with that many threads.
The default (``num_cpus=0``, auto) is the local executor's split for the same ``--workers``
(``os.cpu_count() // workers`` threads; torch's default with one worker), so a run trains
with the same thread count, and gives the same bits, on either executor; on a cluster whose
largest node has fewer CPUs, auto takes that many. At most ``workers`` tasks are in flight.

Retries: ``max_retries`` restarts a task whose worker process or node died (never one whose
function raised: ``retry_exceptions=False``). The run folder's lock died with the worker, so
the retry takes it and ``run_spec`` resumes from the run's checkpoint. A run whose worker died
``max_retries + 1`` times becomes a 'failed' record; the others go on.

Files: workers write run folders themselves, in the driver's working directory when it
exists on their node, so ``--out`` must be a folder every node sees at the same path (the
same machine, or a shared file system): a retry on another node resumes from what it finds.
Workers get the driver's ``GANBENCH_*`` variables and its import path (``PYTHONPATH``, plus
``sys.path`` entries outside the interpreter's own folders) through the task's
``runtime_env``, so plugins installed with ``pip install --target`` load in them too.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganbench.errors import GanbenchError
from ganbench.executor import Executor, Job, OnResult
from ganbench.options import option

ADDRESS_ENV = "RAY_ADDRESS"
LOCAL = "local"
LOCAL_OBJECT_STORE_BYTES = 100 * 1024**2
"""Records are small: a local cluster needs no more object store than Ray's minimum-ish."""
PROBE_SECONDS = 5.0
"""Ray's own connect retries for minutes when nothing listens; a TCP probe says so at once."""
START_HINT = "start one with `ray start --head` and pass the address it prints"


class RayExecutorError(GanbenchError):
    """Ray missing, a cluster that cannot be reached or joined, resources it does not have."""


_cli_address: str | None = None
_joined: str | None = None  # the address this process's ray.init was given here ("local": a local cluster)


def set_cli_address(address: str | None) -> None:
    """``--ray-address``: used when the executor's own ``address`` option is empty."""
    global _cli_address
    if address is not None and not address.strip():
        raise RayExecutorError("--ray-address is empty; pass HOST:PORT (`ray start --head` prints it)")
    _cli_address = address.strip() if address is not None else None


@dataclass(frozen=True)
class RayExecutor(Executor):
    """Runs each job as a Ray task; see the module docstring."""

    address: str = ""
    """Cluster address (HOST:PORT, ray://HOST:PORT, auto or local); empty: --ray-address, RAY_ADDRESS, local."""
    num_cpus: float = option(0.0, ge=0)
    """CPUs (and torch threads, at least 1) per run; 0: the local executor's split for --workers."""
    num_gpus: float = option(0.0, ge=0)
    """GPUs per run (0.5: two runs share one); with 0, Ray hides GPUs from the run."""
    max_retries: int = option(3, ge=0, le=100)
    """Restarts of a run whose worker process or node died; each resumes from the run's checkpoint."""

    def run(self, jobs: Sequence[Job], workers: int = 1, on_result: OnResult | None = None) -> list[Any]:
        results: list[Any] = [None] * len(jobs)
        if not jobs:
            return results
        ray = import_ray()
        workers = max(1, min(workers, len(jobs)))
        self._check_devices(jobs)
        address = join(ray, self.address)
        cpus, threads = self._cpus_and_threads(ray, workers, address)
        task = ray.remote(ganbench_job).options(
            num_cpus=cpus,
            num_gpus=self.num_gpus,
            max_retries=self.max_retries,
            retry_exceptions=False,
            runtime_env={"env_vars": worker_env()},
        )
        cwd = os.getcwd()
        pending: dict[Any, int] = {}
        submitted = 0
        finished = False
        try:
            while submitted < len(jobs) or pending:
                while submitted < len(jobs) and len(pending) < workers:
                    fn, kwargs = jobs[submitted]
                    pending[task.remote(fn, kwargs, threads, cwd)] = submitted
                    submitted += 1
                done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in done:
                    index = pending.pop(ref)
                    results[index] = self._result(ray, ref, jobs[index])
                    if on_result:
                        on_result(index, results[index])
            finished = True
        finally:
            if not finished:  # interrupted, or a job raised: do not leave runs training on the cluster
                for ref in pending:
                    try:
                        ray.cancel(ref, force=True)
                    except Exception:  # already finished, or the cluster is gone
                        pass
        return results

    def _check_devices(self, jobs: Sequence[Job]) -> None:
        devices = {str(kwargs.get("device")) for _, kwargs in jobs if kwargs.get("device") is not None}
        if self.num_gpus == 0 and any(d.startswith("cuda") for d in devices):
            raise RayExecutorError(
                "--device cuda with the ray executor needs GPUs per run: set its num_gpus option "
                "(e.g. num_gpus=1); Ray hides GPUs from tasks that ask for none"
            )

    def _cpus_and_threads(self, ray: Any, workers: int, address: str) -> tuple[float, int]:
        """(CPUs each task reserves, torch threads it runs with)."""
        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive", True)]
        largest_cpu = max((n.get("CPU", 0) for n in nodes), default=0)
        largest_gpu = max((n.get("GPU", 0) for n in nodes), default=0)
        where = "this machine's local Ray cluster" if address == LOCAL else f"the Ray cluster at {address}"
        if self.num_gpus > largest_gpu:
            raise RayExecutorError(
                f"each run asks Ray for {self.num_gpus:g} GPU(s), but no node of {where} has that many "
                f"(largest: {largest_gpu:g}); lower the ray executor's num_gpus option"
            )
        if self.num_cpus > 0:
            if largest_cpu and self.num_cpus > largest_cpu:
                raise RayExecutorError(
                    f"each run asks Ray for {self.num_cpus:g} CPUs, but no node of {where} has that many "
                    f"(largest: {largest_cpu:g}); lower the ray executor's num_cpus option"
                )
            return self.num_cpus, max(1, int(self.num_cpus))
        threads = local_threads(workers)
        if largest_cpu >= 1:
            threads = min(threads, int(largest_cpu))
        return threads, threads

    def _result(self, ray: Any, ref: Any, job: Job) -> Any:
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # the job itself raised: a bug, with its own traceback
            raise exc.as_instanceof_cause() from None
        except ray.exceptions.RayError as exc:  # its worker or node died every time, out of memory, ...
            from ganbench.harness import lost_job

            reason = (str(exc).strip().splitlines() or [""])[0][:300]
            return lost_job(job, f"its Ray worker died {self.max_retries + 1} time(s) ({type(exc).__name__}: {reason})")


def local_threads(workers: int) -> int:
    """torch threads per run of the local executor with ``workers`` runs at a time (see ganbench.executors.local)."""
    if workers <= 1:
        import torch

        return torch.get_num_threads()  # the local executor trains a lone worker in its own process
    return max(1, (os.cpu_count() or 1) // workers)


def ganbench_job(fn: Any, kwargs: dict[str, Any], threads: int, cwd: str) -> Any:
    """The Ray task: one job, with the driver's thread count and working directory."""
    import torch

    torch.set_num_threads(threads)
    if cwd and os.path.isdir(cwd):
        os.chdir(cwd)
    return fn(**kwargs)


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RayExecutorError(
            f"the ray executor needs Ray: pip install 'ray>=2.9' (import ray failed: {exc})"
        ) from None
    return ray


def resolve_address(option_address: str) -> tuple[str, str]:
    """(address, where it came from): the option, --ray-address, RAY_ADDRESS, else 'local'."""
    for address, source in (
        (option_address, "the ray executor's address option"),
        (_cli_address, "--ray-address"),
        (os.environ.get(ADDRESS_ENV), ADDRESS_ENV),
    ):
        if address and address.strip():
            return address.strip(), source
    return LOCAL, "default"


def join(ray: Any, option_address: str = "") -> str:
    """Connect this process to its cluster once (starting a local one if none is named); the address."""
    global _joined
    address, source = resolve_address(option_address)
    if ray.is_initialized():
        if _joined is not None and address != _joined:
            raise RayExecutorError(
                f"this process already joined the Ray cluster at {_joined}; it cannot also join {address} "
                f"(from {source}); use one address per process"
            )
        return _joined or "the Ray cluster this process joined"
    if address == LOCAL:
        ray.init(
            address=LOCAL,
            num_cpus=os.cpu_count() or 1,
            include_dashboard=False,
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            logging_level=logging.ERROR,  # not its startup notes, nor its token-authentication notice
            ignore_reinit_error=True,
        )
    else:
        probe(address, source)
        try:
            ray.init(address=address, logging_level=logging.WARNING, ignore_reinit_error=True)
        except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
            raise RayExecutorError(join_failure(address, source, exc)) from None
    _joined = address
    return address


def probe(address: str, source: str) -> None:
    """RayExecutorError at once unless something accepts TCP connections at ``address``."""
    if address == "auto":  # Ray looks for a cluster started on this machine itself
        return
    target = address.removeprefix("ray://")
    host, colon, port = target.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit():
        raise RayExecutorError(
            f"{address!r} (from {source}) is not a Ray address; write HOST:PORT, e.g. 127.0.0.1:6379 "
            "(`ray start --head` prints it)"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_SECONDS):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RayExecutorError(
            f"no Ray cluster is reachable at {address} (from {source}: {reason}); {START_HINT}, "
            f"or unset --ray-address and {ADDRESS_ENV} to start a local cluster"
        ) from None


def join_failure(address: str, source: str, exc: BaseException) -> str:
    """One line for a failed ray.init: token authentication, or the deepest reason Ray gave."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    text = " ".join(str(e) for e in chain)
    if "AuthenticationError" in {type(e).__name__ for e in chain} or "InvalidAuthToken" in text:
        return (
            f"the Ray cluster at {address} (from {source}) refused this process's authentication token; "
            "set RAY_AUTH_MODE=token and the cluster's token (RAY_AUTH_TOKEN, or the file ~/.ray/auth_token)"
        )
    deepest = chain[-1]
    reason = (str(deepest).strip().splitlines() or [type(deepest).__name__])[-1][:300]
    return f"could not join the Ray cluster at {address} (from {source}): {reason}; {START_HINT}"


def worker_env() -> dict[str, str]:
    """Environment variables for the workers: ganbench's own, and this process's import path."""
    env = {k: v for k, v in os.environ.items() if k.startswith("GANBENCH_")}
    paths = import_path()
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def import_path() -> list[str]:
    """PYTHONPATH's folders, then sys.path's, except the interpreter's own (workers have those)."""
    own = {Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}}
    entries = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p] + [p for p in sys.path if p]
    paths: list[str] = []
    for entry in entries:
        path = Path(entry).resolve()
        if not path.is_dir() or any(path == o or o in path.parents for o in own):
            continue
        if str(path) not in paths:
            paths.append(str(path))
    return paths
