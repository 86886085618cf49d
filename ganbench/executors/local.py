"""``local``: runs jobs on this machine, one after another or in a pool of processes.

With ``workers > 1`` each worker is a fresh (spawned) process that loads plugins from
entry points again, and torch's threads are split between workers so they do not fight
over cores. Plugins registered at run time with ``register_plugin`` exist only in the
parent process; use ``workers=1`` for those.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from ganbench.executor import Executor, Job, OnResult
from ganbench.hookspecs import hookimpl


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _call(fn: Any, kwargs: dict[str, Any]) -> Any:
    return fn(**kwargs)


class LocalExecutor(Executor):
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
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(threads,)) as pool:
            futures = {pool.submit(_call, fn, kwargs): i for i, (fn, kwargs) in enumerate(jobs)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if on_result:
                    on_result(futures[future], results[futures[future]])
        return results


@hookimpl
def register_executors(register):
    register(LocalExecutor("local", description="this machine: in process, or --workers N processes"))
