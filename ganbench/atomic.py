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


def write_atomic(path: Path, write: Any) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then rename it over ``path``.

    Only a regular file (or a new one) is replaced: a character device or a FIFO (``--junit /dev/null``)
    is written to directly, as a shell's ``>`` would; anything else that is not a file is refused.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        mode = path.stat().st_mode
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise IsADirectoryError(errno.EISDIR, "not a regular file, device or FIFO", str(path))
        with open(path, "wb") as f:
            write(f)
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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
