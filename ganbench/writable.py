"""Whether a folder can take ganbench's files, and one line when something stands in the way.

One place for the probe (a temporary entry made and removed at once) and for the wording of "a file where a
folder goes" or "a FIFO where a file goes", so `run`, `sweep` and the leaderboards say them alike.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from ganbench.errors import OptionError, link_loop, one_line, shown_path

NAME_MAX = 255
"""Bytes in one file or folder name on Linux and macOS file systems."""


def probe(folder: Path) -> None:
    """Make and remove a temporary entry in the existing ``folder``; the OSError if the disk refuses.
    Unique names: two processes may probe one folder at once."""
    os.rmdir(tempfile.mkdtemp(dir=folder, prefix=".ganbench-probe-"))


def too_long_name(path: Path) -> str | None:
    """Why no file system takes ``path`` (a part of it longer than a name may be), or None: known before any of
    its folders is made (mkdir -p would make those before the long one, then fail)."""
    too_long = [part for part in path.parts if len(os.fsencode(part)) > NAME_MAX]
    if too_long:
        return f"{one_line(too_long[0][:40])}... is a name of more than {NAME_MAX} bytes, more than file systems allow"
    return None


def why_unwritable(folder: Path) -> str | None:
    """Why ``folder`` could not be made or written (a parent that is a file, a link to nothing, a read-only place),
    or None; checked in its nearest existing ancestor, without creating anything that stays."""
    too_long = too_long_name(folder)
    if too_long:
        return too_long
    ancestor = folder
    while not ancestor.exists():
        if ancestor.is_symlink():
            return f"{ancestor} is a symbolic link to nothing"
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is a file, not a folder"
    try:
        probe(ancestor)
    except OSError as exc:
        return f"{ancestor} is not writable ({exc.strerror or exc})"
    return None


def kind_of(path: Path) -> str:
    """What stands at ``path``, in words: "a folder", "a file", "a FIFO", ..."""
    looped = link_loop(path)
    if looped:
        return looped
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return "a symbolic link to nothing" if os.path.islink(path) else "missing"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    return "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"


def in_the_way(path: Path | str, of: str = "files") -> str:
    """One line for something at ``path`` of the wrong kind for what a run writes there (``of``: "record.json",
    "folder", ...): what it is, and to move it."""
    return (
        f"{path} is {kind_of(Path(path))}, in the way of the run's {of}; move or delete it, then run the same "
        "command again"
    )


def file_in_the_way(path: Path) -> Path | None:
    """The nearest of ``path`` and its folders that exists, if it is no folder: nothing at or below it can be made
    or found (`-d imgs/a.png/b`, `--junit s/t.toml/x`, a --data-root naming a file)."""
    for candidate in (path, *path.parents):
        try:
            if candidate.exists():
                return None if candidate.is_dir() else candidate
        except (OSError, ValueError):
            return None
    return None


def refuse_writing_into_data(data_paths: Iterable[str], outputs: Mapping[str, str | Path | None]) -> None:
    """OptionError if an output (an option's name -> the path it names) is one of ``data_paths`` (``Dataset.
    data_paths``) or lies inside one: a run folder in a folder of images becomes a class of its own, a report in
    it an image that cannot be read, and every later run on those images fails or trains on them."""
    for data in dict.fromkeys(data_paths):
        inside = Path(data).resolve()
        for option, target in outputs.items():
            if target is None:
                continue
            where = Path(target).resolve()
            if where == inside or inside in where.parents:
                raise OptionError(
                    f"{option} {one_line(target)} is {'' if where == inside else 'inside '}dataset {shown_path(data)}; "
                    "what ganbench writes there would be read as its data by the next run: name a place outside it"
                )


def remedy(exc: OSError, other: str) -> str:
    """What to do about a write the disk refused (``advice``), or ``other`` (pass another --out, say)."""
    return f"{advice(exc)} or {other}"


def advice(exc: OSError) -> str:
    """What to do about a write the disk refused: free space when it is full, make the place writable when it is
    read-only, remove what is in the way when that is the problem."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "make it writable"
    return "remove what is in the way"
