"""Errors a user can cause. Each message is one line: what is wrong, and how to fix it.

The CLI prints ``Error: <message>`` and exits with code 2 for any ``GanbenchError``;
everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import errno
import math
import os
import re
import shlex
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path

MORE_MEMORY = "give it more memory (ulimit -v, a container's limit)"
"""The advice where nothing smaller can be asked for: a library, a checkpoint to resume."""


class GanbenchError(Exception):
    """Base class: a problem the user can fix."""


def counted(n: int, noun: str) -> str:
    """``n`` of ``noun`` in words: "1 run", "2 runs"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def memory_size(n_bytes: float) -> str:
    """``n_bytes`` in the unit that shows it: "1.5 GiB", "12 MiB" (a small size was "0.0 GiB")."""
    if n_bytes >= 2**30:
        return f"{n_bytes / 2**30:,.1f} GiB"
    if n_bytes >= 2**20:
        return f"{n_bytes / 2**20:,.0f} MiB"
    return f"{n_bytes / 2**10:,.0f} KiB"


def shell_path(path: object) -> str:
    """``path`` as a shell reads it back as one argument, not an option: quoted (spaces, quotes), and "./" before a
    leading "-" (advice to run `ganbench leaderboard update -s.toml` failed: "No such option '-s'")."""
    text = str(path)
    text = f"./{text}" if text.startswith("-") else text
    if text.isprintable():  # no newline, and no byte that is not text (a name that is not UTF-8, as \udcff)
        return shlex.quote(text)
    try:  # the name's own bytes, as bash's $'...' writes them back: "bad\udcffdir" quoted named no file (pass 77)
        named = os.fsencode(text)
    except UnicodeError:
        return shlex.quote(text)
    return "$'" + "".join(chr(b) if 32 <= b < 127 and b not in b"\\'" else f"\\x{b:02x}" for b in named) + "'"


def one_line(text: object) -> str:
    """``text`` as one line: control characters (a newline in a file name a message quotes) escaped. A plugin's
    exception whose ``str()`` itself fails is named by its type, not a traceback in the middle of saying it."""
    try:
        shown = str(text)
    except Exception as exc:
        shown = f"<{type(text).__name__}, whose message failed: {type(exc).__name__}>"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)


def raised(exc: BaseException) -> str:
    """What ``exc`` is, in one line: "KeyError: 'x'"; a bare one by its type alone ("MemoryError", not
    "MemoryError: ", pass 72)."""
    text = one_line(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def raised_importing(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while Python imported a module: in a module's own code, or in importlib's (its
    caller, a batch that imported torch._dynamo say, is not what failed)."""
    codes = [frame.f_code for frame, _ in traceback.walk_tb(exc.__traceback__)]
    return any(code.co_name == "<module>" or code.co_filename.startswith("<frozen importlib") for code in codes)


def one_line_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> str:
    """Python warnings (numpy's, torch's, ganbench's own) as one line each, without the source line they name:
    ``warnings.formatwarning`` in the command line and in each worker process it starts. A library's message of
    several lines (torch's) is joined by spaces, not shown with literal ``\\n``s; ganbench's own quote paths already
    escaped."""
    lines = (line.strip() for line in str(message).splitlines())
    return f"warning: {one_line(' '.join(line for line in lines if line))}\n"


def shown_path(path: object) -> str:
    """A path as messages show it: from the working folder when it lies below it, as the user most likely typed it
    (``./imgs``, though ganbench keeps the whole path to tell runs apart), else whole; one line."""
    text = str(path)
    try:
        below = Path(text).relative_to(os.getcwd()) if os.path.isabs(text) else None
    except (ValueError, OSError):  # elsewhere, or the working folder is gone
        below = None
    return one_line(text if below is None else os.curdir if below == Path() else os.path.join(os.curdir, below))


class UnknownNameError(GanbenchError):
    """A variant, dataset, network, metric or executor name that no plugin registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str], also: str = "") -> None:
        known = sorted(known)
        lowered = {entry.lower(): entry for entry in known}  # `-d MNIST` for mnist
        close = [lowered[match] for match in difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)]
        hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(known) or 'none'}"
        super().__init__(f"unknown {kind} {name!r}; {hint} (`ganbench list` shows all){also}")


class PluginError(GanbenchError):
    """A plugin that fails to load or registers something invalid."""

    @classmethod
    def failed(
        cls, what: str, call: str, exc: BaseException, fix: str = "fix the plugin, or leave it out"
    ) -> PluginError:
        """The one line for a third-party plugin's exception: which plugin (``what``), in which call, what it raised."""
        error = cls(f"{what} failed in {call}: {raised(exc)}; {fix}")
        error.__cause__ = exc
        return error


class OptionError(GanbenchError):
    """A `--set key=value` override with an unknown key or a value of the wrong type.

    ``hint`` (e.g. `` (--set lr_d=VALUE)``) says how a user changes the option; it is kept apart from
    ``message`` so that a plugin's own default, which no ``--set`` reaches, is reported without it.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + self.hint


class DeclarationError(GanbenchError, ValueError):
    """A plugin object that contradicts itself (a metric's range with its low above its high): refused as it is
    made, so registration names the plugin to fix. A ValueError too, as such checks raised before."""


class BudgetError(GanbenchError):
    """A budget that is not a positive integer (steps) or positive number (seconds)."""


class SamplesError(GanbenchError):
    """A samples file that is missing, of the wrong shape, or holds NaN/inf."""


def link_loop(path: object) -> str | None:
    """What ``path`` is when symbolic links in it lead back to themselves, in words; else None. ``os.path.exists``
    and ``Path.exists`` answer False for such a path, so a check of existence alone would call it missing."""
    try:
        os.stat(path)  # type: ignore[arg-type]
        return None
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            return None
    except (ValueError, TypeError):  # a NUL in the name, not a path at all
        return None
    if os.path.islink(path):  # type: ignore[arg-type]
        return "a symbolic link that leads back to itself"
    return "below a symbolic link that leads back to itself"


def link_loop_message(path: object, what: str = "") -> str:
    """One line for a path whose links loop: what it is (``what``: "results folder ", ...) and what to do."""
    kind = link_loop(path) or "below a symbolic link that leads back to itself"
    return f"{what}{shown_path(path)} is {kind}; fix the link (ls -l shows where it points) or name another path"


def refuse_link_loop(path: object, what: str = "") -> None:
    """PathError where links in ``path`` lead back to themselves: called before saying a path does not exist."""
    if link_loop(path):
        raise PathError(link_loop_message(path, what))


class CheckpointError(GanbenchError):
    """A checkpoint that is corrupt or belongs to another run."""


class OutputError(GanbenchError):
    """An output folder that cannot be written."""


class PathError(GanbenchError):
    """A path no file system takes (a name too long, a link in it that leads back to itself), or one this user may
    not read or write."""


@contextlib.contextmanager
def path_errors() -> Iterator[None]:
    """The file system's "File name too long" and "Permission denied" (OSError) and pathlib's "Symlink loop"
    (RuntimeError) as one-line PathErrors. Any path a user gives can meet them wherever it is first looked at;
    translated here, around the command line and each function of the Python API, they read alike in both (a
    decorator too)."""
    try:
        yield
    except PermissionError as exc:  # the places that read or write a path say more; this is where none did
        where = shown_path(exc.filename) if exc.filename else one_line(exc)
        raise PathError(
            f"permission denied on {where}; give this user access to it (chmod, or run as its owner), or name another"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PathError(link_loop_message(exc.filename or "")) from None
        if exc.errno != errno.ENAMETOOLONG:
            raise
        raise PathError(
            f"{shown_path(exc.filename or '')} is too long a name for the file system; choose a shorter one"
        ) from None
    except RuntimeError as exc:
        looped = re.fullmatch(r"Symlink loop from (['\"])(.*)\1", str(exc), re.DOTALL)  # pathlib's resolve()
        if looped is None:
            raise
        raise PathError(link_loop_message(looped.group(2))) from None


def short_repr(value: object) -> str:
    """A value in a message, cut to a line's worth (a hand-edited file may hold anything); TOML's dates and tables
    as a suite writes them, not as Python's reprs (``datetime.date(1979, 5, 27)``)."""
    if isinstance(value, datetime.date | datetime.time):
        kind = "date and time" if isinstance(value, datetime.datetime) else type(value).__name__
        return f"{value.isoformat()} (a {kind})"
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        text = "a table {" + ", ".join(f"{k} = {short_repr(v)}" for k, v in value.items()) + "}"
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**57:  # not cut digits of 10**400
        return f"{'-' if value < 0 else ''}about 10^{int(math.log10(abs(value)))}"
    try:
        text = repr(value)
    except ValueError:  # an integer past Python's 4,300 digits to text
        return f"an integer of {value.bit_length():,} bits" if isinstance(value, int) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."
