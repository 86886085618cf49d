"""Ctrl-C held back through moments that must not be cut: a worker process starting, torch importing."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def holding_ctrl_c(then_raise: bool) -> Iterator[None]:
    """Hold a Ctrl-C of this process back while this runs, then raise it (``then_raise``) or drop it.

    Raised after: torch importing (it swallows a Ctrl-C that comes while it imports numpy, and can leave numpy
    half imported: the command trained on, then failed in pandas); a worker process starting (one half started
    reads an empty pipe, a traceback, if this process stops at once). Dropped: a second Ctrl-C while workers stop
    (it broke the pool's shutdown) or while the first is said. SIGINT is blocked in this thread meanwhile, so the
    processes it starts hold it back too until they choose (a thread's blocked signals pass to the processes it
    starts). Only the main thread's handler can be replaced; SIG_IGN and SIG_DFL stay as they are."""
    held: list[int] = []
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    if callable(previous):
        signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # one pending arrives now: held, as signal() checks first
        if callable(previous):
            signal.signal(signal.SIGINT, previous)
            if held and then_raise:
                previous(signal.SIGINT, None)  # Python's own raises KeyboardInterrupt, now
