"""One process trains a run folder at a time: an OS lock on the folder, and who holds it.

The lock is ``flock`` on the run folder's own directory descriptor: it creates no file,
and the operating system releases it when its holder dies, kill -9 included, so a stale
lock cannot block a folder. Where directories cannot be flocked (Windows, some network
file systems) it falls back to ``filelock`` on a ``.run.lock`` file in the folder. While
it holds the lock, the holder writes who it is (pid, host, start time) beside it, so a
second process can say who is training.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from ganbench.errors import GanbenchError
from ganbench.results import write_json_atomic

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

OWNER = ".run.owner.json"
FALLBACK_LOCK = ".run.lock"


class RunLockedError(GanbenchError):
    """A run folder that another process is training."""


class RunLock:
    """``with RunLock(run_dir):`` holds the folder's lock, or raises RunLockedError at once."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self._fd: int | None = None
        self._file_lock = None

    def __enter__(self) -> RunLock:
        if not self._lock_directory():
            self._lock_file()
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        try:
            write_json_atomic(self.run_dir / OWNER, owner)
        except BaseException:  # a full disk: the lock is not kept by a process that cannot say it holds it
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        (self.run_dir / OWNER).unlink(missing_ok=True)
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    def _lock_directory(self) -> bool:
        """True once the folder is flocked; False where directories cannot be flocked here."""
        if fcntl is None:
            return False
        fd = os.open(self.run_dir, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise self._busy() from None
            return False
        self._fd = fd
        return True

    def _lock_file(self) -> None:
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.run_dir / FALLBACK_LOCK), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise self._busy() from None
        self._file_lock = lock

    def _busy(self) -> RunLockedError:
        return RunLockedError(
            f"run folder {self.run_dir} is being trained by {self.holder()}; "
            "wait for it to finish (then rerun to get its results) or stop that process"
        )

    def holder(self) -> str:
        """'process 123 on host (since ...)', as the holder wrote it."""
        try:
            owner = json.loads((self.run_dir / OWNER).read_text())
            return f"process {owner['pid']} on {owner['host']} (since {owner['since']})"
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"
