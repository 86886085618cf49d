"""Writing a file so that readers see the old one or the new one, never half of one."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)
TEMP_PREFIX, TEMP_SUFFIX = ".ganbench-", ".tmp"
STALE_SECONDS = 3600
"""A temporary file untouched this long is no write in progress (one takes milliseconds): a killed process's."""


def write_atomic(path: Path, write: Any, devices: bool = False, follow: bool = False) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then rename it over ``path``.

    Only a regular file (or a new one) is replaced. A symbolic link is replaced by the file, never written
    through: a link in a cache, a run folder or a folder of figures must not let ganbench overwrite what it
    points to (another run's record). ``follow`` (a path the user named: a baseline linked to a shared copy)
    updates the link's target instead and keeps the link, as a shell's ``>`` does. With ``devices`` (``--junit
    /dev/null``) a character device or a FIFO is written to directly; anything else that is not a file is
    refused (a FIFO where a run's metrics.json goes would block the run forever).
    """
    path = Path(path)
    link = path.is_symlink()
    if follow and link:
        path, link = Path(os.path.realpath(path)), False
    if not link and path.exists() and not path.is_file():  # a link: the rename below replaces the link itself
        mode = path.stat().st_mode
        if not devices or not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            what = "not a regular file, device or FIFO" if devices else "not a regular file"
            raise IsADirectoryError(errno.EISDIR, what, str(path))
        with open(path, "wb") as f:
            write(f)
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)  # short: fits beside any
    except OSError as exc:  # a read-only or full folder: name the file meant, not a random temporary name
        raise _naming(exc, path) from None
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, tmp) and exc.errno is not None:
            raise _naming(exc, path) from None  # a full disk while writing it, say
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` as if it were about ``path`` (its errno picks the same subclass: PermissionError, ...)."""
    return OSError(exc.errno, exc.strerror, str(path), None, exc.filename2 if exc.filename2 != str(path) else None)


def remove_stale_temps(folder: Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove the temporary files of writes killed (kill -9) in ``folder``, untouched for ``older_than`` seconds:
    hidden, they would linger as untracked files beside a committed baseline. A fresh one, which another process
    may be writing, is left alone; what cannot be removed stays. The paths removed."""
    cutoff, removed = time.time() - older_than, []
    for tmp in Path(folder).glob(f"{TEMP_PREFIX}{'?' * 8}{TEMP_SUFFIX}"):  # mkstemp's names: 8 random characters
        try:
            if tmp.is_file() and not tmp.is_symlink() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue
    return removed
