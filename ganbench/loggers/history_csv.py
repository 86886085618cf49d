"""Writes history.csv in each run folder: one row of losses every ``log_every`` steps.

A resumed run drops the rows logged after its checkpoint (and a row torn by a kill), so
the history of a killed and resumed run equals that of an uninterrupted one. The run
folder's lock guarantees one writer.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from pathlib import Path
from typing import IO, Any

from ganbench.atomic import write_atomic
from ganbench.errors import one_line
from ganbench.hookspecs import hookimpl
from ganbench.metric import Bound, out_of_bounds

FILENAME = "history.csv"
_open: dict[str, tuple[IO[str], list[str] | None]] = {}


@hookimpl
def on_run_start(spec, run_dir, start_step, log_every):
    path = Path(run_dir) / FILENAME
    kept: list[list[str]] = []
    unreadable: list[tuple[int, str]] = []
    logged = start_step > log_every  # rows were due before the checkpoint (its own step's may come after it)
    if start_step and path.exists():
        text = path.read_text(errors="replace").removeprefix("\ufeff")  # re-saved by a spreadsheet
        records = list(csv.reader(text.splitlines()))  # quoted cells (QUOTE_ALL) read as plot reads them
        if records and records[0][:1] == ["step"]:  # "step" alone: a run too short to log wrote its header
            torn = not text.endswith(("\n", "\r"))  # a kill cut the last row short: never a row to keep
            kept, unreadable = _rows_to_keep(records, start_step, len(records) if torn else 0, _bounds(spec))
            if unreadable:  # kept aside, never dropped without a copy
                aside = _aside(path)
                line, why = unreadable[0]
                _warn_lost(path, start_step, f"held {len(unreadable)} row(s) ganbench cannot read (line {line}: "
                           f"{why}), left out (the file as it was is {aside.name})")  # fmt: skip
        elif records:  # no header: kept aside, never emptied on a guess
            aside = _aside(path)
            _warn_lost(path, start_step, f"was no history ganbench reads (no 'step' header; kept as {aside.name})")
        elif logged:  # empty: a run killed before its first row leaves it so, not one past a row
            _warn_lost(path, start_step, "was emptied")
    elif start_step:
        _warn_lost(path, start_step, "was gone")
    steps = [int(row[0]) for row in kept[1:]]
    if not unreadable:  # rows ganbench left out are said above, not as deleted
        if kept and not steps and logged:
            _warn_lost(path, start_step, "held no rows (rows deleted, or replaced?)")
        elif _rows_missing(steps, start_step, spec.eval.every):
            _warn_lost(path, start_step, f"held the rows of steps {_spans(steps)} only (rows deleted, or replaced?)")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(kept)
    data = buffer.getvalue().encode()
    write_atomic(path, lambda f: f.write(data))  # a new file: a hard link's other names (a suite) keep theirs
    header = kept[0] if kept else None
    _open[str(run_dir)] = (path.open("a", newline=""), header)


def _bounds(spec: Any) -> dict[str, Bound]:
    """The values each metric column can hold on the run's dataset (its number of modes)."""
    from ganbench.options import with_options
    from ganbench.plugins import registries

    regs = registries()
    return regs.metric_bounds(with_options(regs.datasets.get(spec.dataset), spec.dataset_options, "dataset"))


def _rows_to_keep(
    records: list[list[str]], start_step: int, torn: int, bounds: dict[str, Bound] | None = None
) -> tuple[list[list[str]], list[tuple[int, str]]]:
    """(the header and the rows up to the checkpoint, in order; (line, why) of each row that could not be read).

    A row after the checkpoint is dropped (training logs it again), as is the row a kill cut short (line ``torn``).
    A row before it must have the header's width, a step in ASCII digits (str.isdigit takes '²') above the row
    before, and numbers or empty cells elsewhere: else plot would leave out the whole file's curves for it. A
    metric's value its metric cannot give (``bounds``: 99 of 8 modes, a negative distance) is a hand edit, as a
    record or a baseline holding it is refused."""
    header, kept, unreadable, last = records[0], [records[0]], [], -1
    for line, cells in enumerate(records[1:], start=2):
        if not cells or line == torn:
            continue
        step = cells[0]
        if not (step.isascii() and step.isdigit()):
            unreadable.append((line, f"step {one_line(step)[:20]!r} is not a whole number"))
        elif int(step) > start_step:
            continue
        elif len(cells) != len(header):
            unreadable.append((line, f"{len(cells)} fields, its header {len(header)}"))
        elif int(step) <= last:
            unreadable.append((line, f"step {int(step)} after step {last}"))
        elif not all(_NUMBER.fullmatch(c) for c in cells[1:] if c):
            cell = next(c for c in cells[1:] if c and not _NUMBER.fullmatch(c))
            unreadable.append((line, f"{one_line(cell)[:20]!r} is not a number"))
        elif why := _impossible(header, cells, bounds or {}):
            unreadable.append((line, why))
        else:
            kept.append(cells)
            last = int(step)
    return kept, unreadable


def _impossible(header: list[str], cells: list[str], bounds: dict[str, Bound]) -> str | None:
    values = {name: float(cell) for name, cell in zip(header[1:], cells[1:], strict=True) if cell and name in bounds}
    return out_of_bounds({name: v for name, v in values.items() if math.isfinite(v)}, bounds)


def _warn_lost(path: Path, start_step: int, what: str) -> None:
    """The rows up to a resumed run's checkpoint are its history.csv's alone (the checkpoint keeps no losses): if
    they went while the run was stopped, its curves now miss them; say so rather than plot less without a word."""
    warnings.warn(
        f"{path} {what} when the run resumed at step {start_step}: its training curves miss those steps (to have "
        "them, rerun with --force, which trains it again)",
        stacklevel=2,
    )


def _rows_missing(steps: list[int], start_step: int, eval_every: int) -> bool:
    """Whether rows logged before the checkpoint miss one block: at the front, inside or just before it.

    Rows come every log_every steps (their greatest common divisor, the scoring rows of ``eval_every`` aside) and
    at each scoring step. Said only when exactly one gap between rows lacks a row due there, as one deleted block
    does; a --log-every changed at a resume leaves several such gaps, and is not told from two deleted blocks."""
    if len(steps) < 2:  # the checkpoint's own step may have no row yet (its scoring failed before the row)
        return bool(steps) and 2 * steps[0] < start_step
    logged = [step for step in steps if not (eval_every and step % eval_every == 0)]
    cadences = [c for c in {math.gcd(*logged) if logged else 0, eval_every} if c]
    bounds = [0, *sorted(set(steps)), start_step]
    holes = sum(any((a // c + 1) * c < b for c in cadences) for a, b in zip(bounds, bounds[1:], strict=False))
    return holes == 1


def _aside(path: Path) -> Path:
    """Move ``path`` to a free name beside it (history.csv.unread, .unread-2, ...); the new name."""
    for n in range(1, 1000):
        aside = path.with_name(f"{path.name}.unread" + (f"-{n}" if n > 1 else ""))
        if not aside.exists():
            path.rename(aside)
            return aside
    raise FileExistsError(f"{path}: 999 unread histories beside it; remove them")


def _spans(steps: list[int]) -> str:
    """Steps as runs at their smallest gap: "20-60, 160-300" (a block deleted inside), "10-20", "10"."""
    gap = min((b - a for a, b in zip(steps, steps[1:], strict=False)), default=0)
    runs = [[steps[0]]]
    for a, b in zip(steps, steps[1:], strict=False):
        if b - a == gap:
            runs[-1].append(b)
        else:
            runs.append([b])
    return ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(inf|infinity|nan)", re.ASCII | re.IGNORECASE)
"""A cell ganbench writes, or plot reads as a number (ASCII digits only)."""


@hookimpl
def on_step_end(run_dir, step, logs):
    handle, header = _open[str(run_dir)]
    if header is None or any(k not in header for k in logs):
        handle, header = _widen(Path(run_dir) / FILENAME, handle, header, logs)
        _open[str(run_dir)] = (handle, header)
    csv.writer(handle, lineterminator="\n").writerow([step, *(_cell(logs.get(k)) for k in header[1:])])
    handle.flush()


def _widen(path: Path, handle: IO[str], header: list[str] | None, logs: dict) -> tuple[IO[str], list[str]]:
    """Add columns for keys seen for the first time (metrics at the first --eval-every step): the file is
    rewritten once, old rows padded with empty cells, so every row has every column. Atomically: a full disk
    leaves the old file, and its handle, as they were."""
    old = header or ["step"]
    wider = old + [k for k in logs if k not in old]
    rows = path.read_text().splitlines()[1:] if header else []
    padding = "," * (len(wider) - len(old))
    text = "".join(line + "\n" for line in [",".join(wider), *(r + padding for r in rows)]).encode()
    write_atomic(path, lambda f: f.write(text))
    handle.close()
    return path.open("a", newline=""), wider


def _cell(value: float | None) -> str:
    """A number as written; a missing or non-finite one as an empty cell (metrics.json's null)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(float(value)) if isinstance(value, float) else str(value)


@hookimpl
def on_run_end(run_dir):
    entry = _open.pop(str(run_dir), None)
    if entry and not entry[0].closed:
        handle, header = entry
        try:
            if header is None:  # a run shorter than log_every logged nothing: still a CSV, with its header
                handle.write("step\n")
        finally:
            handle.close()
