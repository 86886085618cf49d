"""How many threads torch uses per run: chosen, not left to torch's default, and recorded.

torch starts with one thread per physical core of the machine, which on a shared or
containerised machine can exceed the cores this process may use (its CPU affinity), and then
the threads fight over them. So one run gets the cores it may use, and a pool of W workers
gets that divided by W each. A user who sets ``OMP_NUM_THREADS`` has chosen: it wins. The
count each run used is in its record (``environment.torch_threads``).
"""

from __future__ import annotations

import os

THREADS_ENV = "OMP_NUM_THREADS"


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS says, else every core)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def user_threads() -> int | None:
    """The thread count the user set in ``OMP_NUM_THREADS``, or None (unset or not a positive integer)."""
    text = os.environ.get(THREADS_ENV, "").strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else None


MAX_THREADS_PER_CORE = 16
"""``OMP_NUM_THREADS`` above this many threads per usable core (at least 256) is refused: OpenMP would try to
start them all (999999 threads: out of memory, or a crash), and no CPU computes faster that way."""


def check_threads_env() -> None:
    """OptionError if ``OMP_NUM_THREADS`` is set but is not a positive whole number (OpenMP would warn on stderr
    and fall back to its default, so the user's choice would silently not hold; an empty value too), or asks for
    more threads than this machine could start (``MAX_THREADS_PER_CORE``)."""
    from ganbench.errors import OptionError

    if THREADS_ENV not in os.environ:
        return
    text = os.environ[THREADS_ENV].strip()
    if user_threads() is None:
        raise OptionError(
            f"{THREADS_ENV}={text!r} is not a positive whole number of threads; unset it or set e.g. {THREADS_ENV}=2"
        )
    limit = max(256, MAX_THREADS_PER_CORE * usable_cores())
    if user_threads() > limit:
        raise OptionError(
            f"{THREADS_ENV}={text} asks for more threads than this machine can use ({usable_cores()} cores; at most "
            f"{limit}); set e.g. {THREADS_ENV}={usable_cores()}"
        )


def threads_per_run(workers: int = 1) -> int:
    """Threads for each of ``workers`` runs at a time: the user's choice, else the usable cores shared out."""
    return user_threads() or max(1, usable_cores() // max(1, workers))


def use_threads_per_run(workers: int = 1) -> int:
    """Set torch's intra-op threads for a run in this process; returns the count."""
    import torch

    threads = threads_per_run(workers)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
