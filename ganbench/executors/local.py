"""``local``: runs jobs on this machine, one after another or in a pool of processes.

With ``workers > 1`` each worker is a fresh (spawned) process that loads plugins from
entry points again, and torch's threads are split between workers so they do not fight
over cores. Plugins registered at run time with ``register_plugin`` exist only in the
parent process; use ``workers=1`` for those.

A worker process that dies (killed, out of memory) breaks the whole pool: every job not
finished then is started again in a fresh pool, and a run resumes from its checkpoint. A
job caught in ``max_retries + 1`` broken pools becomes a 'failed' record; the others go on.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from ganbench.executor import Executor, Job, OnResult
from ganbench.hookspecs import hookimpl
from ganbench.options import option


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _call(fn: Any, kwargs: dict[str, Any]) -> Any:
    return fn(**kwargs)


@dataclass(frozen=True)
class LocalExecutor(Executor):
    max_retries: int = option(3, ge=0)
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
        threads = max(1, (os.cpu_count() or 1) // workers)
        broken: Counter = Counter()
        pending = list(range(len(jobs)))
        while pending:
            lost = self._pool(jobs, pending, workers, threads, results, on_result)
            broken.update(lost)
            pending = [i for i in lost if broken[i] <= self.max_retries]
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
    ) -> list[int]:
        """Run ``jobs[indices]`` in one pool, filling ``results``; the indices lost when the pool broke."""
        context = multiprocessing.get_context("spawn")
        lost = []
        with ProcessPoolExecutor(
            min(workers, len(indices)), mp_context=context, initializer=_init_worker, initargs=(threads,)
        ) as pool:
            futures = {pool.submit(_call, *jobs[i]): i for i in indices}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    results[i] = future.result()
                except BrokenProcessPool:
                    lost.append(i)
                    continue
                if on_result:
                    on_result(i, results[i])
        return sorted(lost)


@hookimpl
def register_executors(register):
    register(LocalExecutor("local", description="this machine: in process, or --workers N processes"))
