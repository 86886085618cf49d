"""Where a command's output goes: standard output is a command's output alone (JSON, CSV a program reads), so
whatever else prints while a built-in command works goes to stderr, and a failed write is one line."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import os
import sys
from collections.abc import Iterator
from typing import Any

import click

from ganbench.errors import OutputError
from ganbench.writable import remedy

_installed: list[CommandStdout] = []
"""The standard outputs ``main()`` installed, innermost last (a plugin's command may call ``main()`` again)."""


@contextlib.contextmanager
def command_stdout() -> Iterator[CommandStdout]:
    """``sys.stdout`` guarded while ``main()`` runs one command, and put back after it, even where a plugin
    replaced it meanwhile (its own StringIO, say)."""
    guarded = CommandStdout(sys.stdout)
    sys.stdout = guarded
    _installed.append(guarded)
    try:
        yield guarded
    finally:
        _installed.remove(guarded)
        sys.stdout = guarded._stream


def nested_command() -> bool:
    """Whether ``main()`` runs inside another command (a plugin's command calling it)."""
    return bool(_installed)


def work_quietly() -> contextlib.AbstractContextManager:
    """While this runs, prints go to stderr: ganbench's own work (a plugin dataset's ``print`` in ``load()``),
    plugins' imports and registration, not a command's output."""
    return _installed[-1].diverted() if _installed else contextlib.nullcontext()


def output(text: str = "", nl: bool = True) -> None:
    """Write a built-in command's output to standard output: the one way it gets there while the command works."""
    if not _installed:
        click.echo(text, nl=nl)
        return
    guarded = _installed[-1]
    with guarded.diverted(False):
        click.echo(text, nl=nl, file=guarded)  # not sys.stdout: a plugin may have replaced it


class BuiltinCommand(click.Command):
    """A command of ganbench's own: while it works, prints other than its ``output()`` go to stderr. A plugin's
    command (a plain click command) prints where it likes."""

    def invoke(self, ctx: click.Context) -> Any:
        with work_quietly():
            return super().invoke(ctx)


class CommandStdout:
    """``sys.stdout`` while ``main()`` runs a command. A failed write or flush (a full disk under ``> table.csv``,
    /dev/full, a closed or read-only standard output) is one line, not a traceback from inside click; after a
    closed pipe (``| head``) the rest is discarded, unsaid. While a built-in command works, whatever else prints (a
    plugin dataset's ``print`` in ``reference()``) goes to stderr: the command's own output is written through
    ``output()``."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._diverted = False
        self._reader_gone = False
        self._escaped: set[str] = set()

    @contextlib.contextmanager
    def diverted(self, divert: bool = True) -> Iterator[None]:
        """Writes go to stderr (``divert``) or to the real standard output while this runs."""
        before, self._diverted = self._diverted, divert
        try:
            yield
        finally:
            self._diverted = before

    def write(self, text: str) -> int:
        if self._diverted:
            return sys.stderr.write(text)
        if self._stream is None:  # `>&-`: Python has no sys.stdout at all
            if not text:
                return 0
            raise self._failed(OSError(errno.EBADF, "it is closed"))
        if self._reader_gone:
            return len(text)
        try:
            return self._stream.write(text)
        except UnicodeEncodeError as exc:  # PYTHONIOENCODING=ascii and a "±": shown escaped, as stderr shows it (it
            encoding = exc.encoding or "ascii"  # was "standard output was closed", exit 2, after the work; pass 75)
            self._say_escaped(text, encoding)
            self._stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
            return len(text)
        except OSError as exc:
            if not text or not isinstance(text, str):  # click probing what kind of stream it is, not output
                raise
            if exc.errno == errno.EPIPE:
                self._discard_the_rest()
                return len(text)
            raise self._failed(exc) from None
        except ValueError:  # "I/O operation on closed file": a plugin's command closed it
            raise self._failed(OSError(errno.EBADF, "it was closed")) from None

    def _say_escaped(self, text: str, encoding: str) -> None:
        """Once each on stderr (a CSV cell or a path escaped is another value; pass 76): characters the encoding
        cannot show, and bytes of a name that are not text at all (a file name that is not UTF-8, which Python
        holds as \\udcff): no encoding shows those, and "set PYTHONIOENCODING=utf-8" was said to utf-8 (pass 77)."""
        characters = "".join(c for c in text if not "\udc80" <= c <= "\udcff")
        try:
            characters.encode(encoding)
            kind = "bytes"
        except UnicodeEncodeError:
            kind = "characters"
        if kind in self._escaped:
            return
        self._escaped.add(kind)
        if kind == "characters":
            sys.stderr.write(
                f"warning: standard output's encoding ({encoding}) cannot show some characters of the output; "
                "they are written escaped (\\xe9), so names and values may differ: set PYTHONIOENCODING=utf-8\n"
            )
        else:
            sys.stderr.write(
                "warning: some names in the output hold bytes that are not text (a file name that is not UTF-8); "
                "they are written escaped (\\udcff), so they differ from the names on disk\n"
            )

    def flush(self) -> None:
        if self._diverted:
            sys.stderr.flush()
        if self._stream is None or self._reader_gone:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                self._discard_the_rest()
                return
            raise self._failed(exc) from None
        except ValueError:
            raise self._failed(OSError(errno.EBADF, "it was closed")) from None

    def close(self) -> None:
        """A plugin closing "stdout" while ganbench works closes neither stderr nor the command's output."""
        if not self._diverted and self._stream is not None:
            self._stream.close()

    def __getattr__(self, name: str) -> Any:  # buffer, fileno: stderr's while diverted, as writes are
        return getattr(sys.stderr if self._diverted else self._stream, name)

    def _discard_the_rest(self) -> None:
        """The reader closed the pipe (``| head -1``): it has read what it wanted. The command ends as it would
        have, with its own exit code (check's verdict), not click's 1 for every closed pipe."""
        self._reader_gone = True
        _to_devnull(self._stream)

    def _failed(self, exc: OSError) -> OutputError:
        _to_devnull(self._stream)
        return _unwritable(exc)


def _unwritable(exc: OSError) -> OutputError:
    if exc.errno == errno.EBADF:  # closed (>&-) or opened for reading (1</dev/null): space is not the problem
        fix = "give it a place to write to: > FILE, or > /dev/null to discard it"
    else:
        fix = remedy(exc, "send it elsewhere")
    return OutputError(f"cannot write the output to standard output ({exc.strerror or exc}); {fix}")


def refuse_unwritable_stdout() -> None:
    """A closed or read-only standard output (``>&-``, ``1</dev/null``) refused before the command works: `check`
    trained every run and only then found it could not say its verdicts."""
    if sys.stdout is None:
        raise _unwritable(OSError(errno.EBADF, "it is closed"))
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):  # not a file (a test's capture): its writes will say
        return
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError:
        raise _unwritable(OSError(errno.EBADF, "it is closed")) from None
    if flags & os.O_ACCMODE == os.O_RDONLY:
        raise _unwritable(OSError(errno.EBADF, os.strerror(errno.EBADF)))


@contextlib.contextmanager
def command_stderr() -> Iterator[None]:
    """``sys.stderr`` while ``main()`` runs, put back after it: once it cannot be written (its pipe lost its
    reader, ``2>&1 | head -1``; a full disk, ``2>/dev/full``), the rest (a warning, "Error: ...") is dropped, and
    the command ends with its own exit code, not 1 and an exception that nobody can read either."""
    before = sys.stderr
    guarded = CommandStderr(before)
    sys.stderr = guarded
    try:
        yield
    finally:
        sys.stderr = before


class CommandStderr:
    """``sys.stderr`` whose writes are dropped once one failed (``command_stderr``)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream if stream is not None else open(os.devnull, "w")  # 2>&-: Python has no sys.stderr
        self._dropping = False

    def write(self, text: str) -> int:
        if self._dropping:
            return len(text)
        try:
            return self._stream.write(text)
        except (OSError, ValueError):  # ValueError: closed
            self._dropping = True
            _to_devnull(self._stream)
            return len(text)

    def flush(self) -> None:
        if self._dropping:
            return
        try:
            self._stream.flush()
        except (OSError, ValueError):
            self._dropping = True
            _to_devnull(self._stream)

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding: the stream's
        return getattr(self._stream, name)


def _to_devnull(stream: Any) -> None:
    """``stream``'s file descriptor onto /dev/null: what is left in its buffer would fail again as Python exits,
    with a message of its own."""
    if stream is None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
    finally:
        os.close(devnull)
