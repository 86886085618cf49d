"""Where ganbench keeps what it downloads and what it computes once: data and caches.

Neither location is part of a run's spec: moving the data or the cache never changes a
result, because datasets verify their files' checksums and cache entries carry their keys.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from ganbench.errors import OptionError, one_line, short_repr, shown_path
from ganbench.writable import kind_of

CACHE_ENV = "GANBENCH_CACHE_DIR"
DATA_ENV = "GANBENCH_DATA"


def env_text(name: str) -> str | None:
    """An environment variable's value; None when unset, empty or blank (no file or folder is called "  ")."""
    value = os.environ.get(name, "")
    return value if value.strip() else None


def env_folder(name: str) -> Path | None:
    """The folder an environment variable names, "~" expanded (a quoted "~" in a .env file, a compose file or a
    systemd unit met no shell to expand it: a folder named "~" in the working tree is a trap), blanks before it
    dropped (" ~/c" is that trap too; a folder may end in a blank); None when unset or blank."""
    value = env_text(name)
    return None if value is None else expanded(value, f"${name}")


def tilde_expanded(name: str) -> str:
    """``name`` with a leading "~" expanded as ``os.path.expanduser`` does; unchanged where it holds a NUL (no file
    is named so, and expanduser raised ValueError of "~\\0", a traceback)."""
    return name if "\0" in name else os.path.expanduser(name)


_data_folder: ContextVar[Path | None] = ContextVar("data_folder", default=None)


@contextlib.contextmanager
def data_paths_from(folder: Path) -> Iterator[None]:
    """Resolve dataset names as a suite does: a relative path to data is read from ``folder`` (the suite's)."""
    token = _data_folder.set(folder)
    try:
        yield
    finally:
        _data_folder.reset(token)


def data_folder() -> Path | None:
    """The folder relative paths to data are read from: a suite's, while its runs are made; else None (the working
    folder)."""
    return _data_folder.get()


def shown_data_path(path: str | Path) -> str:
    """A path to data as the user would write it where they name data: from a suite's folder while its runs are
    made (advice to write ``datasets = ["./v1/data/x.npz"]`` was read from the suite's folder, v1/v1/...), else
    from the working folder."""
    folder = data_folder()
    if folder is None:
        return shown_path(path)
    return one_line(os.path.relpath(path, folder.resolve()))


def data_path(name: str) -> Path:
    """``name``, a path to data as typed (``~`` expanded), resolved from ``data_folder()`` or the working folder: a
    suite's ``[set] dataset.path`` is read from its own folder, as its ``datasets`` are."""
    return ((data_folder() or Path()) / tilde_expanded(name)).resolve()


def path_argument(value: object, name: str, what: str) -> Path:
    """A path given from Python (``out=``, ``results_dir=``), "~" expanded: text or a Path, not empty, without NUL
    (no file is named so); else OptionError "``name`` must name ``what``", not a TypeError from deep inside, nor
    ``""`` read as the working folder."""
    if not isinstance(value, str | os.PathLike) or not str(value).strip() or "\0" in str(value):
        raise OptionError(f"{name} must name {what} (text or a Path, without NUL), not {short_repr(value)}")
    return expanded(str(value), name)  # "~/x" as the command line takes it, not a folder "~" made here


def refuse_undecodable_name(path: str | Path, option: str, fix: str = "choose a folder whose name is UTF-8") -> None:
    """OptionError if ``path`` holds bytes that are not UTF-8 (Python keeps them as lone surrogates): a results
    folder's or data's name is written into runs' JSON, where it reads back as another path ("bad\udcffname";
    passes 74, 75)."""
    text = os.fspath(path)
    encoding = sys.getfilesystemencoding()
    try:
        os.fsencode(text)  # a UTF-8 name recorded, read where file names are ASCII (LC_ALL=C, PYTHONUTF8=0)
        text.encode("utf-8")
    except UnicodeEncodeError:
        if codecs.lookup(encoding).name != "utf-8" and _utf8_name(text):  # this process reads it otherwise
            raise OptionError(
                f"{option} {one_line(text)} cannot be named in this process's file-name encoding ({encoding}); set "
                "PYTHONUTF8=1 or a UTF-8 locale (LC_ALL=C.UTF-8)"
            ) from None
        raise OptionError(f"{option} {one_line(text)} is not UTF-8 text, and runs record it in JSON; {fix}") from None


def _utf8_name(text: str) -> bool:
    """Whether ``text`` names a file whose name is UTF-8: its characters are, or the bytes it stands for (as
    surrogates, where the file-name encoding is ASCII) read as UTF-8. Else the locale's advice sent the user round
    in a loop: with PYTHONUTF8=1 as advised, "r\\xff" was "not UTF-8" (pass 77)."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        pass
    try:
        os.fsencode(text).decode("utf-8")
        return True
    except UnicodeError:
        return False


def expanded(value: str, what: str) -> Path:
    """``value`` with blanks before it dropped and "~" or "~user" expanded; OptionError naming ``what`` (an option
    or a variable) if it cannot be."""
    try:
        return Path(value.lstrip()).expanduser()
    except RuntimeError as exc:  # "~nosuchuser": no home to expand it to
        raise OptionError(
            f"{what} {one_line(value)}: {str(exc).rstrip('.')}; name a folder that exists, or a user who does"
        ) from None


def check_env_folders() -> None:
    """OptionError now, before any command runs, for a folder variable that cannot be expanded: found later, it
    would fail a run after its training."""
    for name in (CACHE_ENV, DATA_ENV, "XDG_CACHE_HOME"):
        env_folder(name)


def user_cache() -> Path:
    """$XDG_CACHE_HOME/ganbench, else ~/.cache/ganbench."""
    return (env_folder("XDG_CACHE_HOME") or Path.home() / ".cache") / "ganbench"


def cache_dir() -> Path:
    """Computed things (reference statistics, trained classifiers): $GANBENCH_CACHE_DIR, else the user cache."""
    return env_folder(CACHE_ENV) or user_cache()


def data_root() -> Path:
    """Downloaded datasets: --data-root / $GANBENCH_DATA, else <user cache>/data."""
    return env_folder(DATA_ENV) or user_cache() / "data"


_unwritable_warned: set[str] = set()


def check_entry_is_a_file(entry: Path) -> None:
    """ValueError if a cache entry is there but no regular file (a FIFO, which would block its reader forever, a
    socket, a link to a device); such a thing is removed first, so that the entry computed again can be written."""
    if entry.is_file() or not (entry.exists() or entry.is_symlink()):
        return
    with contextlib.suppress(OSError):  # not ours to remove (a folder with files): the new entry is not written
        entry.rmdir() if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    raise ValueError("not a regular file")


def _taken(entry: Path) -> Path | None:
    """What stands where a cache entry goes, when that (not the cache) is why it cannot be written: a folder or
    other non-file at it, a link to nothing or to itself, or a file where one of its folders goes."""
    if (entry.exists() and not entry.is_file()) or (entry.is_symlink() and not entry.exists()):
        return entry
    root = cache_dir()
    for folder in entry.parents:
        if folder == root or root not in folder.parents:
            return None
        if folder.exists() or folder.is_symlink():
            return None if folder.is_dir() else folder
    return None


def warn_cache_unwritable(entry: Path, exc: OSError) -> None:
    """Say once per process and cache folder that entries cannot be written there: a read-only or misplaced cache
    costs time (everything is computed again), never results."""
    taken = _taken(entry)
    if taken is not None:  # the cache is writable; this one path is taken
        if str(entry) not in _unwritable_warned:
            _unwritable_warned.add(str(entry))
            what = "a folder or other non-file is there" if taken == entry else f"{taken} is {kind_of(taken)}"
            if taken == entry and entry.is_symlink() and not entry.exists():
                what = f"it is {kind_of(entry)}"
            logging.getLogger("ganbench").warning("cannot write cache entry %s: %s; remove it", entry, what)
        return
    root = str(cache_dir())
    if root in _unwritable_warned:
        return
    _unwritable_warned.add(root)
    logging.getLogger("ganbench").warning(
        "cannot write cache entries such as %s (%s): they are computed again each time; set %s to a writable folder",
        entry,
        exc.strerror or exc,
        CACHE_ENV,
    )
