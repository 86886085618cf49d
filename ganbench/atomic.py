"""Writing a file so that readers see the old one or the new one, never half of one."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: Path, write: Any, devices: bool = False) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then rename it over ``path``.

    Only a regular file (or a new one) is replaced. With ``devices`` (a path the user named: ``--junit
    /dev/null``) a character device or a FIFO is written to directly, as a shell's ``>`` would; anything
    else that is not a file is refused (a FIFO where a run's metrics.json goes would block the run forever).
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        mode = path.stat().st_mode
        if not devices or not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            what = "not a regular file, device or FIFO" if devices else "not a regular file"
            raise IsADirectoryError(errno.EISDIR, what, str(path))
        with open(path, "wb") as f:
            write(f)
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ganbench-", suffix=".tmp")  # short: any name fits beside
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
