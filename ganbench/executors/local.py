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
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ganbench.executor import Executor, Job
from ganbench.hookspecs import hookimpl


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _call(fn: Any, kwargs: dict[str, Any]) -> Any:
    return fn(**kwargs)


class LocalExecutor(Executor):
    def run(self, jobs: Sequence[Job], workers: int = 1) -> list[Any]:
        workers = min(workers, len(jobs))
        if workers <= 1:
            return [fn(**kwargs) for fn, kwargs in jobs]
        threads = max(1, (os.cpu_count() or 1) // workers)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(threads,)) as pool:
            futures = [pool.submit(_call, fn, kwargs) for fn, kwargs in jobs]
            return [f.result() for f in futures]


@hookimpl
def register_executors(register):
    register(LocalExecutor("local", description="this machine: in process, or --workers N processes"))
