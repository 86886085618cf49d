"""``local``: runs jobs on this machine, one after another or in a pool of processes.

With ``workers > 1`` each worker is a fresh (spawned) process that loads plugins from
entry points again, and torch's threads are split between workers so they do not fight
over cores. Plugins registered at run time with ``register_plugin`` exist only in the
parent process; use ``workers=1`` for those.

A worker process that dies (killed, out of memory) breaks the whole pool. Only ``workers``
jobs are handed to the pool at a time, so the jobs lost are the ones in flight then: they
start again in a fresh pool, and a run resumes from its checkpoint. Python does not say
which worker died, so each of them counts one restart; a job in flight in
``max_retries + 1`` broken pools becomes a 'failed' record, and the others go on. A worker
whose parent dies (kill -9 of the command) exits too, rather than wait forever.
"""

from __future__ import annotations

import contextlib
import gc
import io
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, ClassVar

from ganbench.errors import MORE_MEMORY, GanbenchError, one_line
from ganbench.executor import Executor, Job, OnResult
from ganbench.hookspecs import hookimpl
from ganbench.interrupts import holding_ctrl_c
from ganbench.options import option
from ganbench.threads import threads_per_run


def _init_worker(threads: int, parent: int, interruptible: bool) -> None:
    # idle, a Ctrl-C is remembered, not raised (a traceback from the queue), and stops the next job before it starts:
    # one held back while this worker started (holding_ctrl_c) arrives as it is unblocked
    global _interruptible
    _interruptible = interruptible
    signal.signal(signal.SIGINT, _remember_interrupt if interruptible else signal.SIG_IGN)
    _prints_to_stderr()
    import torch  # still deaf: torch swallows a Ctrl-C while it imports numpy (ganbench.interrupts)

    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    from ganbench.errors import one_line_warning

    warnings.formatwarning = one_line_warning  # as the command line says them: one line each
    torch.set_num_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


_interruptible = True
"""Whether this worker's jobs stop on Ctrl-C: not where the command itself was started ignoring it (in the
background by a script), as one run in the command's own process does not."""

_interrupted = False
"""Whether a Ctrl-C reached this worker while it started or waited: the pool is being stopped, so no job starts."""


def _remember_interrupt(signum: int, frame: Any) -> None:
    global _interrupted
    _interrupted = True


def _prints_to_stderr() -> None:
    """A worker's prints (a plugin dataset's, torch's) go to stderr: standard output is the command's output alone
    (``eval --json``), and a worker's results come back through the pool."""
    from ganbench.console import CommandStderr

    sys.stderr = CommandStderr(sys.stderr)  # one that cannot be written (2>/dev/full, | head) fails no run
    sys.stdout = sys.stderr
    with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):  # none to point at
        os.dup2(sys.stderr.fileno(), 1)  # os.write(1, ...) and C code too


UNGUARDED = 87
"""The exit code of a worker that was starting a pool itself: the script that started the command runs again in
each worker as it starts (spawn), so without ``if __name__ == "__main__":`` it asks for workers again."""

UNGUARDED_MESSAGE = (
    "the script that called ganbench with workers > 1 runs again in each worker process as it starts, and asked "
    'for workers again; put its code under `if __name__ == "__main__":` (Python\'s multiprocessing guide)'
)


def _starting_as_a_worker() -> bool:
    """Whether this process is a worker still importing the script that started it (spawn's bootstrap)."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def _exit_code(process: multiprocessing.process.BaseProcess) -> int | None:
    """A worker's exit code once it has exited: the pool says it broke before its manager has stopped them all.
    The manager's thread reaps the workers too: where it got there first, our wait finds no child (None) until it
    has stored the code, so look again for a while (a loaded CI missed 87 and said "a worker process died")."""
    process.join(timeout=10)
    deadline = time.monotonic() + 2  # is_alive() would say True then too: it asks the same wait
    while process.exitcode is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return process.exitcode


def _exit_with_parent(parent: int) -> None:
    """Exit when the process that started this worker is gone: nobody would read its results."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


@contextlib.contextmanager
def _interrupting_workers(pool: ProcessPoolExecutor) -> Iterator[None]:
    """Ctrl-C of this process alone (``kill -INT`` of its pid; a terminal's Ctrl-C reaches the whole group) is passed
    on to the workers: else the pool's shutdown would wait for their runs to finish while the command seemed to
    ignore it. Interrupted, each run keeps its last checkpoint, and the same command resumes from there. A second
    Ctrl-C while they stop is ignored: it broke the pool's shutdown (a traceback as Python exited, once a hang)."""
    try:
        yield
    except KeyboardInterrupt:
        with holding_ctrl_c(then_raise=False):
            workers = list((pool._processes or {}).values())  # no public way to reach them; shutdown forgets them
            manager = pool._executor_manager_thread  # as it forgets the thread that stops them
            pool.shutdown(wait=False, cancel_futures=True)  # nothing new starts
            for process in workers:
                with contextlib.suppress(ProcessLookupError, TypeError):  # gone already; not started (no pid)
                    os.kill(process.pid, signal.SIGINT)
            if manager is not None:
                manager.join()  # seconds: each run saves what it must and stops
        raise


@contextlib.contextmanager
def _threads_that_start(pool: ProcessPoolExecutor) -> Iterator[None]:
    """GanbenchError, in one line, where the pool cannot start a thread: each reserves its stack (ulimit -s) under
    the process's memory cap (ulimit -v), so near the cap `--workers 2` was a traceback, the pool's own "cannot
    join thread" over it, and its started workers' tracebacks as they lost their parent (pass 77)."""
    try:
        yield
    except RuntimeError as exc:
        cause: BaseException | None = exc
        while cause is not None and "can't start new thread" not in str(cause):
            cause = cause.__context__
        if cause is None:
            raise
        for process in list((pool._processes or {}).values()):  # started, and waiting for work that never comes
            with contextlib.suppress(OSError, ValueError):
                process.terminate()
        raise GanbenchError(
            f"the worker processes' pool could not start a thread (can't start new thread): each reserves its stack "
            f"(ulimit -s) under this process's memory cap; {MORE_MEMORY}, or run fewer --workers"
        ) from None


def _call(fn: Any, kwargs: dict[str, Any]) -> Any:
    """A job in a worker, interruptible by Ctrl-C while it runs, once: a terminal's Ctrl-C reaches the worker and
    the parent, which passes it on; the second must not break the first one's clean-up (locks, records). One that
    came while the worker started or waited stops the job before it starts (it ran to its end before: a worker
    still importing torch when Ctrl-C came trained a whole run). Not where the command ignores it
    (``_interruptible``)."""
    if _interruptible:
        signal.signal(signal.SIGINT, _interrupt_once)
        if _interrupted:  # asked after the handler: one between the two is either remembered or raised
            signal.signal(signal.SIGINT, _remember_interrupt)
            raise KeyboardInterrupt
    try:
        return fn(**kwargs)
    finally:
        with contextlib.suppress(MemoryError):  # near a memory cap: the job's own error goes back, not this (pass 77)
            signal.signal(signal.SIGINT, _remember_interrupt if _interruptible else signal.SIG_IGN)


def _interrupt_once(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGINT, _remember_interrupt)
    raise KeyboardInterrupt


@dataclass(frozen=True)
class LocalExecutor(Executor):
    runs_here: ClassVar[bool] = True

    max_retries: int = option(3, ge=0, le=100)
    """Fresh pools a job gets after the pool it ran in broke (a worker process died); runs resume."""

    def run(self, jobs: Sequence[Job], workers: int = 1, on_result: OnResult | None = None) -> list[Any]:
        workers = min(workers, len(jobs))
        results: list[Any] = [None] * len(jobs)
        if workers <= 1:
            for i, (fn, kwargs) in enumerate(jobs):
                results[i] = fn(**kwargs)
                if on_result:
                    on_result(i, results[i])
            return results
        if _starting_as_a_worker():  # the parent says why, once: not this worker's traceback, in every worker
            os._exit(UNGUARDED)
        for job in jobs:  # here, in one line: else pickle's traceback from the pool's thread (a lambda)
            try:
                pickle.dumps(job)
            except (pickle.PicklingError, AttributeError, TypeError) as exc:
                raise GanbenchError(
                    f"a job for worker processes must be picklable: {one_line(exc)}; define its function at a "
                    "module's top level, or pass workers=1"
                ) from None
        threads = threads_per_run(workers)
        broken: Counter = Counter()
        pending = list(range(len(jobs)))
        while pending:
            lost, not_started = self._pool(jobs, pending, workers, threads, results, on_result)
            broken.update(lost)
            if lost:  # said: a worker killed by the OOM killer would otherwise go unnoticed until it fails for good
                warnings.warn(
                    f"a worker process died (killed, or out of memory) with {len(lost)} run(s) in flight; those "
                    f"start again in a fresh pool, each from its last checkpoint (at most {self.max_retries} times)",
                    stacklevel=2,
                )
            pending = [i for i in lost if broken[i] <= self.max_retries] + not_started
            for i in lost:
                if broken[i] > self.max_retries:
                    from ganbench.harness import lost_job

                    results[i] = lost_job(
                        jobs[i], f"its worker process died {broken[i]} time(s) (killed, or out of memory)"
                    )
                    if on_result:
                        on_result(i, results[i])
        return results

    @staticmethod
    def _pool(
        jobs: Sequence[Job],
        indices: list[int],
        workers: int,
        threads: int,
        results: list[Any],
        on_result: OnResult | None,
    ) -> tuple[list[int], list[int]]:
        """Run ``jobs[indices]`` in one pool, ``workers`` at a time, filling ``results``. If the pool
        breaks: (the indices in flight then, the indices not started yet); else two empty lists."""
        context = multiprocessing.get_context("spawn")
        waiting = list(indices)
        in_flight: dict[Any, int] = {}
        started: dict[int, Any] = {}
        interruptible = signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
        pool = ProcessPoolExecutor(
            min(workers, len(indices)),
            mp_context=context,
            initializer=_init_worker,
            initargs=(threads, os.getpid(), interruptible),
        )
        try:
            with _threads_that_start(pool), pool, _interrupting_workers(pool):
                while waiting or in_flight:
                    while waiting and len(in_flight) < workers:
                        i = waiting.pop(0)
                        with holding_ctrl_c(then_raise=True):  # a submit starts a worker while the pool has fewer
                            in_flight[pool.submit(_call, *jobs[i])] = i
                        started.update(pool._processes or {})  # why one died: its exit code (shutdown forgets them)
                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    broke = False
                    for future in done:
                        i = in_flight[future]
                        try:
                            results[i] = future.result()
                        except BrokenProcessPool:
                            broke = True
                            continue
                        del in_flight[future]
                        if on_result:
                            on_result(i, results[i])
                    if broke:
                        if any(_exit_code(process) == UNGUARDED for process in started.values()):
                            raise GanbenchError(UNGUARDED_MESSAGE)
                        return sorted(in_flight.values()), waiting
        except KeyboardInterrupt:  # the pool's semaphores released now, deaf: a burst's next Ctrl-C came as the
            with holding_ctrl_c(then_raise=False):  # exception unwound, inside their finalizer ("Exception ignored
                del pool  # in: <Finalize object, dead>", a traceback; pass 79's CI run)
                gc.collect()
            raise KeyboardInterrupt from None
        return [], []


@hookimpl
def register_executors(register):
    register(LocalExecutor("local", description="this machine: in process, or --workers N processes"))
